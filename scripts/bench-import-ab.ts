// A/B of the whole `vramscope import` command between builds (printed, not asserted): each run imports the
// same PyTorch snapshot with every given CLI entry point in turn (interleaved, so that a change of load hits
// all of them alike), pinned with taskset where there is one, and reads the wall time, the command's own
// "imported in" time, and CPU time (user + system) and peak RSS from GNU time where /usr/bin/time exists.
// Medians at the end; every line carries the 1-minute load average. Each entry point is a built checkout's
// bin/vramscope.mjs (`npm run build:cli` there first).
//
//   node --import tsx scripts/bench-import-ab.ts [--entries 1000000] [--file F.pickle] [--runs 5] [--cpu 1]
//        <bin/vramscope.mjs> [<other checkout>/bin/vramscope.mjs ...]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from '../src-main/cli/commands/bench.ts';
import { benchSnapshotFile } from './pytorch-training-snapshot.ts';

const MiB = 1 << 20;
const load = (): string => loadavg()[0]!.toFixed(2);

interface Run {
  /** Seconds, from spawn to exit (the command's start-up and the trace writing included). */
  readonly wall: number;
  /** Seconds, as the command prints it (importing only). */
  readonly imported: number;
  /** Seconds of CPU (user + system); NaN without GNU time. */
  readonly cpu: number;
  /** MiB; NaN without GNU time. */
  readonly rss: number;
}

function importOnce(bin: string, file: string, out: string, cpu: string | undefined): Run {
  const time = existsSync('/usr/bin/time');
  let argv = [process.execPath, bin, 'import', file, '--out', out];
  if (time) argv = ['/usr/bin/time', '-f', 'GNU-TIME cpu=%U+%S rss_kb=%M', ...argv];
  if (cpu !== undefined && existsSync('/usr/bin/taskset')) argv = ['/usr/bin/taskset', '-c', cpu, ...argv];
  const started = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 64 * MiB });
  const wall = (performance.now() - started) / 1000;
  const text = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`${bin} import failed (${r.status}): ${text.slice(-2000)}`);
  const imported = Number(/imported in ([0-9.]+) s/.exec(text)?.[1] ?? NaN);
  const m = /GNU-TIME cpu=([0-9.]+)\+([0-9.]+) rss_kb=(\d+)/.exec(text);
  return {
    wall,
    imported,
    cpu: m ? Number(m[1]) + Number(m[2]) : NaN,
    rss: m ? Number(m[3]) / 1024 : NaN,
  };
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: {
      entries: { type: 'string', default: '1000000' },
      file: { type: 'string' },
      runs: { type: 'string', default: '5' },
      cpu: { type: 'string', default: '1' },
    },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new Error('which builds? give one or more bin/vramscope.mjs paths');
  const bins = positionals.map((p) => path.resolve(p));
  const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-bench-ab-'));
  try {
    const file = benchSnapshotFile(dir, Number(values.entries), values.file);
    const mb = statSync(file).size / MiB;
    const cpu = values.cpu === 'none' ? undefined : values.cpu;
    const runs = new Map<string, Run[]>(bins.map((b) => [b, []]));
    for (let k = 0; k < Math.max(1, Number(values.runs)); k++) {
      for (const bin of bins) {
        const r = importOnce(bin, file, path.join(dir, 'out.trace'), cpu);
        runs.get(bin)!.push(r);
        console.log(
          `bench-import-ab run=${k} bin=${bin} wall_s=${r.wall.toFixed(2)} imported_s=${r.imported.toFixed(2)} cpu_s=${r.cpu.toFixed(2)} peak_rss_mb=${r.rss.toFixed(0)} load=${load()}`,
        );
      }
    }
    for (const [bin, rs] of runs) {
      const wall = median(rs.map((r) => r.wall));
      console.log(
        `bench-import-ab median bin=${bin} file_mb=${mb.toFixed(1)} runs=${rs.length} wall_s=${wall.toFixed(2)} mb_per_s=${(mb / wall).toFixed(1)} imported_s=${median(rs.map((r) => r.imported)).toFixed(2)} cpu_s=${median(rs.map((r) => r.cpu)).toFixed(2)} peak_rss_mb=${median(rs.map((r) => r.rss)).toFixed(0)} cpu=${cpu ?? 'any'} load=${load()}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
