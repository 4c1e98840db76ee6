// The timeline during a burst of wheel steps, in real Chromium over `vramscope serve`: the steps draw at
// once from the answer already here (coarser than the plot's resolution, never blank), and one
// level-of-detail query goes out when the wheel pauses, after which the view is drawn at the plot's
// resolution (src-renderer/views/timeline.tsx: wheelBurstSlack; timeline-answer-gate.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startServeProcess, type ServeProcess } from '../support/api-transports.ts';
import { workloadTraceBytes } from '../support/ui-backend.ts';
import { launchBrowser, viteBuild } from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { buildWorkload, repoRoot } from '../support/ui-trace.ts';

const ui = path.join(repoRoot, 'test-output', 'timeline-wheel-burst-renderer');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vramscope-wheel-burst-'));
let browser: Browser;
let server: ServeProcess;

beforeAll(async () => {
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  const file = path.join(tmp, 'burst.trace');
  writeFileSync(file, workloadTraceBytes(buildWorkload({ ops: 60_000, seed: 11, frameEvery: 1000 })));
  server = await startServeProcess(['--ui', ui, file]);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const canvasData = (page: Page, key: string): Promise<number> =>
  page.evaluate(
    (k) => Number((document.querySelector('[data-testid="timeline-canvas"]') as HTMLElement).dataset[k]),
    key,
  );

/** Waits until the drawn totals are at the plot's resolution (within the 1.5x the view allows). */
async function waitFullResolution(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const px = Number(
        document.querySelector('[data-testid="timeline-canvas"]')?.getAttribute('data-bucket-px'),
      );
      return px > 1 / 1.5 && px < 1.5;
    },
    undefined,
    { timeout: 60_000 },
  );
}

describe('timeline wheel burst', () => {
  test('a burst of wheel steps draws from what is here and sends one query after it', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await waitFullResolution(page);
    // Let the first answers and the leak markers settle.
    await page.waitForTimeout(1000);
    // Six wheel steps in at the middle (d3-zoom: 2^0.24 each, 2.7x in all), one after the other.
    const during = await page.evaluate(() => {
      const canvas = document.querySelector('[data-testid="timeline-canvas"]') as HTMLCanvasElement;
      const r = canvas.getBoundingClientRect();
      const at = {
        clientX: r.left + r.width / 2,
        clientY: r.top + r.height / 2,
        bubbles: true,
        cancelable: true,
      };
      const px: number[] = [];
      const queries0 = Number(canvas.dataset['lodQueries']);
      const draws0 = Number(canvas.dataset['draws']);
      for (let i = 0; i < 6; i++) {
        canvas.dispatchEvent(new WheelEvent('wheel', { ...at, deltaY: -120, deltaMode: 0 }));
        px.push(Number(canvas.dataset['bucketPx']));
      }
      return { px, queries0, draws: Number(canvas.dataset['draws']) - draws0 };
    });
    // Every step drew at once, from the buckets already here: wider than a pixel as the zoom grows.
    expect(during.draws).toBe(6);
    expect(during.px.at(-1)).toBeGreaterThan(2);
    for (let i = 1; i < during.px.length; i++) expect(during.px[i]).toBeGreaterThan(during.px[i - 1] ?? 0);
    // After the pause, the view at the plot's resolution, from one query.
    await waitFullResolution(page);
    await page.waitForTimeout(1000);
    expect((await canvasData(page, 'lodQueries')) - during.queries0).toBe(1);
    const px = await canvasData(page, 'bucketPx');
    expect(px).toBeGreaterThan(1 / 1.5);
    expect(px).toBeLessThan(1.5);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
