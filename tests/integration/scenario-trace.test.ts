// Runs recorded to a trace file: the trace holds exactly the events main received, it is flushed while a
// script runs in a synchronous loop (so a crash leaves a loadable prefix), and `vramscope replay` reads it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { eventColumnNames } from '../../allocator/index.ts';
import { startScenario } from '../../src-main/session/scenario-host.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-scenario-trace-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('the trace of a run holds the same events as the live stream', async () => {
  const tracePath = path.join(tmp, 'leaks.trace');
  const run = startScenario({
    scenario: 'leaks',
    device: { kind: 'profile', profile: 'h100' },
    seed: 21,
    tracePath,
    cwd: repoRoot,
  });
  const result = await run.done;
  expect(result.outcome).toBe('completed');
  const trace = loadTraceSync(tracePath);
  expect(trace.warnings).toEqual([]);
  expect(trace.complete).toBe(true);
  expect(trace.header.session).toMatchObject({ scenario: 'leaks', seed: 21 });
  expect(trace.header.device.name).toBe('NVIDIA H100 80GB HBM3');
  expect(trace.events.length).toBe(run.events.length);
  const live = run.events.columns();
  for (const key of eventColumnNames) {
    if (key === 'time') continue;
    expect(Array.from(trace.events.columns[key] as ArrayLike<number>), key).toEqual(
      Array.from(live[key] as ArrayLike<number>),
    );
  }
  const names = (ids: ArrayLike<number>, strings: readonly string[]): string[] =>
    Array.from(ids, (id) => strings[id] ?? '');
  expect(names(trace.events.columns.stack, trace.events.strings)).toEqual(
    names(live.stack, run.events.strings),
  );
});

test('the trace is flushed while a script spins in a synchronous loop', async () => {
  const script = path.join(tmp, 'spin.mjs');
  writeFileSync(
    script,
    `export const meta = { name: 'spin', description: '', parameters: {} };
export function run(ctx) {
  for (let i = 0; ; i++) { const a = ctx.allocate({ name: 'x' + i, size: 4096, kind: 'buffer' }); ctx.free(a); }
}
`,
  );
  const tracePath = path.join(tmp, 'spin.trace');
  const run = startScenario({
    scenario: script,
    device: { kind: 'profile', profile: 'lavapipe' },
    seed: 1,
    tracePath,
    cwd: repoRoot,
  });
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if ((run.status?.ops ?? 0) > 2000) {
        clearInterval(t);
        resolve();
      }
    }, 10);
  });
  // The script never yields: only the runner's flushes (at least every second) can put events on disk.
  // Wait for them to be there rather than sleeping a guessed time; a missing flush fails by the timeout.
  const eventsOnDisk = (): number => {
    try {
      return loadTraceSync(tracePath).events.length;
    } catch {
      return 0; // not written yet (no header)
    }
  };
  await expect.poll(eventsOnDisk, { timeout: 30_000, interval: 50 }).toBeGreaterThan(2000);
  const partial = loadTraceSync(tracePath);
  expect(partial.complete).toBe(false);
  expect(run.result).toBeNull();
  const result = await run.cancel();
  expect(result.outcome).toBe('cancelled');
  const full = loadTraceSync(tracePath);
  expect(full.complete).toBe(true);
  expect(full.events.length).toBe(run.events.length);
});

test('vramscope replay reports the memory-type differences of a recorded trace', () => {
  const tracePath = path.join(tmp, 'ring.trace');
  const bin = path.join(repoRoot, 'bin', 'vramscope.mjs');
  const rec = spawnSync(
    process.execPath,
    [
      bin,
      'run',
      'transient-ring',
      '--profile',
      'lavapipe',
      '--seed',
      '2',
      '--param',
      'frames=30',
      '--out',
      tracePath,
    ],
    { encoding: 'utf8' },
  );
  expect(rec.stderr).toBe('');
  expect(rec.status).toBe(0);
  const r = spawnSync(process.execPath, [bin, 'replay', tracePath, '--profile', 'h100'], {
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(
    /^ +\d+ × CpuToGpu linear: type 0 \(DEVICE_LOCAL\|HOST_VISIBLE\|HOST_COHERENT\|HOST_CACHED, heap 0\) → type 4 \(DEVICE_LOCAL\|HOST_VISIBLE\|HOST_COHERENT, heap 0\)$/m,
  );
  // GpuToCpu prefers HOST_CACHED: type 3 on the H100.
  expect(r.stdout).toMatch(
    /× GpuToCpu linear: type 0 .* → type 3 \(HOST_VISIBLE\|HOST_COHERENT\|HOST_CACHED, heap 1\)$/m,
  );
  const json = spawnSync(process.execPath, [bin, 'replay', tracePath, '--json'], { encoding: 'utf8' });
  expect(json.status).toBe(0);
  const report = JSON.parse(json.stdout) as { typeChanges: unknown[]; requests: number };
  expect(report.requests).toBeGreaterThan(0);
  expect(report.typeChanges).toEqual([]);

  const garbage = path.join(tmp, 'garbage.trace');
  writeFileSync(garbage, 'not a trace');
  const bad = spawnSync(process.execPath, [bin, 'replay', garbage, '--profile', 'h100'], {
    encoding: 'utf8',
  });
  expect(bad.status).toBe(1);
  expect(bad.stderr).toMatch(/^vramscope replay: cannot load \S*garbage\.trace: /);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  const usage = spawnSync(process.execPath, [bin, 'replay', tracePath, '--profile', 'no-such-gpu'], {
    encoding: 'utf8',
  });
  expect(usage.status).toBe(2);
});
