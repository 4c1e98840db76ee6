// The capture layer (native/layer/) on the real lavapipe device: its C++ test program runs under
// VK_LAYER_VRAMSCOPE_capture with VRAMSCOPE_CAPTURE_FILE, and the raw stream is checked against what the
// program says it did, with a tiny reader written here from docs/capture.md (the product decoder lives in
// src-main and is tested on its own). Also: the document's layout tables equal the header's field lists, a
// SIGKILLed program leaves a stream valid up to its last flush, stacks resolve to symbols.
import { beforeAll, describe, expect, test } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const layerDir = path.join(repoRoot, 'native/layer');
const buildDir = path.join(layerDir, 'build');
const testApp = path.join(buildDir, 'capture-test-app');

// ---- a tiny stream reader (docs/capture.md, "Stream format") ----

const Kind = {
  ProcessStart: 1,
  ProcessEnd: 2,
  Flush: 3,
  Dropped: 4,
  InstanceCreate: 5,
  InstanceDestroy: 6,
  DeviceCreate: 7,
  DeviceDestroy: 8,
  Budget: 9,
  AllocateMemory: 10,
  FreeMemory: 11,
  MapMemory: 12,
  UnmapMemory: 13,
  CreateBuffer: 14,
  DestroyBuffer: 15,
  CreateImage: 16,
  DestroyImage: 17,
  BufferRequirements: 18,
  ImageRequirements: 19,
  BindBuffer: 20,
  BindImage: 21,
  Present: 22,
  ObjectName: 23,
  Stack: 24,
  Symbol: 25,
} as const;

interface RawRecord {
  readonly kind: number;
  readonly flags: number;
  readonly threadId: number;
  readonly sequence: number;
  readonly timeNs: bigint;
  /** Byte offset of the record in the stream. */
  readonly at: number;
  /** The payload (bytes after the 24-byte header). */
  readonly payload: DataView;
}

interface RawStream {
  readonly pid: number;
  readonly records: RawRecord[];
  /** Bytes after the last complete record (a record cut by a kill). */
  readonly trailingBytes: number;
}

function readStream(bytes: Buffer): RawStream {
  expect(bytes.length).toBeGreaterThanOrEqual(32);
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x56, 0x52, 0x53, 0x43, 0x41, 0x50, 0x00, 0x01]));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(view.getUint32(8, true)).toBe(1);
  expect(view.getUint32(12, true)).toBe(32);
  const records: RawRecord[] = [];
  let at = 32;
  while (at + 24 <= bytes.length) {
    const size = view.getUint32(at + 4, true);
    expect(size).toBeGreaterThanOrEqual(24);
    expect(size % 8).toBe(0);
    if (at + size > bytes.length) break;
    records.push({
      kind: view.getUint16(at, true),
      flags: view.getUint16(at + 2, true),
      threadId: view.getUint32(at + 8, true),
      sequence: view.getUint32(at + 12, true),
      timeNs: view.getBigUint64(at + 16, true),
      at,
      payload: new DataView(bytes.buffer, bytes.byteOffset + at + 24, size - 24),
    });
    at += size;
  }
  return { pid: view.getUint32(16, true), records, trailingBytes: bytes.length - at };
}

const u64 = (p: DataView, o: number): bigint => p.getBigUint64(o - 24, true);
const u32 = (p: DataView, o: number): number => p.getUint32(o - 24, true);
const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** Strings of a record's tail starting at record offset `o`. */
function strings(p: DataView, o: number, count: number): string[] {
  const out: string[] = [];
  let at = o - 24;
  for (let i = 0; i < count; i++) {
    const n = p.getUint32(at, true);
    out.push(Buffer.from(p.buffer, p.byteOffset + at + 4, n).toString('utf8'));
    at = Math.ceil((at + 24 + 4 + n) / 4) * 4 - 24;
  }
  return out;
}

const ofKind = (s: RawStream, kind: number): RawRecord[] => s.records.filter((r) => r.kind === kind);

/** One object's life in a stream: created, named, bound, ended. */
interface Lifetime {
  /** VkObjectType: 8 memory, 9 buffer, 10 image. */
  readonly type: number;
  readonly device: string;
  readonly handle: string;
  readonly created: RawRecord;
  name: string;
  bind: RawRecord | null;
  layerQueried: boolean;
  ended: RawRecord | null;
}

/**
 * Objects in call order (by sequence), each life of a handle kept apart: drivers reuse a handle value once it
 * is freed, also across object types and devices. Every record involved has the device at offset 24 and the
 * object's handle at 32.
 */
function lifetimes(s: RawStream): Lifetime[] {
  const typeOf: Record<number, number> = {
    [Kind.AllocateMemory]: 8,
    [Kind.FreeMemory]: 8,
    [Kind.CreateBuffer]: 9,
    [Kind.DestroyBuffer]: 9,
    [Kind.BindBuffer]: 9,
    [Kind.BufferRequirements]: 9,
    [Kind.CreateImage]: 10,
    [Kind.DestroyImage]: 10,
    [Kind.BindImage]: 10,
    [Kind.ImageRequirements]: 10,
  };
  const all: Lifetime[] = [];
  const live = new Map<string, Lifetime>();
  const ordered = [...s.records].sort((a, b) => a.sequence - b.sequence); // a short stream: no wrap-around
  for (const r of ordered) {
    const type = r.kind === Kind.ObjectName ? u32(r.payload, 40) : typeOf[r.kind];
    if (type === undefined) continue;
    const device = hex(u64(r.payload, 24));
    const handle = hex(u64(r.payload, 32));
    const key = `${type}/${device}/${handle}`;
    const life = live.get(key);
    if (r.kind === Kind.AllocateMemory || r.kind === Kind.CreateBuffer || r.kind === Kind.CreateImage) {
      const created: Lifetime = {
        type,
        device,
        handle,
        created: r,
        name: '',
        bind: null,
        layerQueried: false,
        ended: null,
      };
      all.push(created);
      live.set(key, created);
    } else if (!life) {
      continue;
    } else if (r.kind === Kind.ObjectName) {
      life.name = strings(r.payload, 48, 1)[0]!;
    } else if (r.kind === Kind.BindBuffer || r.kind === Kind.BindImage) {
      life.bind = r;
    } else if (r.kind === Kind.BufferRequirements || r.kind === Kind.ImageRequirements) {
      if ((u32(r.payload, 60) & 8) !== 0) life.layerQueried = true;
    } else {
      life.ended = r;
      live.delete(key);
    }
  }
  return all;
}

// ---- running the program ----

interface AppReport {
  device: { name: string; heapCount: number; typeCount: number };
  devices: string[];
  memory: {
    device: string;
    handle: string;
    size: number;
    typeIndex: number;
    name: string;
    dedicated: string;
    thread: number;
    freed: boolean;
  }[];
  resources: {
    device: string;
    kind: 'buffer' | 'image';
    handle: string;
    size: number;
    memory: string | null;
    offset: number;
    name: string;
    destroyed: boolean;
  }[];
  counts: Record<string, number>;
  threads: { count: number; perThread: number; tids: number[] };
  pid: number;
}

function layerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    VK_ADD_LAYER_PATH: buildDir,
    VK_INSTANCE_LAYERS: 'VK_LAYER_VRAMSCOPE_capture',
    VRAMSCOPE_CAPTURE_FILE: '',
    VRAMSCOPE_CAPTURE_SOCKET: '',
    VRAMSCOPE_CAPTURE_STACKS: '',
    ...extra,
  };
}

function runApp(args: string[], env: Record<string, string>): { report: AppReport; stderr: string } {
  const r = spawnSync(testApp, args, { env: layerEnv(env), encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return { report: JSON.parse(r.stdout) as AppReport, stderr: r.stderr };
}

let dir = '';
beforeAll(() => {
  // `npm run setup` builds the layer; this only compiles what is missing or stale (make is incremental).
  execFileSync('make', ['-C', layerDir, '--quiet'], { stdio: 'pipe', timeout: 240_000 });
  dir = mkdtempSync(path.join(tmpdir(), 'vramscope-layer-'));
  return () => rmSync(dir, { recursive: true, force: true });
});

test('docs/capture.md layout tables are exactly what capture_format.h defines', () => {
  const printed = execFileSync(path.join(buildDir, 'print-format'), { encoding: 'utf8' });
  const doc = readFileSync(path.join(repoRoot, 'docs/capture.md'), 'utf8');
  const begin = doc.indexOf('\n', doc.indexOf('<!-- BEGIN generated')) + 1;
  const end = doc.indexOf('<!-- END generated -->');
  expect(begin).toBeGreaterThan(0);
  expect(doc.slice(begin, end)).toBe(printed);
});

describe('the capture test program under the layer', () => {
  let report: AppReport;
  let stream: RawStream;
  beforeAll(() => {
    const file = path.join(dir, 'app.vrscap');
    ({ report } = runApp(
      ['--leak-memory', '2', '--leak-buffers', '1', '--free-while-bound', '--extra-devices', '2'],
      {
        VRAMSCOPE_CAPTURE_FILE: file,
      },
    ));
    stream = readStream(readFileSync(file));
  });

  test('the stream is whole: header, ProcessStart first, ProcessEnd last, unique sequences', () => {
    expect(stream.pid).toBe(report.pid);
    expect(stream.trailingBytes).toBe(0);
    expect(stream.records[0]!.kind).toBe(Kind.ProcessStart);
    expect(stream.records[0]!.sequence).toBe(0);
    expect(stream.records.at(-1)!.kind).toBe(Kind.ProcessEnd);
    const end = stream.records.at(-1)!;
    expect(u64(end.payload, 24)).toBe(BigInt(stream.records.length - 1)); // recordsWritten
    expect(u64(end.payload, 32)).toBe(0n); // nothing dropped
    const sequences = new Set(stream.records.map((r) => r.sequence));
    expect(sequences.size).toBe(stream.records.length);
    expect(ofKind(stream, Kind.Dropped)).toHaveLength(0);
  });

  test('each Flush watermark is honest: every earlier sequence is already in the stream', () => {
    const flushes = ofKind(stream, Kind.Flush);
    expect(flushes.length).toBeGreaterThan(0);
    for (const f of flushes) {
      const watermark = u32(f.payload, 24);
      const later = stream.records.filter((r) => r.at > f.at && r.sequence < watermark);
      expect(later).toEqual([]);
      expect(u64(f.payload, 32)).toBe(BigInt(f.at)); // bytesWritten before this record
    }
  });

  test('one record per call, as many as the program made', () => {
    const expected: [number, string][] = [
      [Kind.AllocateMemory, 'allocateMemory'],
      [Kind.FreeMemory, 'freeMemory'],
      [Kind.CreateBuffer, 'createBuffer'],
      [Kind.DestroyBuffer, 'destroyBuffer'],
      [Kind.CreateImage, 'createImage'],
      [Kind.DestroyImage, 'destroyImage'],
      [Kind.BindBuffer, 'bindBuffer'],
      [Kind.BindImage, 'bindImage'],
      [Kind.MapMemory, 'mapMemory'],
      [Kind.UnmapMemory, 'unmapMemory'],
      [Kind.ObjectName, 'objectNames'],
    ];
    for (const [kind, name] of expected) {
      expect(ofKind(stream, kind).length, name).toBe(report.counts[name]);
      expect(report.counts[name], name).toBeGreaterThan(0);
    }
    expect(ofKind(stream, Kind.InstanceCreate)).toHaveLength(1);
    // The scenario's device and the two extra ones, each created and destroyed once, kept apart.
    expect(ofKind(stream, Kind.DeviceCreate).map((r) => hex(u64(r.payload, 24)))).toEqual(report.devices);
    expect(ofKind(stream, Kind.DeviceDestroy)).toHaveLength(3);
    expect(ofKind(stream, Kind.InstanceDestroy)).toHaveLength(1);
  });

  test('the device description comes from the physical-device queries', () => {
    const d = ofKind(stream, Kind.DeviceCreate)[0]!;
    expect(u32(d.payload, 48)).toBe(0); // result VK_SUCCESS
    expect(u32(d.payload, 80)).toBe(report.device.heapCount);
    expect(u32(d.payload, 84)).toBe(report.device.typeCount);
    expect(u64(d.payload, 104 + 24)).toBeGreaterThan(0n); // heapSize[0]
    const [name, driverName] = strings(d.payload, 576, 4);
    expect(name).toBe(report.device.name);
    expect(driverName).toBe('llvmpipe');
  });

  test('every vkAllocateMemory with its device, size, type, thread, dedicated buffer, name and end', () => {
    const lives = lifetimes(stream);
    for (const m of report.memory) {
      const life = lives.find((l) => l.type === 8 && l.name === m.name);
      expect(life, m.name).toBeDefined();
      const r = life!.created;
      expect(life!.device).toBe(m.device);
      expect(life!.handle).toBe(m.handle);
      expect(u64(r.payload, 40)).toBe(BigInt(m.size));
      expect(u32(r.payload, 48)).toBe(m.typeIndex);
      expect(r.threadId).toBe(m.thread);
      expect(life!.ended !== null, m.name).toBe(m.freed);
      const chain = u32(r.payload, 72);
      expect((chain & 1) !== 0).toBe(m.dedicated === 'buffer');
      if (m.dedicated === 'buffer') {
        const buffer = report.resources.find((b) => b.name === 'dedicated-storage')!;
        expect(hex(u64(r.payload, 56))).toBe(buffer.handle);
      }
    }
    expect(lives.filter((l) => l.type === 8)).toHaveLength(report.memory.length);
    // All worker threads allocated, each from its own thread.
    const threads = new Set(ofKind(stream, Kind.AllocateMemory).map((r) => r.threadId));
    for (const tid of report.threads.tids) expect(threads.has(tid)).toBe(true);
  });

  test('every bind: resource, memory and offset; requirements queried by the layer after it', () => {
    const lives = lifetimes(stream);
    const bound = report.resources.filter((r) => r.memory !== null);
    expect(bound.length).toBeGreaterThan(0);
    for (const res of bound) {
      const life = lives.find((l) => l.type === (res.kind === 'image' ? 10 : 9) && l.name === res.name);
      expect(life, res.name).toBeDefined();
      expect(life!.device).toBe(res.device);
      expect(life!.handle).toBe(res.handle);
      expect(life!.bind, res.name).not.toBeNull();
      expect(hex(u64(life!.bind!.payload, 40))).toBe(res.memory);
      expect(u64(life!.bind!.payload, 48)).toBe(BigInt(res.offset));
      expect(life!.layerQueried, res.name).toBe(true);
      expect(life!.ended !== null, res.name).toBe(res.destroyed);
    }
    // Offsets the program chose are not all zero: sub-allocation is visible.
    expect(bound.some((r) => r.offset > 0)).toBe(true);
  });

  test('the deliberate problems are visible: leaks, a block freed while a buffer is bound to it', () => {
    const lives = lifetimes(stream);
    const leaked = lives.filter((l) => l.ended === null).map((l) => l.name);
    expect(leaked.sort()).toEqual(['leak-0', 'leak-1', 'leaked-buffer-0']);
    // The block freed while its buffer was bound: FreeMemory comes before that buffer's DestroyBuffer.
    const orphan = lives.find((l) => l.name === 'orphan-buffer')!;
    const block = lives.find((l) => l.name === 'freed-while-bound')!;
    expect(hex(u64(orphan.bind!.payload, 40))).toBe(block.handle);
    expect(block.ended!.sequence).toBeLessThan(orphan.ended!.sequence);
  });
});

test('without a capture file or socket the layer forwards every call and records nothing', () => {
  const { report, stderr } = runApp(['--threads', '2', '--per-thread', '1'], {});
  expect(stderr).toMatch(/\[vramscope-capture\] neither VRAMSCOPE_CAPTURE_SOCKET nor VRAMSCOPE_CAPTURE_FILE/);
  expect(report.counts.allocateMemory).toBeGreaterThan(0);
});

test('with VRAMSCOPE_CAPTURE_STACKS=1 each call has a Stack whose addresses have Symbols', () => {
  const file = path.join(dir, 'stacks.vrscap');
  runApp(['--threads', '2', '--per-thread', '1'], {
    VRAMSCOPE_CAPTURE_FILE: file,
    VRAMSCOPE_CAPTURE_STACKS: '1',
  });
  const stream = readStream(readFileSync(file));
  const bySequence = new Map(stream.records.map((r) => [r.sequence, r]));
  const stacks = ofKind(stream, Kind.Stack);
  const notCalls: number[] = [
    Kind.Budget,
    Kind.Stack,
    Kind.Symbol,
    Kind.Flush,
    Kind.ProcessStart,
    Kind.ProcessEnd,
    Kind.Dropped,
  ];
  const calls = stream.records.filter((r) => !notCalls.includes(r.kind));
  expect(stacks.length).toBe(calls.length);
  const symbols = new Map(
    ofKind(stream, Kind.Symbol).map((r) => [u64(r.payload, 24), strings(r.payload, 48, 2)] as const),
  );
  const allocateModules = new Set<string>();
  for (const s of stacks) {
    const owner = bySequence.get(u32(s.payload, 24));
    expect(owner).toBeDefined();
    expect(owner!.threadId).toBe(s.threadId);
    const frames = u32(s.payload, 28);
    expect(frames).toBeGreaterThan(0);
    for (let i = 0; i < frames; i++) {
      const pc = u64(s.payload, 32 + 8 * i);
      const symbol = symbols.get(pc);
      expect(symbol, `pc ${hex(pc)}`).toBeDefined();
      if (owner!.kind === Kind.AllocateMemory) allocateModules.add(path.basename(symbol![0]!));
    }
    // The layer's own frames are cut: the innermost frame is the caller of the Vulkan entry point.
    expect(symbols.get(u64(s.payload, 32))![0]).not.toMatch(/libVkLayer_vramscope_capture/);
  }
  // The program's own code called vkAllocateMemory, and the C library started it: both resolve.
  expect([...allocateModules]).toContain('capture-test-app');
  expect([...symbols.values()].some(([, name]) => name!.startsWith('__libc_start'))).toBe(true);
});

test('a SIGKILLed program leaves a stream valid up to its last flush, without ProcessEnd', async () => {
  const file = path.join(dir, 'killed.vrscap');
  const child = spawn(testApp, ['--pause-ms', '60000'], {
    env: layerEnv({ VRAMSCOPE_CAPTURE_FILE: file }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      if (d.toString().includes('paused')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`test program exited early (${code})`)));
  });
  // The writer drains every 50 ms: wait until the records of the allocations made before the pause are in
  // the file (polled, no guessed sleep; latency is measured by scripts/bench-capture-layer.py).
  const allocationsOnDisk = (): number => {
    try {
      return ofKind(readStream(readFileSync(file)), Kind.AllocateMemory).length;
    } catch {
      return 0; // a record cut mid-write: read again
    }
  };
  await expect.poll(allocationsOnDisk, { timeout: 30_000, interval: 25 }).toBe(3 + 8 * 4);
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_c, signal) => resolve(signal)),
  );
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  const stream = readStream(readFileSync(file));
  expect(stream.trailingBytes).toBe(0);
  expect(ofKind(stream, Kind.ProcessEnd)).toHaveLength(0);
  expect(stream.records.at(-1)!.kind).toBe(Kind.Flush);
  // Everything allocated before the pause is there: 3 scenario blocks + 8 threads x 4.
  expect(ofKind(stream, Kind.AllocateMemory)).toHaveLength(3 + 8 * 4);
  expect(ofKind(stream, Kind.FreeMemory)).toHaveLength(0);
});

test('over VRAMSCOPE_CAPTURE_SOCKET the same stream arrives live, ending with ProcessEnd', async () => {
  const socketPath = path.join(dir, 'live.sock');
  const chunks: Buffer[] = [];
  let connections = 0;
  const closed = new Promise<void>((resolve) => {
    const server = createServer((connection) => {
      connections++;
      connection.on('data', (d: Buffer) => chunks.push(d));
      connection.on('end', () => {
        server.close();
        resolve();
      });
    });
    server.listen(socketPath);
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const child = spawn(testApp, ['--threads', '4', '--per-thread', '2'], {
    env: layerEnv({ VRAMSCOPE_CAPTURE_SOCKET: socketPath }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code).toBe(0);
  await closed;
  expect(connections).toBe(1);
  const report = JSON.parse(stdout) as AppReport;
  const stream = readStream(Buffer.concat(chunks));
  expect(stream.pid).toBe(report.pid);
  expect(stream.trailingBytes).toBe(0);
  expect(stream.records.at(-1)!.kind).toBe(Kind.ProcessEnd);
  expect(ofKind(stream, Kind.AllocateMemory)).toHaveLength(report.counts.allocateMemory!);
  expect(ofKind(stream, Kind.BindBuffer)).toHaveLength(report.counts.bindBuffer!);
});

test('a socket nobody listens on: one warning, the program runs unchanged', () => {
  const { report, stderr } = runApp(['--threads', '1', '--per-thread', '1'], {
    VRAMSCOPE_CAPTURE_SOCKET: path.join(dir, 'nobody.sock'),
  });
  expect(stderr).toMatch(/\[vramscope-capture\] cannot connect to VRAMSCOPE_CAPTURE_SOCKET/);
  expect(report.counts.allocateMemory).toBeGreaterThan(0);
});

test('a stream captured on an NVIDIA H200 (fixture) still reads: budgets, device, every call', () => {
  const fixtures = path.join(repoRoot, 'tests/fixtures/capture');
  const report = JSON.parse(readFileSync(path.join(fixtures, 'h200-app.json'), 'utf8')) as AppReport;
  const stream = readStream(readFileSync(path.join(fixtures, 'h200-app.vrscap')));
  expect(stream.trailingBytes).toBe(0);
  expect(stream.records.at(-1)!.kind).toBe(Kind.ProcessEnd);
  expect(ofKind(stream, Kind.AllocateMemory)).toHaveLength(report.counts.allocateMemory!);
  expect(ofKind(stream, Kind.BindImage)).toHaveLength(report.counts.bindImage!);
  const device = ofKind(stream, Kind.DeviceCreate)[0]!;
  expect(strings(device.payload, 576, 4)[0]).toBe('NVIDIA H200');
  expect(u32(device.payload, 76) & 1).toBe(1); // features: VK_EXT_memory_budget enabled by the app
  const budgets = ofKind(stream, Kind.Budget);
  expect(budgets.length).toBeGreaterThanOrEqual(2);
  expect(u32(budgets[0]!.payload, 36)).toBe(3); // the first sample: right after vkCreateDevice
  for (const b of budgets) {
    expect(u64(b.payload, 24)).toBe(u64(device.payload, 24));
    expect(u32(b.payload, 32)).toBe(report.device.heapCount);
    for (let heap = 0; heap < report.device.heapCount; heap++) {
      const budget = u64(b.payload, 40 + 8 * heap);
      const usage = u64(b.payload, 168 + 8 * heap);
      expect(budget).toBeGreaterThan(0n);
      expect(usage).toBeLessThanOrEqual(budget);
    }
  }
});

describe('under the Khronos validation layer, below the capture layer', () => {
  // Ours first in VK_INSTANCE_LAYERS = closest to the application, so validation checks every call the capture
  // layer forwards and every query it adds. The deliberate leak is the positive control: validation is active
  // (vulkan-validationlayers comes with scripts/install-system-deps.sh).
  const run = (args: string[]): string => {
    const r = spawnSync(testApp, args, {
      env: layerEnv({
        VK_INSTANCE_LAYERS: 'VK_LAYER_VRAMSCOPE_capture:VK_LAYER_KHRONOS_validation',
        VRAMSCOPE_CAPTURE_FILE: path.join(dir, 'validated.vrscap'),
      }),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout + r.stderr;
  };
  test('the layer makes no invalid call (validation reports only the planted leak)', () => {
    const clean = run(['--threads', '4', '--per-thread', '2', '--free-while-bound']);
    expect(clean).not.toMatch(/Validation Error/);
    const leaking = run(['--threads', '1', '--per-thread', '1', '--leak-memory', '1']);
    expect(leaking).toMatch(/VUID-vkDestroyDevice-device-00378/);
    expect(leaking.match(/Validation Error/g)).toHaveLength(1);
  });
});
