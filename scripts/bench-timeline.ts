// Timeline benchmark (issue 11): input-to-frame latency of panning and zooming at 1,000,000 events, in both
// modes (stacked totals; individual allocations as bands), in real Chromium over `vramscope serve`.
// Prints numbers; asserts nothing.
//
//   node --import tsx scripts/bench-timeline.ts [--events 1000000] [--pytorch ENTRIES] [--inputs 120]
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
// 95th percentile, max. Also the canvas's own last draw cost (data-draw-ms).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { writeBigTrace } from '../tests/support/big-trace.ts';
import { startServeProcess } from '../tests/support/api-transports.ts';
import { launchBrowser, viteBuild } from '../tests/support/ui-browser.ts';
import { simulateTraining, writeTrainingPickle } from './pytorch-training-snapshot.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    pytorch: { type: 'string' },
    inputs: { type: 'string', default: '120' },
  },
});
const inputs = Number(values.inputs);
const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-bench-timeline-'));

interface Latency {
  handled: number[];
  frame: number[];
  drawMs: number[];
  draws: number;
}

/** Dispatches `count` inputs of a kind, one per animation frame; latencies as described above. */
async function measure(page: Page, kind: 'pan' | 'zoom', count: number): Promise<Latency> {
  return page.evaluate(
    async ({ kind, count }) => {
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
      const out = { handled: [] as number[], frame: [] as number[], drawMs: [] as number[], draws: 0 };
      const draws0 = Number(canvas.dataset['draws'] ?? '0');
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
        if (kind === 'pan') {
          x += dir * 7;
          if (x < rect.left + 120 || x > rect.right - 40) dir = -dir;
          window.dispatchEvent(new MouseEvent('mousemove', mouse(x)));
        } else {
          // In and out in turns (4 steps each), around the middle, so the view stays zoomed in.
          const delta = Math.floor(i / 4) % 2 === 0 ? -120 : 120;
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
        out.handled.push(t1 - t0);
        out.frame.push(t2 - t0);
        out.drawMs.push(Number(canvas.dataset['drawMs'] ?? 'NaN'));
      }
      if (kind === 'pan') window.dispatchEvent(new MouseEvent('mouseup', mouse(x)));
      await afterPaint();
      out.draws = Number(canvas.dataset['draws'] ?? '0') - draws0;
      return out;
    },
    { kind, count },
  );
}

function stats(xs: number[]): string {
  const s = xs.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return `median=${q(0.5).toFixed(1)} p95=${q(0.95).toFixed(1)} max=${(s.at(-1) ?? NaN).toFixed(1)}`;
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
    for (const mode of ['totals', 'allocations'] as const) {
      await page.selectOption('[data-testid="timeline-mode"]', mode);
      await waitDrawn(page, mode);
      // Zoom in 6 wheel steps at the centre first (a view of a few percent of the trace), then wait.
      const box = await (await page.$('[data-testid="timeline-canvas"]'))?.boundingBox();
      if (!box) throw new Error('no timeline canvas');
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      for (let i = 0; i < 6; i++) await page.mouse.wheel(0, -240);
      await page.waitForTimeout(1500);
      for (const kind of ['pan', 'zoom'] as const) {
        const r = await measure(page, kind, inputs);
        console.log(
          `timeline-bench trace=${label} events=${events} mode=${mode} input=${kind} n=${inputs} ` +
            `handled_ms{${stats(r.handled)}} input_to_frame_ms{${stats(r.frame)}} draw_ms{${stats(r.drawMs)}} ` +
            `draws=${r.draws} load=${loadavg()
              .map((v) => v.toFixed(2))
              .join(',')}`,
        );
        await page.waitForTimeout(800);
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
  const ui = path.join(repoRoot, 'test-output', 'bench-timeline-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  const big = writeBigTrace(Number(values.events));
  await benchTrace('generated', big, ui);
  rmSync(path.dirname(big), { recursive: true, force: true });
  if (values.pytorch !== undefined) {
    const pickle = path.join(dir, 'training.pickle');
    const trace = path.join(dir, 'training.trace');
    writeTrainingPickle(pickle, simulateTraining({ entries: Number(values.pytorch) }));
    execFileSync(process.execPath, ['bin/vramscope.mjs', 'import', pickle, '--out', trace], {
      cwd: repoRoot,
      stdio: 'ignore',
    });
    await benchTrace('pytorch', trace, ui);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
