// Heap budgets in the inspector, in real Chromium against a real `vramscope serve`: a budget-overflow run
// recorded in budget mode warn (H100 profile: the scenario gives heap 0 a 128 MiB budget) is dropped on the
// app; the timeline draws heap 0's budget as a line at 128 MiB and a budget marker where the block that
// crossed it was made, and the pixels there are the budget colour.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startServeProcess } from '../support/api-transports.ts';
import type { ServeProcess } from '../support/api-transports.ts';
import { dropFile, launchBrowser, screenshotPath, viteBuild } from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { repoRoot } from '../support/ui-trace.ts';

const outDir = path.join(repoRoot, 'test-output');
const traceDir = path.join(outDir, 'ui-budget');
let server: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  const ui = path.join(outDir, 'ui-budget-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  server = await startServeProcess(['--ui', ui]);
  browser = await launchBrowser();
  rmSync(traceDir, { recursive: true, force: true });
  mkdirSync(traceDir, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

function record(mode: string): string {
  const out = path.join(traceDir, `budget-overflow-${mode}.trace`);
  const args = ['run', 'budget-overflow', '--profile', 'h100', '--budget', mode, '--seed', '2', '--out', out];
  const r = spawnSync(process.execPath, ['bin/vramscope.mjs', ...args], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vramscope ${args.join(' ')} failed: ${r.stderr}`);
  return out;
}

async function dropTrace(page: Page, file: string): Promise<void> {
  await dropFile(page, path.basename(file), readFileSync(file));
}

interface Drawn {
  lines: { heap: number; y: number; x0: number; x1: number }[];
  markers: { x: number; y: number }[];
}

/** What the timeline drew last: its budget lines and markers (CSS px), once there are lines and `min` markers. */
async function drawnBudget(page: Page, min = 1): Promise<Drawn> {
  await page.waitForFunction(
    (least) => {
      const c = document.querySelector('[data-testid="timeline-canvas"]');
      const lines = JSON.parse(c?.getAttribute('data-budget-lines') ?? '[]') as unknown[];
      const markers = JSON.parse(c?.getAttribute('data-budget-markers') ?? '[]') as unknown[];
      return lines.length > 0 && markers.length >= least;
    },
    min,
    { timeout: 30_000 },
  );
  return page.$eval('[data-testid="timeline-canvas"]', (c) => ({
    lines: JSON.parse(c.getAttribute('data-budget-lines') ?? '[]') as Drawn['lines'],
    markers: JSON.parse(c.getAttribute('data-budget-markers') ?? '[]') as Drawn['markers'],
  }));
}

/** How many pixels of a CSS-px rectangle of the timeline canvas are the budget colour (#b5179e). */
async function budgetPixels(page: Page, x: number, y: number, w: number, h: number): Promise<number> {
  return page.$eval(
    '[data-testid="timeline-canvas"]',
    (canvas, r) => {
      const c = canvas as HTMLCanvasElement;
      const dpr = c.width / c.getBoundingClientRect().width;
      const ctx = c.getContext('2d');
      if (!ctx) return -1;
      const img = ctx.getImageData(
        Math.floor(r.x * dpr),
        Math.floor(r.y * dpr),
        Math.max(1, Math.round(r.w * dpr)),
        Math.max(1, Math.round(r.h * dpr)),
      );
      let n = 0;
      for (let i = 0; i < img.data.length; i += 4) {
        const [red, green, blue] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
        if (Math.abs(red - 0xb5) <= 6 && Math.abs(green - 0x17) <= 6 && Math.abs(blue - 0x9e) <= 6) n++;
      }
      return n;
    },
    { x, y, w, h },
  );
}

describe('heap budgets on the timeline', () => {
  test('budget mode warn: heap 0’s budget line and the crossing marker are drawn in the budget colour', async () => {
    const trace = record('warn');
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForSelector('[data-testid="app"]');
    await dropTrace(page, trace);
    const drawn = await drawnBudget(page);
    await page.screenshot({ path: screenshotPath('budget-warn-timeline'), fullPage: true });
    expect(errors).toEqual([]);
    expect(await page.textContent('[data-testid="legend-budget"]')).toContain('budget');
    // Heap 0 only: heap 1's budget (system memory, tens of GiB) is far above the plot.
    expect(new Set(drawn.lines.map((l) => l.heap))).toEqual(new Set([0]));
    // warn: exactly one block crossed the budget, so one marker.
    expect(drawn.markers).toHaveLength(1);
    // The line: a dashed stroke (6 on, 4 off), so a 20 px stretch of its row holds budget-coloured pixels.
    const line = drawn.lines.reduce((a, b) => (b.x1 - b.x0 > a.x1 - a.x0 ? b : a));
    expect(line.x1 - line.x0).toBeGreaterThan(20);
    const mid = (line.x0 + line.x1) / 2;
    expect(await budgetPixels(page, mid, line.y - 0.5, 20, 1)).toBeGreaterThan(5);
    // The row under the line's neighbourhood is not budget-coloured (it is a line, not a filled area).
    expect(await budgetPixels(page, mid, line.y + 12, 20, 1)).toBe(0);
    // The marker: a 4 × 11 px bar above the plot.
    const m = drawn.markers[0]!;
    expect(await budgetPixels(page, m.x - 2, m.y, 4, 11)).toBeGreaterThan(20);
    await page.close();
  }, 120_000);

  test('budget mode strict: the decision panel says a fallback allocation’s retry was the budget’s doing', async () => {
    const trace = record('strict');
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForSelector('[data-testid="app"]');
    await dropTrace(page, trace);
    // One marker per refusal (the scenario's chunks past the budget and its GpuOnly requests).
    // (An early frame may show the first range only: wait for the whole trace's markers.)
    const drawn = await drawnBudget(page, 2);
    expect(drawn.markers.length).toBeGreaterThan(1);
    await page.click('role=tab[name="Allocations"]');
    const alive = page.locator('input[aria-label="Alive at cursor"]');
    if (await alive.isChecked()) await alive.uncheck();
    // chunk-12 is past the 128 MiB budget of heap 0 (8 chunks of 16 MiB fill it): it fell back to type 2.
    await page.fill('input[aria-label="Filter by name"]', 'chunk-12');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="allocations-body"] [role="row"]').length === 1,
      undefined,
      { timeout: 30_000 },
    );
    await page.click('[data-testid="allocations-body"] [role="row"] >> nth=0');
    await page.waitForSelector('[data-testid="budget-refusal"]', { timeout: 30_000 });
    const refusal = (await page.textContent('[data-testid="budget-refusal"]')) ?? '';
    expect(refusal).toContain('budget mode strict');
    expect(refusal).toMatch(/heap 0 to 144\.00 MiB, past its budget of 128\.00 MiB/);
    expect(refusal).toContain('the next type, 2, was tried');
    await page.screenshot({ path: screenshotPath('budget-strict-decision'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
