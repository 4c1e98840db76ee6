// The inspector end to end: the built renderer served by a real `vramscope serve` process, driven in real
// Chromium. Opens a recorded trace by drag-and-drop and checks the numbers shown against `report --json`
// for the same file, moves the cursor (block map and table follow), reads a decision record against the
// trace's own record, runs the leaks scenario live and finds exactly its leaked allocations, drops a
// malformed file, opens a sample by its fileId and downloads its report, replays an uploaded workload, checks
// that a dropped trace's first timeline is the totals asked for with its overview (one query), and prints
// drop-to-first-paint and panning fps for a 1,000,000-event trace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { formatBytes } from '../../allocator/index.ts';
import { createTraceHeader } from '../../src-main/trace/header.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { startServeProcess } from '../support/api-transports.ts';
import type { ServeProcess } from '../support/api-transports.ts';
import {
  dropFile,
  launchBrowser,
  openAppPage,
  panInPage,
  screenshotPath,
  viteBuild,
  zoomAndPanWithMouse,
} from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { buildWorkload, loadProfile, repoRoot } from '../support/ui-trace.ts';
import { timelineMargin } from '../../src-renderer/views/timeline-draw.ts';

const outDir = path.join(repoRoot, 'test-output');
const fixture = path.join(repoRoot, 'assets', 'traces', 'streaming-h100.trace');
let server: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  const ui = path.join(outDir, 'ui-serve-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  server = await startServeProcess(['--ui', ui]);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

interface Report {
  summary: {
    eventCount: number;
    counts: { allocations: number; frees: number; failures: number; blocksCreated: number };
    heaps: { index: number; final: { committed: number }; peakCommitted: { bytes: number } }[];
    types: { index: number; peakCommitted: { bytes: number }; peakAllocated: { bytes: number } }[];
    total: { peakCommitted: { bytes: number; eventIndex: number }; peakAllocated: { bytes: number } };
    liveAllocations: number;
  };
  leaks: { count: number; bytes: number };
}

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, ['bin/vramscope.mjs', ...args], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vramscope ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function openApp(): Promise<Page> {
  const { page, errors } = await openAppPage(browser, server.url);
  expect(errors).toEqual([]);
  return page;
}

const text = async (page: Page, testId: string): Promise<string> =>
  (await page.textContent(`[data-testid="${testId}"]`)) ?? '';

/**
 * Opens the app at `url` in `page`, drops the streaming fixture on it and waits for the timeline's first
 * frame with buckets (`polling`: every animation frame, or every that many ms).
 */
async function dropFixtureAndAwaitBuckets(
  page: Page,
  url: string,
  polling: 'raf' | number = 'raf',
): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('[data-testid="app"]');
  await dropFile(page, 'streaming-h100.trace', readFileSync(fixture));
  await page.waitForFunction(
    () => document.querySelector('[data-testid="timeline-canvas"]')?.hasAttribute('data-bucket-px') === true,
    undefined,
    { timeout: 30_000, polling },
  );
}

async function setCursor(page: Page, at: number): Promise<void> {
  await page.$eval(
    'input[aria-label="Cursor"]',
    (el, v) => {
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set;
      setter?.call(el, String(v));
      el.dispatchEvent(new Event('input', { bubbles: true }));
    },
    at,
  );
  await page.waitForFunction(
    (v) =>
      (document.querySelector('[data-testid="cursor-readout"]')?.textContent ?? '').startsWith(
        `event ${v.toLocaleString('en-US')} `,
      ) && document.querySelector('[data-testid="cursor-bytes"]') !== null,
    at,
  );
}

const count = (n: number): string => n.toLocaleString('en-US');

describe('inspector against vramscope serve', () => {
  test('a dropped trace shows the numbers of report --json; cursor, block map, table and decision agree', async () => {
    const report = JSON.parse(cli(['report', fixture, '--json'])) as Report;
    const trace = loadTraceSync(fixture);
    const page = await openApp();
    await dropFile(page, 'streaming-h100.trace', readFileSync(fixture));
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="stat-events"]')?.textContent === n,
      count(report.summary.eventCount),
      { timeout: 30_000 },
    );
    const s = report.summary;
    expect(await text(page, 'trace-title')).toBe('streaming-h100.trace');
    expect(await text(page, 'stat-allocations')).toBe(count(s.counts.allocations));
    expect(await text(page, 'stat-frees')).toBe(count(s.counts.frees));
    expect(await text(page, 'stat-failures')).toBe(count(s.counts.failures));
    expect(await text(page, 'stat-blocks')).toBe(count(s.counts.blocksCreated));
    expect(await text(page, 'stat-peak-committed')).toBe(formatBytes(s.total.peakCommitted.bytes));
    expect(await text(page, 'stat-peak-allocated')).toBe(formatBytes(s.total.peakAllocated.bytes));
    expect(await text(page, 'stat-live-end')).toBe(
      `${count(report.leaks.count)} (${formatBytes(report.leaks.bytes)})`,
    );
    for (const h of s.heaps)
      expect(await text(page, `heap-${h.index}-peak`)).toBe(formatBytes(h.peakCommitted.bytes));
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="timeline-canvas"]')?.getAttribute('data-draws')) > 0,
    );
    await page.screenshot({ path: screenshotPath('serve-overview'), fullPage: true });

    // The cursor right after the committed peak: the block map holds exactly the peak's bytes.
    await page.click('role=tab[name="Block map"]');
    const peakAt = s.total.peakCommitted.eventIndex + 1;
    await setCursor(page, peakAt);
    await page.waitForFunction(
      (at) =>
        (document.querySelector('[data-testid="blockmap-summary"]')?.textContent ?? '').startsWith(
          `at event ${at}:`,
        ),
      count(peakAt),
    );
    const atPeak = await text(page, 'blockmap-summary');
    expect(atPeak).toContain(`${formatBytes(s.total.peakCommitted.bytes)} committed`);
    await page.screenshot({ path: screenshotPath('serve-block-map'), fullPage: true });
    // Earlier: different blocks and bytes.
    const early = Math.floor(peakAt / 3);
    await setCursor(page, early);
    await page.waitForFunction(
      (at) =>
        (document.querySelector('[data-testid="blockmap-summary"]')?.textContent ?? '').startsWith(
          `at event ${at}:`,
        ),
      count(early),
    );
    expect(await text(page, 'blockmap-summary')).not.toBe(atPeak);

    // The table, alive at the cursor, counts what the block map holds; it changes with the cursor.
    const liveIn = (summary: string): string => /, ([\d,]+) allocations,/.exec(summary)?.[1] ?? '?';
    const earlyLive = liveIn(await text(page, 'blockmap-summary'));
    await page.click('role=tab[name="Allocations"]');
    await page.check('input[aria-label="Alive at cursor"]');
    await page.waitForFunction(
      (n) =>
        (document.querySelector('[data-testid="allocations-total"]')?.textContent ?? '').startsWith(
          `${n} allocations alive`,
        ),
      earlyLive,
    );
    await setCursor(page, peakAt);
    await page.click('role=tab[name="Block map"]');
    const peakLive = liveIn(await text(page, 'blockmap-summary'));
    await page.click('role=tab[name="Allocations"]');
    await page.waitForFunction(
      (n) =>
        (document.querySelector('[data-testid="allocations-total"]')?.textContent ?? '').startsWith(
          `${n} allocations alive`,
        ),
      peakLive,
    );
    expect(peakLive).not.toBe(earlyLive);

    // A row's decision record is the trace's own record for that allocation.
    await page.click('[data-testid="allocations-body"] [role="row"] >> nth=0');
    await page.waitForSelector('[data-testid="decision-record"]');
    const id = Number(
      await page.getAttribute('[data-testid="allocations-body"] [role="row"] >> nth=0', 'data-id'),
    );
    const cols = trace.events.columns;
    let decisionId = -1;
    for (let i = 0; i < trace.events.length; i++)
      if (cols.kind[i] === 1 && cols.id[i] === id) decisionId = cols.decision[i] ?? -1;
    const decision = trace.events.decisions[decisionId];
    if (!decision) throw new Error(`no decision record ${decisionId} for allocation ${id}`);
    expect(await text(page, 'decision-reason')).toBe(decision.reason);
    expect(await text(page, 'decision-winner')).toBe(
      decision.winner === null ? 'none' : `type ${decision.winner}`,
    );
    await page.screenshot({ path: screenshotPath('serve-decision'), fullPage: true });
    await page.close();
  });

  test("a dropped trace's first timeline is the one asked for with its overview: one totals query, at the plot's width", async () => {
    // A server of its own: nothing loaded, so the page shows no other trace's timeline first.
    const fresh = await startServeProcess(['--ui', path.join(outDir, 'ui-serve-renderer')]);
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The requests the page sends, in order (a totals query as "totals:<buckets>").
    const sent: string[] = [];
    page.on('websocket', (ws) =>
      ws.on('framesent', ({ payload }) => {
        if (typeof payload !== 'string') return;
        const frame = JSON.parse(payload) as { t?: string; name?: string; params?: Record<string, unknown> };
        if (frame.t !== 'req' || frame.name === undefined) return;
        const p = frame.params ?? {};
        sent.push(
          frame.name === 'queryTimeline' && p['boundariesOnly'] !== true
            ? `totals:${String(p['buckets'])}`
            : frame.name,
        );
      }),
    );
    await dropFixtureAndAwaitBuckets(page, fresh.url);
    const first = await page.$eval('[data-testid="timeline-canvas"]', (c) => ({
      bucketPx: Number((c as HTMLElement).dataset['bucketPx']),
      width: c.getBoundingClientRect().width,
    }));
    // Whatever the page would still ask for the first view.
    await page.waitForTimeout(1000);
    const totals = sent.filter((name) => name.startsWith('totals:'));
    // One query, made with the overview's (after the report, before the state the overview waits for):
    // the timeline took its answer instead of asking at a guessed width and again at its own.
    expect(totals).toEqual([
      `totals:${Math.round(first.width) - timelineMargin.left - timelineMargin.right}`,
    ]);
    // setActiveSource: the page shows the source the load answered with (loadTrace itself goes binary).
    const opened = sent.indexOf('setActiveSource');
    const report = sent.indexOf('getReport', opened);
    expect(opened).toBeGreaterThanOrEqual(0);
    expect(report).toBe(opened + 1);
    expect(sent.indexOf(totals[0] ?? '')).toBe(report + 1);
    expect(sent.indexOf('getState', report)).toBeGreaterThan(report + 1);
    // Drawn at the plot's resolution: a bucket per pixel.
    expect(first.bucketPx).toBeCloseTo(1, 3);
    expect(errors).toEqual([]);
    await page.close();
    await fresh.stop();
  });

  test("a dropped trace's first buckets are drawn when they come, not at a later animation frame", async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // No animation frame ever comes: what the timeline draws, it draws without waiting for one.
    await page.addInitScript(() => {
      window.requestAnimationFrame = () => 0;
    });
    // Polled by timer: the page's animation frames are gone.
    await dropFixtureAndAwaitBuckets(page, server.url, 50);
    expect(Number(await page.getAttribute('[data-testid="timeline-canvas"]', 'data-bucket-px'))).toBeCloseTo(
      1,
      3,
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  test('the recorded leaks trace: the Leaks view groups exactly the leaked allocations report --json names', async () => {
    const file = path.join(repoRoot, 'assets', 'traces', 'leaks-lavapipe.trace');
    const report = JSON.parse(cli(['report', file, '--json'])) as {
      leaks: { count: number; byName: { key: string }[]; byOrigin: { key: string; count: number }[] };
    };
    const page = await openApp();
    await dropFile(page, 'leaks-lavapipe.trace', readFileSync(file));
    await page.waitForFunction(
      () => document.querySelector('[data-testid="trace-title"]')?.textContent === 'leaks-lavapipe.trace',
    );
    await page.click('role=tab[name="Leaks"]');
    await page.waitForFunction(
      (n) =>
        (document.querySelector('[data-testid="leaks-summary"]')?.textContent ?? '').startsWith(
          `${n} allocations`,
        ),
      report.leaks.count,
    );
    const byOrigin = await page.$$eval('[data-testid="leak-groups"] tbody tr', (rows) =>
      rows.map((r) => [
        r.querySelector('.leak-key code')?.textContent ?? '',
        r.querySelector('td.num')?.textContent ?? '',
      ]),
    );
    expect(byOrigin).toEqual(report.leaks.byOrigin.map((g) => [g.key, String(g.count)]));
    await page.screenshot({ path: screenshotPath('serve-leaks-trace'), fullPage: true });
    await page.selectOption('select[aria-label="Group leaks by"]', 'name');
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="leak-groups"] tbody tr').length === n,
      report.leaks.byName.length,
    );
    const names = (
      await page.$$eval('[data-testid="leak-groups"] tbody .leak-key', (els) =>
        els.map((e) => e.textContent ?? ''),
      )
    ).sort();
    expect(names).toEqual(report.leaks.byName.map((g) => g.key).sort());
    // The Open view lists the server's sample traces.
    await page.click('role=tab[name="Open"]');
    await page.waitForSelector('.samples li');
    await page.screenshot({ path: screenshotPath('serve-open'), fullPage: true });
    await page.close();
  });

  test("a sample opens by the fileId the server granted; Export report downloads the server's text", async () => {
    const page = await openApp();
    await page.click('role=tab[name="Open"]');
    await page.click('.samples li button:has-text("streaming-h100.trace")');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="trace-title"]')?.textContent === 'streaming-h100.trace',
      undefined,
      { timeout: 30_000 },
    );
    await page.click('role=tab[name="Overview"]');
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="device-name"]')?.textContent ?? '').includes('H100'),
      undefined,
      { timeout: 30_000 },
    );
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid="export-report"]'),
    ]);
    expect(download.suggestedFilename()).toBe('streaming-h100-report.txt');
    const saved = readFileSync(await download.path(), 'utf8');
    expect(saved).toMatch(/^VRAMscope report: streaming-h100\.trace \(trace-\d+\)\n/);
    expect(saved).toContain('NVIDIA H100');
    await page.close();
  });

  test('replay-workload takes its file as an upload (no path box) and replays it', async () => {
    const lines: string[] = [];
    for (let i = 1; i <= 200; i++) lines.push(`a ${i} ${4096 * (1 + (i % 7))} 256 buffer gpu`);
    for (let i = 1; i <= 200; i += 2) lines.push(`f ${i}`);
    const page = await openApp();
    await page.click('role=tab[name="Scenarios"]');
    await page.selectOption('select[aria-label="Scenario"]', 'replay-workload');
    expect(await page.$('input#param-file[type="text"]')).toBeNull();
    await page.setInputFiles('[data-testid="param-file-file"]', {
      name: 'small.workload',
      mimeType: 'text/plain',
      buffer: Buffer.from(`${lines.join('\n')}\n`),
    });
    await page.waitForFunction(
      () => /uploaded/.test(document.querySelector('[data-testid="param-file-status"]')?.textContent ?? ''),
      undefined,
      { timeout: 20_000 },
    );
    await page.click('button:has-text("Run")');
    await page.waitForFunction(
      () => /: finished/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    // 200 allocations and 100 frees, plus the frees of what is alive at the end (freeAtEnd).
    expect(await text(page, 'run-status')).toContain('400 operations');
    await page.close();
  });

  test('a malformed trace shows one clear error naming the file', async () => {
    const page = await openApp();
    await dropFile(page, 'broken.trace', new TextEncoder().encode('this is not a trace\n'.repeat(20)));
    await page.waitForSelector('[data-testid="load-error"]', { timeout: 20_000 });
    const message = await text(page, 'load-error');
    expect(message).toContain('Could not open broken.trace');
    expect(message).not.toMatch(/not available in this build/);
    await page.screenshot({ path: screenshotPath('serve-bad-trace'), fullPage: true });
    await page.close();
  });

  test('the leaks scenario run live shows exactly its leaked allocations', async () => {
    const expected = JSON.parse(cli(['run', 'leaks', '--profile', 'lavapipe', '--json'])) as {
      summary: { leaks: { name: string }[] };
    };
    const names = expected.summary.leaks.map((l) => l.name).sort();
    const page = await openApp();
    await page.click('role=tab[name="Scenarios"]');
    await page.selectOption('select[aria-label="Scenario"]', 'leaks');
    await page.click('button:has-text("Run")');
    await page.waitForFunction(
      () => /: finished/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    await page.screenshot({ path: screenshotPath('serve-scenario-done'), fullPage: true });
    await page.click('role=tab[name="Leaks"]');
    await page.selectOption('select[aria-label="Group leaks by"]', 'name');
    await page.waitForFunction(
      (n) =>
        (document.querySelector('[data-testid="leaks-summary"]')?.textContent ?? '').startsWith(
          `${n} allocations`,
        ),
      names.length,
      { timeout: 20_000 },
    );
    const shown = (
      await page.$$eval('[data-testid="leak-groups"] tbody .leak-key', (els) =>
        els.map((e) => e.textContent ?? ''),
      )
    ).sort();
    expect(shown).toEqual(names);
    await page.screenshot({ path: screenshotPath('serve-leaks'), fullPage: true });
    await page.close();
  });

  test('drop to first paint and panning on 1,000,000 events (printed, not asserted)', async () => {
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, 'ui-1m.trace');
    const device = loadProfile();
    const work = buildWorkload({ ops: 1_000_000, seed: 5, leakRate: 0.0005, frameEvery: 1000, device });
    const writer = new TraceWriter(file, work.log, {
      header: createTraceHeader({ device }),
      flushIntervalMs: 0,
    });
    writer.close();
    const bytes = readFileSync(file);
    const page = await openApp();
    const t0 = Date.now();
    await dropFile(page, 'ui-1m.trace', bytes);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="trace-title"]')?.textContent === 'ui-1m.trace' &&
        // A frame with the timeline's data (the empty plot before it counts as a draw too).
        document.querySelector('[data-testid="timeline-canvas"]')?.hasAttribute('data-bucket-px') === true,
      undefined,
      { timeout: 60_000 },
    );
    const firstPaint = Date.now() - t0;
    const { panMs, moves, rafFrames, draws: drawn } = await zoomAndPanWithMouse(page, 2000, 500);
    console.log(
      `inspector-perf serve events=${work.log.length} trace_bytes=${bytes.length} drop_to_first_paint_ms=${firstPaint} ` +
        `pan_ms=${panMs} mouse_moves=${moves} timeline_draws=${drawn} draw_fps=${((drawn * 1000) / panMs).toFixed(1)} ` +
        `raf_fps=${(rafFrames / 2).toFixed(1)} view="${await text(page, 'timeline-range')}"`,
    );
    const inPage = await panInPage(page, 2000);
    console.log(
      `inspector-perf serve in-page-drag frames=${inPage.frames} timeline_draws=${inPage.draws} ` +
        `fps=${((inPage.frames * 1000) / inPage.ms).toFixed(1)} draw_fps=${((inPage.draws * 1000) / inPage.ms).toFixed(1)}`,
    );
    await page.screenshot({ path: screenshotPath('serve-1m-zoomed') });
    expect(drawn).toBeGreaterThan(0);
    await page.close();
  });
});
