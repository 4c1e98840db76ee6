// Relocation before growth against the tlsf default (issue 17, item 1: <= 16 vkAllocateMemory calls and
// committed peak / live peak <= 1.30 on every workload). Replays workload-a (generator seed 7) and
// generator seeds 1–6 (200,000 ops, 1 GiB live budget) on the simulated lavapipe and H100 profiles, once
// with the tlsf default and once with relocation (AllocatorCreateDesc.relocation), and prints per
// workload: vkAllocateMemory calls, committed/live ratio, moves and moved MiB, ns/op (median of --runs
// timed runs after one untimed run; the planning and moving cost is inside the timed loop; simulated mode
// copies no bytes, so a real device's copy time is not in it), then the worst case per profile and the
// load average. Prints, never asserts; docs/allocator.md quotes its output.
// Usage: node --import tsx scripts/bench-relocation.ts [--runs N] [--max-moved F] [--seeds 7,1,2]
//        [--profiles lavapipe,h100]
import { loadavg } from 'node:os';
import { generateWorkload } from '../bench/workload-a.mjs';
import { parseWorkload, type RelocationOptions } from '../allocator/index.ts';
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
if (!(Number.isSafeInteger(runs) && runs > 0)) throw new RangeError('--runs needs a positive whole number');
for (const p of profiles) if (!(p in profileFiles)) throw new RangeError(`unknown profile ${p}`);

/** Simulated mode moves no bytes: there is no GPU behind the simulated device to copy them. */
const relocation: RelocationOptions = { copy: () => {}, maxMovedPerRequest: maxMoved };

interface Row {
  readonly result: ReplayResult;
  readonly nsPerOp: number;
}

async function measure(
  workload: ReturnType<typeof parseWorkload>,
  profile: string,
  withRelocation: boolean,
): Promise<Row> {
  const file = assetPath('profiles', profileFiles[profile]!);
  const once = async () =>
    replayWorkload(workload, {
      device: await loadProfileDevice(file),
      strategy: 'tlsf',
      relocation: withRelocation ? relocation : null,
    });
  await once();
  const results: ReplayResult[] = [];
  for (let r = 0; r < runs; r++) results.push(await once());
  return { result: results[results.length - 1]!, nsPerOp: median(results.map((r) => r.nanoseconds / r.ops)) };
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
