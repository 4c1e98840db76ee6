// Benchmark of `vramscope import` on PyTorch snapshots of a modelled training loop (printed, not asserted).
// Generates the snapshots with scripts/pytorch-training-snapshot.ts into a temporary directory, imports
// each in a fresh process through the CLI's path (file source -> importer -> trace writer; the child is
// scripts/bench-import.ts --measure), pinned to one core with taskset where it exists, several times, and
// prints the median and the spread of import time, throughput and peak RSS. Each line also carries a
// calibration figure (a plain byte-sum loop over the file, MB/s, measured in the same way), so numbers from
// a loaded machine can be judged against an idle one.
//
//   node --import tsx scripts/bench-pytorch-import.ts [--entries 1000000,3000000] [--runs 3] [--json]
//        [--stacks all|python] [--cpu 1] [--keep DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { simulateTraining, writeTrainingJson, writeTrainingPickle } from './pytorch-training-snapshot.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1 << 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** Runs `args` with node (through tsx), pinned with taskset when there is one; returns stdout. */
function runPinned(cpu: string | undefined, args: string[]): string {
  const node = [process.execPath, '--import', 'tsx', ...args];
  const taskset = cpu !== undefined && existsSync('/usr/bin/taskset');
  const r = spawnSync(
    taskset ? '/usr/bin/taskset' : node[0]!,
    taskset ? ['-c', cpu, ...node] : node.slice(1),
    {
      cwd: repoRoot,
      encoding: 'utf8',
      maxBuffer: 64 * MB,
    },
  );
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

function field(line: string, name: string): number {
  const m = new RegExp(`\\b${name}=([0-9.]+)`).exec(line);
  if (m === null) throw new Error(`no ${name}= in ${line}`);
  return Number(m[1]);
}

/** MB/s of a byte-sum loop over the file in a fresh pinned process: how fast this core is right now. */
function calibrate(cpu: string | undefined, file: string): number {
  const script = `const b=require('node:fs').readFileSync(${JSON.stringify(file)});let s=0;const t=performance.now();for(let i=0;i<b.length;i++)s=(s+b[i])|0;console.log('calib mbps='+(b.length/1048576/((performance.now()-t)/1000)).toFixed(0)+' s='+s)`;
  const taskset = cpu !== undefined && existsSync('/usr/bin/taskset');
  const r = spawnSync(
    taskset ? '/usr/bin/taskset' : process.execPath,
    taskset ? ['-c', cpu, process.execPath, '-e', script] : ['-e', script],
    { encoding: 'utf8' },
  );
  return field(r.stdout, 'mbps');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      entries: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
      stacks: { type: 'string', default: 'all' },
      cpu: { type: 'string', default: '1' },
      keep: { type: 'string' },
    },
  });
  const dir = values.keep ?? mkdtempSync(path.join(tmpdir(), 'vramscope-bench-pytorch-'));
  const runs = Math.max(1, Number(values.runs));
  const cpu = values.cpu === 'none' ? undefined : values.cpu;
  try {
    for (const n of values.entries.split(',').map(Number)) {
      const t0 = performance.now();
      const sim = simulateTraining({ entries: n, stacks: values.stacks === 'python' ? 'python' : 'all' });
      const files = [path.join(dir, `training-${n}.pickle`)];
      writeTrainingPickle(files[0]!, sim);
      if (values.json) {
        files.push(path.join(dir, `training-${n}.json`));
        writeTrainingJson(files[1]!, sim);
      }
      console.log(
        `generated ${sim.trace.length} entries (${sim.iterations} iterations) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      for (const file of files) {
        const mb = statSync(file).size / MB;
        const times: number[] = [];
        const rss: number[] = [];
        const calib: number[] = [];
        for (let k = 0; k < runs; k++) {
          calib.push(calibrate(cpu, file));
          const out = runPinned(cpu, [
            'scripts/bench-import.ts',
            '--measure',
            file,
            '--out',
            `${file}.trace`,
          ]);
          const line = out.split('\n').find((l) => l.startsWith('bench-import '))!;
          times.push(field(line, 'import_s'));
          rss.push(field(line, 'peak_rss_mb'));
          rmSync(`${file}.trace`, { force: true });
        }
        const t = median(times);
        console.log(
          `bench-pytorch-import file=${path.basename(file)} entries=${sim.trace.length} file_mb=${mb.toFixed(1)} runs=${runs} import_s_median=${t.toFixed(2)} import_s_min=${Math.min(...times).toFixed(2)} import_s_max=${Math.max(...times).toFixed(2)} mb_per_s=${(mb / t).toFixed(1)} peak_rss_mb_median=${median(rss).toFixed(0)} calib_sum_loop_mb_per_s_median=${median(calib).toFixed(0)} cpu=${cpu ?? 'any'}`,
        );
      }
    }
  } finally {
    if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

main();
