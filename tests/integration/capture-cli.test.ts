// `vramscope capture` end to end on the real lavapipe device, with the real layer (native/layer/build):
// (a) our own addon under the layer: a scenario's own trace and the capture of it agree block for block;
//     with resources real (the default there) the capture sees every allocation as a buffer/image bound
//     where the scenario placed it, with the driver's memoryTypeBits, and destroyed;
// (b) the layer's C++ test program: every fact it prints is in the trace, its deliberate problems reported;
// (c) a third-party program, vkcube under Xvfb: buffers, images, 100 frames, no leaks; frame time with and
//     without the layer printed (not asserted);
// (d) SIGKILL of the program, and of `vramscope capture` itself: the trace loads, with a warning.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { analyzeCapture } from '../../allocator/analysis/index.ts';
import { FlagBits, TraceEventKind } from '../../allocator/event-log.ts';
import type { LoadedTrace } from '../../allocator/trace/index.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import {
  checkCounts,
  checkDeviceAndThreads,
  checkMemory,
  checkResources,
  eventsOf,
  type AppReport,
} from '../support/capture-facts.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repoRoot, 'bin', 'vramscope.mjs');
const testApp = path.join(repoRoot, 'native', 'layer', 'build', 'capture-test-app');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-capture-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  // `npm run setup` builds the layer and the test program; make only compiles what is missing or stale.
  execFileSync('make', ['-C', path.join(repoRoot, 'native', 'layer'), '--quiet'], {
    stdio: 'pipe',
    timeout: 240_000,
  });
}, 250_000);

function vramscope(
  args: string[],
  timeout = 120_000,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, encoding: 'utf8', timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Block creations and destructions in order, ids replaced by the block's creation ordinal. */
function blockHistory(t: LoadedTrace): string[] {
  const c = t.events.columns;
  const ordinal = new Map<number, number>();
  const out: string[] = [];
  for (let i = 0; i < t.events.length; i++) {
    if (c.kind[i] === TraceEventKind.BlockCreate) {
      ordinal.set(c.id[i]!, ordinal.size);
      out.push(
        `create #${ordinal.get(c.id[i]!)} type ${c.type[i]} ${c.size[i]} bytes${c.flags[i]! & FlagBits.dedicated ? ' dedicated' : ''}`,
      );
    } else if (c.kind[i] === TraceEventKind.BlockDestroy) out.push(`destroy #${ordinal.get(c.id[i]!)}`);
  }
  return out;
}

test("usage: no program, a program that does not exist, no layer; the exit code is the program's", () => {
  const none = vramscope(['capture']);
  expect([none.status, none.stderr]).toEqual([
    2,
    'vramscope capture: which program? give it after --, e.g. -- vkcube --c 100 (try --help)\n',
  ]);
  const missing = vramscope(['capture', '--out', 'x.trace', '--', '/no/such/program']);
  expect([missing.status, missing.stderr]).toEqual([
    1,
    'vramscope capture: cannot start "/no/such/program": no such program\n',
  ]);
  const noLayer = spawnSync(process.execPath, [bin, 'capture', '--', 'true'], {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, VRAMSCOPE_CAPTURE_LAYER_DIR: path.join(tmp, 'nowhere') },
  });
  expect(noLayer.status).toBe(1);
  expect(noLayer.stderr).toMatch(/the capture layer is not built .*run `npm run build:layer`/);
  // A program that never uses Vulkan: nothing recorded, its own exit code; `--help` after -- is the program's.
  const plain = vramscope(['capture', '--out', 'none.trace', '--', 'sh', '-c', 'exit 7', '--help']);
  expect(plain.status).toBe(7);
  expect(plain.stdout).toMatch(/^process +none connected: .*no trace written$/m);
  expect(existsSync(path.join(tmp, 'none.trace'))).toBe(false);
});

test('(a) a scenario on the real device under the layer: the capture and the scenario trace agree block for block', () => {
  const r = vramscope([
    'capture',
    '--out',
    'scenario-captured.trace',
    '--',
    process.execPath,
    bin,
    'run',
    'fragmentation',
    '--device',
    '0',
    '--seed',
    '5',
    '--out',
    'scenario-own.trace',
  ]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^scenario +fragmentation \(seed 5\) — completed$/m); // the scenario's own summary
  expect(r.stdout).toMatch(/^process +pid \d+ .*exited cleanly$/m);
  const own = loadTraceSync(path.join(tmp, 'scenario-own.trace'));
  const captured = loadTraceSync(path.join(tmp, 'scenario-captured.trace'));
  expect(captured.warnings).toEqual([]);
  expect(captured.header.capture).toMatchObject({ track: 0, stacks: false });
  expect(captured.header.device.name).toBe(own.header.device.name);
  expect(captured.header.device.types).toEqual(own.header.device.types);
  const ownBlocks = blockHistory(own);
  expect(ownBlocks.length).toBeGreaterThan(4);
  const capturedBlocks = blockHistory(captured);
  // The same creations and destructions in the same order; after the scenario's trace ends, the capture
  // also sees the device teardown free the blocks the scenario left live (exactly those, nothing else).
  expect(capturedBlocks.slice(0, ownBlocks.length)).toEqual(ownBlocks);
  const liveAtEnd = ownBlocks
    .filter((e) => e.startsWith('create'))
    .map((e) => e.split(' ')[1]!)
    .filter((id) => !ownBlocks.includes(`destroy ${id}`));
  expect(capturedBlocks.slice(ownBlocks.length).sort()).toEqual(
    liveAtEnd.map((id) => `destroy ${id}`).sort(),
  );
}, 180_000);

test('(a2) resources real under the layer: every allocation is a buffer or image the capture sees created, bound where the scenario placed it with the driver’s bits, and destroyed', () => {
  const r = vramscope([
    'capture',
    '--out',
    'resources-captured.trace',
    '--',
    process.execPath,
    bin,
    'run',
    'leaks',
    '--device',
    '0',
    '--param',
    'objects=40',
    '--seed',
    '3',
    '--out',
    'resources-own.trace',
  ]);
  expect(r.status, r.stderr).toBe(0);
  const own = loadTraceSync(path.join(tmp, 'resources-own.trace'));
  const captured = loadTraceSync(path.join(tmp, 'resources-captured.trace'));
  expect(own.header.allocator.resources).toBe('real');
  // The scenario's allocations: (size, memoryTypeBits, offset) as it recorded them.
  const placed = (t: LoadedTrace): string[] => {
    const c = t.events.columns;
    const out: string[] = [];
    for (let i = 0; i < t.events.length; i++)
      if (c.kind[i] === TraceEventKind.Allocate)
        out.push(`${c.size[i]} 0x${c.typeBits[i]!.toString(16)} @${c.offset[i]}`);
    return out.sort();
  };
  const ownPlaced = placed(own);
  expect(ownPlaced.length).toBeGreaterThan(40);
  // The capture's binds of those resources: the same sizes, bits and offsets.
  expect(placed(captured)).toEqual(ownPlaced);
  const count = (t: LoadedTrace, kind: number): number => {
    let n = 0;
    for (let i = 0; i < t.events.length; i++) if (t.events.columns.kind[i] === kind) n++;
    return n;
  };
  expect(count(captured, TraceEventKind.ResourceCreate)).toBe(ownPlaced.length);
  // Freed ones and the leaks' (at the end of the run) are all destroyed: a bound resource's destruction is
  // a free in a captured trace (allocator/capture/mapper.ts), an unbound one's a resourceDestroy.
  expect(count(captured, TraceEventKind.Free)).toBe(ownPlaced.length);
  expect(count(captured, TraceEventKind.ResourceDestroy)).toBe(0);
}, 180_000);

describe('(b) the layer test program under vramscope capture', () => {
  let app: AppReport;
  let summary: { exitCode: number; devices: { problems: { kind: string; message: string }[] }[] };
  let trace: LoadedTrace;
  beforeAll(() => {
    const r = vramscope([
      'capture',
      '--json',
      '--out',
      'test-app.trace',
      '--',
      testApp,
      '--leak-memory',
      '2',
      '--leak-buffers',
      '1',
      '--free-while-bound',
    ]);
    expect(r.status, r.stderr).toBe(0);
    // The program's JSON report (inherited stdout) comes first, then ours.
    const split = r.stdout.lastIndexOf('\n{\n  "command"');
    expect(split).toBeGreaterThan(0);
    app = JSON.parse(r.stdout.slice(0, split)) as AppReport;
    summary = JSON.parse(r.stdout.slice(split)) as typeof summary;
    trace = loadTraceSync(path.join(tmp, 'test-app.trace'));
  }, 120_000);

  test('device, process and threads', () => {
    checkDeviceAndThreads(app, trace);
  });

  test('every vkAllocateMemory: size, type, name, dedicated, thread, freed, mapped', () => {
    checkMemory(app, trace);
  });

  test('every buffer and image: size, usage, format, tiling, bind block and offset, name, thread, destroyed', () => {
    checkResources(app, trace);
  });

  test('call counts', () => {
    checkCounts(app, trace);
  });

  test('the deliberate problems are reported: by the capture summary, the analysis and `report`', () => {
    const leaked = app.memory
      .filter((m) => !m.freed)
      .map((m) => m.name)
      .sort();
    const leakedBuffers = app.resources.filter((r) => !r.destroyed).map((r) => r.name);
    expect(leaked).toHaveLength(2);
    expect(leakedBuffers).toHaveLength(1);
    const problems = analyzeCapture(trace.events, trace.header.device).problems;
    const of = (kind: string): string[] => problems.filter((p) => p.kind === kind).map((p) => p.message);
    expect(of('memory-not-freed')).toHaveLength(2);
    for (const name of leaked)
      expect(
        of('memory-not-freed').some((m) => m.includes(`"${name}"`)),
        name,
      ).toBe(true);
    expect(of('resource-not-destroyed')).toEqual([expect.stringContaining(`"${leakedBuffers[0]}"`)]);
    expect(of('freed-while-bound')).toEqual([
      expect.stringMatching(/freed while 1 resource was still bound to it: orphan-buffer/),
    ]);
    expect(summary.exitCode).toBe(0);
    expect(summary.devices[0]!.problems.map((p) => p.kind).sort()).toEqual([
      'freed-while-bound',
      'memory-not-freed',
      'memory-not-freed',
      'resource-not-destroyed',
    ]);
    const report = vramscope(['report', 'test-app.trace']);
    expect(report.status).toBe(0);
    expect(report.stdout).toMatch(/^problems: 4$/m);
    expect(report.stdout).toMatch(/\[freed-while-bound\] .*orphan-buffer/);
  });

  test("replay: the program's vkAllocateMemory count and peak beside our allocator's", () => {
    const r = vramscope(['replay', 'test-app.trace', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      captured: boolean;
      requests: number;
      baseline: { blocksCreated: number; peakCommittedBytes: number };
      replay: { blocksCreated: number; failures: number };
    };
    expect(report.captured).toBe(true);
    expect(report.requests).toBe(app.resources.filter((x) => x.memory !== null).length);
    expect(report.baseline.blocksCreated).toBe(app.counts.allocateMemory);
    expect(report.replay.failures).toBe(0);
    expect(report.replay.blocksCreated).toBeLessThan(report.baseline.blocksCreated);
  });
});

test('several VkDevices: one trace per device, named FILE, FILE.device1, ...', () => {
  const r = vramscope([
    'capture',
    '--out',
    'multi.trace',
    '--',
    testApp,
    '--threads',
    '1',
    '--extra-devices',
    '2',
  ]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^device 0 /m);
  expect(r.stdout).toMatch(/^device 2 /m);
  const traces = ['multi.trace', 'multi.device1.trace', 'multi.device2.trace'].map((f) =>
    loadTraceSync(path.join(tmp, f)),
  );
  expect(traces.map((t) => t.header.capture?.track)).toEqual([0, 1, 2]);
  expect(new Set(traces.map((t) => t.header.capture?.deviceHandle)).size).toBe(3);
  for (const t of traces.slice(1)) {
    // Each extra device: one block with one buffer bound to it, all released before the device goes.
    const a = analyzeCapture(t.events, t.header.device);
    expect([a.blocksAllocated, a.blocksFreed, a.resourcesBound]).toEqual([1, 1, 1]);
    expect(a.problems).toEqual([]);
    expect(t.warnings).toEqual([]);
  }
}, 120_000);

/**
 * Wall and CPU seconds (user + system of the program and its children, from bash's `times`) of
 * `xvfb-run -a vkcube --c frames`, with the capture layer writing to a file when `layer`.
 */
function vkcubeRun(frames: number, layer: boolean): { wall: number; cpu: number } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (layer) {
    env.VK_ADD_LAYER_PATH = path.join(repoRoot, 'native', 'layer', 'build');
    env.VK_INSTANCE_LAYERS = 'VK_LAYER_VRAMSCOPE_capture';
    env.VRAMSCOPE_CAPTURE_FILE = path.join(tmp, `vkcube-${frames}.vrscap`);
  }
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `xvfb-run -a vkcube --c ${frames} >/dev/null 2>&1 && times`], {
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const wall = (performance.now() - t0) / 1000;
  expect(r.status, r.stderr).toBe(0);
  const children = r.stdout.trim().split('\n').at(-1)!; // "0m0.283s 0m0.223s": children's user and system
  const [user, system] = children.split(' ').map((t) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t)!;
    return Number(m[1]) * 60 + Number(m[2]);
  });
  return { wall, cpu: user! + system! };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

test('(c) vkcube under Xvfb for 100 frames: buffers, images, 100 frames, no leaks; frame time printed', () => {
  const r = vramscope(
    ['capture', '--out', 'vkcube.trace', '--', 'xvfb-run', '-a', 'vkcube', '--c', '100'],
    180_000,
  );
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^process +pid \d+ \S*vkcube \("vkcube"\), exited cleanly$/m);
  const trace = loadTraceSync(path.join(tmp, 'vkcube.trace'));
  expect(trace.warnings).toEqual([]);
  const capture = analyzeCapture(trace.events, trace.header.device);
  expect(capture.frames).toBe(100);
  expect(capture.buffersCreated).toBeGreaterThan(0);
  expect(capture.imagesCreated).toBeGreaterThan(0);
  expect(capture.resourcesBound).toBeGreaterThan(0);
  expect(capture.deviceDestroyedAt).not.toBeNull();
  expect(capture.problems).toEqual([]);
  expect(r.stdout).toMatch(/^frames +100$/m);
  expect(r.stdout).toMatch(/^leaks +none at device destruction$/m);

  // Frame time: (300 frames - 100 frames) / 200, so start-up and Xvfb cancel out; alternating runs, median.
  // CPU time is printed beside wall time: on a shared machine wall time mostly measures the load.
  const perFrame = {
    plain: { wall: [] as number[], cpu: [] as number[] },
    layer: { wall: [] as number[], cpu: [] as number[] },
  };
  for (let round = 0; round < 1; round++) {
    for (const mode of ['plain', 'layer'] as const) {
      const short = vkcubeRun(100, mode === 'layer');
      const long = vkcubeRun(300, mode === 'layer');
      perFrame[mode].wall.push(((long.wall - short.wall) / 200) * 1000);
      perFrame[mode].cpu.push(((long.cpu - short.cpu) / 200) * 1000);
    }
  }
  const line = (what: 'wall' | 'cpu'): string => {
    const a = median(perFrame.plain[what]);
    const b = median(perFrame.layer[what]);
    return `${what} ${a.toFixed(2)} ms without the layer, ${b.toFixed(2)} ms with it (${(((b - a) / a) * 100).toFixed(1)} %)`;
  };
  console.log(
    `vkcube frame time on lavapipe (one run each; target within 5 %, not asserted): ${line('cpu')}; ${line('wall')}`,
  );
}, 600_000);

describe('(d) SIGKILL during a capture', () => {
  /** Starts the test program under `vramscope capture`, paused after its allocations; resolves when paused. */
  function startPaused(
    out: string,
  ): Promise<{ capture: ReturnType<typeof spawn>; appPid: number; output: () => string }> {
    const capture = spawn(
      process.execPath,
      [bin, 'capture', '--out', out, '--', testApp, '--pause-ms', '20000'],
      {
        cwd: tmp,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let text = '';
    capture.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never paused: ${text}`)), 60_000);
      capture.stderr!.on('data', (d: Buffer) => {
        text += d.toString();
        const pid = /\(pid (\d+)\)/.exec(text);
        if (pid && /paused/.test(text)) {
          clearTimeout(timer);
          resolve({ capture, appPid: Number(pid[1]), output: () => text });
        }
      });
    });
  }

  /** BlockCreate events in the trace on disk so far (0 while it has no loadable prefix). */
  function blockCreatesOnDisk(file: string): number {
    try {
      return eventsOf(loadTraceSync(file), TraceEventKind.BlockCreate, (i) => i).length;
    } catch {
      return 0;
    }
  }

  function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  test('the program killed: capture exits 137, the trace is complete and loads with a warning', async () => {
    const { capture, appPid, output } = await startPaused('killed-app.trace');
    const done = exited(capture);
    // Kill once the allocations' records reached capture's trace (no guessed sleep: poll the file).
    await expect
      .poll(() => blockCreatesOnDisk(path.join(tmp, 'killed-app.trace')), { timeout: 30_000, interval: 50 })
      .toBeGreaterThan(30);
    process.kill(appPid, 'SIGKILL');
    expect(await done).toBe(137);
    expect(output()).toMatch(/killed by SIGKILL \(exit 137\)/);
    expect(output()).toMatch(/did not exit cleanly/);
    const trace = loadTraceSync(path.join(tmp, 'killed-app.trace'));
    expect(trace.complete).toBe(true);
    expect(trace.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/did not exit cleanly/)]);
    expect(eventsOf(trace, TraceEventKind.BlockCreate, (i) => i).length).toBeGreaterThan(30);
    const problems = analyzeCapture(trace.events, trace.header.device).problems.map((p) => p.kind);
    expect(problems).toContain('incomplete-capture');
  }, 90_000);

  test('vramscope capture killed: the trace loads up to its last flush, with a warning', async () => {
    const { capture, appPid } = await startPaused('killed-capture.trace');
    const done = exited(capture);
    const file = path.join(tmp, 'killed-capture.trace');
    // A timed trace flush (every 250 ms) has put the allocations on disk: poll for it, then kill.
    await expect.poll(() => blockCreatesOnDisk(file), { timeout: 30_000, interval: 50 }).toBeGreaterThan(30);
    capture.kill('SIGKILL');
    await done;
    try {
      process.kill(appPid, 'SIGKILL'); // the program would otherwise sleep on
    } catch {
      // already gone
    }
    expect(existsSync(file) && statSync(file).size > 0).toBe(true);
    const trace = loadTraceSync(file);
    expect(trace.complete).toBe(false);
    expect(trace.warnings.length).toBeGreaterThan(0);
    expect(trace.warnings[0]!.message).toMatch(/without its end-of-trace index|torn/);
    expect(eventsOf(trace, TraceEventKind.BlockCreate, (i) => i).length).toBeGreaterThan(30);
  }, 90_000);
});
