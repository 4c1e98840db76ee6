// Placement micro-benchmark: replays workload-a (bench/workload-a.mjs generates it) onto lists of 256 MiB sub-allocators
// (one list per memory location, like one memory type each; a new block when none fits, tried from the
// newest block down, an empty block released unless it is the location's last — gpu-allocator's block
// lifecycle) for each placement strategy, and prints ns/op and committed bytes / peak live bytes.
// Prints, never asserts.
// Usage: node --import tsx scripts/bench-placement.ts [trace] [--reps N] [--strategy tlsf|freelist|all]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureWorkloadA } from '../bench/workload-a.mjs';
import { createSubAllocator } from '../allocator/placement/index.ts';
import type { SubAllocationKind, SubAllocator } from '../allocator/placement/index.ts';
import type { PlacementStrategyName } from '../allocator/types.ts';

const MIB = 1024 * 1024;
/**
 * Block sizes per location (gpu, upload, readback): all 256 MiB, and gpu-allocator's defaults (device
 * blocks 256 MiB, host-visible blocks 64 MiB).
 */
const BLOCK_CONFIGS: ReadonlyArray<{ readonly name: string; readonly sizes: readonly number[] }> = [
  { name: 'all blocks 256 MiB', sizes: [256 * MIB, 256 * MIB, 256 * MIB] },
  { name: 'crate sizes: gpu 256 MiB, upload/readback 64 MiB', sizes: [256 * MIB, 64 * MIB, 64 * MIB] },
];
/** NVIDIA H100's bufferImageGranularity (assets/profiles/nvidia-h100-80gb-hbm3.vulkaninfo.txt). */
const GRANULARITY = 1024;
const LOCATIONS = ['gpu', 'upload', 'readback'];

interface Trace {
  readonly count: number;
  /** 1 = allocate, 0 = free. */
  readonly op: Uint8Array;
  readonly id: Int32Array;
  readonly size: Float64Array;
  readonly align: Float64Array;
  readonly kind: Uint8Array;
  readonly loc: Uint8Array;
  readonly maxId: number;
}

function parseTrace(text: string): Trace {
  const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
  const n = lines.length;
  const t = {
    count: n,
    op: new Uint8Array(n),
    id: new Int32Array(n),
    size: new Float64Array(n),
    align: new Float64Array(n),
    kind: new Uint8Array(n),
    loc: new Uint8Array(n),
    maxId: 0,
  };
  for (let i = 0; i < n; i++) {
    const f = lines[i].split(' ');
    const id = Number(f[1]);
    t.id[i] = id;
    if (id > t.maxId) t.maxId = id;
    if (f[0] === 'a') {
      t.op[i] = 1;
      t.size[i] = Number(f[2]);
      t.align[i] = Number(f[3]);
      t.kind[i] = f[4] === 'image' ? 1 : 0;
      const loc = LOCATIONS.indexOf(f[5]);
      if (loc < 0) throw new Error(`Unknown location "${f[5]}" on trace line ${i + 2}.`);
      t.loc[i] = loc;
    } else if (f[0] !== 'f') {
      throw new Error(`Unknown op "${f[0]}" on trace line ${i + 2}.`);
    }
  }
  return t;
}

interface Result {
  /** Wall-clock and CPU (user + system) nanoseconds per trace op. */
  readonly ns: number;
  readonly cpuNs: number;
  readonly peakCommitted: number;
  readonly peakLive: number;
  readonly peakAllocated: number;
  readonly peakBlocks: number;
  readonly avgRatio: number;
  /** Per location: peak live bytes and peak block count. */
  readonly locPeakLive: number[];
  readonly locPeakBlocks: number[];
}

function replay(strategy: PlacementStrategyName, t: Trace, blockSizes: readonly number[]): Result {
  const lists: (SubAllocator<number> | null)[][] = LOCATIONS.map(() => []);
  const liveBlocks = new Int32Array(LOCATIONS.length);
  const blockOf = new Int32Array(t.maxId + 1);
  const handleOf = new Float64Array(t.maxId + 1);
  const sizeOf = new Float64Array(t.maxId + 1);
  let committed = 0;
  let live = 0;
  let peakCommitted = 0;
  let peakLive = 0;
  let peakAllocated = 0;
  let peakBlocks = 0;
  let committedSum = 0;
  let liveSum = 0;
  const locLive = LOCATIONS.map(() => 0);
  const locPeakLive = LOCATIONS.map(() => 0);
  const locPeakBlocks = LOCATIONS.map(() => 0);
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < t.count; i++) {
    const id = t.id[i];
    if (t.op[i] === 1) {
      const loc = t.loc[i];
      const list = lists[loc];
      const size = t.size[i];
      let h = -1;
      let b = list.length - 1;
      for (; b >= 0; b--) {
        const sa = list[b];
        if (sa === null) continue;
        h = sa.allocate(size, t.align[i], t.kind[i] as SubAllocationKind, GRANULARITY, id);
        if (h >= 0) break;
      }
      if (h < 0) {
        b = list.indexOf(null);
        if (b < 0) b = list.push(null) - 1;
        const sa = createSubAllocator<number>(strategy, blockSizes[loc]);
        list[b] = sa;
        liveBlocks[loc]++;
        committed += blockSizes[loc];
        h = sa.allocate(size, t.align[i], t.kind[i] as SubAllocationKind, GRANULARITY, id);
        if (h < 0) throw new Error(`A fresh block did not fit allocation ${id} of ${size} bytes.`);
      }
      blockOf[id] = loc * 65536 + b;
      handleOf[id] = h;
      sizeOf[id] = size;
      live += size;
      locLive[loc] += size;
      if (locLive[loc] > locPeakLive[loc]) locPeakLive[loc] = locLive[loc];
      if (liveBlocks[loc] > locPeakBlocks[loc]) locPeakBlocks[loc] = liveBlocks[loc];
      if (live > peakLive) peakLive = live;
      if (committed > peakCommitted) peakCommitted = committed;
    } else {
      const loc = Math.floor(blockOf[id] / 65536);
      const b = blockOf[id] % 65536;
      const sa = lists[loc][b] as SubAllocator<number>;
      sa.free(handleOf[id]);
      live -= sizeOf[id];
      locLive[loc] -= sizeOf[id];
      if (sa.chunkCount === 0 && liveBlocks[loc] > 1) {
        lists[loc][b] = null;
        liveBlocks[loc]--;
        committed -= blockSizes[loc];
      }
    }
    // Sampled outside the hot path's usual cost: cheap counters only.
    if ((i & 1023) === 0) {
      committedSum += committed;
      liveSum += live;
      let allocated = 0;
      let blocks = 0;
      for (const list of lists) {
        for (const sa of list) {
          if (sa) {
            allocated += sa.allocatedBytes;
            blocks++;
          }
        }
      }
      if (allocated > peakAllocated) peakAllocated = allocated;
      if (blocks > peakBlocks) peakBlocks = blocks;
    }
  }
  const ns = Number(process.hrtime.bigint() - start) / t.count;
  const cpu = process.cpuUsage(cpuStart);
  const cpuNs = ((cpu.user + cpu.system) * 1000) / t.count;
  return {
    ns,
    cpuNs,
    peakCommitted,
    peakLive,
    peakAllocated,
    peakBlocks,
    avgRatio: committedSum / liveSum,
    locPeakLive,
    locPeakBlocks,
  };
}

interface ExtentResult {
  readonly ns: number;
  readonly cpuNs: number;
  readonly peakExtent: number[];
  readonly peakLive: number[];
}

/**
 * Placement quality without a block policy: one 1 TiB sub-allocator per location, so nothing ever fails;
 * the peak extent (highest end of any live chunk) over the peak live bytes measures fragmentation.
 * Its time is the placement cost alone (no block list to walk).
 */
function extent(strategy: PlacementStrategyName, t: Trace): ExtentResult {
  const sas = LOCATIONS.map(() => createSubAllocator<number>(strategy, 2 ** 40));
  const handleOf = new Float64Array(t.maxId + 1);
  const locOf = new Uint8Array(t.maxId + 1);
  const sizeOf = new Float64Array(t.maxId + 1);
  const live = LOCATIONS.map(() => 0);
  const peakLive = LOCATIONS.map(() => 0);
  const peakExtent = LOCATIONS.map(() => 0);
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < t.count; i++) {
    const id = t.id[i];
    if (t.op[i] === 1) {
      const loc = t.loc[i];
      const size = t.size[i];
      const h = sas[loc].allocate(size, t.align[i], t.kind[i] as SubAllocationKind, GRANULARITY, id);
      if (h < 0) throw new Error(`A 1 TiB block did not fit allocation ${id}.`);
      handleOf[id] = h;
      locOf[id] = loc;
      sizeOf[id] = size;
      live[loc] += size;
      if (live[loc] > peakLive[loc]) peakLive[loc] = live[loc];
      const end = sas[loc].offsetOf(h) + size;
      if (end > peakExtent[loc]) peakExtent[loc] = end;
    } else {
      sas[locOf[id]].free(handleOf[id]);
      live[locOf[id]] -= sizeOf[id];
    }
  }
  const ns = Number(process.hrtime.bigint() - start) / t.count;
  const cpu = process.cpuUsage(cpuStart);
  const cpuNs = ((cpu.user + cpu.system) * 1000) / t.count;
  return { ns, cpuNs, peakExtent, peakLive };
}

/** "CPU ns/op best/median, wall ns/op best/median": CPU time is steadier on a shared, loaded host. */
function timing(runs: ReadonlyArray<{ readonly ns: number; readonly cpuNs: number }>): string {
  const cpu = runs.map((r) => r.cpuNs).sort((a, b) => a - b);
  const wall = runs.map((r) => r.ns).sort((a, b) => a - b);
  const mid = Math.floor(runs.length / 2);
  return (
    `${cpu[0].toFixed(0)} ns/op CPU best (${cpu[mid].toFixed(0)} median), ` +
    `${wall[0].toFixed(0)} wall best (${wall[mid].toFixed(0)} median), ${runs.length} runs`
  );
}

function main(): void {
  const args = process.argv.slice(2);
  const repsAt = args.indexOf('--reps');
  const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : 5;
  const strategyAt = args.indexOf('--strategy');
  const only = strategyAt >= 0 ? args[strategyAt + 1] : 'all';
  const strategies = (['tlsf', 'freelist'] as const).filter((s) => only === 'all' || only === s);
  const positional = args.filter(
    (a, i) => !a.startsWith('--') && args[i - 1] !== '--reps' && args[i - 1] !== '--strategy',
  );
  const tracePath = positional[0] ?? ensureWorkloadA();
  const t = parseTrace(readFileSync(tracePath, 'utf8'));
  const mib = (v: number): string => `${(v / 1048576).toFixed(1)} MiB`;
  console.log(
    `${path.basename(tracePath)}: ${t.count} ops, granularity ${GRANULARITY}; block list per location, ` +
      'newest block tried first, empty blocks released unless last (gpu-allocator lifecycle)',
  );
  for (const config of BLOCK_CONFIGS) {
    console.log(`Block lists, ${config.name}:`);
    for (const strategy of strategies) {
      const runs: Result[] = [];
      for (let r = 0; r < (strategy === 'freelist' ? Math.min(reps, 3) : reps); r++) {
        runs.push(replay(strategy, t, config.sizes));
      }
      const r = runs[0];
      console.log(
        `${strategy.padEnd(8)} ${timing(runs)}; ` +
          `peak committed ${mib(r.peakCommitted)} / peak live ${mib(r.peakLive)} = ${(r.peakCommitted / r.peakLive).toFixed(3)}; ` +
          `time-averaged committed/live ${r.avgRatio.toFixed(3)}; peak allocated incl. padding ${mib(r.peakAllocated)}`,
      );
      const perLoc = LOCATIONS.map(
        (l, i) => `${l}: peak live ${mib(r.locPeakLive[i])}, peak blocks ${r.locPeakBlocks[i]}`,
      );
      console.log(`         ${perLoc.join('; ')}`);
    }
  }
  console.log('Placement alone (one 1 TiB block per location: no block list, nothing fails):');
  for (const strategy of strategies) {
    const runs: ExtentResult[] = [];
    for (let r = 0; r < (strategy === 'freelist' ? Math.min(reps, 3) : reps); r++)
      runs.push(extent(strategy, t));
    const r = runs[0];
    const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0);
    const perLoc = LOCATIONS.map(
      (l, i) =>
        `${l} ${mib(r.peakExtent[i])}/${mib(r.peakLive[i])} = ${(r.peakExtent[i] / r.peakLive[i]).toFixed(3)}`,
    );
    console.log(
      `${strategy.padEnd(8)} ${timing(runs)}; ` +
        `peak extent / peak live ${(sum(r.peakExtent) / sum(r.peakLive)).toFixed(3)} (${perLoc.join('; ')})`,
    );
  }
}

main();
