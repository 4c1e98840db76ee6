// Files of any size from the page: the built UI served by a real `vramscope serve`, in real Chromium. A
// picked PyTorch snapshot larger than one message is uploaded as one HTTP PUT body (the upload route,
// progress shown) and opens; another is cancelled after its upload, while the server imports it; a 1 GiB
// file that is no snapshot stops its upload as soon as the import fails, with the import's words; a
// generated 1 GiB file is cancelled halfway through its upload. The server's
// private upload folder (under the TMPDIR the server is started with) is empty after both, and its memory
// does not grow with the upload. Each prints its upload rate, the server's RSS and the load average.
// Sizes: VRAMSCOPE_E2E_SNAPSHOT_ENTRIES (default 600,000: 91 MB, more than one message) and
// VRAMSCOPE_E2E_CANCEL_MB (default 1024). Opening whole files of 1 GiB (a trace and a pickle) takes
// minutes on a loaded 2-core machine, so it is a benchmark, not part of the suite:
// `node --import tsx scripts/bench-upload.ts --mb 1024` (prints rates, open times and server RSS).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { maxMessageBytes, uploadPathPrefix } from '../../src-main/api/contract.ts';
import { startServeProcess } from '../support/api-transports.ts';
import type { ServeProcess } from '../support/api-transports.ts';
import { launchBrowser, screenshotPath, viteBuild } from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { repoRoot } from '../support/ui-trace.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';
import {
  pickAndUpload,
  processCpuSeconds,
  processMemory,
  sampleRss,
  showOpenView,
  waitForTitle,
  writeSparseFile,
} from '../support/ui-upload.ts';

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
  mkdirSync(serverTmp);
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
  await showOpenView(page);
  return page;
}

const MB = 1e6;
const load = (): string => loadavg()[0]!.toFixed(2);

describe('uploads of any size from the page', () => {
  test('a snapshot larger than one message is uploaded as one PUT body and opens', async () => {
    const entries = Number(process.env.VRAMSCOPE_E2E_SNAPSHOT_ENTRIES ?? 600_000);
    const file = path.join(dir, 'training.pickle');
    writeTrainingPickle(file, simulateTraining({ entries }));
    const bytes = statSync(file).size;
    expect(bytes).toBeGreaterThan(maxMessageBytes);
    const page = await openView();
    const puts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'PUT') puts.push(new URL(r.url()).pathname);
    });
    const pid = server.child.pid!;
    const rssBefore = processMemory(pid).rssMiB;
    const sampler = sampleRss(pid);
    // Every value the progress bar shows while "Uploading", sampled each frame.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { uploadProgressSeen: number[] }).uploadProgressSeen = seen;
      const sample = (): void => {
        const line = document.querySelector('[data-testid="load-progress"]');
        const bar = line?.querySelector('progress');
        if (bar && /^Uploading /.test(line?.textContent ?? '') && seen.at(-1) !== bar.value)
          seen.push(bar.value);
        requestAnimationFrame(sample);
      };
      requestAnimationFrame(sample);
    });
    const started = performance.now();
    const uploadMs = await pickAndUpload(page, file, 600_000);
    await page.screenshot({ path: screenshotPath('upload-progress') });
    await waitForTitle(page, 'training.pickle', 600_000);
    const peak = sampler.stop();
    console.log(
      `ui-upload file_mb=${(bytes / MB).toFixed(1)} entries=${entries} upload_mb_s=${(bytes / MB / (uploadMs / 1000)).toFixed(0)} pick_to_title_s=${((performance.now() - started) / 1000).toFixed(1)} server_rss_before_mib=${rssBefore.toFixed(0)} server_peak_rss_mib=${peak.toFixed(0)} load=${load()}`,
    );
    expect(await page.$('[data-testid="load-error"]')).toBeNull();
    // The bytes went as one PUT body to the upload route (the File itself: see putFile).
    expect(puts).toHaveLength(1);
    // Progress moved while the body was sent, not only at its end; it never went backwards.
    const seen = await page.evaluate(
      () => (window as unknown as { uploadProgressSeen: number[] }).uploadProgressSeen,
    );
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1]!)).toBe(true);
    expect(puts.every((p) => p.startsWith(uploadPathPrefix))).toBe(true);
    expect(serverUploads()).toEqual([]);
    await page.screenshot({ path: screenshotPath('upload-opened'), fullPage: true });
    await page.close();
  }, 900_000);

  test('a snapshot cancelled after its upload, while the server imports it: the import stops, its file goes, the page says cancelled', async () => {
    // Importing is far slower than uploading over loopback (CPU-bound at tens of MB/s against hundreds),
    // so with 1M entries (152 MB) the import runs on for seconds after the last byte is acknowledged.
    const entries = Number(process.env.VRAMSCOPE_E2E_CANCEL_IMPORT_ENTRIES ?? 1_000_000);
    const file = path.join(dir, 'cancelled.pickle');
    writeTrainingPickle(file, simulateTraining({ entries }));
    const page = await openView();
    const pid = server.child.pid!;
    await page.setInputFiles('[data-testid="file-input"]', file);
    // Every byte acknowledged: the progress line turns from "Uploading" to "Loading" (the import's rest).
    await page.waitForFunction(
      () => /^Loading /.test(document.querySelector('[data-testid="load-progress"]')?.textContent ?? ''),
      undefined,
      { timeout: 600_000, polling: 50 },
    );
    const cancelledAt = performance.now();
    await page.click('[data-testid="cancel-load"]');
    await page.waitForSelector('[data-testid="load-error"]', { timeout: 60_000 });
    const stoppedMs = performance.now() - cancelledAt;
    expect(await page.textContent('[data-testid="load-error"]')).toContain(
      'Opening cancelled.pickle was cancelled',
    );
    // The server's private copy is gone and the server is idle: the import stopped, it did not finish in
    // the background (it would take seconds of CPU).
    await expect.poll(() => serverUploads(), { timeout: 10_000 }).toEqual([]);
    const cpuBefore = processCpuSeconds(pid);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const cpuIdle = processCpuSeconds(pid) - cpuBefore;
    console.log(
      `ui-upload-cancel-import entries=${entries} stopped_ms_after_click=${stoppedMs.toFixed(0)} server_cpu_s_in_2s_after=${cpuIdle.toFixed(2)} load=${load()}`,
    );
    expect(cpuIdle).toBeLessThan(0.5);
    const title = await page.$('[data-testid="trace-title"]');
    expect((await title?.textContent()) ?? '').not.toContain('cancelled.pickle');
    await page.screenshot({ path: screenshotPath('upload-import-cancelled'), fullPage: true });
    await page.close();
  }, 900_000);

  test('a 1 GiB .pickle that is no snapshot: the import fails on its first bytes, the upload stops there, the page says why', async () => {
    const file = path.join(dir, 'zeros.pickle');
    const bytes = writeSparseFile(file, 1024 * 2 ** 20);
    const page = await openView();
    const failedPuts: string[] = [];
    page.on('requestfailed', (r) => {
      if (r.method() === 'PUT') failedPuts.push(new URL(r.url()).pathname);
    });
    const started = performance.now();
    await page.setInputFiles('[data-testid="file-input"]', file);
    await page.waitForSelector('[data-testid="load-error"]', { timeout: 120_000 });
    const shownMs = performance.now() - started;
    // The importer's own words, not a transport failure.
    expect(await page.textContent('[data-testid="load-error"]')).toContain('its first bytes match none of');
    // The PUT carrying the file was ended by the page (not sent whole), and nothing is left on the server.
    expect(failedPuts).toHaveLength(1);
    await expect.poll(() => serverUploads(), { timeout: 10_000 }).toEqual([]);
    console.log(
      `ui-upload-import-failed file_mb=${(bytes / MB).toFixed(0)} error_shown_ms=${shownMs.toFixed(0)} load=${load()}`,
    );
    await page.close();
  }, 300_000);

  test('a 1 GiB file cancelled halfway through its upload: a clear word, nothing left on the server, server memory flat', async () => {
    const file = path.join(dir, 'huge.trace');
    const bytes = writeSparseFile(file, Number(process.env.VRAMSCOPE_E2E_CANCEL_MB ?? 1024) * 2 ** 20);
    const page = await openView();
    const pid = server.child.pid!;
    const rssBefore = processMemory(pid).rssMiB;
    const sampler = sampleRss(pid);
    const started = await page.evaluate(() => performance.now());
    await page.setInputFiles('[data-testid="file-input"]', file);
    // Wait until half of it has arrived, then cancel.
    const half = await page.waitForFunction(
      () => {
        const p = document.querySelector(
          '[data-testid="load-progress"] progress',
        ) as HTMLProgressElement | null;
        return p !== null && p.max > 1 && p.value / p.max >= 0.5 ? [performance.now(), p.value] : false;
      },
      undefined,
      { timeout: 600_000, polling: 100 },
    );
    const [halfAt, halfBytes] = (await half.jsonValue()) as [number, number];
    const uploads = serverUploads();
    expect(uploads).toHaveLength(1); // the upload in progress, on disk
    // The server writes what it received to the file (not to memory). The page's count is what the browser
    // has sent, which may still be in the socket or the server's last gathered piece: the file catches up.
    await expect
      .poll(() => statSync(path.join(serverTmp, uploads[0]!)).size, { timeout: 30_000, interval: 20 })
      .toBeGreaterThanOrEqual(halfBytes);
    await page.click('[data-testid="cancel-load"]');
    await page.waitForSelector('[data-testid="load-error"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="load-error"]')).toContain(
      'Opening huge.trace was cancelled',
    );
    const peak = sampler.stop();
    console.log(
      `ui-upload-cancel file_mb=${(bytes / MB).toFixed(0)} half_mb=${(halfBytes / MB).toFixed(0)} upload_mb_s=${(halfBytes / MB / ((halfAt - started) / 1000)).toFixed(0)} server_rss_before_mib=${rssBefore.toFixed(0)} server_peak_rss_mib=${peak.toFixed(0)} load=${load()}`,
    );
    // Memory bounded by the piece of the PUT body being written (1 MiB), not by the file:
    // half a GiB arrived, the server grew by far less.
    expect(peak - rssBefore).toBeLessThan(200);
    await page.screenshot({ path: screenshotPath('upload-cancelled'), fullPage: true });
    // The server drops the partial file.
    await expect.poll(() => serverUploads(), { timeout: 10_000 }).toEqual([]);
    await page.close();
  }, 900_000);
});
