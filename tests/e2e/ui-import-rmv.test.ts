// RMV traces in the UI: AMD's sample trace dropped on the app served by a real `vramscope serve` in real
// Chromium opens through the same importer as `vramscope import` (the title names it, the device is the
// trace's adapter); a trace with an inconsistency shows the import's warning, in the CLI's words.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startServeProcess } from '../support/api-transports.ts';
import type { ServeProcess } from '../support/api-transports.ts';
import { fixture } from '../support/import-fixtures.ts';
import { rdfFile } from '../support/rmv-writer.ts';
import { dropFile, launchBrowser, openAppPage, screenshotPath, viteBuild } from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { repoRoot } from '../support/ui-trace.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-ui-rmv-'));
let server: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  const ui = path.join(repoRoot, 'test-output', 'ui-import-rmv-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  server = await startServeProcess(['--ui', ui]);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const openApp = async (): Promise<Page> => (await openAppPage(browser, server.url)).page;

async function waitForTitle(page: Page, name: string): Promise<string> {
  await page.waitForFunction(
    (n) => (document.querySelector('[data-testid="trace-title"]')?.textContent ?? '').includes(n),
    name,
    { timeout: 60_000 },
  );
  return (await page.textContent('[data-testid="trace-title"]')) ?? '';
}

describe('RMV traces dropped on the app', () => {
  test("AMD's sample trace opens through the importer, without a warning banner", async () => {
    const page = await openApp();
    await dropFile(page, 'sample_trace.rmv', readFileSync(fixture('rmv-amd-sample-rdf.rmv')));
    expect(await waitForTitle(page, 'sample_trace.rmv')).toContain('sample_trace.rmv');
    expect(await page.$('[data-testid="loader-warnings"]')).toBeNull();
    expect(await page.$('[data-testid="session-error"]')).toBeNull();
    await page.screenshot({ path: screenshotPath('import-rmv-sample'), fullPage: true });
    await page.close();
  });

  test('a trace binding a resource it never created: the banner says what import says', async () => {
    const bytes = rdfFile({
      adapter: 'Test Radeon',
      streams: [
        {
          ops: [
            { op: 'va', address: 0x100000, pages: 4, heap: 1 },
            { op: 'bind', id: 7, address: 0x100000, size: 4096 },
          ],
        },
      ],
    });
    const file = path.join(dir, 'unknown-bind.rmv');
    writeFileSync(file, bytes);
    const r = spawnSync(
      process.execPath,
      ['bin/vramscope.mjs', 'import', file, '--out', path.join(dir, 'unknown-bind.trace')],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    const expected = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('warning: '))
      .map((l) => l.slice('warning: '.length));
    expect(expected.join('\n')).toMatch(/never created/);
    const page = await openApp();
    await dropFile(page, 'unknown-bind.rmv', bytes);
    await page.waitForFunction(
      (n) =>
        (document.querySelector('[data-testid="loader-warnings"] strong')?.textContent ?? '').includes(n),
      'unknown-bind.rmv',
      { timeout: 60_000 },
    );
    const items = await page.$$eval('[data-testid="loader-warnings"] li', (els) =>
      els.map((e) => e.textContent ?? ''),
    );
    expect(items).toEqual(expected);
    await page.close();
  });
});
