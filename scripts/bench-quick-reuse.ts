// TLSF quick reuse (parked chunks, allocator/placement/tlsf.ts) on the bench workloads: replays workload-a and
// gen-workload seeds 1–6 directly on one TlsfPool (lavapipe's case: one memory type, 64-byte granularity,
// 256 MiB segments added when a request misses), freed through freeOwned as the allocator frees, and prints
// for each park ring size how many allocations took back a parked chunk, the most chunks parked at once,
// and the pool's CPU time per op (fastest of --runs replays after 15 untimed ones; ring 0 is the
// pool without quick reuse). Prints, never asserts; pin it (`taskset -c 1`) and compare ns/op within one run.
//
//   node --import tsx scripts/bench-quick-reuse.ts [--rings 0,256,1024,4096,16384] [--runs 10] [--seeds 1,2]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parseWorkload, WorkloadOp, type Workload } from '../allocator/workload.ts';
import { TlsfPool } from '../allocator/placement/tlsf.ts';
import { ensureWorkloadA, generateWorkload } from '../bench/workload-a.mjs';

const SEGMENT_BYTES = 256 * 1024 * 1024;
/** Lavapipe's bufferImageGranularity (assets/profiles/mesa-lavapipe.vulkaninfo.txt). */
const GRANULARITY = 64;

/** What the allocator's allocation object is to the pool: an owner that knows its chunk. */
class Owner {
  chunk = -1;
}

interface ReplayStats {
  readonly reuses: number;
  readonly allocations: number;
  /** The most chunks parked at once (sampled after every free). */
  readonly peakParked: number;
}

function replay(w: Workload, ringSize: number, owners: (Owner | null)[], sample: boolean): ReplayStats {
  const pool = new TlsfPool<Owner>({ parkRingSize: ringSize });
  const { op, id, size, alignment, linear } = w;
  let allocations = 0;
  let peakParked = 0;
  for (let i = 0; i < w.length; i++) {
    const k = id[i]!;
    if (op[i] === WorkloadOp.Allocate) {
      const o = new Owner();
      const kind = linear[i] === 1 ? 0 : 1;
      let c = pool.allocate(size[i]!, alignment[i]!, kind, GRANULARITY, o);
      if (c < 0) {
        pool.addSegment(SEGMENT_BYTES);
        c = pool.allocate(size[i]!, alignment[i]!, kind, GRANULARITY, o);
      }
      o.chunk = c;
      owners[k] = o;
      allocations++;
    } else {
      const o = owners[k]!;
      pool.freeOwned(o.chunk, o);
      owners[k] = null;
      if (sample) peakParked = Math.max(peakParked, pool.parkedChunks);
    }
  }
  return { reuses: pool.quickReuses, allocations, peakParked };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      rings: { type: 'string', default: '0,256,1024,4096,16384' },
      runs: { type: 'string', default: '10' },
      seeds: { type: 'string', default: '1,2,3,4,5,6' },
    },
  });
  const rings = values.rings.split(',').map(Number);
  const runs = Math.max(1, Number(values.runs));
  const workloads = [{ name: 'workload-a', w: parseWorkload(readFileSync(ensureWorkloadA(), 'utf8')) }];
  for (const seed of values.seeds
    .split(',')
    .filter((s) => s !== '')
    .map(Number))
    workloads.push({ name: `seed ${seed}`, w: parseWorkload(generateWorkload([seed, 200000, 1024])) });
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const { name, w } of workloads) {
    const owners = new Array<Owner | null>(w.idLimit).fill(null);
    for (const ring of rings) {
      const stats = replay(w, ring, owners, true);
      for (let i = 0; i < 15; i++) replay(w, ring, owners, false);
      let fastest = Infinity;
      for (let r = 0; r < runs; r++) {
        const start = process.cpuUsage();
        replay(w, ring, owners, false);
        const cpu = process.cpuUsage(start);
        fastest = Math.min(fastest, ((cpu.user + cpu.system) * 1000) / w.length);
      }
      console.log(
        `${name.padEnd(10)} ring=${ring} quick_reuses=${stats.reuses} of_allocations=${stats.allocations} ` +
          `reuse_share=${(stats.reuses / stats.allocations).toFixed(3)} peak_parked=${stats.peakParked} ` +
          `pool_cpu_ns_per_op=${fastest.toFixed(1)}`,
      );
    }
  }
}

main();
