// The inspector in real Chromium over a generated workload, against the real backend: the workload is
// written as a trace file and opened by a `vramscope serve` child (the built renderer, the AppBackend, the
// analysis engine), exactly what the app runs. Checks the numbers shown against the backend's own answers
// computed here in Node (the same trace bytes through the in-process dispatcher) and against the
// workload's ground truth (its leaks), moves the cursor and watches the block map and table follow, reads a
// decision record, and saves a screenshot of each view. Prints (does not assert) panning fps on 1,000,000
// events.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { formatBytes } from '../../allocator/index.ts';
import { startServeProcess, type ServeProcess } from '../support/api-transports.ts';
import { backendSource, workloadTraceBytes } from '../support/ui-backend.ts';
import {
  launchBrowser,
  panInPage,
  screenshotPath,
  viteBuild,
  zoomAndPanWithMouse,
} from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { buildWorkload, loadProfile, repoRoot, type Workload } from '../support/ui-trace.ts';

const device = loadProfile();
const ui = path.join(repoRoot, 'test-output', 'ui-harness-renderer');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vramscope-harness-'));
let browser: Browser;
const servers: ServeProcess[] = [];

beforeAll(async () => {
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Serves the workload's trace (written to a temp file) with the built renderer and opens the app on it. */
async function openWorkload(work: Workload, name: string): Promise<Page> {
  const file = path.join(tmp, name);
  writeFileSync(file, workloadTraceBytes(work));
  const server = await startServeProcess(['--ui', ui, file]);
  servers.push(server);
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="stat-events"]', { timeout: 120_000 });
  expect(errors).toEqual([]);
  return page;
}

const text = async (page: Page, testId: string): Promise<string> =>
  (await page.textContent(`[data-testid="${testId}"]`)) ?? '';

describe('inspector in Chromium (generated workload through vramscope serve)', () => {
  test("views show the source's numbers, follow the cursor and explain a decision", async () => {
    const work = buildWorkload({ ops: 20_000, seed: 42, frameEvery: 1000, device });
    const backend = await backendSource(work, 'harness-20000.trace');
    const expected = backend.source;
    const o = await expected.overview();
    if (!o) throw new Error('no overview');
    const page = await openWorkload(work, 'harness-20000.trace');

    // Overview: the same numbers as the source computed here.
    expect(await text(page, 'stat-events')).toBe(o.eventCount.toLocaleString('en-US'));
    expect(await text(page, 'stat-allocations')).toBe(o.allocationCount.toLocaleString('en-US'));
    expect(await text(page, 'stat-peak-committed')).toBe(formatBytes(o.peakCommittedBytes));
    expect(await text(page, 'stat-peak-allocated')).toBe(formatBytes(o.peakAllocatedBytes));
    for (const h of o.heaps)
      expect(await text(page, `heap-${h.index}-peak`)).toBe(formatBytes(h.peakCommittedBytes));
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="timeline-canvas"]')?.getAttribute('data-draws')) > 0,
    );
    await page.screenshot({ path: screenshotPath('harness-overview'), fullPage: true });

    // Block map at the end, then at the cursor the timeline click puts at the middle.
    await page.click('role=tab[name="Block map"]');
    const atEnd = await text(page, 'blockmap-summary');
    const canvas = await page.$('[data-testid="timeline-canvas"]');
    const box = await canvas?.boundingBox();
    if (!box) throw new Error('no timeline canvas');
    await page.mouse.click(box.x + 78 + (box.width - 90) / 2, box.y + box.height / 2);
    await page.waitForFunction((prev) => {
      const t = document.querySelector('[data-testid="blockmap-summary"]')?.textContent ?? '';
      return t !== prev && !t.startsWith('no snapshot');
    }, atEnd);
    const cursor = Number((await text(page, 'cursor-readout')).split(' ')[1]?.replace(/,/g, ''));
    expect(cursor).toBeGreaterThan(o.eventCount * 0.4);
    expect(cursor).toBeLessThan(o.eventCount * 0.6);
    const snap = await expected.snapshot(cursor);
    const summary = await text(page, 'blockmap-summary');
    expect(summary).toContain(`${snap.blocks.length.toLocaleString('en-US')} blocks`);
    expect(summary).toContain(`${formatBytes(snap.committedBytes)} committed`);
    expect(summary).toContain(`${formatBytes(snap.allocatedBytes)} allocated`);
    expect(Number(await page.getAttribute('[data-testid="blockmap-canvas"]', 'data-blocks'))).toBe(
      snap.blocks.length,
    );
    // Hover the first row: a tooltip with a name, offset and size (or the padding it is).
    const map = await page.$('[data-testid="blockmap-canvas"]');
    const mapBox = await map?.boundingBox();
    if (!mapBox) throw new Error('no block map canvas');
    // Along the first row's bar until the pointer is over an allocation (free space shows no tooltip).
    let shown = false;
    for (let dx = 100; dx < mapBox.width && !shown; dx += 6) {
      await page.mouse.move(mapBox.x + dx, mapBox.y + 11);
      shown = (await page.$('[data-testid="blockmap-tooltip"]')) !== null;
    }
    expect(shown).toBe(true);
    expect(await text(page, 'blockmap-tooltip')).toMatch(/offset .* size |alignment padding/);
    await page.screenshot({ path: screenshotPath('harness-block-map'), fullPage: true });

    // Keyboard: arrow keys move the cursor one event.
    await page.mouse.move(5, 5);
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(
      (c) =>
        (document.querySelector('[data-testid="cursor-readout"]')?.textContent ?? '').startsWith(
          `event ${(c + 1).toLocaleString('en-US')} `,
        ),
      cursor,
    );

    // Allocations alive at the cursor, then a row's decision record.
    await page.click('role=tab[name="Allocations"]');
    await page.check('input[aria-label="Alive at cursor"]');
    const liveCount = (await expected.snapshot(cursor + 1)).blocks.reduce(
      (s, b) => s + b.allocations.length,
      0,
    );
    await page.waitForFunction(
      (n) =>
        (document.querySelector('[data-testid="allocations-total"]')?.textContent ?? '').startsWith(
          `${n.toLocaleString('en-US')} allocations alive`,
        ),
      liveCount,
    );
    await page.click('[data-testid="allocations-body"] [role="row"] >> nth=0');
    await page.waitForSelector('[data-testid="decision-record"]');
    const id = Number(
      (await page.getAttribute('[data-testid="allocations-body"] [role="row"] >> nth=0', 'data-id')) ?? '0',
    );
    const detail = await expected.allocation(id);
    expect(await text(page, 'decision-name')).toBe(detail?.allocation.name);
    expect(await text(page, 'decision-reason')).toBe(detail?.decision?.reason);
    expect(await text(page, 'decision-winner')).toBe(`type ${detail?.decision?.winner}`);
    await page.screenshot({ path: screenshotPath('harness-allocations-decision'), fullPage: true });

    // Leaks at the end: exactly the workload's leaked allocations.
    await page.click('role=tab[name="Leaks"]');
    await page.waitForSelector('[data-testid="leaks-summary"]');
    expect((await text(page, 'leaks-summary')).startsWith(`${work.leaked.length} allocations`)).toBe(true);
    await page.screenshot({ path: screenshotPath('harness-leaks'), fullPage: true });

    // Light theme.
    await page.keyboard.press('t');
    await page.click('role=tab[name="Overview"]');
    await page.waitForFunction(() => document.documentElement.dataset['theme'] === 'light');
    await page.screenshot({ path: screenshotPath('harness-overview-light'), fullPage: true });

    // A file this source cannot read: the error panel names it.
    await page.click('role=tab[name="Open"]');
    await page.setInputFiles('[data-testid="file-input"]', {
      name: 'not-a-trace.trace',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('hello'),
    });
    await page.waitForSelector('[data-testid="load-error"]');
    expect(await text(page, 'load-error')).toContain('Could not open not-a-trace.trace');
    await page.screenshot({ path: screenshotPath('harness-open-error'), fullPage: true });
    await page.close();
    await backend.close();
  }, 240_000);

  test('panning 1,000,000 events (printed, not asserted)', async () => {
    const tBuild = Date.now();
    const work = buildWorkload({ ops: 1_000_000, seed: 7, frameEvery: 1000, device });
    const buildMs = Date.now() - tBuild;
    const t0 = Date.now();
    const page = await openWorkload(work, 'harness-1m.trace');
    await page.waitForFunction(
      // A frame with the timeline's data (the empty plot before it counts as a draw too).
      () =>
        document.querySelector('[data-testid="timeline-canvas"]')?.hasAttribute('data-bucket-px') === true,
      undefined,
      { timeout: 60_000 },
    );
    const firstPaintMs = Date.now() - t0;
    const events = await text(page, 'stat-events');
    // Zoom in 8 wheel steps, then drag left and right for about two seconds.
    const { panMs, rafFrames, draws: drawn } = await zoomAndPanWithMouse(page, 2000, 300);
    const range = await text(page, 'timeline-range');
    console.log(
      `inspector-perf harness events=${events.replace(/,/g, '')} workload_build_ms=${buildMs} ` +
        `serve_load_first_paint_ms=${firstPaintMs} pan_ms=${panMs} timeline_draws=${drawn} draw_fps=${((drawn * 1000) / panMs).toFixed(1)} ` +
        `raf_fps=${(rafFrames / 2).toFixed(1)} view="${range}"`,
    );
    const inPage = await panInPage(page, 2000);
    console.log(
      `inspector-perf harness in-page-drag frames=${inPage.frames} timeline_draws=${inPage.draws} ` +
        `fps=${((inPage.frames * 1000) / inPage.ms).toFixed(1)} draw_fps=${((inPage.draws * 1000) / inPage.ms).toFixed(1)}`,
    );
    await page.screenshot({ path: screenshotPath('harness-1m-zoomed'), fullPage: false });
    expect(drawn).toBeGreaterThan(0);
    await page.close();
  }, 300_000);
});
