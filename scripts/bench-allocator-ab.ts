// A/B of the allocator's replay speed between builds (printed, not asserted): `vramscope bench` of one
// workload (tlsf) with every given CLI entry point in turn, round after round, so that a change of load hits
// all of them alike; pinned with taskset where there is one. Each bench process makes its 15 warm-up replays
// and then --runs timed ones and prints the median CPU ns/op (user + system); this script prints every
// process's figure with the 1-minute load average, then per build the median over its processes, and says
// whether the builds' block figures agree (blocks allocated, committed peak and moves; it reports a
// difference, it does not fail on one). These are not offsets: an algorithmic change such as quick reuse
// (docs/allocator.md) places allocations elsewhere and may still read "identical" here. Each entry point is a built checkout's bin/vramscope.mjs (`npm run build:cli`
// there first). On a shared machine, compare builds only within one invocation, and prefer many rounds.
//
//   node --import tsx scripts/bench-allocator-ab.ts [--workload F.trace] [--rounds 6] [--runs 5] [--cpu 1]
//        [--bench-args='--no-relocate --device 0'] <bin/vramscope.mjs> [<other checkout>/bin/vramscope.mjs ...]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureWorkloadA } from '../bench/workload-a.mjs';
import { median } from '../src-main/cli/commands/bench.ts';

const load = (): string => loadavg()[0]!.toFixed(2);

/** The fields of one `vramscope bench` line that this A/B reads. */
interface BenchLine {
  /** CPU nanoseconds per op, median of the process's timed replays. */
  readonly cpuNsPerOp: number;
  /** What must agree between builds: blocks allocated, committed peak (MiB) and moves. */
  readonly placement: string;
}

function benchOnce(bin: string, workload: string, runs: string, extra: string[], cpu?: string): BenchLine {
  let argv = [process.execPath, bin, 'bench', workload, '--strategy', 'tlsf', '--runs', runs, ...extra];
  if (cpu !== undefined && existsSync('/usr/bin/taskset')) argv = ['/usr/bin/taskset', '-c', cpu, ...argv];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`${bin} bench failed (${r.status}): ${`${r.stdout}${r.stderr}`.slice(-2000)}`);
  const field = (name: string, absent = '?'): string =>
    new RegExp(`\\b${name}=(\\S+)`).exec(r.stdout)?.[1] ?? absent;
  return {
    cpuNsPerOp: Number(field('cpu_ns_per_op')),
    placement: `blocks_allocated=${field('blocks_allocated')} committed_peak_mib=${field('committed_peak_mib')} moves=${field('moves', '0')}`, // no moves= without relocation
  };
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: {
      workload: { type: 'string' },
      rounds: { type: 'string', default: '6' },
      runs: { type: 'string', default: '5' },
      cpu: { type: 'string', default: '1' },
      'bench-args': { type: 'string', default: '' },
    },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new Error('which builds? give one or more bin/vramscope.mjs paths');
  const bins = positionals.map((p) => path.resolve(p));
  const workload = values.workload ?? ensureWorkloadA();
  const extra = values['bench-args'].split(/\s+/).filter((a) => a !== '');
  const cpu = values.cpu === 'none' ? undefined : values.cpu;
  const lines = new Map<string, BenchLine[]>(bins.map((b) => [b, []]));
  for (let round = 0; round < Math.max(1, Number(values.rounds)); round++) {
    for (const bin of bins) {
      const line = benchOnce(bin, workload, values.runs, extra, cpu);
      lines.get(bin)!.push(line);
      console.log(
        `bench-allocator-ab round=${round} bin=${bin} cpu_ns_per_op=${line.cpuNsPerOp} ${line.placement} load=${load()}`,
      );
    }
  }
  for (const [bin, ls] of lines) {
    const cpuNs = median(ls.map((l) => l.cpuNsPerOp));
    console.log(
      `bench-allocator-ab median bin=${bin} processes=${ls.length} cpu_ns_per_op=${cpuNs.toFixed(1)} ${ls[0]!.placement} cpu=${cpu ?? 'any'} load=${load()}`,
    );
  }
  const placements = new Set([...lines.values()].flat().map((l) => l.placement));
  console.log(
    placements.size === 1
      ? 'bench-allocator-ab placements: identical in every process'
      : `bench-allocator-ab placements: DIFFER (${[...placements].join(' | ')})`,
  );
}

main();
