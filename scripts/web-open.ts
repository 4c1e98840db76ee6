// One web-mode open, timed (for benchmarks; prints nothing, asserts nothing): a fresh `vramscope serve` of a
// checkout (its dist/cli: `npm run build:cli` there first) with a built renderer and the node flags `npm
// start` gives it (src-main/runtime/server-heap.ts), a fresh page in a shared Chromium, the file picked in
// the Open view after a user's moment (pickAfterMs), and the time from the pick to each phase. Used by
// scripts/bench-pytorch-import.ts (this checkout) and scripts/bench-web-ab.ts (several, alternating).
//
// The phases are the page's User Timing marks (src-renderer/data/load-marks.ts), each in ms from the pick:
// `uploaded` the last byte acknowledged, `imported` the server's importFile / loadTrace answer (imported and
// analysed in the trace worker; an import runs while the bytes arrive, so it overlaps the upload),
// `overview` the report, time index and leak markers fetched, `firstFrame` the first animation frame with
// the timeline's data drawn (the canvas's data-bucket-px, which only a frame drawing the timeline's
// buckets sets; until 2026-12-03's fourth session the benchmark waited for data-draws > 0, which the empty
// plot drawn before the buckets arrive already sets: about 0.1 s early).
//
// CPU seconds from the pick to the first frame, per process group (Linux /proc; NaN elsewhere): the server
// (all its threads: the trace worker, the analysis thread, V8's helpers, libuv's), Chromium's network
// service (which reads the picked file and sends it), the rest of Chromium (browser, renderer, GPU), and
// everything else on the machine (the benchmark itself, the kernel's own threads, other work). On two
// cores an open is CPU-bound, so these say more about a change than the wall time does. Also the server's
// minor page faults over the same span: first touches of fresh memory, dear on this machine class.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadMarks } from '../src-renderer/data/load-marks.ts';
import { serverNodeFlags } from '../src-main/runtime/server-heap.ts';
import { startServeProcess } from '../tests/support/api-transports.ts';
import type { Page } from 'playwright-core';
import type { Browser } from '../tests/support/ui-browser.ts';
import { processMemory, processUsage, sampleRss, showOpenView } from '../tests/support/ui-upload.ts';

export interface CpuSplit {
  readonly server: number;
  readonly chromiumNetwork: number;
  readonly chromiumOther: number;
  readonly other: number;
}

export interface WebOpen {
  /** ms from the pick. */
  readonly uploaded: number;
  readonly imported: number;
  readonly overview: number;
  readonly firstFrame: number;
  /** The server's largest RSS seen while it ran (MiB). */
  readonly peakRssMiB: number;
  /** CPU seconds from the pick to the first frame (NaN where /proc cannot say). */
  readonly cpu: CpuSplit;
  /**
   * The server's minor page faults from the pick to the first frame, all threads (NaN where /proc cannot
   * say): first touches of fresh memory, each a 4 KiB or a 2 MiB page, dear on a virtual machine.
   */
  readonly serverMinorFaults: number;
}

export interface WebOpenOptions {
  /** The checkout whose bin/vramscope.mjs serves (default: this one). */
  readonly checkout?: string;
  /** The built renderer the server serves (`--ui`). */
  readonly ui: string;
  /** The server's environment (huge-pages.ts's serverEnvironment for what `npm start` gives it). */
  readonly env: NodeJS.ProcessEnv;
  /** Node flags for the server besides serverNodeFlags (what `npm start` gives it), for experiments. */
  readonly extraNodeFlags?: readonly string[];
  /** Print every mark of the run (VRAMSCOPE_BENCH_MARKS=1 in the benchmarks). */
  readonly printMarks?: boolean;
}

/**
 * How long after the Open view shows the file is picked, ms: a person needs longer than that to choose a
 * file. By then the server has done what it does once it is up and idle, as it would have for a user: the
 * trace worker's start and the import reserve (src-main/import/import-reserve.ts, filled 1 s after the
 * worker starts). Before 2026-12-04's tenth session the pick came as soon as the view showed. For the build
 * before the reserve the wait changed nothing: 8 alternating pairs, 1.634 s picking at once against 1.641 s
 * after 1.5 s.
 */
export const pickAfterMs = 2000;

type ProcessGroup = keyof CpuSplit;

interface ProcessUse {
  readonly group: ProcessGroup;
  /** CPU seconds used so far. */
  readonly cpuSeconds: number;
  readonly minorFaults: number;
}

/** What every process has used so far, by pid, with its group. */
function processUse(serverPid: number): Map<number, ProcessUse> {
  const seen = new Map<number, ProcessUse>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const { cpuSeconds, minorFaults } = processUsage(pid);
      // Chromium rewrites its children's command lines into one string: match within it.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const group: ProcessGroup =
        pid === serverPid
          ? 'server'
          : !/chrom/i.test(cmdline.split(/[\0 ]/)[0] ?? '')
            ? 'other'
            : /utility-sub-type=network\./.test(cmdline)
              ? 'chromiumNetwork'
              : 'chromiumOther';
      seen.set(pid, { group, cpuSeconds, minorFaults });
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return seen;
}

function cpuSince(before: Map<number, ProcessUse>, after: Map<number, ProcessUse>): CpuSplit {
  const split = { server: 0, chromiumNetwork: 0, chromiumOther: 0, other: 0 };
  for (const [pid, { group, cpuSeconds }] of after)
    split[group] += cpuSeconds - (before.get(pid)?.cpuSeconds ?? 0);
  return split;
}

const noCpu: CpuSplit = { server: NaN, chromiumNetwork: NaN, chromiumOther: NaN, other: NaN };

/** The first animation frame with the timeline's data for `name` (performance.now() in the page). */
async function firstFrameWithData(page: Page, name: string): Promise<number> {
  const drawn = await page.waitForFunction(
    (n) => {
      const error = document.querySelector('[data-testid="load-error"]')?.textContent;
      if (error) return `error: ${error}`;
      const canvas = document.querySelector('[data-testid="timeline-canvas"]');
      return (document.querySelector('[data-testid="trace-title"]')?.textContent ?? '').includes(n) &&
        canvas?.hasAttribute('data-bucket-px') === true
        ? performance.now()
        : false;
    },
    name,
    { timeout: 600_000, polling: 'raf' },
  );
  const at = await drawn.jsonValue();
  if (typeof at !== 'number') throw new Error(`${name} did not open: ${String(at)}`);
  return at;
}

/** Opens `file` once in web mode (a fresh server and page) and answers its phases; see the file's head. */
export async function openInWebMode(
  browser: Browser,
  file: string,
  options: WebOpenOptions,
): Promise<WebOpen> {
  const server = await startServeProcess(['--ui', options.ui], options.env, options.checkout, [
    ...serverNodeFlags,
    ...(options.extraNodeFlags ?? []),
  ]);
  const page = await browser.context.newPage();
  const pid = server.child.pid!;
  let sampler: { stop(): number } | null = null;
  try {
    await page.goto(server.url);
    await showOpenView(page);
    // A user's moment between the Open view and the pick: the server's idle work is done by then.
    await new Promise((resolve) => setTimeout(resolve, pickAfterMs));
    sampler = sampleRss(pid);
    const use0 = process.platform === 'linux' ? processUse(pid) : null;
    const t0 = await page.evaluate(() => performance.now());
    await page.setInputFiles('[data-testid="file-input"]', file);
    const firstFrame = await firstFrameWithData(page, path.basename(file));
    const use1 = use0 !== null ? processUse(pid) : null;
    const cpu = use0 !== null && use1 !== null ? cpuSince(use0, use1) : noCpu;
    const faults = (use1?.get(pid)?.minorFaults ?? NaN) - (use0?.get(pid)?.minorFaults ?? NaN);
    const marks = await page.evaluate(() =>
      Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])),
    );
    if (options.printMarks === true)
      console.log(
        `marks ${Object.entries(marks)
          .map(([m, t]) => `${m}=${((t - t0) / 1000).toFixed(3)}`)
          .join(' ')}`,
      );
    const at = (mark: string): number => {
      const t = marks[mark];
      if (t === undefined) throw new Error(`the page set no ${mark} mark`);
      return t - t0;
    };
    const peakRssMiB = Math.max(sampler.stop(), processMemory(pid).rssMiB);
    sampler = null;
    return {
      uploaded: at(loadMarks.uploaded),
      imported: at(loadMarks.imported),
      overview: at(loadMarks.overview),
      firstFrame: firstFrame - t0,
      peakRssMiB,
      cpu,
      serverMinorFaults: faults,
    };
  } finally {
    sampler?.stop();
    await page.close();
    await server.stop();
  }
}
