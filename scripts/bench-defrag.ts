// Defragmentation planning benchmark: 100,000 live allocations left by a fragmenting workload (300,000
// allocations of 1 KiB-64 KiB, then two of every three freed at random), planned with `full` and `fast`.
// Prints the planner's time alone (on a prepared DefragmentationState), the time including reading the
// state out of the allocator, and what the plan does; then applies the full plan once. Prints, never asserts.
// Times are wall-clock medians and minima, with the process's CPU time (user + system, all threads, so GC
// helpers count) beside them: on a loaded machine the CPU time is the steadier figure. The load average is
// printed with them. Target (issue 13): planning <= 50 ms for 100,000 live allocations.
// Usage: node --import tsx scripts/bench-defrag.ts [--live N] [--reps N]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Allocator,
  createSimulatedDevice,
  parseVulkaninfo,
  planDefragmentation,
  type Allocation,
} from '../allocator/index.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`--${name} needs a positive whole number`);
  return v;
}

const liveTarget = arg('live', 100_000);
const reps = arg('reps', 7);
let seed = 0x9e3779b9;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

// The H100 profile: 256 MiB device-local blocks and a 1 KiB bufferImageGranularity that the plans honour.
const profileFile = 'nvidia-h100-80gb-hbm3.vulkaninfo.txt';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const description = parseVulkaninfo(
  readFileSync(path.join(root, 'assets', 'profiles', profileFile), 'utf8'),
  profileFile,
);
const big = { ...description, heaps: description.heaps.map((h) => ({ ...h, size: 1024 * 1024 * MiB })) };
const allocator = new Allocator({
  device: createSimulatedDevice(big),
  debugSettings: { logLeaksOnShutdown: false },
});
const all: Allocation[] = [];
for (let i = 0; i < liveTarget * 3; i++) {
  const image = random() < 0.5;
  all.push(
    allocator.allocate({
      name: `r${i}`,
      requirements: {
        size: KiB + Math.floor(random() * 63 * KiB),
        alignment: image ? 4096 : 256,
        memoryTypeBits: 0xffffffff,
      },
      location: 'GpuOnly',
      linear: !image,
    }),
  );
}
for (let i = all.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [all[i], all[j]] = [all[j]!, all[i]!];
}
for (const a of all.slice(liveTarget)) allocator.free(a);
const stats = allocator.stats();
console.log(
  `state: ${stats.allocationCount.toLocaleString('en-US')} live allocations, ${(stats.allocatedBytes / MiB).toFixed(1)} MiB live in ${stats.blockCount} blocks of ${(stats.committedBytes / stats.blockCount / MiB).toFixed(0)} MiB`,
);

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall-clock and CPU milliseconds of one call. */
function timed(f: () => void): { wall: number; cpu: number } {
  const cpu = process.cpuUsage();
  const t = performance.now();
  f();
  const wall = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

function summary(xs: { wall: number; cpu: number }[]): string {
  const wall = xs.map((x) => x.wall);
  const cpu = xs.map((x) => x.cpu);
  return `${median(wall).toFixed(1)} ms (min ${Math.min(...wall).toFixed(1)}; CPU ${median(cpu).toFixed(1)}, min ${Math.min(...cpu).toFixed(1)})`;
}

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const algorithm of ['full', 'fast'] as const) {
  const state = allocator.defragmentationState();
  planDefragmentation(state, { algorithm }); // warm-up
  const alone: { wall: number; cpu: number }[] = [];
  const withState: { wall: number; cpu: number }[] = [];
  let plan = planDefragmentation(state, { algorithm });
  for (let r = 0; r < reps; r++) {
    alone.push(timed(() => (plan = planDefragmentation(state, { algorithm }))));
    withState.push(timed(() => allocator.planDefragmentation({ algorithm })));
  }
  console.log(
    `${algorithm}: planning ${summary(alone)}, with reading the state ${summary(withState)}; ` +
      `${plan.moves.length.toLocaleString('en-US')} moves, ${(plan.bytesMoved / MiB).toFixed(1)} MiB moved, blocks ${plan.blocksBefore} -> ${plan.blocksAfter}, ` +
      `fragmentation ${(plan.fragmentationBefore * 100).toFixed(1)}% -> ${(plan.fragmentationAfter * 100).toFixed(1)}% (median of ${reps})`,
  );
}
const plan = allocator.planDefragmentation({ algorithm: 'full' });
let freed: number[] = [];
const applyMs = timed(() => (freed = allocator.applyDefragmentation(plan))).wall;
allocator.validate();
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(
      ' ',
    )}; apply full: ${applyMs.toFixed(0)} ms for ${plan.moves.length.toLocaleString('en-US')} moves (simulated device, no bytes copied), ${freed.length} blocks freed; validate() ok`,
);
