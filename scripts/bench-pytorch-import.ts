// Benchmark of `vramscope import` on PyTorch snapshots of a modelled training loop (printed, not asserted).
// Generates the snapshots with scripts/pytorch-training-snapshot.ts into a temporary directory, imports
// each in a fresh process through the CLI's path (file source -> importer -> trace writer; the child is
// scripts/bench-import.ts --measure), pinned to one core with taskset where it exists, several times, and
// prints the median and the spread of import time (wall, and the median CPU time, which a loaded machine
// disturbs far less), throughput and peak RSS. Each line also carries a
// calibration figure (a plain byte-sum loop over the file, MB/s, measured in the same way), so numbers from
// a loaded machine can be judged against an idle one.
//
// With --ui (default on; --no-ui to skip), each pickle is also opened in web mode: a real `vramscope serve`
// (dist/cli: `npm run build:cli` first; in the environment `npm start` gives it: glibc's huge pages where
// they help, `huge_pages=on|off` in the line, VRAMSCOPE_HUGE_PAGES=0 for none; src-main/runtime/huge-pages.ts)
// and real Chromium, the file picked in the Open view, timed from the
// pick to the first drawn timeline with each phase's time from the pick (upload done, import done, trace
// loaded in the page, first frame; scripts/web-open.ts says what each is), with the server's peak RSS, the
// CPU seconds of the server, Chromium and the rest during the open, and the calibration loop's speed at the
// time. scripts/bench-web-ab.ts compares checkouts in web mode, alternating per run. --no-cli skips
// the CLI imports (only the web-mode line); VRAMSCOPE_BENCH_MARKS=1 also prints each run's marks. Every
// line carries the 1-minute load average.
//
//   node --import tsx scripts/bench-pytorch-import.ts [--entries 1000000,3000000] [--runs 3] [--json]
//        [--stacks all|python] [--cpu 1] [--keep DIR] [--no-ui] [--no-cli]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  flushToDisk,
  simulateTraining,
  writeTrainingJson,
  writeTrainingPickle,
} from './pytorch-training-snapshot.ts';
import type { CpuSplit, WebOpen } from './web-open.ts';

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

const load = (): string => loadavg()[0]!.toFixed(2);

/**
 * Pick → first drawn timeline in web mode (Chromium + serve), `runs` times in fresh pages and fresh
 * servers (scripts/web-open.ts: what each phase is, and the CPU split); the median of each printed, with a
 * calibration figure taken before the runs (the sum loop, any core: the machine's speed at the time).
 */
async function benchUi(files: { file: string; entries: number }[], runs: number): Promise<void> {
  const { launchBrowser, viteBuild } = await import('../tests/support/ui-browser.ts');
  const { hugePageTunable, serverEnvironment } = await import('../src-main/runtime/huge-pages.ts');
  const { openInWebMode } = await import('./web-open.ts');
  // The server as `npm start` runs it: with malloc's huge pages where they help (huge-pages.ts).
  const env = serverEnvironment(process.env);
  const hugePages = (env['GLIBC_TUNABLES'] ?? '').includes(hugePageTunable) ? 'on' : 'off';
  const ui = path.join(repoRoot, 'test-output', 'bench-pytorch-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  const browser = await launchBrowser();
  const printMarks = process.env['VRAMSCOPE_BENCH_MARKS'] === '1';
  try {
    for (const { file, entries } of files) {
      const calib = calibrate(undefined, file);
      const results: WebOpen[] = [];
      for (let k = 0; k < runs; k++)
        results.push(await openInWebMode(browser, file, { ui, env, printMarks }));
      const s = (pick: (r: WebOpen) => number): string => (median(results.map(pick)) / 1000).toFixed(2);
      const cpu = (pick: (c: CpuSplit) => number): string =>
        median(results.map((r) => pick(r.cpu))).toFixed(2);
      console.log(
        `bench-pytorch-ui file=${path.basename(file)} entries=${entries} file_mb=${(statSync(file).size / MB).toFixed(1)} runs=${runs} pick_to_first_timeline_s_median=${s((r) => r.firstFrame)} upload_done_s_median=${s((r) => r.uploaded)} import_done_s_median=${s((r) => r.imported)} trace_loaded_s_median=${s((r) => r.overview)} first_frame_s_median=${s((r) => r.firstFrame)} first_frame_s_all=${results.map((r) => (r.firstFrame / 1000).toFixed(2)).join(',')} server_peak_rss_mib_median=${median(results.map((r) => r.peakRssMiB)).toFixed(0)} cpu_s_median_server=${cpu((c) => c.server)} cpu_s_median_chromium_network=${cpu((c) => c.chromiumNetwork)} cpu_s_median_chromium_other=${cpu((c) => c.chromiumOther)} cpu_s_median_other=${cpu((c) => c.other)} server_minor_faults_median=${median(results.map((r) => r.serverMinorFaults)).toFixed(0)} calib_sum_loop_mb_per_s=${calib.toFixed(0)} huge_pages=${hugePages} load=${load()}`,
      );
    }
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      entries: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
      stacks: { type: 'string', default: 'all' },
      cpu: { type: 'string', default: '1' },
      keep: { type: 'string' },
      ui: { type: 'boolean', default: true },
      cli: { type: 'boolean', default: true },
    },
    allowNegative: true,
  });
  const dir = values.keep ?? mkdtempSync(path.join(tmpdir(), 'vramscope-bench-pytorch-'));
  const runs = Math.max(1, Number(values.runs));
  const cpu = values.cpu === 'none' ? undefined : values.cpu;
  const pickles: { file: string; entries: number }[] = [];
  try {
    for (const n of values.entries.split(',').map(Number)) {
      const t0 = performance.now();
      const sim = simulateTraining({ entries: n, stacks: values.stacks === 'python' ? 'python' : 'all' });
      const files = [path.join(dir, `training-${n}.pickle`)];
      writeTrainingPickle(files[0]!, sim);
      pickles.push({ file: files[0]!, entries: sim.trace.length });
      if (values.json) {
        files.push(path.join(dir, `training-${n}.json`));
        writeTrainingJson(files[1]!, sim);
      }
      // On disk before anything is timed: otherwise the kernel writes the fresh file back (hundreds of MB)
      // during the first runs, on the same cores.
      for (const file of files) flushToDisk(file);
      console.log(
        `generated ${sim.trace.length} entries (${sim.iterations} iterations) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      for (const file of values.cli ? files : []) {
        const mb = statSync(file).size / MB;
        const times: number[] = [];
        const cpuTimes: number[] = [];
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
          cpuTimes.push(field(line, 'import_cpu_s'));
          rss.push(field(line, 'peak_rss_mb'));
          rmSync(`${file}.trace`, { force: true });
        }
        const t = median(times);
        console.log(
          `bench-pytorch-import file=${path.basename(file)} entries=${sim.trace.length} file_mb=${mb.toFixed(1)} runs=${runs} import_s_median=${t.toFixed(2)} import_s_min=${Math.min(...times).toFixed(2)} import_s_max=${Math.max(...times).toFixed(2)} import_cpu_s_median=${median(cpuTimes).toFixed(2)} mb_per_s=${(mb / t).toFixed(1)} peak_rss_mb_median=${median(rss).toFixed(0)} calib_sum_loop_mb_per_s_median=${median(calib).toFixed(0)} cpu=${cpu ?? 'any'} load=${load()}`,
        );
      }
    }
    if (values.ui) await benchUi(pickles, runs);
  } finally {
    if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
