// Relocation before growth against the tlsf default (issue 17, item 1: <= 16 vkAllocateMemory calls and
// committed peak / live peak <= 1.30 on every workload). Replays workload-a (generator seed 7) and
// generator seeds 1–6 (200,000 ops, 1 GiB live budget) on the simulated lavapipe and H100 profiles, once
// with the tlsf default and once with relocation (AllocatorCreateDesc.relocation), and prints per
// workload: vkAllocateMemory calls, committed/live ratio, moves and moved MiB, ns/op (median of --runs
// timed runs after one untimed run; the planning and moving cost is inside the timed loop; simulated mode
// copies no bytes, so a real device's copy time is not in it), then the worst case per profile and the
// load average. Prints, never asserts; docs/allocator.md quotes its output.
// A profile `device:N` replays on the real Vulkan device N instead (every block a real vkAllocateMemory,
// the moved bytes copied there by native/defrag-copy.ts createRelocationCopy, in mode --copy), and adds
// what the copies of the last run took: mapped and transfer moves, vkQueueSubmit calls, VkBuffers made,
// temporary blocks (vkAllocateMemory calls besides `calls`).
// Usage: node --import tsx scripts/bench-relocation.ts [--runs N] [--max-moved F] [--seeds 7,1,2]
//        [--profiles lavapipe,h100,device:0] [--copy auto|transfer|mapped]
import { loadavg } from 'node:os';
import { generateWorkload } from '../bench/workload-a.mjs';
import { parseWorkload, type Device, type RelocationOptions } from '../allocator/index.ts';
import {
  createRelocationCopy,
  defragmentCopyModes,
  newDefragmentCopyStats,
  type DefragmentCopyMode,
  type DefragmentCopyStats,
} from '../native/defrag-copy.ts';
import { openVulkanDevice, VulkanDevice } from '../native/vulkan-device.ts';
import { replayWorkload, type ReplayResult } from '../src-main/bench/replay.ts';
import { loadProfileDevice, median } from '../src-main/cli/commands/bench.ts';
import { assetPath } from '../src-main/cli/paths.ts';

const MiB = 1024 * 1024;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const runs = Number(option('runs') ?? 3);
const maxMoved = Number(option('max-moved') ?? 1);
const seeds = (option('seeds') ?? '7,1,2,3,4,5,6').split(',').map(Number);
const profileFiles: Record<string, string> = {
  lavapipe: 'mesa-lavapipe.vulkaninfo.txt',
  h100: 'nvidia-h100-80gb-hbm3.vulkaninfo.txt',
};
const profiles = (option('profiles') ?? 'lavapipe,h100').split(',');
const copyMode = (option('copy') ?? 'auto') as DefragmentCopyMode;
if (!(Number.isSafeInteger(runs) && runs > 0)) throw new RangeError('--runs needs a positive whole number');
for (const p of profiles)
  if (!(p in profileFiles) && !/^device:\d+$/.test(p)) throw new RangeError(`unknown profile ${p}`);
if (!defragmentCopyModes.includes(copyMode)) throw new RangeError(`unknown --copy ${copyMode}`);

/** Simulated mode moves no bytes: there is no GPU behind the simulated device to copy them. */
const relocation: RelocationOptions = { copy: () => {}, maxMovedPerRequest: maxMoved };

interface Row {
  readonly result: ReplayResult;
  readonly nsPerOp: number;
  /** Real device only: the copies of the last run. */
  readonly copies: DefragmentCopyStats | null;
}

async function measure(
  workload: ReturnType<typeof parseWorkload>,
  profile: string,
  withRelocation: boolean,
): Promise<Row> {
  const real = /^device:(\d+)$/.exec(profile);
  let copies: DefragmentCopyStats | null = null;
  const once = async () => {
    const device: Device = real
      ? openVulkanDevice(Number(real[1]))
      : await loadProfileDevice(assetPath('profiles', profileFiles[profile]!));
    let options: RelocationOptions | null = withRelocation ? relocation : null;
    if (withRelocation && device instanceof VulkanDevice) {
      copies = newDefragmentCopyStats();
      options = { ...createRelocationCopy(device.context, copyMode, copies), maxMovedPerRequest: maxMoved };
    }
    try {
      return replayWorkload(workload, { device, strategy: 'tlsf', relocation: options });
    } finally {
      if (device instanceof VulkanDevice) device.close();
    }
  };
  await once();
  const results: ReplayResult[] = [];
  for (let r = 0; r < runs; r++) results.push(await once());
  return {
    result: results[results.length - 1]!,
    nsPerOp: median(results.map((r) => r.nanoseconds / r.ops)),
    copies,
  };
}

function describe(row: Row): string {
  const r = row.result;
  const ratio = r.committedPeak / r.livePeak;
  return [
    `calls=${r.blocksAllocated}`.padEnd(9),
    `ratio=${ratio.toFixed(3)}`,
    `moves=${r.moves}`.padEnd(11),
    `moved_mib=${(r.movedBytes / MiB).toFixed(0)}`.padEnd(15),
    `ns_per_op=${row.nsPerOp.toFixed(0)}`.padEnd(14),
    `failures=${r.failures}`,
    ...(row.copies === null
      ? []
      : [
          `mapped_moves=${row.copies.mappedMoves}`,
          `transfer_submits=${row.copies.transferSubmits}`,
          `copy_buffers=${row.copies.buffers}`,
          `temp_blocks=${row.copies.tempBlocks}`,
        ]),
  ].join(' ');
}

console.log(`runs=${runs} max_moved_per_request=${maxMoved} load_before=${loadavg()[0]!.toFixed(2)}`);
const worst = new Map<string, { calls: number; ratio: number }>();
for (const seed of seeds) {
  const workload = parseWorkload(generateWorkload([seed, 200000, 1024]));
  for (const profile of profiles) {
    for (const withRelocation of [false, true]) {
      const row = await measure(workload, profile, withRelocation);
      const key = `${profile} ${withRelocation ? 'relocation' : 'default'}`;
      const w = worst.get(key) ?? { calls: 0, ratio: 0 };
      const r = row.result;
      worst.set(key, {
        calls: Math.max(w.calls, r.blocksAllocated),
        ratio: Math.max(w.ratio, r.committedPeak / r.livePeak),
      });
      console.log(`seed=${seed} ${key.padEnd(19)} ${describe(row)}`);
    }
  }
}
for (const [key, w] of worst)
  console.log(`worst ${key.padEnd(19)} calls=${w.calls} ratio=${w.ratio.toFixed(3)}`);
console.log(`load_after=${loadavg()[0]!.toFixed(2)}`);
