// The capture stream decoder (allocator/capture) on streams built by tests/support/capture-stream.ts, which
// follows docs/capture.md: records -> call order -> trace events, per device; any chunking; torn tails,
// unknown kinds, out-of-order threads, stacks, several devices. The layer itself is tested in
// tests/integration/capture-*.test.ts.
import { describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CaptureDecoder, type CaptureTrack } from '../../allocator/capture/index.ts';
import { TraceEventKind, eventColumnNames, traceEventKindNames } from '../../allocator/event-log.ts';
import { traceEventsOf } from '../../allocator/trace/index.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { createTraceHeader } from '../../src-main/trace/header.ts';
import { rng as seededRng } from '../support/rng.ts';
import {
  CaptureStreamWriter,
  discreteDeviceFields,
  lavapipeDeviceFields,
} from '../support/capture-stream.ts';

const DEV = 0xd00n;
const MEM_A = 0xa000n;
const MEM_B = 0xb000n;
const BUF = 0xbf00n;
const IMG = 0x1f00n;
const MiB = 1024 * 1024;

/** One device's life: two blocks, a buffer and an image sub-allocated in block A, a map, frames, names. */
function typicalStream(options: { end?: boolean } = {}): CaptureStreamWriter {
  const w = new CaptureStreamWriter();
  w.record('ProcessStart', { pid: 4242, layerVersion: 1 }, { strings: ['/usr/bin/app', 'app\0--fast\0'] });
  w.record('InstanceCreate', { instance: 0x2000n }, { strings: ['demo app', 'demo engine', ''] });
  w.record('DeviceCreate', lavapipeDeviceFields(DEV), { strings: ['llvmpipe (test)', 'llvmpipe', '', ''] });
  w.record('AllocateMemory', { device: DEV, memory: MEM_A, size: 64 * MiB, memoryTypeIndex: 0 });
  w.record('AllocateMemory', { device: DEV, memory: MEM_B, size: 4 * MiB, memoryTypeIndex: 0 });
  w.record('CreateBuffer', { device: DEV, buffer: BUF, size: 1000, usage: 0x81 });
  w.record('BufferRequirements', { device: DEV, buffer: BUF, size: 1024, alignment: 256, memoryTypeBits: 1 });
  w.record('BindBuffer', { device: DEV, buffer: BUF, memory: MEM_A, offset: 4096 });
  w.record('CreateImage', {
    device: DEV,
    image: IMG,
    format: 37,
    width: 256,
    height: 256,
    depth: 1,
    mipLevels: 1,
    arrayLayers: 1,
    samples: 1,
    usage: 0x6,
  });
  w.record('BindImage', { device: DEV, image: IMG, memory: MEM_A, offset: 1 * MiB });
  // The layer's own query right after the bind (the app never asked).
  w.record('ImageRequirements', {
    device: DEV,
    image: IMG,
    size: 256 * 1024,
    alignment: 4096,
    memoryTypeBits: 1,
    flags: 8,
  });
  w.record('MapMemory', { device: DEV, memory: MEM_B, offset: 0, size: 0xffff_ffff_ffff_ffffn });
  w.record('ObjectName', { device: DEV, handle: BUF, objectType: 9, source: 1 }, { strings: ['vertices'] });
  w.record('ObjectName', { device: DEV, handle: MEM_B, objectType: 8, source: 1 }, { strings: ['staging'] });
  for (let f = 1; f <= 3; f++) w.record('Present', { device: DEV, queue: 0x77n, frame: f });
  const heapBudget = new Array<bigint>(16).fill(0n);
  heapBudget[0] = 1024n * 1024n * 1024n;
  const heapUsage = new Array<bigint>(16).fill(0n);
  heapUsage[0] = 68n * 1024n * 1024n;
  w.record('Budget', { device: DEV, heapCount: 1, trigger: 1, heapBudget, heapUsage });
  w.record('UnmapMemory', { device: DEV, memory: MEM_B });
  w.record('DestroyBuffer', { device: DEV, buffer: BUF });
  w.record('FreeMemory', { device: DEV, memory: MEM_B });
  w.record('DeviceDestroy', { device: DEV });
  if (options.end !== false) w.record('ProcessEnd', { recordsWritten: 20n, reason: 1 });
  return w;
}

function kinds(track: CaptureTrack): string[] {
  const out: string[] = [];
  for (let i = 0; i < track.log.length; i++) out.push(traceEventKindNames[track.log.columns.kind[i]!]!);
  return out;
}

function decodeAll(
  bytes: Uint8Array,
  chunks: number[] = [bytes.length],
): { decoder: CaptureDecoder; warnings: string[] } {
  const decoder = new CaptureDecoder();
  let at = 0;
  for (const n of chunks) {
    decoder.push(bytes.subarray(at, Math.min(bytes.length, at + n)));
    at += n;
  }
  if (at < bytes.length) decoder.push(bytes.subarray(at));
  return { decoder, warnings: decoder.end() };
}

describe('capture stream -> trace events', () => {
  test('a device life maps to blocks, bound resources at their offsets, frames, budgets and names', () => {
    const { decoder, warnings } = decodeAll(typicalStream().bytes());
    expect(warnings).toEqual([]);
    const p = decoder.mapper.process;
    expect(p).toMatchObject({
      pid: 4242,
      executable: '/usr/bin/app',
      commandLine: ['app', '--fast'],
      endedCleanly: true,
    });
    expect(p.applicationName).toBe('demo app');
    expect(decoder.mapper.tracks).toHaveLength(1);
    const t = decoder.mapper.tracks[0]!;
    expect(t.device).toMatchObject({ name: 'llvmpipe (test)', deviceType: 'cpu', apiVersion: '1.3.238' });
    expect(t.device.heaps).toEqual([{ index: 0, size: 2 * 1024 * MiB, flags: 1 }]);
    expect(t.device.types).toEqual([{ index: 0, propertyFlags: 0xf, heapIndex: 0 }]);
    expect(kinds(t)).toEqual([
      'blockCreate',
      'objectName',
      'blockCreate',
      'objectName',
      'resourceCreate',
      'allocate',
      'resourceCreate',
      'allocate',
      'memoryMap',
      'rename',
      'objectName',
      'frame',
      'frame',
      'frame',
      'budgetSample',
      'memoryUnmap',
      'free',
      'blockDestroy',
      'deviceDestroy',
      'processEnd',
    ]);
    const c = t.log.columns;
    const s = t.log.strings;
    // Blocks: ids 1 and 2 in allocation order, with type and size.
    expect([c.id[0], c.type[0], c.size[0]]).toEqual([1, 0, 64 * MiB]);
    expect([c.id[2], c.type[2], c.size[2]]).toEqual([2, 0, 4 * MiB]);
    // The buffer: created with its size and usage; bound at 4096 in block 1 with its requirements.
    expect([c.id[4], c.size[4], c.usage[4], c.flags[4]]).toEqual([1, 1000, 0x81, 0]);
    expect(JSON.parse(s.get(c.message[4]!))).toMatchObject({ handle: '0xbf00' });
    expect([c.id[5], c.block[5], c.offset[5], c.size[5], c.alignment[5], c.typeBits[5]]).toEqual([
      1, 1, 4096, 1024, 256, 1,
    ]);
    expect(s.get(c.name[5]!)).toBe('VkBuffer 0xbf00');
    // The image: optimal tiling (non-linear), format kept; bound once the layer's requirements arrived.
    expect([c.id[6], c.format[6], c.usage[6], c.flags[6]]).toEqual([2, 37, 0x6, 0x41]);
    expect(JSON.parse(s.get(c.message[6]!))).toMatchObject({ extent: [256, 256, 1], tiling: 0 });
    expect([c.id[7], c.block[7], c.offset[7], c.size[7], c.alignment[7], c.flags[7] & 3]).toEqual([
      2,
      1,
      MiB,
      256 * 1024,
      4096,
      1,
    ]);
    // Map of VK_WHOLE_SIZE = the rest of the block; names; frames; budget.
    expect([c.id[8], c.offset[8], c.size[8]]).toEqual([2, 0, 4 * MiB]);
    expect([c.id[9], s.get(c.name[9]!)]).toEqual([1, 'vertices']);
    expect([c.id[10], c.flags[10], s.get(c.name[10]!)]).toEqual([2, 0x80, 'staging']);
    expect([c.id[11], c.id[12], c.id[13]]).toEqual([1, 2, 3]);
    expect([c.id[14], c.offset[14], c.size[14]]).toEqual([0, 1024 * MiB, 68 * MiB]);
    // Every event carries the calling thread and times count from the stream's start (1 ms per record).
    expect(Array.from(c.thread.subarray(0, t.log.length)).every((x) => x === 100)).toBe(true);
    expect(c.time[0]).toBe(4);
    expect(s.get(c.name[1]!)).toBe('VkDeviceMemory 0xa000'); // the handle is the block's first name
  });

  test('any chunking of the bytes gives the same events', () => {
    const bytes = typicalStream().bytes();
    const whole = decodeAll(bytes).decoder.mapper.tracks[0]!.log;
    const rng = seededRng(7);
    for (let round = 0; round < 20; round++) {
      const chunks: number[] = [];
      for (let n = 0; n < bytes.length;) {
        const k = 1 + Math.floor(rng() * (round < 3 ? 3 : 200));
        chunks.push(k);
        n += k;
      }
      const log = decodeAll(bytes, chunks).decoder.mapper.tracks[0]!.log;
      expect(log.length).toBe(whole.length);
      for (const key of eventColumnNames)
        expect(Array.from(log.columns[key].subarray(0, log.length)), key).toEqual(
          Array.from(whole.columns[key].subarray(0, whole.length)),
        );
    }
  });

  test('a torn final record is dropped with a warning; everything before it is kept', () => {
    const bytes = typicalStream({ end: false }).bytes();
    const { decoder, warnings } = decodeAll(bytes.subarray(0, bytes.length - 5));
    expect(warnings.some((w) => /torn final record/.test(w))).toBe(true);
    expect(warnings.some((w) => /did not exit cleanly/.test(w))).toBe(true);
    const k = kinds(decoder.mapper.tracks[0]!);
    expect(k.at(-1)).toBe('blockDestroy'); // DeviceDestroy was the torn record
    expect(k).not.toContain('processEnd');
  });

  test('records of unknown kinds are skipped by their size, with one warning', () => {
    const w = typicalStream({ end: false });
    w.unknown(999, 40);
    w.unknown(1000, 8);
    w.record('ProcessEnd', { reason: 1 });
    const { decoder, warnings } = decodeAll(w.bytes());
    expect(warnings).toEqual([expect.stringMatching(/2 records of unknown kind 999, 1000 skipped/)]);
    expect(kinds(decoder.mapper.tracks[0]!).at(-1)).toBe('processEnd');
  });

  test('a stream that is not a capture, or of another version, is refused with a warning', () => {
    const bad = decodeAll(new CaptureStreamWriter({ magic: new Uint8Array(8) }).bytes());
    expect(bad.warnings[0]).toMatch(/not a VRAMscope capture stream/);
    const later = decodeAll(new CaptureStreamWriter({ version: 2 }).bytes());
    expect(later.warnings[0]).toMatch(/version 2; this reader understands version 1/);
    const corrupt = new CaptureStreamWriter();
    corrupt.raw(new Uint8Array([1, 0, 0, 0, 13, 0, 0, 0, ...new Uint8Array(16)]));
    expect(decodeAll(corrupt.bytes()).warnings[0]).toMatch(/claims 13 bytes/);
  });

  test('records of several threads are put back in call order at each Flush watermark', () => {
    const w = new CaptureStreamWriter();
    w.record('ProcessStart', {}, { sequence: 0, strings: ['', ''] });
    w.record('DeviceCreate', lavapipeDeviceFields(DEV), { sequence: 1, strings: ['dev', '', '', ''] });
    // Thread 2's buffer is drained before thread 1's: sequences 4, 5 arrive before 2, 3.
    w.record('AllocateMemory', { device: DEV, memory: 0x3n, size: MiB }, { sequence: 4, thread: 2 });
    w.record('FreeMemory', { device: DEV, memory: 0x3n }, { sequence: 5, thread: 2 });
    w.record('AllocateMemory', { device: DEV, memory: 0x1n, size: 2 * MiB }, { sequence: 2, thread: 1 });
    w.record('AllocateMemory', { device: DEV, memory: 0x2n, size: 3 * MiB }, { sequence: 3, thread: 1 });
    w.record('Flush', { watermark: 4 }, { sequence: 6, thread: 9 });
    const bytes = w.bytes();
    const decoder = new CaptureDecoder();
    decoder.push(bytes);
    // Only sequences before the watermark (0..3) are released so far.
    const t = decoder.mapper.tracks[0]!;
    expect(Array.from(t.log.columns.size.subarray(0, t.log.length)).filter((x) => x > 0)).toEqual([
      2 * MiB,
      3 * MiB,
    ]);
    decoder.end();
    const blocks = (): number[] => [...kinds(t).keys()].filter((i) => t.log.columns.kind[i] !== 20);
    expect(blocks().map((i) => kinds(t)[i])).toEqual([
      'blockCreate',
      'blockCreate',
      'blockCreate',
      'blockDestroy',
    ]);
    expect(blocks().map((i) => t.log.columns.size[i])).toEqual([2 * MiB, 3 * MiB, MiB, 0]);
    expect(blocks().map((i) => t.log.columns.thread[i])).toEqual([1, 1, 2, 2]);
  });

  test('sequence numbers that wrap past 2^32 keep their order', () => {
    const w = new CaptureStreamWriter();
    const top = 0xffff_fffe;
    w.record('ProcessStart', {}, { sequence: 0, strings: ['', ''] });
    w.record('DeviceCreate', lavapipeDeviceFields(DEV), { sequence: 1, strings: ['dev', '', '', ''] });
    w.record('Flush', { watermark: top }, { sequence: 2 });
    const firstDrain = w.bytes().length;
    // After ~2^32 calls the counter wraps: top, top + 1, then 0, 1 (arriving interleaved).
    w.record('AllocateMemory', { device: DEV, memory: 0x3n, size: 3 * MiB }, { sequence: 0 });
    w.record('AllocateMemory', { device: DEV, memory: 0x2n, size: 2 * MiB }, { sequence: top + 1 });
    w.record('AllocateMemory', { device: DEV, memory: 0x4n, size: 4 * MiB }, { sequence: 1 });
    w.record('AllocateMemory', { device: DEV, memory: 0x1n, size: MiB }, { sequence: top });
    const bytes = w.bytes();
    const decoder = new CaptureDecoder();
    decoder.push(bytes.subarray(0, firstDrain));
    decoder.push(bytes.subarray(firstDrain));
    decoder.end();
    const t = decoder.mapper.tracks[0]!;
    expect(Array.from(t.log.columns.size.subarray(0, 8)).filter((x) => x > 0)).toEqual([
      MiB,
      2 * MiB,
      3 * MiB,
      4 * MiB,
    ]);
  });

  test('stacks are attached to their call and spelled with the Symbol records', () => {
    const w = new CaptureStreamWriter();
    w.record('ProcessStart', { options: 1 }, { strings: ['', ''] });
    w.record('DeviceCreate', lavapipeDeviceFields(DEV), { strings: ['dev', '', '', ''] });
    w.record(
      'Symbol',
      { pc: 0x401234n, moduleBase: 0x400000n, symbolAddress: 0x401200n },
      { strings: ['/usr/bin/app', 'loadTextures()'] },
    );
    w.record(
      'Symbol',
      { pc: 0x7f0000001000n, moduleBase: 0x7f0000000000n },
      { strings: ['/lib/libfoo.so', ''] },
    );
    const seq = w.record('AllocateMemory', { device: DEV, memory: 0x1n, size: MiB });
    w.record('Stack', { ofSequence: seq, frameCount: 3 }, { pcs: [0x401234n, 0x7f0000001000n, 0x99n] });
    const t = decodeAll(w.bytes()).decoder.mapper.tracks[0]!;
    expect(t.log.strings.get(t.log.columns.stack[0]!)).toBe(
      'loadTextures()+0x34 (app)\n0x7f0000001000 (libfoo.so+0x1000)\n0x99',
    );
  });

  test('a repeated stack is spelled once and reused; a symbol that arrives later is used from then on', () => {
    const w = new CaptureStreamWriter();
    w.record('ProcessStart', { options: 1 }, { strings: ['', ''] });
    w.record('DeviceCreate', lavapipeDeviceFields(DEV), { strings: ['dev', '', '', ''] });
    const pcs = [0x401234n, 0x99n];
    const call = (memory: bigint): void => {
      const seq = w.record('AllocateMemory', { device: DEV, memory, size: MiB });
      w.record('Stack', { ofSequence: seq, frameCount: 2 }, { pcs });
    };
    call(0x1n);
    call(0x2n);
    w.record('Flush', { watermark: w.nextSequence });
    const firstPart = w.bytes().length; // delivered (and released at the Flush) before the rest arrives
    // The symbol of the first frame arrives only now (a reader must not keep the unresolved spelling).
    w.record(
      'Symbol',
      { pc: 0x401234n, moduleBase: 0x400000n, symbolAddress: 0x401200n },
      { strings: ['/usr/bin/app', 'loadTextures()'] },
    );
    call(0x3n);
    const bytes = w.bytes();
    const decoder = new CaptureDecoder();
    decoder.push(bytes.subarray(0, firstPart));
    decoder.push(bytes.subarray(firstPart));
    decoder.end();
    const t = decoder.mapper.tracks[0]!;
    const c = t.log.columns;
    const stacks: string[] = [];
    for (let i = 0; i < t.log.length; i++)
      if (c.kind[i] === TraceEventKind.BlockCreate) stacks.push(t.log.strings.get(c.stack[i]!));
    expect(stacks).toEqual(['0x401234\n0x99', '0x401234\n0x99', 'loadTextures()+0x34 (app)\n0x99']);
  });

  test('each VkDevice is its own track with its own memory types', () => {
    const w = new CaptureStreamWriter();
    w.record('ProcessStart', {}, { strings: ['', ''] });
    w.record('DeviceCreate', lavapipeDeviceFields(0x1n), { strings: ['cpu', '', '', ''] });
    w.record('DeviceCreate', discreteDeviceFields(0x2n), { strings: ['gpu', '', '', ''] });
    w.record('AllocateMemory', { device: 0x2n, memory: 0x10n, size: MiB, memoryTypeIndex: 2 });
    w.record('AllocateMemory', { device: 0x1n, memory: 0x10n, size: 2 * MiB, memoryTypeIndex: 0 });
    w.record('AllocateMemory', { device: 0x3n, memory: 0x11n, size: MiB });
    w.record('ProcessEnd', {});
    const { decoder, warnings } = decodeAll(w.bytes());
    const [cpu, gpu] = decoder.mapper.tracks;
    expect([cpu!.device.name, gpu!.device.name]).toEqual(['cpu', 'gpu']);
    expect(gpu!.device.types.map((t) => t.heapIndex)).toEqual([0, 1, 1]);
    expect([gpu!.log.columns.type[0], gpu!.log.columns.size[0]]).toEqual([2, MiB]);
    expect(gpu!.log.length).toBe(3); // blockCreate, its name, processEnd: the record for device 0x3 went nowhere
    expect([cpu!.log.columns.type[0], cpu!.log.columns.size[0]]).toEqual([0, 2 * MiB]);
    expect(warnings).toEqual([expect.stringMatching(/1 records named a VkDevice the capture never saw/)]);
  });

  test('a failed vkAllocateMemory is a failure with its VkResult; a dedicated allocation is a dedicated block', () => {
    const w = new CaptureStreamWriter();
    w.record('ProcessStart', {}, { strings: ['', ''] });
    w.record('DeviceCreate', discreteDeviceFields(DEV), { strings: ['gpu', '', '', ''] });
    w.record('AllocateMemory', { device: DEV, size: 64n * 1024n ** 3n, memoryTypeIndex: 0, result: -2 });
    w.record('CreateImage', { device: DEV, image: IMG, tiling: 1, usage: 1 });
    w.record('AllocateMemory', {
      device: DEV,
      memory: MEM_A,
      size: MiB,
      memoryTypeIndex: 1,
      chain: 1,
      dedicatedImage: IMG,
    });
    w.record('ImageRequirements', { device: DEV, image: IMG, size: MiB, alignment: 64, memoryTypeBits: 7 });
    w.record('BindImage', { device: DEV, image: IMG, memory: MEM_A, offset: 0 });
    const t = decodeAll(w.bytes()).decoder.mapper.tracks[0]!;
    expect(kinds(t)).toEqual(['failure', 'resourceCreate', 'blockCreate', 'objectName', 'allocate']);
    const c = t.log.columns;
    expect(t.log.strings.get(c.code[0]!)).toBe('VK_ERROR_OUT_OF_DEVICE_MEMORY');
    expect(c.type[0]).toBe(0);
    expect(c.flags[1]).toBe(0x40); // image, linear tiling
    expect(c.flags[2]).toBe(0x20); // dedicated block
    expect([c.flags[4] & 3, c.typeBits[4]]).toEqual([2, 7]); // dedicated allocation
  });

  test('a captured track round-trips through a trace file, new columns included', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-capture-'));
    try {
      const t = decodeAll(typicalStream().bytes()).decoder.mapper.tracks[0]!;
      const file = path.join(dir, 'app.trace');
      const writer = new TraceWriter(file, t.log, {
        header: createTraceHeader({ device: t.device }),
        flushIntervalMs: 0,
      });
      writer.close();
      const loaded = loadTraceSync(file);
      expect(loaded.warnings).toEqual([]);
      expect(loaded.complete).toBe(true);
      const events = traceEventsOf(t.log);
      for (const key of eventColumnNames)
        expect(Array.from(loaded.events.columns[key]), key).toEqual(
          Array.from(events.columns[key].subarray(0, t.log.length)),
        );
      expect(loaded.events.strings).toEqual(t.log.strings.strings);
      expect(t.log.columns.kind[t.log.length - 1]).toBe(TraceEventKind.ProcessEnd);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mutated and cut streams: never a throw; every track still writes a trace that loads', () => {
    const bytes = typicalStream().bytes();
    const rng = seededRng(11);
    const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-capture-fuzz-'));
    try {
      for (let k = 0; k < 300; k++) {
        const mutated = bytes.slice(0, 32 + Math.floor(rng() * (bytes.length - 32 + 1)));
        const flips = 1 + Math.floor(rng() * 8);
        for (let f = 0; f < flips; f++) {
          const at = 32 + Math.floor(rng() * Math.max(1, mutated.length - 32));
          if (at < mutated.length) mutated[at] = Math.floor(rng() * 256);
        }
        const decoder = new CaptureDecoder();
        for (let at = 0; at < mutated.length; at += 97) decoder.push(mutated.subarray(at, at + 97));
        const warnings = decoder.end();
        expect(Array.isArray(warnings)).toBe(true);
        for (const t of decoder.mapper.tracks) {
          const file = path.join(dir, `fuzz-${k}.trace`);
          new TraceWriter(file, t.log, {
            header: createTraceHeader({ device: t.device }),
            flushIntervalMs: 0,
          }).close();
          const loaded = loadTraceSync(file);
          expect(loaded.header.device.heaps.length).toBeGreaterThan(0);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
