import { afterAll, expect, test } from 'vitest';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileLimits } from '../../src-main/import/file-source.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { runCliInProcess } from '../support/cli-in-process.ts';
import { generateWorkload, testHeader } from '../support/trace-fixtures.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const report = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  runCliInProcess(['report', ...args], dir);

const log = generateWorkload({ events: 5000, seed: 8, liveTarget: 200, nameVariety: 20 });
const file = path.join(dir, 'ok.vrt');
new TraceWriter(file, log, { header: testHeader(), flushIntervalMs: 0, maxEventsPerChunk: 1000 }).close();

test('report prints device, totals, peaks, failures, fragmentation, leaks and load figures', async () => {
  const r = await report(['ok.vrt']);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  for (const needle of [
    'device: Test GPU',
    'heaps:',
    'heap 0 (DEVICE_LOCAL',
    'memory types:',
    'peak',
    'failures:',
    'fragmentation:',
    'leaks (live at end):',
    'by origin:',
    'by name:',
    'bytes/event',
    'RSS',
  ]) {
    expect(r.stdout).toContain(needle);
  }
  expect(r.stdout).toContain(`events: ${log.length.toLocaleString('en-US')}`);
});

test('report --json gives the same numbers as one object', async () => {
  const r = await report(['ok.vrt', '--json']);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as {
    summary: { eventCount: number; counts: { allocations: number } };
    leaks: { count: number; byOrigin: unknown[] };
    performance: { loadMs: number; bytesPerEvent: number; rssAfterLoadMiB: number };
    complete: boolean;
  };
  expect(out.summary.eventCount).toBe(log.length);
  expect(out.summary.counts.allocations).toBe(
    Array.from(log.columns.kind.subarray(0, log.length)).filter((k) => k === 1).length,
  );
  expect(out.complete).toBe(true);
  expect(out.performance.bytesPerEvent).toBeGreaterThan(0);
  expect(out.performance.rssAfterLoadMiB).toBeGreaterThan(0);
  expect(out.leaks.byOrigin.length).toBeGreaterThan(0);
});

test('a torn trace loads its prefix: exit 0 with one warning on stderr', async () => {
  const bytes = readFileSync(file);
  writeFileSync(path.join(dir, 'torn.vrt'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const r = await report(['torn.vrt']);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/^vramscope report: warning: .*byte \d+.*kept the \d+ events before it\n$/);
});

test('an unreadable trace is exit 1 with one line naming the byte; bad usage is exit 2', async () => {
  writeFileSync(path.join(dir, 'junk.vrt'), 'hello, not a trace');
  const junk = await report(['junk.vrt']);
  expect(junk.code).toBe(1);
  expect(junk.stderr).toMatch(
    /^vramscope report: cannot load junk.vrt: not a VRAMscope trace.*\(byte 0\)\n$/,
  );
  const missing = await report(['nope.vrt']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe('vramscope report: cannot load nope.vrt: no such file\n');
  expect((await report([])).code).toBe(2);
  expect((await report(['a', 'b'])).code).toBe(2);
  expect((await report(['ok.vrt', '--bogus'])).code).toBe(2);
});

test('report and replay refuse a trace over the 2 GiB cap before decoding it, as the API worker does', async () => {
  // Sparse files: the sizes cost no disk. At the cap the file is read (and is no trace); one byte more is
  // refused by size with the same message the API's trace worker gives.
  const atCap = path.join(dir, 'at-cap.vrt');
  const over = path.join(dir, 'over-cap.vrt');
  for (const [f, size] of [
    [atCap, fileLimits.trace],
    [over, fileLimits.trace + 1],
  ] as const) {
    const fd = openSync(f, 'w');
    ftruncateSync(fd, size);
    closeSync(fd);
  }
  const tooLarge =
    'is larger than 2147483648 bytes (2 GiB), the most VRAMscope reads for this kind of file\n';
  const atCapReport = await report(['at-cap.vrt']);
  expect(atCapReport.code).toBe(1);
  expect(atCapReport.stderr).toMatch(/^vramscope report: cannot load at-cap.vrt: not a VRAMscope trace/);
  const overReport = await report(['over-cap.vrt']);
  expect(overReport.code).toBe(1);
  expect(overReport.stderr).toBe(`vramscope report: cannot load over-cap.vrt: over-cap.vrt ${tooLarge}`);
  const overReplay = await runCliInProcess(['replay', 'over-cap.vrt'], dir);
  expect(overReplay.code).toBe(1);
  expect(overReplay.stderr).toBe(`vramscope replay: cannot load over-cap.vrt: over-cap.vrt ${tooLarge}`);
  rmSync(atCap);
  rmSync(over);
});
