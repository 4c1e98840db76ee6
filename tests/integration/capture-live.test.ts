// `vramscope capture --live`: the capture is advertised in the user's runtime folder (private modes), the
// app attaches to it through the API (attachCapture) while the program runs, sees the same blocks as the
// trace `vramscope capture` writes, and learns the program's exit code. A runtime folder open to others is
// refused. The runtime folder is a temporary XDG_RUNTIME_DIR, so the test never touches the user's own.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TraceEventKind } from '../../allocator/event-log.ts';
import { loadTraceSync } from '../../src-main/trace/index.ts';
import { call, captureStateWhere, captureTestAppBlocks } from '../support/api-contract-suite.ts';
import { ipcLikeTransport, type ContractTransport, type TestClient } from '../support/api-transports.ts';
import { eventsOf } from '../support/capture-facts.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repoRoot, 'bin', 'vramscope.mjs');
const testApp = path.join(repoRoot, 'native', 'layer', 'build', 'capture-test-app');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-capture-live-'));
const runtime = path.join(tmp, 'run');
mkdirSync(runtime, { mode: 0o700 });
const env = { ...process.env, XDG_RUNTIME_DIR: runtime };
const appArgs = ['--threads', '2', '--per-thread', '3', '--leak-memory', '2', '--pause-ms', '3000'];

let transport: ContractTransport;
let client: TestClient;

beforeAll(async () => {
  execFileSync('make', ['-C', path.join(repoRoot, 'native', 'layer'), '--quiet'], {
    stdio: 'pipe',
    timeout: 240_000,
  });
  transport = ipcLikeTransport({ captureEnv: env });
  client = await transport.connect();
}, 250_000);

afterAll(async () => {
  await transport?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts `vramscope capture --live`; resolves with its live id once it advertised itself. */
function startLive(out: string): Promise<{ child: ChildProcess; liveId: string; output: () => string }> {
  const child = spawn(process.execPath, [bin, 'capture', '--live', '--out', out, '--', testApp, ...appArgs], {
    cwd: tmp,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`never went live: ${text}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /live as (live-\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve({ child, liveId: m[1]!, output: () => text });
      }
    });
  });
}

describe('capture --live', () => {
  test('advertised privately, attached from the API, same blocks as the trace, exit code reported', async () => {
    const expected = captureTestAppBlocks(appArgs.slice(0, -2));
    const { child, liveId, output } = await startLive('live.trace');
    const done = exited(child);
    // The runtime folder and its entries are this user's only.
    expect(statSync(path.join(runtime, 'vramscope')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(runtime, 'vramscope', `${liveId}.json`)).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(runtime, 'vramscope', `${liveId}.sock`)).mode & 0o777).toBe(0o600);

    const list = await call(client, 'listCaptures', {});
    const entry = list.live.find((l) => l.liveId === liveId);
    expect(entry?.command).toEqual([testApp, ...appArgs]);
    const attached = await call(client, 'attachCapture', { liveId });
    expect(attached.origin).toBe('attached');
    expect(attached.liveId).toBe(liveId);
    // While the program is paused after its allocations, its blocks are there (sent live, not at the end).
    const grown = await captureStateWhere(client, attached.captureId, (i) => i.tracks.length > 0);
    const sourceId = grown.tracks[0]!.sourceId;
    const ended = await captureStateWhere(client, attached.captureId, (i) => i.state !== 'running');
    expect(await done).toBe(0);
    expect(output()).toMatch(/exit 0/);
    expect(ended.state).toBe('exited');
    expect(ended.exitCode).toBe(0);

    const report = await call(client, 'getReport', { sourceId });
    expect(report.summary.counts.blocksCreated).toBe(expected.length);
    const trace = loadTraceSync(path.join(tmp, 'live.trace'));
    const traceBlocks = eventsOf(trace, TraceEventKind.BlockCreate, (i) => trace.events.columns.size[i]!);
    expect(traceBlocks).toHaveLength(expected.length);
    expect(report.summary.eventCount).toBe(trace.events.length);
    const leaks = await call(client, 'leaks', { sourceId, groupBy: 'origin' });
    expect((leaks.problems ?? []).filter((p) => p.kind === 'memory-not-freed')).toHaveLength(2);
    // The capture removed its entries when it ended.
    expect(readdirSync(path.join(runtime, 'vramscope'))).toEqual([]);
    expect((await call(client, 'listCaptures', {})).live).toEqual([]);
  }, 180_000);

  test('a runtime folder open to other users is refused by capture --live', () => {
    const open = path.join(tmp, 'open-run');
    mkdirSync(path.join(open, 'vramscope'), { recursive: true });
    chmodSync(path.join(open, 'vramscope'), 0o755);
    const r = spawn(process.execPath, [bin, 'capture', '--live', '--', 'true'], {
      cwd: tmp,
      env: { ...process.env, XDG_RUNTIME_DIR: open },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    r.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return exited(r).then((code) => {
      expect(code).toBe(1);
      expect(err).toMatch(/open to other users \(mode 755\)/);
      expect(readdirSync(path.join(open, 'vramscope'))).toEqual([]);
    });
  }, 60_000);
});
