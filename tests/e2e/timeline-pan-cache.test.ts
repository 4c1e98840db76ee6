// The timeline's pan cache (src-renderer/views/timeline-pan-cache.ts) in real Chromium: pan frames served
// from the copy draw exactly the pixels a direct draw does, and frames are served from it.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, serveStatic, viteBuild } from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { repoRoot } from '../support/ui-trace.ts';

const out = path.join(repoRoot, 'test-output', 'pan-cache-page');
let browser: Browser;
let site: { url: string; close(): Promise<void> };

beforeAll(async () => {
  await viteBuild(path.join(repoRoot, 'tests', 'support', 'pan-cache-page'), out);
  site = await serveStatic(out);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('timeline pan cache', () => {
  test('pan frames from the copy equal direct draws, pixel for pixel', async () => {
    const page = await browser.context.newPage();
    await page.goto(site.url);
    await page.waitForFunction(() => 'panCacheCheck' in window);
    for (const [seed, k] of [
      [1, 3],
      [2, 7.3],
      [3, 25],
    ] as const) {
      const r = await page.evaluate(
        ([s, z]) =>
          (
            window as unknown as {
              panCacheCheck(
                seed: number,
                k: number,
                shifts: number,
              ): Promise<{ hits: number; frames: number; differing: number; where: string[] }>;
            }
          ).panCacheCheck(s, z, 40),
        [seed, k] as const,
      );
      expect(r.differing, `seed ${seed} zoom ${k}: ${r.where.join('; ')}`).toBe(0);
      // Most frames after the first copy come from it (the copy starts after three frames at one zoom and is
      // drawn in the idle gap that follows; the page waits for it there).
      expect(r.hits, `seed ${seed} zoom ${k}`).toBeGreaterThan(r.frames / 2);
    }
  }, 120_000);
});
