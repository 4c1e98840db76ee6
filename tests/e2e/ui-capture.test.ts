// The Capture view end to end (issue 10): a real `vramscope serve --allow-capture` and real Chromium. The
// user types the layer's C test program's command line, confirms the exact argv, and watches the program's
// blocks appear live in the block map and the timeline while it runs (it pauses after its allocations),
// then sees its exit reported and only the leaked block left. Expected numbers come from the program's own
// report of what it allocates (a run without the layer).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { formatBytes } from '../../allocator/index.ts';
import { captureTestApp, captureTestAppBlocks } from '../support/api-contract-suite.ts';
import { startServeProcess, type ServeProcess } from '../support/api-transports.ts';
import { launchBrowser, screenshotPath, viteBuild, type Browser } from '../support/ui-browser.ts';
import { repoRoot } from '../support/ui-trace.ts';

let server: ServeProcess;
let browser: Browser;
const args = ['--threads', '2', '--per-thread', '2', '--leak-memory', '1'];
/** Long enough for the page to see the paused program on a loaded machine; the test waits for the exit. */
const pauseMs = 8000;

beforeAll(async () => {
  execFileSync('make', ['-C', path.join(repoRoot, 'native', 'layer'), '--quiet'], {
    stdio: 'pipe',
    timeout: 240_000,
  });
  const ui = path.join(repoRoot, 'test-output', 'ui-capture-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  server = await startServeProcess(['--ui', ui, '--allow-capture']);
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function text(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).first().textContent()) ?? '';
}

test('start the test program from the Capture view: its blocks appear live, then its exit', async () => {
  const blocks = captureTestAppBlocks(args);
  const allBytes = blocks.reduce((n, b) => n + b.size, 0);
  const leaked = blocks.filter((b) => !b.freed);
  expect(leaked).toHaveLength(1);

  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="app"]');
  await page.getByRole('tab', { name: 'Capture' }).click();
  await page.getByTestId('capture-view').waitFor();
  const command = [captureTestApp, ...args, '--pause-ms', String(pauseMs)];
  await page.getByLabel('Command line').fill(command.join(' '));
  await page.getByRole('button', { name: 'Start…' }).click();
  // The exact argv is shown for confirmation before anything runs.
  const argv = await page.getByTestId('capture-argv').locator('li').allTextContents();
  expect(argv).toEqual(command);
  expect(await page.getByTestId('capture-row').count()).toBe(0);
  await page.getByRole('button', { name: 'Run it' }).click();

  // The program's device is shown as a live source as soon as it exists.
  await page.waitForFunction(
    () =>
      /^capture: .*\(live\)$/.test(document.querySelector('[data-testid="trace-title"]')?.textContent ?? ''),
    null,
    { timeout: 60_000 },
  );
  await page.getByRole('tab', { name: 'Block map' }).click();
  // While it is paused after its allocations: every block it allocated, live.
  const during = `${blocks.length} blocks, ${formatBytes(allBytes)} committed`;
  await page.waitForFunction(
    (want) => (document.querySelector('[data-testid="blockmap-summary"]')?.textContent ?? '').includes(want),
    during,
    { timeout: 60_000 },
  );
  expect(await text(page, 'trace-title')).toMatch(/\(live\)$/);
  expect(Number(await page.getByTestId('blockmap-canvas').getAttribute('data-blocks'))).toBe(blocks.length);
  expect(Number(await page.getByTestId('timeline-canvas').getAttribute('data-draws'))).toBeGreaterThan(0);
  await page.screenshot({ path: screenshotPath('capture-live-block-map'), fullPage: true });

  // The exit is reported; at the end only the leaked block is left.
  await page.getByRole('tab', { name: 'Capture' }).click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="capture-state"]')?.textContent === 'exited with code 0',
    null,
    { timeout: pauseMs + 60_000 },
  );
  await page.waitForFunction(
    () => !/\(live\)$/.test(document.querySelector('[data-testid="trace-title"]')?.textContent ?? ''),
    null,
    { timeout: 30_000 },
  );
  await page.getByRole('tab', { name: 'Block map' }).click();
  const after = `${leaked.length} blocks, ${formatBytes(leaked[0]!.size)} committed`;
  await page.waitForFunction(
    (want) => (document.querySelector('[data-testid="blockmap-summary"]')?.textContent ?? '').includes(want),
    after,
    { timeout: 30_000 },
  );
  expect(errors).toEqual([]);
}, 240_000);
