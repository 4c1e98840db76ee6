// Shared by the native-*.test.ts files and scripts/native-device-check.ts (the check run on a real GPU):
// test bytes for memory round trips, picking a memory type by flags, and real buffers and images of mixed
// linearity bound at the offsets an Allocator chooses, with the same-block neighbours to check them by.
import type { Allocation, Allocator, MemoryType } from '../../allocator/index.ts';
import { BufferUsage, ImageUsage, type MemoryHandle, type VulkanContext } from '../../native/index.ts';

/** `length` pseudo-random bytes (xorshift32 from `seed`): a round trip that drops or moves bytes shows. */
export function bytePattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Byte equality without vitest's element-wise deep diff (slow on megabytes). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** The lowest type allowed by `bits` whose flags contain `flags`. */
export function typeWithFlags(types: readonly MemoryType[], bits: number, flags: number): number {
  const t = types.find((x) => ((bits >>> x.index) & 1) === 1 && (x.propertyFlags & flags) === flags);
  if (t === undefined) throw new Error(`no memory type with flags ${flags} in bits ${bits}`);
  return t.index;
}

export interface BoundResource {
  readonly allocation: Allocation;
  /** Destroys the buffer or image (the allocation is the caller's to free). */
  readonly destroy: () => void;
}

/**
 * `count` real GpuOnly resources made through `allocator` and bound at the offsets it chooses, in turn a
 * linear buffer, an optimal image and a linear image (sizes vary with the index), validate() after each.
 * With small blocks, linear and non-linear neighbours end up sharing blocks.
 */
export function bindMixedResources(ctx: VulkanContext, allocator: Allocator, count: number): BoundResource[] {
  const made: BoundResource[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    if (kind === 0) {
      const b = ctx.createBuffer(100 + 37 * i, BufferUsage.STORAGE_BUFFER | BufferUsage.TRANSFER_DST);
      const allocation = allocator.allocate({
        name: `buf${i}`,
        requirements: b.requirements,
        location: 'GpuOnly',
        linear: true,
      });
      ctx.bindBufferMemory(b.handle, allocation.block.handle as MemoryHandle, allocation.offset);
      made.push({ allocation, destroy: () => ctx.destroyBuffer(b.handle) });
    } else {
      const linear = kind === 2;
      const img = ctx.createImage({
        width: 8 + i,
        height: 8 + ((i * 5) % 23),
        tiling: linear ? 'linear' : 'optimal',
        usage: linear ? ImageUsage.TRANSFER_SRC : ImageUsage.SAMPLED | ImageUsage.TRANSFER_DST,
      });
      const allocation = allocator.allocate({
        name: `img${i}`,
        requirements: img.requirements,
        location: 'GpuOnly',
        linear,
      });
      ctx.bindImageMemory(img.handle, allocation.block.handle as MemoryHandle, allocation.offset);
      made.push({ allocation, destroy: () => ctx.destroyImage(img.handle) });
    }
    allocator.validate();
  }
  return made;
}

/** Allocations grouped by block, each block's sorted by offset: `pairs` are the consecutive ones. */
export function blockNeighbours(allocations: readonly Allocation[]): {
  readonly blocks: number;
  readonly pairs: readonly (readonly [Allocation, Allocation])[];
} {
  const byBlock = new Map<unknown, Allocation[]>();
  for (const a of allocations) byBlock.set(a.block, [...(byBlock.get(a.block) ?? []), a]);
  const pairs: (readonly [Allocation, Allocation])[] = [];
  for (const list of byBlock.values()) {
    list.sort((x, y) => x.offset - y.offset);
    for (let k = 1; k < list.length; k++) pairs.push([list[k - 1]!, list[k]!]);
  }
  return { blocks: byBlock.size, pairs };
}
