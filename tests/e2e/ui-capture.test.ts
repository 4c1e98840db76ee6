// The Capture view end to end (issue 10): a real `vramscope serve --allow-capture` and real Chromium. The
// user types the layer's C test program's command line, confirms the exact argv, and watches the program's
// blocks appear live in the block map and the timeline while it runs (it pauses after its allocations),
// then sees its exit reported and only the leaked block left; and attaches to a `capture --live` started in a
// terminal. Expected numbers come from the program's own
// report of what it allocates (a run without the layer).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
/** A private runtime folder shared by the server and `capture --live` (never the user's own). */
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-ui-capture-'));
const runtime = path.join(tmp, 'run');
mkdirSync(runtime, { mode: 0o700 });
const env = { ...process.env, XDG_RUNTIME_DIR: runtime };
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
  server = await startServeProcess(['--ui', ui, '--allow-capture'], env);
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
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

test('attach to a `vramscope capture --live` from the Capture view: its blocks live, then its exit', async () => {
  const liveArgs = ['--threads', '1', '--per-thread', '3', '--leak-memory', '2'];
  const blocks = captureTestAppBlocks(liveArgs);
  const allBytes = blocks.reduce((n, b) => n + b.size, 0);
  const command = [captureTestApp, ...liveArgs, '--pause-ms', String(pauseMs)];
  const capture = spawn(
    process.execPath,
    ['bin/vramscope.mjs', 'capture', '--live', '--out', path.join(tmp, 'live.trace'), '--', ...command],
    { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => capture.once('exit', (code) => resolve(code)));
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`capture --live never went live: ${err}`)), 60_000);
    capture.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/live as live-\d+/.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });

  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="app"]');
  await page.getByRole('tab', { name: 'Capture' }).click();
  await page.getByTestId('capture-live-list').waitFor({ timeout: 30_000 });
  const listed = await page.getByTestId('capture-live-list').locator('li').first().textContent();
  expect(listed).toContain(command.join(' '));
  await page.getByTestId('capture-live-list').getByRole('button', { name: 'Attach' }).first().click();
  await page.waitForFunction(
    () =>
      /^capture: .*\(live\)$/.test(document.querySelector('[data-testid="trace-title"]')?.textContent ?? ''),
    null,
    { timeout: 60_000 },
  );
  await page.getByRole('tab', { name: 'Block map' }).click();
  const during = `${blocks.length} blocks, ${formatBytes(allBytes)} committed`;
  await page.waitForFunction(
    (want) => (document.querySelector('[data-testid="blockmap-summary"]')?.textContent ?? '').includes(want),
    during,
    { timeout: 60_000 },
  );
  expect(await text(page, 'trace-title')).toMatch(/\(live\)$/);
  await page.getByRole('tab', { name: 'Capture' }).click();
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('[data-testid="capture-state"]')].some(
        (e) => e.textContent === 'exited with code 0',
      ),
    null,
    { timeout: pauseMs + 60_000 },
  );
  expect(await exited).toBe(0);
  await page.getByRole('tab', { name: 'Block map' }).click();
  const leaked = blocks.filter((b) => !b.freed);
  const after = `${leaked.length} blocks, ${formatBytes(leaked.reduce((n, b) => n + b.size, 0))} committed`;
  await page.waitForFunction(
    (want) => (document.querySelector('[data-testid="blockmap-summary"]')?.textContent ?? '').includes(want),
    after,
    { timeout: 30_000 },
  );
  expect(errors).toEqual([]);
}, 240_000);
