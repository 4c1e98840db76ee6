// The Devices and Compare views end to end: the built renderer served by a real `vramscope serve` process
// (with its own profiles folder), driven in real Chromium. Reads a shipped profile's choice table, adds a
// gpuinfo.org report by dropping it, and replays a shipped sample trace (recorded on the H100 profile) on
// the lavapipe profile: the compare view must show the numbers `vramscope replay --json` prints.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { formatBytes } from '../../allocator/index.ts';
import { startServeProcess } from '../support/api-transports.ts';
import type { ServeProcess } from '../support/api-transports.ts';
import { dropFile, launchBrowser, openAppPage, screenshotPath, viteBuild } from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { repoRoot } from '../support/ui-trace.ts';

const trace = path.join(repoRoot, 'assets', 'traces', 'streaming-h100.trace');
const profilesDir = path.join(mkdtempSync(path.join(tmpdir(), 'vramscope-ui-profiles-')), 'profiles');
let server: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  const ui = path.join(repoRoot, 'test-output', 'ui-devices-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  server = await startServeProcess(['--ui', ui, '--profiles-dir', profilesDir]);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(path.dirname(profilesDir), { recursive: true, force: true });
});

const openApp = (): Promise<{ page: Page; errors: string[] }> => openAppPage(browser, server.url);

describe('Devices and Compare views', () => {
  test('a shipped profile shows its heaps, types and choices; a dropped gpuinfo report is added', async () => {
    const { page, errors } = await openApp();
    await page.click('role=tab[name="Devices"]');
    await page.click('button.device-entry:has-text("NVIDIA H100 80GB HBM3")');
    await page.waitForSelector('[data-testid="device-card"] h2:has-text("NVIDIA H100 80GB HBM3")');
    const winners = await page.$$eval('[data-testid="device-choices"] tr.choice', (rows) =>
      rows.map((r) => [
        r.getAttribute('data-location'),
        r.querySelector('[data-testid="choice-winner"]')?.textContent,
      ]),
    );
    expect(winners).toHaveLength(24);
    // H100 (assets/profiles): GpuOnly type 1, CpuToGpu type 4 (ReBAR), GpuToCpu type 3, Unknown type 0.
    const byLocation = new Map(winners.map(([l, w]) => [l, w]));
    expect([...byLocation.entries()].sort()).toEqual(
      [
        ['CpuToGpu', '4'],
        ['GpuOnly', '1'],
        ['GpuToCpu', '3'],
        ['Unknown', '0'],
      ].sort(),
    );
    await page.click('[data-testid="device-choices"] tr.choice[data-location="CpuToGpu"]');
    await page.waitForSelector('[data-testid="decision-record"]');
    expect(await page.textContent('[data-testid="device-types"]')).toContain(
      'DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT',
    );

    const report = readFileSync(
      path.join(repoRoot, 'tests', 'fixtures', 'profiles', 'gpuinfo-27174-intel-arc-a380.json'),
    );
    await dropFile(
      page,
      'gpuinfo-27174-intel-arc-a380.json',
      new Uint8Array(report),
      '[data-testid="profile-drop"]',
    );
    await page.waitForSelector(
      '[data-testid="devices-notice"]:has-text("Intel(R) Arc(tm) A380 Graphics (DG2)")',
    );
    await page.waitForSelector(
      '[data-testid="device-card"] h2:has-text("Intel(R) Arc(tm) A380 Graphics (DG2)")',
    );
    const heaps = await page.textContent('[data-testid="device-heaps"]');
    expect(heaps).toContain(formatBytes(0x16c800000));
    expect(readdirSync(profilesDir)).toEqual(['gpuinfo-27174-intel-arc-a380.gpuinfo.json']);
    // The drop stayed a profile: no trace was opened by the app-wide drop handler.
    expect(await page.textContent('[data-testid="trace-title"]')).not.toContain('a380');
    await page.screenshot({ path: screenshotPath('devices-view'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('Replay on the lavapipe profile: the compare view shows the numbers `vramscope replay` prints', async () => {
    const cli = spawnSync(
      process.execPath,
      ['bin/vramscope.mjs', 'replay', trace, '--profile', 'lavapipe', '--json'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
      },
    );
    expect(cli.status, cli.stderr).toBe(0);
    const expected = JSON.parse(cli.stdout) as {
      requests: number;
      baseline: { peakCommittedBytes: number; blocksCreated: number; peakBlocks: number; failures: number };
      replay: { peakCommittedBytes: number; blocksCreated: number; peakBlocks: number; failures: number };
    };
    const { page, errors } = await openApp();
    await dropFile(page, 'streaming-h100.trace', new Uint8Array(readFileSync(trace)));
    await page.waitForSelector('[data-testid="trace-title"]:has-text("streaming-h100.trace")', {
      timeout: 60_000,
    });
    await page.click('role=tab[name="Compare"]');
    await page.waitForSelector('select[aria-label="Replay device"] option:has-text("llvmpipe")', {
      state: 'attached',
    });
    const lavapipe = await page.$eval(
      'select[aria-label="Replay device"]',
      (s) => [...(s as HTMLSelectElement).options].find((o) => o.text.includes('profile: llvmpipe'))?.value,
    );
    await page.selectOption('select[aria-label="Replay device"]', lavapipe ?? '');
    await page.click('button:has-text("Replay")');
    await page.waitForSelector('[data-testid="compare-diff"]', { timeout: 60_000 });
    await page.waitForSelector('[data-testid="compare-lane-b"] svg');
    expect(await page.textContent('[data-testid="compare-requests"]')).toBe(
      `${expected.requests.toLocaleString('en-US')} allocation requests replayed`,
    );
    const row = async (metric: string): Promise<string[]> =>
      page.$$eval(`[data-testid="compare-diff"] tr[data-metric="${metric}"] td`, (tds) =>
        tds.map((td) => td.textContent ?? ''),
      );
    expect(await row('peak committed')).toEqual([
      'peak committed',
      formatBytes(expected.baseline.peakCommittedBytes),
      formatBytes(expected.replay.peakCommittedBytes),
      expected.baseline.peakCommittedBytes === expected.replay.peakCommittedBytes
        ? 'same'
        : `${expected.replay.peakCommittedBytes > expected.baseline.peakCommittedBytes ? '+' : '-'}${formatBytes(Math.abs(expected.replay.peakCommittedBytes - expected.baseline.peakCommittedBytes))}`,
    ]);
    const blocks = await row('blocks created');
    expect(blocks.slice(1, 3)).toEqual([
      String(expected.baseline.blocksCreated),
      String(expected.replay.blocksCreated),
    ]);
    const failures = await row('failures');
    expect(failures.slice(1, 3)).toEqual([
      String(expected.baseline.failures),
      String(expected.replay.failures),
    ]);
    const lanes = await page.textContent('[data-testid="compare-lane-b"] h3');
    expect(lanes).toContain('llvmpipe');
    await page.screenshot({ path: screenshotPath('compare-view'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('Scenarios runs on the device and strategy chosen in "Run on"', async () => {
    const { page, errors } = await openApp();
    await page.click('role=tab[name="Scenarios"]');
    await page.selectOption('select[aria-label="Scenario"]', 'leaks');
    await page.waitForSelector('#run-device option:has-text("NVIDIA H100 80GB HBM3")', { state: 'attached' });
    const h100 = await page.$eval(
      '#run-device',
      (s) =>
        [...(s as HTMLSelectElement).options].find((o) => o.text === 'profile: NVIDIA H100 80GB HBM3')?.value,
    );
    await page.selectOption('#run-device', h100 ?? '');
    // Relocation before growth: on by default with tlsf; freelist never relocates, so it is off and fixed.
    expect(await page.isChecked('#run-relocation')).toBe(true);
    expect(await page.isEnabled('#run-relocation')).toBe(true);
    await page.selectOption('#run-strategy', 'freelist');
    expect(await page.isChecked('#run-relocation')).toBe(false);
    expect(await page.isEnabled('#run-relocation')).toBe(false);
    await page.fill('#run-deviceMemblockMiB', '64');
    await page.click('button:has-text("Run")');
    await page.waitForFunction(
      () => /: finished/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    await page.click('role=tab[name="Overview"]');
    await page.waitForSelector('[data-testid="device-name"]:has-text("NVIDIA H100 80GB HBM3")');
    expect(errors).toEqual([]);
    await page.close();
  });
});
