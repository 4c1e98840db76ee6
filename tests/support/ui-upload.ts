// Big files through the page (issue 11): generated inputs of a chosen size, the page's upload timed from
// pick to the last byte acknowledged, and the server process's resident memory sampled meanwhile. Used by
// tests/e2e/ui-upload.test.ts and scripts/bench-upload.ts.
import { closeSync, ftruncateSync, openSync, readFileSync, statSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { AllocationKind, EventLog } from '../../allocator/index.ts';
import { loadProfile } from '../../src-main/session/open-device.ts';
import { createTraceHeader } from '../../src-main/trace/header.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';
import { repoRoot } from './web-transport.ts';

const MiB = 2 ** 20;

/** A sparse file of `bytes` bytes (zeros; nothing written to disk until the server stores its upload). */
export function writeSparseFile(file: string, bytes: number): number {
  const fd = openSync(file, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return bytes;
}

/**
 * A valid trace of at least `bytes` bytes. Traces compress well (a few bytes per event), so the size comes
 * from names that do not compress: one allocation per ~1000 random characters of name (the API's limit
 * is 1024), in a rolling window of 1000 live allocations on one 256 MiB block. Returns its size in bytes.
 */
export function writeBigNamedTrace(file: string, bytes: number): number {
  const nameChars = 1000;
  // Random base64url characters compress to 6 bits each; events cost a few bytes more.
  const allocations = Math.ceil(bytes / ((nameChars * 6) / 8)) + 1000;
  const device = loadProfile('lavapipe', repoRoot);
  let t = 0;
  const log = new EventLog({ initialCapacity: allocations * 2 + 16, clock: () => (t += 0.01) });
  const slot = 64 * 1024;
  const window = 1000;
  log.blockCreate({ blockId: 1, memoryTypeIndex: 0, size: 256 * MiB, dedicated: false });
  // A deterministic generator (xorshift32): the same file for the same size.
  let x = 0x9e3779b9;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const chars = new Array<string>(nameChars);
  for (let id = 1; id <= allocations; id++) {
    for (let c = 0; c < nameChars; c++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chars[c] = alphabet[x & 63]!;
    }
    const offset = (id % (window * 2)) * slot;
    log.allocate({
      allocationId: id,
      blockId: 1,
      memoryTypeIndex: 0,
      offset,
      size: slot / 2,
      alignment: 256,
      kind: AllocationKind.Linear,
      location: 'GpuOnly',
      name: chars.join(''),
      decisionId: -1,
      usedRetry: false,
      stack: '',
    });
    if (id > window) log.free(id - window);
    if (id % 500 === 0) log.frame(id / 500);
  }
  const writer = new TraceWriter(file, log, { header: createTraceHeader({ device }), flushIntervalMs: 0 });
  writer.close();
  return statSync(file).size;
}

/** A PyTorch training-loop snapshot (pickle) of at least `bytes` bytes (about 150 bytes per entry). */
export function writeBigPickle(file: string, bytes: number): { bytes: number; entries: number } {
  const entries = Math.ceil(bytes / 140);
  writeTrainingPickle(file, simulateTraining({ entries }));
  return { bytes: statSync(file).size, entries };
}

/** The resident set (VmRSS) and its peak so far (VmHWM) of a process, MiB (Linux /proc). */
export function processMemory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
}

/**
 * What a process has used so far (Linux /proc): CPU seconds (user + system; clock ticks of 1/100 s) and
 * minor page faults (first touches of memory).
 */
export function processUsage(pid: number): { cpuSeconds: number; minorFaults: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, inside parentheses): minflt is the 10th field,
  // utime and stime the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100, minorFaults: Number(fields[7]) };
}

/**
 * CPU seconds (user + system) a process has used so far. Under a loaded machine, bytes per CPU second says
 * more about the code than bytes per wall-clock second.
 */
export function processCpuSeconds(pid: number): number {
  return processUsage(pid).cpuSeconds;
}

/** Samples a process's VmRSS every `everyMs` until stopped; answers the largest seen (MiB). */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let max = processMemory(pid).rssMiB;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, processMemory(pid).rssMiB);
    } catch {
      // The process ended: keep what was seen.
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return max;
    },
  };
}

/** The Open view of a page already on the server's UI. */
export async function showOpenView(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid="app"]');
  await page.click('button[role="tab"]:has-text("Open")');
  await page.waitForSelector('[data-testid="file-input"]', { state: 'attached' });
}

/**
 * Picks `file` in the Open view and waits until its upload is over: every byte acknowledged (the progress
 * line says "Loading" or the file opened) or an error shown. Answers the ms from the pick to then, measured
 * in the page (the end is the first animation frame that shows it).
 */
export async function pickAndUpload(page: Page, file: string, timeoutMs: number): Promise<number> {
  const started = await page.evaluate(() => performance.now());
  await page.setInputFiles('[data-testid="file-input"]', file);
  const handle = await page.waitForFunction(
    () => {
      const progress = document.querySelector('[data-testid="load-progress"]')?.textContent ?? '';
      const title = document.querySelector('[data-testid="trace-title"]')?.textContent ?? '';
      const bar = document.querySelector(
        '[data-testid="load-progress"] progress',
      ) as HTMLProgressElement | null;
      const over =
        (bar !== null && bar.max > 1 && bar.value >= bar.max) ||
        /^Loading /.test(progress) ||
        document.querySelector('[data-testid="load-error"]') !== null ||
        (progress === '' && title !== '');
      return over ? performance.now() : false;
    },
    undefined,
    { timeout: timeoutMs, polling: 'raf' },
  );
  return Number(await handle.jsonValue()) - started;
}

/** Waits until the page shows `name` as the loaded trace's title (or fails with the page's error). */
export async function waitForTitle(page: Page, name: string, timeoutMs: number): Promise<void> {
  const handle = await page.waitForFunction(
    (n) => {
      const error = document.querySelector('[data-testid="load-error"]')?.textContent;
      if (error) return `error: ${error}`;
      return (document.querySelector('[data-testid="trace-title"]')?.textContent ?? '').includes(n)
        ? 'ok'
        : false;
    },
    name,
    { timeout: timeoutMs, polling: 250 },
  );
  const result = await handle.jsonValue();
  if (result !== 'ok') throw new Error(`${name} did not open: ${result}`);
}
