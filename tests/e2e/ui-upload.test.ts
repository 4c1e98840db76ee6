// Files of any size from the page: the built UI served by a real `vramscope serve`, in real Chromium. A
// picked PyTorch snapshot larger than one message is uploaded in chunks (progress shown) and opens; a
// big file is cancelled halfway through its upload. The server's private upload folder (under the TMPDIR
// the server is started with) is empty after both. Sizes: VRAMSCOPE_E2E_SNAPSHOT_ENTRIES (default 600,000:
// 91 MB, more than one message; 7000000 for more than 1 GiB) and VRAMSCOPE_E2E_CANCEL_MB (default 256;
// 1024 for 1 GiB: about 9 minutes on a loaded 2-core machine, where the base64 WebSocket upload runs at
// about 1 MB/s).
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { maxMessageBytes } from '../../src-main/api/contract.ts';
import { startServeProcess } from '../support/api-transports.ts';
import type { ServeProcess } from '../support/api-transports.ts';
import { launchBrowser, screenshotPath, viteBuild } from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { repoRoot } from '../support/ui-trace.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-e2e-upload-'));
const serverTmp = path.join(dir, 'server-tmp');
let server: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  const ui = path.join(repoRoot, 'test-output', 'ui-upload-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  // The server writes uploads under its TMPDIR: a folder of this test's, so that it can be checked.
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = serverTmp;
  rmSync(serverTmp, { recursive: true, force: true });
  (await import('node:fs')).mkdirSync(serverTmp);
  try {
    server = await startServeProcess(['--ui', ui]);
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Files left in the server's upload folders (uploads in progress or not yet deleted). */
function serverUploads(): string[] {
  return readdirSync(serverTmp)
    .filter((d) => d.startsWith('vramscope-uploads-'))
    .flatMap((d) => readdirSync(path.join(serverTmp, d)).map((u) => `${d}/${u}`));
}

async function openView(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(server.url);
  await page.waitForSelector('[data-testid="app"]');
  await page.click('button[role="tab"]:has-text("Open")');
  await page.waitForSelector('[data-testid="file-input"]', { state: 'attached' });
  return page;
}

describe('uploads of any size from the page', () => {
  test('a snapshot larger than one message is uploaded in chunks and opens', async () => {
    const entries = Number(process.env.VRAMSCOPE_E2E_SNAPSHOT_ENTRIES ?? 600_000);
    const file = path.join(dir, 'training.pickle');
    writeTrainingPickle(file, simulateTraining({ entries }));
    const bytes = statSync(file).size;
    expect(bytes).toBeGreaterThan(maxMessageBytes);
    const page = await openView();
    const started = performance.now();
    await page.setInputFiles('[data-testid="file-input"]', file);
    await page.waitForFunction(
      () =>
        /Uploading training\.pickle/.test(
          document.querySelector('[data-testid="load-progress"]')?.textContent ?? '',
        ),
      undefined,
      { timeout: 60_000 },
    );
    await page.screenshot({ path: screenshotPath('upload-progress') });
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-testid="trace-title"]')?.textContent ?? '').includes(
          'training.pickle',
        ),
      undefined,
      { timeout: 600_000, polling: 500 },
    );
    console.log(
      `ui-upload file_mb=${(bytes / 2 ** 20).toFixed(1)} entries=${entries} pick_to_title_s=${((performance.now() - started) / 1000).toFixed(1)}`,
    );
    expect(await page.$('[data-testid="load-error"]')).toBeNull();
    expect(serverUploads()).toEqual([]);
    await page.screenshot({ path: screenshotPath('upload-opened'), fullPage: true });
    await page.close();
  }, 900_000);

  test('a big file cancelled halfway through its upload: a clear word, nothing left on the server', async () => {
    const file = path.join(dir, 'huge.trace');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, Number(process.env.VRAMSCOPE_E2E_CANCEL_MB ?? 256) * 2 ** 20); // sparse: no bytes written
    closeSync(fd);
    const page = await openView();
    await page.setInputFiles('[data-testid="file-input"]', file);
    // Wait until half of it has arrived, then cancel.
    await page.waitForFunction(
      () => {
        const p = document.querySelector(
          '[data-testid="load-progress"] progress',
        ) as HTMLProgressElement | null;
        return p !== null && p.max > 0 && p.value / p.max >= 0.5;
      },
      undefined,
      { timeout: 600_000, polling: 100 },
    );
    expect(serverUploads()).toHaveLength(1); // the upload in progress, on disk
    await page.click('[data-testid="cancel-load"]');
    await page.waitForSelector('[data-testid="load-error"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="load-error"]')).toContain(
      'Opening huge.trace was cancelled',
    );
    await page.screenshot({ path: screenshotPath('upload-cancelled'), fullPage: true });
    // The server drops the partial file.
    for (let i = 0; i < 50 && serverUploads().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(serverUploads()).toEqual([]);
    await page.close();
  }, 900_000);
});
