// Loader warnings in the UI: a torn trace and an inconsistent PyTorch snapshot, dropped on the app served by
// a real `vramscope serve` in real Chromium, show a banner beside the file's name with exactly the words
// `vramscope report` (torn trace) and `vramscope import` (snapshot fix-ups) print for the same files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startServeProcess } from '../support/api-transports.ts';
import type { ServeProcess } from '../support/api-transports.ts';
import { dropFile, launchBrowser, openAppPage, screenshotPath, viteBuild } from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { repoRoot } from '../support/ui-trace.ts';
import { EventLog } from '../../allocator/index.ts';
import { loadProfile } from '../../src-main/session/open-device.ts';
import { createTraceHeader } from '../../src-main/trace/header.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import {
  simulateTraining,
  writeTrainingPickle,
  type Block,
} from '../../scripts/pytorch-training-snapshot.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-loader-warnings-'));
let server: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  const ui = path.join(repoRoot, 'test-output', 'ui-loader-warnings-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  server = await startServeProcess(['--ui', ui]);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/vramscope.mjs', ...args], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vramscope ${args.join(' ')} failed: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const openApp = async (): Promise<Page> => (await openAppPage(browser, server.url)).page;

/** The banner once it names `name` (a new page first shows the server's previously active source). */
async function bannerItems(page: Page, name: string): Promise<{ head: string; items: string[] }> {
  await page.waitForFunction(
    (n) => (document.querySelector('[data-testid="loader-warnings"] strong')?.textContent ?? '').includes(n),
    name,
    { timeout: 60_000 },
  );
  const head = (await page.textContent('[data-testid="loader-warnings"] strong')) ?? '';
  const items = await page.$$eval('[data-testid="loader-warnings"] li', (els) =>
    els.map((e) => e.textContent ?? ''),
  );
  return { head, items };
}

describe('loader warnings beside the loaded file', () => {
  test('a torn trace: the banner says what report says', async () => {
    const whole = readFileSync(path.join(repoRoot, 'assets', 'traces', 'streaming-h100.trace'));
    const torn = path.join(dir, 'torn.trace');
    writeFileSync(torn, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const expected = cli(['report', torn])
      .stderr.split('\n')
      .filter((l) => l.startsWith('vramscope report: warning: '))
      .map((l) => l.slice('vramscope report: warning: '.length));
    expect(expected.length).toBeGreaterThan(0);
    const page = await openApp();
    await dropFile(page, 'torn.trace', readFileSync(torn));
    const banner = await bannerItems(page, 'torn.trace');
    expect(banner.items).toEqual(expected);
    await page.screenshot({ path: screenshotPath('loader-warnings-torn'), fullPage: true });
    await page.close();
  });

  test('an inconsistent PyTorch snapshot: the banner says what import says', async () => {
    const s = simulateTraining({ entries: 4000, layers: 2, hidden: 128, batch: 2 });
    // One live block whose requested_size disagrees with the trace: the import puts it right and warns.
    const seg = s.segments.find((x) => {
      for (let b: Block | null = x.first; b; b = b.next) if (b.allocated) return true;
      return false;
    })!;
    let b: Block | null = seg.first;
    while (b && !b.allocated) b = b.next;
    b!.requested += 8;
    const file = path.join(dir, 'inconsistent.pickle');
    writeTrainingPickle(file, s);
    const expected = cli(['import', file, '--out', path.join(dir, 'inconsistent.trace')])
      .stdout.split('\n')
      .filter((l) => l.startsWith('warning: '))
      .map((l) => l.slice('warning: '.length));
    expect(expected.join('\n')).toMatch(/does not lead to the segments snapshot/);
    const page = await openApp();
    await dropFile(page, 'inconsistent.pickle', readFileSync(file));
    const banner = await bannerItems(page, 'inconsistent.pickle');
    expect(banner.items).toEqual(expected);
    await page.screenshot({ path: screenshotPath('loader-warnings-import'), fullPage: true });
    await page.close();
  });

  test('an inconsistent D3D12MA dump: the banner says what import says', async () => {
    const file = path.join(repoRoot, 'tests', 'fixtures', 'import', 'd3d12ma-tier1-inconsistent.json');
    const expected = cli(['import', file, '--out', path.join(dir, 'd3d12ma.trace')])
      .stdout.split('\n')
      .filter((l) => l.startsWith('warning: '))
      .map((l) => l.slice('warning: '.length));
    expect(expected.length).toBeGreaterThan(0);
    const page = await openApp();
    await dropFile(page, 'd3d12ma-tier1-inconsistent.json', readFileSync(file));
    const banner = await bannerItems(page, 'd3d12ma-tier1-inconsistent.json');
    // The banner lists three and a button opens the rest.
    if (expected.length > 3) await page.click('[data-testid="loader-warnings"] button');
    const items = await page.$$eval('[data-testid="loader-warnings"] li', (els) =>
      els.map((e) => e.textContent ?? ''),
    );
    expect(expected.length > 3 ? items : banner.items).toEqual(expected);
    await page.close();
  });

  test('a captured application that lost records and did not exit: the banner says what report says', async () => {
    let t = 0;
    const log = new EventLog({ clock: () => (t += 1) });
    log.blockCreate({ blockId: 1, memoryTypeIndex: 0, size: 1 << 20, dedicated: false });
    log.resourceCreate({
      resourceId: 1,
      image: false,
      linear: true,
      size: 4096,
      usage: 0x20,
      format: 0,
      name: 'VkBuffer 0x1',
      details: '{}',
      stack: null,
    });
    log.captureLoss(17);
    const file = path.join(dir, 'captured.trace');
    const header = createTraceHeader({
      device: loadProfile('lavapipe', repoRoot),
      capture: {
        command: ['./app'],
        pid: 1234,
        executable: '/usr/bin/app',
        track: 0,
        deviceHandle: '0x1',
        layerVersion: 1,
        stacks: false,
      },
    });
    new TraceWriter(file, log, { header, flushIntervalMs: 0 }).close();
    const expected = cli(['report', file])
      .stderr.split('\n')
      .filter((l) => l.startsWith('vramscope report: warning: '))
      .map((l) => l.slice('vramscope report: warning: '.length));
    expect(expected.join('\n')).toMatch(/did not exit cleanly.*lost 17 records/);
    const page = await openApp();
    await dropFile(page, 'captured.trace', readFileSync(file));
    const banner = await bannerItems(page, 'captured.trace');
    expect(banner.items).toEqual(expected);
    await page.close();
  });

  test('a clean trace shows no banner', async () => {
    const page = await openApp();
    await dropFile(
      page,
      'clean.trace',
      readFileSync(path.join(repoRoot, 'assets', 'traces', 'streaming-h100.trace')),
    );
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-testid="trace-title"]')?.textContent ?? '').includes('clean.trace'),
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.$('[data-testid="loader-warnings"]')).toBeNull();
    await page.close();
  });
});
