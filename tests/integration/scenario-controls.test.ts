// The scenario worker's controls and guarantees: pause stops before the next allocator op, step lets exactly
// one op through, resume and cancel work (also on a script stuck without ops), the same seed gives the same
// event sequence, and a script error is reported with file:line while the events so far are kept.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { eventColumnNames, TraceEventKind } from '../../allocator/index.ts';
import type { EventMirror } from '../../src-main/session/event-mirror.ts';
import { createControlBuffer } from '../../src-main/session/run-control.ts';
import { startScenario, type ScenarioRun } from '../../src-main/session/scenario-host.ts';
import { batchIntervalMs, runScenario, type Post } from '../../src-main/session/scenario-runner.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-controls-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, body);
  return file;
}

const loop = script(
  'loop.mjs',
  `export const meta = { name: 'loop', description: 'n allocations then n frees', parameters: {
  n: { type: 'integer', default: 200, min: 1, max: 100000, description: 'count' } } };
export function run(ctx, params) {
  const live = [];
  for (let i = 0; i < params.n; i++) live.push(ctx.allocate({ name: 'b' + i, size: 4096 * (1 + ctx.randomInt(0, 15)), kind: 'buffer' }));
  for (const a of live) ctx.free(a);
}
`,
);

const forever = script(
  'forever.mjs',
  `export const meta = { name: 'forever', description: 'never ends', parameters: {} };
export async function run(ctx) {
  for (let i = 0; ; i++) {
    const a = ctx.allocate({ name: 'spin' + i, size: 65536, kind: 'image' });
    ctx.free(a);
    if (i % 100 === 0) ctx.frame();
  }
}
`,
);

const stuck = script(
  'stuck.mjs',
  `export const meta = { name: 'stuck', description: 'busy loop without ops', parameters: {} };
export function run(ctx) {
  ctx.allocate({ name: 'before', size: 256, kind: 'buffer' });
  for (;;) {}
}
`,
);

const broken = script(
  'broken.mjs',
  `export const meta = { name: 'broken', description: 'fails on line 6', parameters: {} };
export function run(ctx) {
  ctx.allocate({ name: 'ok-1', size: 1024, kind: 'buffer' });
  ctx.allocate({ name: 'ok-2', size: 1024, kind: 'buffer' });
  ctx.mark('about to fail');
  null.boom();
}
`,
);

const badRequest = script(
  'bad-request.mjs',
  `export const meta = { name: 'bad-request', description: 'negative size on line 4', parameters: {} };
export function run(ctx) {
  ctx.allocate({ name: 'ok', size: 1024, kind: 'buffer' });
  ctx.allocate({ name: 'bad', size: -5, kind: 'buffer' });
}
`,
);

const syntax = script(
  'syntax.mjs',
  `export const meta = { name: 'syntax', description: 'does not parse', parameters: {} };

export function run(ctx) { ctx.allocate({ name: 'x', size: 1, kind: 'buffer' ); }
`,
);

const sleeper = script(
  'sleeper.mjs',
  `export const meta = { name: 'sleeper', description: 'sleeps long', parameters: {} };
export async function run(ctx) {
  ctx.allocate({ name: 'held', size: 4096, kind: 'buffer' });
  await ctx.sleep(60000);
}
`,
);

const floatingSleep = script(
  'floating-sleep.mjs',
  `export const meta = { name: 'floating-sleep', description: 'a sleep nobody awaits', parameters: {} };
export async function run(ctx) {
  ctx.sleep(60000);
  try {
    for (let i = 0; ; i++) {
      ctx.free(ctx.allocate({ name: 'x' + i, size: 256, kind: 'buffer' }));
      if (i % 500 === 0) await ctx.sleep(1);
    }
  } catch (error) {
    // Linger so the floating sleep rejects while the run is still going.
    await new Promise((resolve) => setTimeout(resolve, 300));
    throw error;
  }
}
`,
);

script(
  'helper-lib.mjs',
  `export function make(ctx, name, depth = 12) {
  if (depth > 0) return make(ctx, name, depth - 1);
  return ctx.allocate({ name, size: 256, kind: 'buffer', tags: ['lib'] });
}
`,
);

const deep = script(
  'deep.mjs',
  `import { make } from './helper-lib.mjs';
export const meta = { name: 'deep', description: 'allocates through a helper module', parameters: {} };
export function run(ctx) {
  make(ctx, 'through-lib');
}
`,
);

const renamer = script(
  'renamer.mjs',
  `export const meta = { name: 'renamer', description: 'renames', parameters: {} };
export function run(ctx) {
  const a = ctx.allocate({ name: 'before', size: 4096, kind: 'buffer', tags: ['t'] });
  const b = ctx.rename(a, 'after');
  if (b.name !== 'after' || b.id !== a.id) throw new Error('rename handle');
  let threw = false;
  try { ctx.free(a); } catch { threw = true; }
  if (!threw) throw new Error('the old handle should be dead after rename');
}
`,
);

const lavapipe = { kind: 'profile', profile: 'lavapipe' } as const;

function countKind(events: EventMirror, kind: number): number {
  return events.columns().kind.filter((k) => k === kind).length;
}

function opsInEvents(events: EventMirror): number {
  return (
    countKind(events, TraceEventKind.Allocate) +
    countKind(events, TraceEventKind.Free) +
    countKind(events, TraceEventKind.Failure) +
    countKind(events, TraceEventKind.Rename)
  );
}

/** Resolves once the run has done more than `ops` allocator ops. */
function afterOps(run: ScenarioRun, ops: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if ((run.status?.ops ?? 0) > ops) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
}

describe('pause, step, resume, cancel', () => {
  test('pause before the first op, then each step advances exactly one allocator op', async () => {
    const run: ScenarioRun = startScenario({
      scenario: loop,
      params: { n: 50 },
      device: lavapipe,
      seed: 1,
      cwd: repoRoot,
    });
    const paused = await run.pause();
    expect(paused.state).toBe('paused');
    expect(paused.ops).toBe(0);
    for (let k = 1; k <= 5; k++) {
      const s = await run.step();
      expect(s.ops).toBe(k);
      expect(s.state).toBe('paused');
      // The events of exactly k ops have reached main, and no more.
      expect(opsInEvents(run.events)).toBe(k);
      expect(countKind(run.events, TraceEventKind.Allocate)).toBe(k);
    }
    // While paused nothing moves.
    await new Promise((r) => setTimeout(r, 150));
    expect(run.status?.ops).toBe(5);
    expect(opsInEvents(run.events)).toBe(5);
    run.resume();
    const result = await run.done;
    expect(result.outcome).toBe('completed');
    expect(result.summary?.ops).toBe(100);
    expect(opsInEvents(run.events)).toBe(100);
  });

  test('pause mid-run stops between ops; step then resume completes', async () => {
    const run = startScenario({
      scenario: loop,
      params: { n: 5000 },
      device: lavapipe,
      seed: 2,
      cwd: repoRoot,
    });
    await afterOps(run, 100);
    const p = await run.pause();
    expect(p.state).toBe('paused');
    expect(opsInEvents(run.events)).toBe(p.ops);
    const s = await run.step();
    expect(s.ops).toBe(p.ops + 1);
    expect(opsInEvents(run.events)).toBe(p.ops + 1);
    run.resume();
    const result = await run.done;
    expect(result.outcome).toBe('completed');
    expect(result.summary?.ops).toBe(10000);
  });

  test('cancel stops an endless script, keeping its events', async () => {
    const run = startScenario({ scenario: forever, device: lavapipe, seed: 3, cwd: repoRoot });
    await afterOps(run, 500);
    const result = await run.cancel();
    expect(result.outcome).toBe('cancelled');
    expect(result.error).toBeNull();
    expect(result.summary?.ops).toBeGreaterThan(0);
    expect(run.events.length).toBeGreaterThan(0);
    expect(opsInEvents(run.events)).toBe(result.summary?.ops);
  });

  test('cancel while paused', async () => {
    const run = startScenario({ scenario: forever, device: lavapipe, seed: 3, cwd: repoRoot });
    await run.pause();
    const result = await run.cancel();
    expect(result.outcome).toBe('cancelled');
  });

  test('cancel of a script stuck without ops terminates the worker', async () => {
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const run = startScenario(
      { scenario: stuck, device: lavapipe, seed: 3, cwd: repoRoot },
      { onReady: () => ready() },
    );
    await started;
    await new Promise((r) => setTimeout(r, 200));
    const result = await run.cancel();
    expect(result.outcome).toBe('cancelled');
  });
});

describe('other ops and limits', () => {
  test('cancel interrupts a sleep without terminating the worker', async () => {
    const run = startScenario({ scenario: sleeper, device: lavapipe, seed: 1, cwd: repoRoot });
    await afterOps(run, 0);
    const result = await run.cancel();
    expect(result.outcome).toBe('cancelled');
    // A graceful stop returns a summary (a terminated worker cannot).
    expect(result.summary?.leaks.map((l) => l.name)).toEqual(['held']);
  });

  test('a sleep nobody awaited does not turn a cancel into a crash', async () => {
    const run = startScenario({ scenario: floatingSleep, device: lavapipe, seed: 1, cwd: repoRoot });
    await afterOps(run, 1000);
    const result = await run.cancel();
    expect(result.outcome).toBe('cancelled');
    expect(result.error).toBeNull();
    expect(result.summary).not.toBeNull();
  });

  test('an allocation made through a helper module 12 calls deep is attributed to the script line', async () => {
    const result = await startScenario({ scenario: deep, device: lavapipe, seed: 1, cwd: repoRoot }).done;
    expect(result.error).toBeNull();
    expect(result.summary?.leaks.map((l) => l.stack)).toEqual(['deep.mjs:4 [lib]']);
  });

  test('rename is one op, recorded with the new name; leaks carry it', async () => {
    const run = startScenario({ scenario: renamer, device: lavapipe, seed: 1, cwd: repoRoot });
    const result = await run.done;
    expect(result.error).toBeNull();
    expect(result.summary?.ops).toBe(2);
    const c = run.events.columns();
    const renames = [];
    for (let i = 0; i < run.events.length; i++)
      if (c.kind[i] === TraceEventKind.Rename) renames.push(run.events.string(c.name[i] as number));
    expect(renames).toEqual(['after']);
    expect(result.summary?.leaks.map((l) => [l.name, l.stack])).toEqual([['after', 'renamer.mjs:3 [t]']]);
  });

  test('event batches are sent at most once per 34 ms of the runner clock (≤ 30/s), on a fake clock', async () => {
    // The runner in this thread with a fake clock that advances 0.25 ms per reading: the rate is the
    // sender's and depends on no machine's speed. (Arrival times at main are not asserted.)
    let fakeMs = 0;
    const clock = (): number => (fakeMs += 0.25);
    const sent: { at: number; state: string; events: number }[] = [];
    let lastState = '';
    const post: Post = (message) => {
      if (message.type === 'status') lastState = message.status.state;
      if (message.type === 'events')
        sent.push({ at: fakeMs, state: lastState, events: message.batch.columns.kind.length });
    };
    const result = await runScenario(
      { scenario: loop, params: { n: 20000 }, device: lavapipe, seed: 1, cwd: repoRoot },
      createControlBuffer(),
      post,
      { clock },
    );
    expect(result.outcome).toBe('completed');
    expect(sent.length).toBeGreaterThan(10);
    // Every batch but the final one (sent when the run ends) comes ≥ batchIntervalMs after the previous.
    for (let i = 1; i < sent.length - 1; i++)
      expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(batchIntervalMs);
    // ≥ 1000/30 ms apart: at most 30 in any 1 s window.
    expect(batchIntervalMs).toBeGreaterThanOrEqual(1000 / 30);
    // Nothing is lost: the batches add up to the recorded events.
    expect(sent.reduce((n, b) => n + b.events, 0)).toBe(result.summary!.events);
  });
});

describe('reproducibility', () => {
  async function eventsOf(seed: number): Promise<{ events: EventMirror; strings: string[] }> {
    const run = startScenario({
      scenario: 'streaming',
      params: { frames: '40', levelResources: '80' },
      device: { kind: 'profile', profile: 'h100' },
      seed,
      cwd: repoRoot,
    });
    const result = await run.done;
    expect(result.outcome).toBe('completed');
    return { events: run.events, strings: run.events.strings };
  }

  function withoutTime(events: EventMirror): Record<string, number[]> {
    const cols = events.columns();
    const out: Record<string, number[]> = {};
    for (const key of eventColumnNames)
      if (key !== 'time') out[key] = Array.from(cols[key] as ArrayLike<number>);
    return out;
  }

  test('the same seed gives an identical event sequence (timestamps aside); another seed does not', async () => {
    const a = await eventsOf(1234);
    const b = await eventsOf(1234);
    const c = await eventsOf(99);
    expect(b.events.length).toBe(a.events.length);
    expect(withoutTime(b.events)).toEqual(withoutTime(a.events));
    expect(b.strings).toEqual(a.strings);
    expect(withoutTime(c.events)).not.toEqual(withoutTime(a.events));
  });
});

describe('script errors', () => {
  test('a thrown error is reported with file:line and the events so far are kept', async () => {
    const run = startScenario({ scenario: broken, device: lavapipe, seed: 1, cwd: repoRoot });
    const result = await run.done;
    expect(result.outcome).toBe('failed');
    expect(result.error?.kind).toBe('script');
    expect(result.error?.location).toBe('broken.mjs:6');
    expect(result.error?.message).toMatch(/^broken\.mjs:6: TypeError: /);
    expect(result.summary?.allocations).toBe(2);
    expect(countKind(run.events, TraceEventKind.Allocate)).toBe(2);
    expect(countKind(run.events, TraceEventKind.Mark)).toBe(1);
    // The session stays inspectable: what was alive when it failed is listed.
    expect(result.summary?.leaks.map((l) => [l.name, l.stack])).toEqual([
      ['ok-1', 'broken.mjs:3'],
      ['ok-2', 'broken.mjs:4'],
    ]);
  });

  test('a bad request is a script error at the calling line', async () => {
    const result = await startScenario({ scenario: badRequest, device: lavapipe, seed: 1, cwd: repoRoot })
      .done;
    expect(result.outcome).toBe('failed');
    expect(result.error?.location).toBe('bad-request.mjs:4');
    expect(result.error?.message).toBe(
      'bad-request.mjs:4: allocation "bad": size must be a positive safe integer of bytes, got -5',
    );
  });

  test('a script that does not parse is reported with file:line', async () => {
    const result = await startScenario({ scenario: syntax, device: lavapipe, cwd: repoRoot }).done;
    expect(result.outcome).toBe('failed');
    expect(result.error?.kind).toBe('script');
    expect(result.error?.location).toBe('syntax.mjs:3');
    expect(result.error?.message).toMatch(/^syntax\.mjs:3: SyntaxError: /);
  });

  test('bad parameters and unknown scenarios are usage errors before anything runs', async () => {
    const bad = await startScenario({
      scenario: 'leaks',
      params: { objects: '0' },
      device: lavapipe,
      cwd: repoRoot,
    }).done;
    expect(bad.error).toMatchObject({
      kind: 'usage',
      message: 'parameter "objects" must be at least 1, got 0',
    });
    expect(bad.summary).toBeNull();
    const missing = await startScenario({ scenario: 'nope', device: lavapipe, cwd: repoRoot }).done;
    expect(missing.error?.kind).toBe('usage');
    expect(missing.error?.message).toMatch(/^no built-in scenario "nope" \(built-ins: budget-overflow, /);
  });
});
