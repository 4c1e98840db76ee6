// Timeline benchmark (issue 11): input-to-frame latency of panning and zooming at 1,000,000 events, in both
// modes (stacked totals; individual allocations as bands), in real Chromium over `vramscope serve`.
// Prints numbers; asserts nothing.
//
//   node --import tsx scripts/bench-timeline.ts [--events 1000000] [--pytorch ENTRIES] [--inputs 120] [--trace]
//     [--modes totals,allocations] [--kinds pan,zoom,zoom-far] [--ui-dir DIR]
//
// --ui-dir: a renderer already built (`vite build` of src-renderer, e.g. of another commit) instead of
// building this checkout's: A/B pairs of two builds run one after the other on one machine.
//
// Traces: a generated 1M-event trace (tests/support/big-trace.ts: a rolling window of 1,000 live
// allocations), and with --pytorch a modelled training-loop snapshot of ENTRIES entries
// (scripts/pytorch-training-snapshot.ts) converted with `vramscope import`.
//
// What is measured, per input, in the page: inputs are dispatched at the start of an animation frame, as
// Chromium delivers real mouse and wheel input (aligned to frames). t0 = just before dispatching the event
// (a mousemove of a drag, or a wheel step alternating in and out); "handled" = when dispatch returned
// (the handler drew the canvas); "frame" = when a message posted from the next task runs, after the
// frame's rendering steps (style, layout, paint) that the input's work belongs to. Both in ms: median,
// 95th percentile, max, and how many inputs took longer than a 60 Hz frame (16 ms) to reach their frame.
// Also the canvas's own last draw cost (data-draw-ms), the level-of-detail queries the page sent during the
// series (lod_queries: data-lod-queries, NaN for a renderer without the counter), the answers and range
// updates applied in idle time because a wheel burst was on (held_updates), and the load average (a
// loaded machine's outliers are mostly waits for a CPU: read the numbers with it).
//
// --trace: each series runs again under a Chromium trace (CDP Tracing, which slows the page: these runs'
// latencies are not the ones above), and one line per series says where the renderer's main thread spent
// the inputs slower than 16 ms, against the others (scripts/frame-attribution.ts): self time per trace
// event name (FunctionCall = script, UpdateLayoutTree/Layout/Paint = rendering, *GC* = garbage
// collection), idle (no task ran: waiting for a CPU or a timer), descheduled (inside a task, not running),
// and the main thread's CPU time per input → frame (what the frame cost, whatever the load).
// --trace-out DIR also writes each series' trace there (TRACE-MODE-INPUT.json, for Perfetto or DevTools).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { attribute, formatAttribution, rendererMainThread } from './frame-attribution.ts';
import type { TraceEvent } from './frame-attribution.ts';
import { writeBigTrace } from '../tests/support/big-trace.ts';
import { startServeProcess } from '../tests/support/api-transports.ts';
import { launchBrowser, viteBuild } from '../tests/support/ui-browser.ts';
import { benchSnapshotFile } from './pytorch-training-snapshot.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    pytorch: { type: 'string' },
    inputs: { type: 'string', default: '120' },
    trace: { type: 'boolean', default: false },
    'trace-out': { type: 'string' },
    modes: { type: 'string', default: 'totals,allocations' },
    kinds: { type: 'string', default: 'pan,zoom' },
    'ui-dir': { type: 'string' },
  },
});
const inputs = Number(values.inputs);
const modes = values.modes
  .split(',')
  .map((m) => m.trim())
  .filter((m): m is 'totals' | 'allocations' => m === 'totals' || m === 'allocations');
/**
 * pan: a drag, 7 px per input, back and forth; zoom: wheel steps, 4 in and 4 out in turns (the view moves
 * 1.95x back and forth); zoom-far: 20 in and 20 out in turns (28x: past what one answer serves).
 */
type InputKind = 'pan' | 'zoom' | 'zoom-far';
const kinds = values.kinds
  .split(',')
  .map((k) => k.trim())
  .filter((k): k is InputKind => k === 'pan' || k === 'zoom' || k === 'zoom-far');
const extraCategories = process.env['VS_TRACE_CATS']?.split(',') ?? [];
const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-bench-timeline-'));

interface Latency {
  handled: number[];
  frame: number[];
  drawMs: number[];
  draws: number;
  /** Frames the totals drew from the pan cache (timeline-pan-cache.ts). */
  cacheHits: number;
  /** Level-of-detail queries sent during the series (NaN: the renderer does not count them). */
  queries: number;
  /** Answers and range updates of a wheel burst applied in idle time (timeline-answer-gate.ts). */
  held: number;
}

/** A frame is late when input → frame takes longer than this (a 60 Hz frame), ms. */
const frameBudgetMs = 16;

/**
 * Dispatches `count` inputs of a kind, one per animation frame; latencies as described above. With `marks`,
 * a performance mark `vs-in-I` at each input's t0 and `vs-fr-I` at its frame (for the trace).
 */
async function measure(page: Page, kind: InputKind, count: number, marks = false): Promise<Latency> {
  return page.evaluate(
    async ({ kind, count, marks }) => {
      const canvas = document.querySelector('[data-testid="timeline-canvas"]') as HTMLCanvasElement;
      const rect = canvas.getBoundingClientRect();
      const y = rect.top + rect.height / 2;
      let x = rect.left + rect.width / 2;
      let dir = -1;
      const mouse = (cx: number): MouseEventInit => ({
        bubbles: true,
        cancelable: true,
        clientX: cx,
        clientY: y,
        button: 0,
        view: window,
      });
      if (kind === 'pan') canvas.dispatchEvent(new MouseEvent('mousedown', mouse(x)));
      const out = {
        handled: [] as number[],
        frame: [] as number[],
        drawMs: [] as number[],
        draws: 0,
        cacheHits: 0,
        queries: 0,
        held: 0,
      };
      const draws0 = Number(canvas.dataset['draws'] ?? '0');
      const hits0 = Number(canvas.dataset['panCacheHits'] ?? '0');
      const queries0 = Number(canvas.dataset['lodQueries'] ?? 'NaN');
      const held0 = Number(canvas.dataset['heldUpdates'] ?? 'NaN');
      const afterPaint = (): Promise<number> =>
        new Promise((resolve) => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => resolve(performance.now());
          requestAnimationFrame(() => ch.port2.postMessage(0));
        });
      for (let i = 0; i < count; i++) {
        // Start of a frame, as real input arrives.
        await new Promise((r) => requestAnimationFrame(r));
        const t0 = performance.now();
        if (marks) performance.mark(`vs-in-${i}`, { startTime: t0 });
        if (kind === 'pan') {
          x += dir * 7;
          if (x < rect.left + 120 || x > rect.right - 40) dir = -dir;
          window.dispatchEvent(new MouseEvent('mousemove', mouse(x)));
        } else {
          // In and out in turns (4 steps each; zoom-far: 20), around the middle, so the view stays zoomed in.
          const delta = Math.floor(i / (kind === 'zoom' ? 4 : 20)) % 2 === 0 ? -120 : 120;
          canvas.dispatchEvent(new WheelEvent('wheel', { ...mouse(x), deltaY: delta, deltaMode: 0 }));
        }
        const t1 = performance.now();
        // The frame this input's work lands in: rendering runs after this task; a message posted from
        // the next animation frame callback is the earliest point after it.
        const ch = new MessageChannel();
        const t2 = await new Promise<number>((resolve) => {
          ch.port1.onmessage = () => resolve(performance.now());
          setTimeout(() => ch.port2.postMessage(0), 0);
        });
        if (marks) performance.mark(`vs-fr-${i}`, { startTime: t2 });
        out.handled.push(t1 - t0);
        out.frame.push(t2 - t0);
        out.drawMs.push(Number(canvas.dataset['drawMs'] ?? 'NaN'));
      }
      if (kind === 'pan') window.dispatchEvent(new MouseEvent('mouseup', mouse(x)));
      await afterPaint();
      out.draws = Number(canvas.dataset['draws'] ?? '0') - draws0;
      out.cacheHits = Number(canvas.dataset['panCacheHits'] ?? '0') - hits0;
      out.queries = Number(canvas.dataset['lodQueries'] ?? 'NaN') - queries0;
      out.held = Number(canvas.dataset['heldUpdates'] ?? 'NaN') - held0;
      return out;
    },
    { kind, count, marks },
  );
}

const traceCategories = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'blink.user_timing',
  'v8',
  'v8.execute',
  'disabled-by-default-v8.gc',
  'toplevel',
];

/**
 * Runs a series under a Chromium trace and prints where the main thread spent the late inputs (over the
 * frame budget) and, for comparison, the others.
 */
async function traceSeries(page: Page, kind: InputKind, count: number, out?: string): Promise<string> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  await cdp.send('Tracing.start', {
    traceConfig: {
      includedCategories: [...traceCategories, ...extraCategories],
      recordMode: 'recordAsMuchAsPossible',
    },
    transferMode: 'ReportEvents',
  });
  const r = await measure(page, kind, count, true);
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  await cdp.send('Tracing.end');
  await complete;
  await cdp.detach();
  await page.evaluate(() => performance.clearMarks());
  if (out !== undefined) writeFileSync(out, JSON.stringify({ traceEvents: events }));
  const thread = rendererMainThread(events, 'vs-in-0');
  if (!thread) return 'no renderer main thread in the trace';
  const markTs = new Map<string, number>();
  for (const e of events) if (e.cat.includes('blink.user_timing')) markTs.set(e.name, e.ts);
  const late: { start: number; end: number }[] = [];
  const onTime: { start: number; end: number }[] = [];
  r.frame.forEach((ms, i) => {
    const start = markTs.get(`vs-in-${i}`);
    const end = markTs.get(`vs-fr-${i}`);
    if (start === undefined || end === undefined) return;
    (ms > frameBudgetMs ? late : onTime).push({ start, end });
  });
  const all = attribute(events, thread, [...late, ...onTime]);
  return (
    `traced ${stats(r.frame)} ${lateShare(r.frame)} main_thread_cpu_ms{${stats(all.cpuMs)}} late{${formatAttribution(attribute(events, thread, late))}} ` +
    `on_time{${formatAttribution(attribute(events, thread, onTime))}}`
  );
}

function stats(xs: number[]): string {
  const s = xs.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return `median=${q(0.5).toFixed(1)} p95=${q(0.95).toFixed(1)} max=${(s.at(-1) ?? NaN).toFixed(1)}`;
}

/** Inputs whose frame came later than the frame budget: count/total and percent. */
function lateShare(frameMs: number[]): string {
  const late = frameMs.filter((v) => v > frameBudgetMs).length;
  return `over_${frameBudgetMs}ms=${late}/${frameMs.length} (${((100 * late) / Math.max(1, frameMs.length)).toFixed(1)}%)`;
}

async function waitDrawn(page: Page, mode: 'totals' | 'allocations'): Promise<void> {
  await page.waitForFunction(
    (m) => {
      const c = document.querySelector('[data-testid="timeline-canvas"]');
      return c?.getAttribute('data-mode') === m && Number(c.getAttribute('data-draws')) > 0;
    },
    mode,
    { timeout: 120_000 },
  );
  // Let the data for the current view arrive and draw.
  await page.waitForTimeout(1500);
}

async function benchTrace(label: string, file: string, ui: string): Promise<void> {
  const server = await startServeProcess(['--ui', ui, file]);
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    // tsx compiles this script keeping function names through a `__name` helper, which the functions
    // sent to page.evaluate then call: give the page an identity one.
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.goto(server.url);
    await page.waitForSelector('[data-testid="stat-events"]', { timeout: 300_000 });
    const events = ((await page.textContent('[data-testid="stat-events"]')) ?? '').replace(/,/g, '');
    for (const mode of modes) {
      await page.selectOption('[data-testid="timeline-mode"]', mode);
      await waitDrawn(page, mode);
      // Zoom in 6 wheel steps at the centre first (a view of a few percent of the trace), then wait.
      const box = await (await page.$('[data-testid="timeline-canvas"]'))?.boundingBox();
      if (!box) throw new Error('no timeline canvas');
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      for (let i = 0; i < 6; i++) await page.mouse.wheel(0, -240);
      await page.waitForTimeout(1500);
      for (const kind of kinds) {
        const r = await measure(page, kind, inputs);
        console.log(
          `timeline-bench trace=${label} events=${events} mode=${mode} input=${kind} n=${inputs} ` +
            `handled_ms{${stats(r.handled)}} input_to_frame_ms{${stats(r.frame)}} ${lateShare(r.frame)} ` +
            `draw_ms{${stats(r.drawMs)}} ` +
            `draws=${r.draws} pan_cache_hits=${r.cacheHits} lod_queries=${r.queries} held_updates=${r.held} load=${loadavg()
              .map((v) => v.toFixed(2))
              .join(',')}`,
        );
        await page.waitForTimeout(800);
        if (values.trace) {
          const outDir = values['trace-out'];
          if (outDir !== undefined) mkdirSync(outDir, { recursive: true });
          const line = await traceSeries(
            page,
            kind,
            inputs,
            outDir === undefined ? undefined : path.join(outDir, `${label}-${mode}-${kind}.json`),
          );
          console.log(`timeline-trace trace=${label} mode=${mode} input=${kind} ${line}`);
          await page.waitForTimeout(800);
        }
      }
      const range = await page.textContent('[data-testid="timeline-range"]');
      console.log(`timeline-bench trace=${label} mode=${mode} view="${range}"`);
      await page.click('button:has-text("Reset zoom")');
    }
  } finally {
    await browser.close();
    await server.stop();
  }
}

try {
  execFileSync(process.execPath, ['scripts/build-cli.mjs', '--if-stale', '--quiet'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  const prebuilt = values['ui-dir'];
  const ui = prebuilt ?? path.join(repoRoot, 'test-output', 'bench-timeline-renderer');
  if (prebuilt === undefined) await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  const big = writeBigTrace(Number(values.events));
  await benchTrace('generated', big, ui);
  rmSync(path.dirname(big), { recursive: true, force: true });
  if (values.pytorch !== undefined) {
    const pickle = benchSnapshotFile(dir, Number(values.pytorch));
    const trace = path.join(dir, 'training.trace');
    execFileSync(process.execPath, ['bin/vramscope.mjs', 'import', pickle, '--out', trace], {
      cwd: repoRoot,
      stdio: 'ignore',
    });
    await benchTrace('pytorch', trace, ui);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
