// The timeline's allocations mode in real Chromium (issue 11): a PyTorch snapshot of a modelled training
// loop (scripts/pytorch-training-snapshot.ts) opened from the Open view of a real `vramscope serve`. The
// bands drawn are the engine's answer (computed here in Node from the same file: import, then
// allocator/analysis AllocationLifetimes), largest first; hovering a band shows that allocation's size,
// address (block + offset, and the CUDA address and stream it had in the program) and stack (Python
// frames first), as does the selected allocation's panel; searching by address and by frame text lists
// what the engine finds, and choosing a result moves the cursor to it and selects it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { formatBytes } from '../../allocator/format.ts';
import { bytesSource, importSource } from '../../allocator/import/index.ts';
import { AllocationLifetimes, foldStack } from '../../allocator/analysis/index.ts';
import { traceEventsOf, type TraceEvents } from '../../allocator/trace/index.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';
import { startServeProcess } from '../support/api-transports.ts';
import type { ServeProcess } from '../support/api-transports.ts';
import { launchBrowser, screenshotPath, viteBuild } from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { repoRoot } from '../support/ui-trace.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-e2e-alloc-'));
const file = path.join(dir, 'training.pickle');
let server: ServeProcess;
let browser: Browser;
let events: TraceEvents;
let engine: AllocationLifetimes;

beforeAll(async () => {
  const ui = path.join(repoRoot, 'test-output', 'ui-allocations-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  writeTrainingPickle(file, simulateTraining({ entries: 20_000, layers: 2, hidden: 256, batch: 2 }));
  // The engine's own answer, from the same bytes.
  const imported = await importSource(bytesSource('training.pickle', new Uint8Array(readFileSync(file))));
  events = traceEventsOf(imported.log);
  engine = new AllocationLifetimes(events);
  server = await startServeProcess(['--ui', ui]);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const canvasData = async (page: Page, key: string): Promise<string> =>
  (await page.getAttribute('[data-testid="timeline-canvas"]', `data-${key}`)) ?? '';

async function openSnapshot(): Promise<Page> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="app"]');
  await page.click('button[role="tab"]:has-text("Open")');
  await page.setInputFiles('[data-testid="file-input"]', file);
  await page.waitForFunction(
    () =>
      (document.querySelector('[data-testid="trace-title"]')?.textContent ?? '').includes('training.pickle'),
    undefined,
    { timeout: 120_000 },
  );
  expect(errors).toEqual([]);
  return page;
}

/** The engine's bands for the window the page drew (data-bands-window) at the page's detail. */
/** The canvas's drawn bands window, count and first ids, once unchanged for 500 ms (read together). */
async function settledBands(page: Page): Promise<{ window: string; bands: string; ids: string }> {
  const read = () =>
    page.$eval('[data-testid="timeline-canvas"]', (c) => ({
      window: c.getAttribute('data-bands-window') ?? '',
      bands: c.getAttribute('data-bands') ?? '',
      ids: c.getAttribute('data-band-ids') ?? '',
    }));
  let last = await read();
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await read();
    if (now.window === last.window && now.bands === last.bands && now.ids === last.ids) return now;
    last = now;
  }
}

async function engineBands(page: Page, limit: number) {
  const [start, end] = (await canvasData(page, 'bands-window')).split('-').map(Number) as [number, number];
  return engine.bands({ start, end, limit, buckets: 1 }, events.length);
}

describe('allocations mode on a PyTorch snapshot', () => {
  test('bands: the largest allocations first, as many as the engine answers, every one when few', async () => {
    const page = await openSnapshot();
    await page.selectOption('[data-testid="timeline-mode"]', 'allocations');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="timeline-canvas"]')?.getAttribute('data-mode') ===
          'allocations' &&
        Number(document.querySelector('[data-testid="timeline-canvas"]')?.getAttribute('data-bands')) > 0,
      undefined,
      { timeout: 60_000 },
    );
    // The default detail (2,000): the whole snapshot has more allocations than that.
    const expected = await engineBands(page, 2_000);
    expect(expected.alive).toBeGreaterThan(2_000);
    expect(Number(await canvasData(page, 'bands'))).toBe(expected.id.length);
    expect(Number(await canvasData(page, 'bands-alive'))).toBe(expected.alive);
    expect(await canvasData(page, 'band-ids')).toBe(Array.from(expected.id.subarray(0, 20)).join(','));
    expect(Number(await canvasData(page, 'bands-visible'))).toBeGreaterThan(0);
    expect(await page.textContent('[data-testid="timeline-range"]')).toContain(
      `${expected.id.length.toLocaleString('en-US')} of ${expected.alive.toLocaleString('en-US')} allocations drawn`,
    );
    await page.screenshot({ path: screenshotPath('allocations-bands'), fullPage: false });

    // Detail down to the minimum: the 10 largest.
    await page.$eval('[data-testid="band-detail"]', (el) => {
      const input = el as HTMLInputElement;
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set;
      set?.call(input, input.min);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction(
      () => document.querySelector('[data-testid="timeline-canvas"]')?.getAttribute('data-bands') === '10',
    );
    const ten = await engineBands(page, 10);
    expect(await canvasData(page, 'band-ids')).toBe(Array.from(ten.id).join(','));

    // Zoomed in far enough, every allocation alive is a band (fewer alive than the detail).
    await page.$eval('[data-testid="band-detail"]', (el) => {
      const input = el as HTMLInputElement;
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set;
      set?.call(input, input.max);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const canvas = await page.$('[data-testid="timeline-canvas"]');
    const box = await canvas?.boundingBox();
    if (!box) throw new Error('no timeline canvas');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -300);
    await page.waitForFunction(
      () => {
        const c = document.querySelector('[data-testid="timeline-canvas"]');
        const [s, e] = (c?.getAttribute('data-bands-window') ?? '0-0').split('-').map(Number);
        return (
          (e ?? 0) - (s ?? 0) < 2_000 && c?.getAttribute('data-bands') === c?.getAttribute('data-bands-alive')
        );
      },
      undefined,
      { timeout: 60_000 },
    );
    // The zoom's last answers may still arrive (the range follows the input 150 ms later): compare once the
    // drawn window and bands stayed the same for half a second, all read in one go.
    const drawn = await settledBands(page);
    const [start, end] = drawn.window.split('-').map(Number) as [number, number];
    const zoomed = engine.bands({ start, end, limit: 50_000, buckets: 1 }, events.length);
    expect(Number(drawn.bands)).toBe(zoomed.alive);
    expect(drawn.ids).toBe(Array.from(zoomed.id.subarray(0, 20)).join(','));
    await page.screenshot({ path: screenshotPath('allocations-bands-zoomed'), fullPage: false });

    // Hover: along the plot's middle row until a band's tooltip appears; it names that allocation.
    let shown = false;
    for (let dx = 90; dx < box.width - 20 && !shown; dx += 8) {
      for (const dy of [0.85, 0.6, 0.35]) {
        await page.mouse.move(box.x + dx, box.y + box.height * dy);
        const size = await page.$('[data-testid="timeline-tooltip-size"]');
        if (size) {
          shown = true;
          break;
        }
      }
    }
    expect(shown).toBe(true);
    const tip = (await page.textContent('[data-testid="timeline-tooltip"]')) ?? '';
    const id = Number(/#(\d+)/.exec(tip)?.[1]);
    const o = engine.ordinalOf(id);
    if (o === undefined) throw new Error(`the tooltip names #${id}, which the engine does not know`);
    const at = engine.allocEvent[o]!;
    const c = events.columns;
    expect(await page.textContent('[data-testid="timeline-tooltip-size"]')).toBe(formatBytes(c.size[at]!));
    expect(await page.textContent('[data-testid="timeline-tooltip-address"]')).toContain(
      `block ${c.block[at]} + 0x${c.offset[at]!.toString(16)}`,
    );
    // Where it lay in the program: its CUDA address and stream, as the importer recorded them.
    expect(c.address[at]).toBeGreaterThan(0);
    expect(c.stream[at]).toBeGreaterThan(0); // stream + 1
    await page.waitForSelector('[data-testid="timeline-tooltip-source-place"]');
    expect(await page.textContent('[data-testid="timeline-tooltip-source-place"]')).toBe(
      `address 0x${c.address[at]!.toString(16)} · stream ${c.stream[at]! - 1}`,
    );
    const stack = events.strings[c.stack[at]!] ?? '';
    const folded = foldStack(stack);
    await page.waitForSelector('[data-testid="timeline-tooltip-stack"]');
    const shownStack = (await page.textContent('[data-testid="timeline-tooltip-stack"]')) ?? '';
    if (folded && folded.python.length > 0) {
      // Python frames first; the C++ frames folded behind one line.
      expect(shownStack.startsWith(folded.python[0]!)).toBe(true);
      expect(shownStack).toContain('C++ frame');
    } else expect(shownStack.length).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('allocations-hover'), fullPage: false });
    await page.close();
  }, 300_000);

  test('search by address and by frame text lists what the engine finds; a result moves the cursor', async () => {
    const page = await openSnapshot();
    const c = events.columns;
    // A known allocation: the largest of the trace.
    const largest = engine.bands({ start: 0, end: events.length, limit: 1, buckets: 1 }, events.length);
    const id = largest.id[0]!;
    const at = largest.from[0]!;
    const address = `block ${c.block[at]} + 0x${(c.offset[at]! + 16).toString(16)}`;
    await page.fill('input[aria-label="Search address"]', address);
    await page.click('[data-testid="allocation-search"] button[type="submit"]');
    await page.waitForSelector('[data-testid="search-result"]');
    const byAddress = engine.search(
      { address: { block: c.block[at]!, offset: c.offset[at]! + 16 }, limit: 200 },
      events.length,
    );
    const idsShown = async (): Promise<number[]> =>
      page.$$eval('[data-testid="search-result"]', (els) =>
        els.map((e) => Number(e.getAttribute('data-id'))),
      );
    const idOf = (o: number): number => c.id[engine.allocEvent[o]!]!;
    expect(await idsShown()).toEqual(byAddress.ordinals.map(idOf));
    expect(await idsShown()).toContain(id);
    expect(await page.textContent('[data-testid="search-summary"]')).toContain(
      `${byAddress.total.toLocaleString('en-US')} allocation`,
    );

    // By the text of a Python frame of its stack, as shown ("file:line function").
    const folded = foldStack(events.strings[c.stack[at]!] ?? '');
    const frame = folded?.python[0] ?? folded?.native[0];
    if (!frame) throw new Error('the largest allocation has no frames');
    await page.fill('input[aria-label="Search address"]', '');
    await page.fill('input[aria-label="Search frame text"]', frame);
    await page.click('[data-testid="allocation-search"] button[type="submit"]');
    const byText = engine.search({ text: frame, limit: 200 }, events.length);
    await page.waitForFunction(
      (n) => (document.querySelector('[data-testid="search-summary"]')?.textContent ?? '').startsWith(n),
      byText.total.toLocaleString('en-US'),
    );
    expect(await idsShown()).toEqual(byText.ordinals.map(idOf));
    await page.screenshot({ path: screenshotPath('allocations-search'), fullPage: false });

    // Choosing a result: the cursor goes right after its allocate event and it is selected.
    const pick = byText.ordinals[Math.floor(byText.ordinals.length / 2)]!;
    await page.click(`[data-testid="search-result"][data-id="${idOf(pick)}"]`);
    await page.waitForFunction(
      (n) =>
        (document.querySelector('[data-testid="cursor-readout"]')?.textContent ?? '').startsWith(
          `event ${n} `,
        ),
      (engine.allocEvent[pick]! + 1).toLocaleString('en-US'),
    );
    await page.waitForSelector('[data-testid="decision-stack"]');
    // The selected allocation's panel says where it lay in the program too.
    const picked = engine.allocEvent[pick]!;
    expect(await page.textContent('[data-testid="decision-source-place"]')).toBe(
      `address 0x${c.address[picked]!.toString(16)} · stream ${c.stream[picked]! - 1}`,
    );

    // The largest allocation chosen from the address results: in the allocations mode it is the selected
    // band, drawn white; the pointer on a white pixel of the plot shows exactly that allocation.
    await page.fill('input[aria-label="Search frame text"]', '');
    await page.fill('input[aria-label="Search address"]', address);
    await page.click('[data-testid="allocation-search"] button[type="submit"]');
    await page.click(`[data-testid="search-result"][data-id="${id}"]`);
    await page.selectOption('[data-testid="timeline-mode"]', 'allocations');
    await page.waitForFunction(
      (want) =>
        (document.querySelector('[data-testid="timeline-canvas"]')?.getAttribute('data-band-ids') ?? '')
          .split(',')
          .includes(String(want)),
      id,
      { timeout: 60_000 },
    );
    await page.waitForTimeout(500);
    const white = await page.$eval('[data-testid="timeline-canvas"]', (el) => {
      const canvas = el as HTMLCanvasElement;
      const ctx = canvas.getContext('2d');
      if (!ctx) return null;
      const dpr = canvas.width / canvas.getBoundingClientRect().width;
      // The plot (timelineMargin: left 78, top 30, right 12, bottom 22), in device pixels.
      const x0 = Math.round(78 * dpr);
      const y0 = Math.round(30 * dpr);
      const w = canvas.width - x0 - Math.round(12 * dpr);
      const h = canvas.height - y0 - Math.round(22 * dpr);
      const px = ctx.getImageData(x0, y0, w, h).data;
      // The middle white pixel of the middle column that has any.
      const columns: number[][] = [];
      for (let x = 0; x < w; x++) {
        const rows: number[] = [];
        for (let y = 0; y < h; y++) {
          const k = (y * w + x) * 4;
          if (px[k] === 255 && px[k + 1] === 255 && px[k + 2] === 255) rows.push(y);
        }
        if (rows.length > 0) columns.push([x, rows[rows.length >> 1]!]);
      }
      const mid = columns[columns.length >> 1];
      return mid ? { x: (x0 + mid[0]!) / dpr, y: (y0 + mid[1]!) / dpr } : null;
    });
    if (!white) throw new Error('the selected allocation is not drawn');
    const plot = await (await page.$('[data-testid="timeline-canvas"]'))?.boundingBox();
    if (!plot) throw new Error('no timeline canvas');
    await page.mouse.move(plot.x + white.x, plot.y + white.y);
    await page.waitForSelector('[data-testid="timeline-tooltip-size"]');
    expect(await page.textContent('[data-testid="timeline-tooltip"]')).toContain(`#${id}`);
    expect(await page.textContent('[data-testid="timeline-tooltip-size"]')).toBe(
      formatBytes(largest.size[0]!),
    );
    await page.screenshot({ path: screenshotPath('allocations-selected-hover'), fullPage: false });
    await page.close();
  }, 300_000);
});
