// Defragmentation in the inspector, in real Chromium against a real `vramscope serve`: a trace recorded
// from the built-in `defragment` scenario (simulated lavapipe, 4 MiB blocks) is dropped on the app; the
// timeline states its applied passes (runs of move events in the file); at the cursor before the passes,
// "Defragment here" shows and draws the plan, checked against the engine's own plan for that state
// (allocator/analysis, what `report --defrag --at N` prints); moving the cursor hides it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { formatBytes, TraceEventKind } from '../../allocator/index.ts';
import { analyzeTrace, planDefragmentationOfSnapshot } from '../../allocator/analysis/index.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { startServeProcess } from '../support/api-transports.ts';
import type { ServeProcess } from '../support/api-transports.ts';
import { dropFile, launchBrowser, screenshotPath, viteBuild } from '../support/ui-browser.ts';
import type { Browser } from '../support/ui-browser.ts';
import { repoRoot } from '../support/ui-trace.ts';

const outDir = path.join(repoRoot, 'test-output');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-ui-defrag-'));
const tracePath = path.join(tmp, 'defragment.trace');
let server: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  const run = spawnSync(
    process.execPath,
    [
      'bin/vramscope.mjs',
      'run',
      'defragment',
      '--profile',
      'lavapipe',
      '--block-size-device',
      '4MiB',
      '--block-size-host',
      '4MiB',
      '--param',
      'allocations=300',
      '--param',
      'maxKiB=256',
      '--param',
      'movesPerPass=25',
      '--param',
      'bigKiB=1024',
      '--seed',
      '3',
      '--out',
      tracePath,
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`vramscope run defragment failed: ${run.stderr}`);
  mkdirSync(outDir, { recursive: true });
  const ui = path.join(outDir, 'ui-defrag-renderer');
  await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  server = await startServeProcess(['--ui', ui]);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const count = (n: number): string => n.toLocaleString('en-US');
const percent = (f: number): string => `${(f * 100).toFixed(1)} %`;

async function setCursor(page: Page, at: number): Promise<void> {
  await page.$eval(
    'input[aria-label="Cursor"]',
    (el, v) => {
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set;
      setter?.call(el, String(v));
      el.dispatchEvent(new Event('input', { bubbles: true }));
    },
    at,
  );
  await page.waitForFunction(
    (v) =>
      (document.querySelector('[data-testid="blockmap-summary"]')?.textContent ?? '').startsWith(
        `at event ${v.toLocaleString('en-US')}:`,
      ),
    at,
  );
}

describe('defragmentation in the inspector', () => {
  test('the timeline states the passes; "Defragment here" shows and draws the engine plan', async () => {
    const trace = loadTraceSync(tracePath);
    const c = trace.events.columns;
    // Passes: runs of consecutive move events. The cursor: the "defragment" mark, before the first pass.
    let passes = 0;
    let moves = 0;
    let before = -1;
    for (let i = 0; i < trace.events.length; i++) {
      if (c.kind[i] === TraceEventKind.Move) {
        moves++;
        if (i === 0 || c.kind[i - 1] !== TraceEventKind.Move) passes++;
      }
      if (c.kind[i] === TraceEventKind.Mark && trace.events.strings[c.name[i]!] === 'defragment') before = i;
    }
    expect(passes).toBeGreaterThan(1);
    expect(before).toBeGreaterThan(0);
    const plan = planDefragmentationOfSnapshot(
      analyzeTrace(trace.events, trace.header.device).snapshotAt(before),
      trace.header.device,
      { algorithm: 'full' },
    );
    expect(plan.moves.length).toBeGreaterThan(0);

    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForSelector('[data-testid="app"]');
    await dropFile(page, 'defragment.trace', readFileSync(tracePath));
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="stat-events"]')?.textContent === n,
      count(trace.events.length),
      { timeout: 30_000 },
    );
    // The whole trace is in view after loading: every pass is marked.
    await page.waitForFunction(
      (t) => document.querySelector('[data-testid="timeline-defrag"]')?.textContent === t,
      `${count(passes)} defragmentation passes`,
      { timeout: 30_000 },
    );
    expect(moves).toBe(
      (await page.getAttribute('[data-testid="timeline-defrag"]', 'title'))!
        .split('\n')
        .map((l) => Number(/: (\d+) moves$/.exec(l)?.[1]))
        .reduce((a, b) => a + b, 0),
    );

    await page.click('role=tab[name="Block map"]');
    await setCursor(page, before);
    await page.click('button:has-text("Defragment here")');
    await page.waitForSelector('[data-testid="defrag-summary"]');
    expect(await page.textContent('[data-testid="defrag-summary"]')).toBe(
      `defragment (full) at event ${count(before)}: ${count(plan.moves.length)} moves, ${formatBytes(
        plan.bytesMoved,
      )} moved, ${count(plan.emptiedBlocks.length)} blocks freed (${count(plan.blocksBefore)} → ${count(
        plan.blocksAfter,
      )}), fragmentation ${percent(plan.fragmentationBefore)} → ${percent(plan.fragmentationAfter)}`,
    );
    // Every move is drawn (both its blocks are rows of the map), and listed as the engine planned it.
    await page.waitForFunction(
      (n) =>
        document.querySelector('[data-testid="blockmap-canvas"]')?.getAttribute('data-defrag-moves-drawn') ===
        n,
      String(plan.moves.length),
    );
    const listed = await page.$$eval('[data-testid="defrag-moves"] li', (li) => li.map((x) => x.textContent));
    expect(listed).toEqual(
      plan.moves
        .slice(0, 200)
        .map(
          (m) =>
            `${m.name}: #${m.fromBlock} @${m.fromOffset} → #${m.toBlock} @${m.toOffset} (${formatBytes(m.size)})`,
        ),
    );
    await page.screenshot({ path: screenshotPath('defrag-preview') });

    // The preview belongs to its event index: elsewhere it is gone, and nothing is drawn.
    await setCursor(page, before + 1);
    expect(await page.$('[data-testid="defrag-summary"]')).toBeNull();
    expect(await page.getAttribute('[data-testid="blockmap-canvas"]', 'data-defrag-moves-drawn')).toBe('0');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
