// What the driver charges for a block: times vkAllocateMemory and vkFreeMemory (and vkMapMemory for
// host-visible types, as the allocator maps them) on a real device, per block size, for the first
// device-local type and the first host-visible type. Prints numbers; asserts nothing. This is the cost that
// `vramscope bench --device` reports as driver_ns_per_op, broken down per call.
//
//   node --import tsx scripts/bench-driver-calls.ts [--device N] [--sizes 16,64,256,1024] [--reps 5]
//
// Sizes are MiB. Each rep allocates one block of the size, then frees it; a second series keeps up to 8 blocks
// of the size alive before freeing them (a replay's pattern), to show whether the cost depends on what is live.
import { parseArgs } from 'node:util';
import { MemoryPropertyFlags } from '../allocator/index.ts';
import { VulkanContext, type MemoryHandle } from '../native/index.ts';
import { describeNativeDevice } from '../native/vulkan-device.ts';

const { values } = parseArgs({
  options: {
    device: { type: 'string' },
    sizes: { type: 'string', default: '16,64,256,1024' },
    reps: { type: 'string', default: '5' },
  },
});
const MiB = 2 ** 20;
const sizes = values.sizes.split(',').map((s) => Number(s) * MiB);
const reps = Number(values.reps);
if (sizes.some((s) => !Number.isSafeInteger(s) || s <= 0) || !Number.isInteger(reps) || reps < 1) {
  console.error('--sizes takes positive MiB counts separated by commas, --reps a positive integer');
  process.exit(2);
}

const context = VulkanContext.open(values.device !== undefined ? { deviceIndex: Number(values.device) } : {});
const description = describeNativeDevice(context.info);
const { DEVICE_LOCAL, HOST_VISIBLE } = MemoryPropertyFlags;
const deviceLocal = description.types.findIndex((t) => (t.propertyFlags & DEVICE_LOCAL) !== 0);
const hostVisible = description.types.findIndex((t) => (t.propertyFlags & HOST_VISIBLE) !== 0);

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const medianOf = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

console.log(`device "${description.name}" driver ${description.driverVersion}`);
for (const [label, typeIndex] of [
  ['device-local', deviceLocal],
  ['host-visible', hostVisible],
] as const) {
  // Skipped when missing, or when one type is both (lavapipe: every type is device-local and host-visible).
  if (typeIndex < 0 || (label === 'host-visible' && typeIndex === deviceLocal)) continue;
  const map = (description.types[typeIndex]!.propertyFlags & HOST_VISIBLE) !== 0;
  for (const size of sizes) {
    const allocateMs: number[] = [];
    const freeMs: number[] = [];
    for (let r = 0; r < reps; r++) {
      let t = nowMs();
      const memory: MemoryHandle = context.allocateMemory(typeIndex, size, { map });
      allocateMs.push(nowMs() - t);
      t = nowMs();
      context.freeMemory(memory);
      freeMs.push(nowMs() - t);
    }
    // Eight alive at once, then all freed: the pattern of a replay that grows, then shrinks.
    const heldAllocateMs: number[] = [];
    const heldFreeMs: number[] = [];
    const held: MemoryHandle[] = [];
    for (let r = 0; r < 8; r++) {
      const t = nowMs();
      held.push(context.allocateMemory(typeIndex, size, { map }));
      heldAllocateMs.push(nowMs() - t);
    }
    for (const memory of held) {
      const t = nowMs();
      context.freeMemory(memory);
      heldFreeMs.push(nowMs() - t);
    }
    const a = medianOf(allocateMs);
    console.log(
      [
        `type=${typeIndex}`,
        `kind=${label}${map ? '+mapped' : ''}`,
        `size_mib=${size / MiB}`,
        `allocate_ms=${a.toFixed(3)}`,
        `free_ms=${medianOf(freeMs).toFixed(3)}`,
        `allocate_us_per_mib=${((a * 1000) / (size / MiB)).toFixed(1)}`,
        `eight_alive_allocate_ms=${medianOf(heldAllocateMs).toFixed(3)}`,
        `eight_alive_free_ms=${medianOf(heldFreeMs).toFixed(3)}`,
      ].join(' '),
    );
  }
}
context.close();
