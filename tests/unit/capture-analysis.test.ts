// The analysis of captured applications (allocator/analysis/capture.ts) on streams built from the format
// doc: each problem the layer's test program cannot make safely on a real driver (binds past the end of a
// block, misaligned, in a disallowed type), memory-type choices beside gpu-allocator's rule on a discrete
// GPU, the location heuristic, and incomplete captures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { createTraceHeader } from '../../src-main/trace/header.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { CaptureDecoder, type CaptureTrack } from '../../allocator/capture/index.ts';
import { allocateDetailsText, analyzeCapture, inferLocation } from '../../allocator/analysis/index.ts';
import { traceEventsOf } from '../../allocator/trace/index.ts';
import {
  CaptureStreamWriter,
  discreteDeviceFields,
  lavapipeDeviceFields,
} from '../support/capture-stream.ts';

const DEV = 0xd00n;
const MiB = 1024 * 1024;

function capture(
  build: (w: CaptureStreamWriter) => void,
  options: { discrete?: boolean; end?: boolean } = {},
): CaptureTrack {
  const w = new CaptureStreamWriter();
  w.record('ProcessStart', {}, { strings: ['/app', 'app'] });
  w.record('DeviceCreate', options.discrete ? discreteDeviceFields(DEV) : lavapipeDeviceFields(DEV), {
    strings: ['dev', '', '', ''],
  });
  build(w);
  if (options.end !== false) w.record('ProcessEnd', { reason: 1 });
  const d = new CaptureDecoder();
  d.push(w.bytes());
  d.end();
  return d.mapper.tracks[0]!;
}

function analyze(t: CaptureTrack) {
  return analyzeCapture(traceEventsOf(t.log), t.device);
}

function buffer(
  w: CaptureStreamWriter,
  handle: bigint,
  opts: { size: number; usage: number; bits?: number; alignment?: number },
): void {
  w.record('CreateBuffer', { device: DEV, buffer: handle, size: opts.size, usage: opts.usage });
  w.record('BufferRequirements', {
    device: DEV,
    buffer: handle,
    size: opts.size,
    alignment: opts.alignment ?? 256,
    memoryTypeBits: opts.bits ?? 1,
  });
}

describe('problems of a captured application', () => {
  test('a bind past the end of its block, a misaligned bind and a bind to a disallowed type', () => {
    const t = capture((w) => {
      w.record('AllocateMemory', { device: DEV, memory: 0x10n, size: MiB, memoryTypeIndex: 0 });
      buffer(w, 0x1n, { size: 4096, usage: 0x80 });
      w.record('BindBuffer', { device: DEV, buffer: 0x1n, memory: 0x10n, offset: MiB - 1024 });
      buffer(w, 0x2n, { size: 4096, usage: 0x80, alignment: 256 });
      w.record('BindBuffer', { device: DEV, buffer: 0x2n, memory: 0x10n, offset: 100 });
      buffer(w, 0x3n, { size: 4096, usage: 0x80, bits: 0b10 });
      w.record('BindBuffer', { device: DEV, buffer: 0x3n, memory: 0x10n, offset: 8192 });
      for (const b of [0x1n, 0x2n, 0x3n]) w.record('DestroyBuffer', { device: DEV, buffer: b });
      w.record('FreeMemory', { device: DEV, memory: 0x10n });
      w.record('DeviceDestroy', { device: DEV });
    });
    const a = analyze(t);
    expect(a.problems.map((p) => [p.kind, p.resources, p.bytes])).toEqual([
      ['bind-out-of-bounds', [1], 3072],
      ['bind-misaligned', [2], 0],
      ['bind-type-not-allowed', [3], 4096],
    ]);
    expect(a.problems[0]!.message).toBe(
      '"VkBuffer 0x1" is bound at offset 1047552 with 4096 bytes, 3072 bytes past the end of block 1 (1048576 bytes)',
    );
    expect(a.problems[1]!.message).toMatch(/offset 100, not a multiple of its required alignment 256/);
  });

  test('leaks at device destruction, a block freed while bound, memory never bound, names', () => {
    const t = capture((w) => {
      w.record('AllocateMemory', { device: DEV, memory: 0x10n, size: MiB });
      w.record('ObjectName', { device: DEV, handle: 0x10n, objectType: 8 }, { strings: ['pool'] });
      w.record('AllocateMemory', { device: DEV, memory: 0x11n, size: 2 * MiB });
      buffer(w, 0x1n, { size: 4096, usage: 0x10 });
      w.record('BindBuffer', { device: DEV, buffer: 0x1n, memory: 0x10n, offset: 0 });
      w.record('ObjectName', { device: DEV, handle: 0x1n, objectType: 9 }, { strings: ['ubo'] });
      w.record('CreateImage', { device: DEV, image: 0x5n, usage: 4 });
      w.record('FreeMemory', { device: DEV, memory: 0x10n });
      w.record('DestroyBuffer', { device: DEV, buffer: 0x1n });
      w.record('DeviceDestroy', { device: DEV });
    });
    const a = analyze(t);
    expect(a.problems.map((p) => p.kind)).toEqual([
      'freed-while-bound',
      'memory-not-freed',
      'resource-not-destroyed',
    ]);
    expect(a.problems[0]!.message).toBe(
      'block 1 "pool" was freed while 1 resource was still bound to it: ubo',
    );
    expect(a.problems[1]!.message).toMatch(
      /^block 2 "VkDeviceMemory 0x11" \(2.00 MiB, memory type 0\) was not freed when the device was destroyed$/,
    );
    expect(a.problems[2]!.message).toBe(
      'image "VkImage 0x5" was not destroyed when the device was destroyed',
    );
    expect(a.blocksNeverBound).toEqual([2]);
    expect(a.blocksNeverBoundBytes).toBe(2 * MiB);
    expect(a.deviceDestroyedAt).not.toBeNull();
  });

  test('a capture without a clean exit, or with lost records, is incomplete; leaks are counted at its end', () => {
    const t = capture(
      (w) => {
        w.record('AllocateMemory', { device: DEV, memory: 0x10n, size: MiB });
        w.record('Dropped', { count: 12n, reason: 1 });
      },
      { end: false },
    );
    const a = analyze(t);
    expect(a.problems.map((p) => p.kind)).toEqual([
      'memory-not-freed',
      'incomplete-capture',
      'incomplete-capture',
    ]);
    expect(a.problems[0]!.message).toMatch(/when the capture ended \(the device was never destroyed\)/);
    expect(a.problems[2]!.message).toMatch(/lost 12 records/);
    expect(a.recordsLost).toBe(12);
  });
});

describe('memory-type choices beside gpu-allocator', () => {
  test('the location heuristic', () => {
    expect(inferLocation(0x80, false).location).toBe('GpuOnly');
    expect(inferLocation(0x1, true).location).toBe('CpuToGpu'); // staging upload
    expect(inferLocation(0x2, true).location).toBe('GpuToCpu'); // readback
    expect(inferLocation(0x3, true).location).toBe('CpuToGpu');
    expect(inferLocation(0x10, true).location).toBe('CpuToGpu'); // a mapped uniform buffer
  });

  test('on a discrete GPU: a readback buffer in uncached memory and a vertex buffer in host memory are mismatches; an upload differs', () => {
    const t = capture(
      (w) => {
        // Type 0 DEVICE_LOCAL, 1 HOST_VISIBLE|COHERENT, 2 HOST_VISIBLE|COHERENT|CACHED; every type allowed.
        w.record('AllocateMemory', { device: DEV, memory: 0x10n, size: MiB, memoryTypeIndex: 1 });
        w.record('MapMemory', { device: DEV, memory: 0x10n, size: 0xffff_ffff_ffff_ffffn });
        buffer(w, 0x1n, { size: 4096, usage: 0x2, bits: 0b111 }); // readback
        w.record('BindBuffer', { device: DEV, buffer: 0x1n, memory: 0x10n, offset: 0 });
        buffer(w, 0x2n, { size: 4096, usage: 0x1, bits: 0b111 }); // staging upload
        w.record('BindBuffer', { device: DEV, buffer: 0x2n, memory: 0x10n, offset: 4096 });
        w.record('AllocateMemory', { device: DEV, memory: 0x11n, size: MiB, memoryTypeIndex: 1 });
        buffer(w, 0x3n, { size: 65536, usage: 0x82, bits: 0b111 }); // vertex buffer, never mapped
        w.record('BindBuffer', { device: DEV, buffer: 0x3n, memory: 0x11n, offset: 0 });
        w.record('AllocateMemory', { device: DEV, memory: 0x12n, size: MiB, memoryTypeIndex: 0 });
        buffer(w, 0x4n, { size: 8192, usage: 0x82, bits: 0b111 });
        w.record('BindBuffer', { device: DEV, buffer: 0x4n, memory: 0x12n, offset: 0 });
      },
      { discrete: true },
    );
    const a = analyze(t);
    const by = (usage: number) => a.decisions.find((d) => d.usage === usage)!;
    expect(by(0x2)).toMatchObject({ location: 'GpuToCpu', appType: 1, ruleType: 2, verdict: 'mismatch' });
    expect(by(0x2).note).toMatch(/readback resource in uncached memory/);
    expect(by(0x1)).toMatchObject({ location: 'CpuToGpu', appType: 1, ruleType: 1, verdict: 'same' });
    const vertex = a.decisions.filter((d) => d.usage === 0x82);
    expect(vertex.map((d) => [d.appType, d.ruleType, d.verdict, d.count])).toEqual([
      [1, 0, 'mismatch', 1],
      [0, 0, 'same', 1],
    ]);
    expect(a.problems.filter((p) => p.kind === 'memory-type-mismatch')).toHaveLength(2);
    expect(a.decisions[0]!.verdict).toBe('mismatch'); // mismatches first
  });
});

describe("a vkAllocateMemory's pNext details are kept (blockCreate's message) and shown", () => {
  test('priority, export handle types, allocate flags, a host-pointer import; none for a plain block', () => {
    const t = capture((w) => {
      // chain bits (AllocateChain): flags 0x2, priority 0x4, export 0x8, importHostPointer 0x20.
      w.record('AllocateMemory', {
        device: DEV,
        memory: 0x10n,
        size: MiB,
        memoryTypeIndex: 0,
        chain: 0x2 | 0x4 | 0x8,
        allocateFlags: 0x2,
        priority: 0.7,
        exportHandleTypes: 0x1 | 0x200,
      });
      w.record('AllocateMemory', {
        device: DEV,
        memory: 0x11n,
        size: 4096,
        memoryTypeIndex: 0,
        chain: 0x20,
        importHandleType: 0x80,
        importHostPointer: 0x7f0000001000n,
      });
      w.record('AllocateMemory', { device: DEV, memory: 0x12n, size: 4096, memoryTypeIndex: 0 });
    });
    const events = traceEventsOf(t.log);
    const creates: number[] = [];
    for (let i = 0; i < events.length; i++) if (events.columns.kind[i] === 4) creates.push(i);
    expect(creates).toHaveLength(3);
    const message = (i: number): unknown => {
      const id = events.columns.message[i]!;
      return id === 0 ? null : JSON.parse(events.strings[id]!);
    };
    expect(message(creates[0]!)).toEqual({
      allocateFlags: 2,
      deviceMask: 0,
      priority: 0.7,
      exportHandleTypes: 0x201,
    });
    expect(message(creates[1]!)).toEqual({
      import: 'hostPointer',
      importHandleType: 0x80,
      importHostPointer: '0x7f0000001000',
    });
    expect(message(creates[2]!)).toBeNull();
    // Kept in the trace file (blockCreate's message column: stored densely, which any reader decodes).
    const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-capture-details-'));
    try {
      const file = path.join(dir, 'app.trace');
      new TraceWriter(file, t.log, {
        header: createTraceHeader({ device: t.device }),
        flushIntervalMs: 0,
      }).close();
      const loaded = loadTraceSync(file);
      expect(Array.from(loaded.events.columns.message)).toEqual(
        Array.from(events.columns.message.subarray(0, events.length)),
      );
      expect(analyzeCapture(loaded.events, loaded.header.device).blockDetails).toEqual(
        analyze(t).blockDetails,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const a = analyze(t);
    expect(a.blockDetails.map((b) => [b.blockId, b.size, b.text])).toEqual([
      [1, MiB, 'priority 0.7; flags DEVICE_ADDRESS; export OPAQUE_FD | DMA_BUF'],
      [2, 4096, 'imported (hostPointer, HOST_ALLOCATION at 0x7f0000001000)'],
    ]);
  });

  test('a message that is not the details JSON shows nothing (traces are data)', () => {
    expect(allocateDetailsText('not json')).toBe('');
    expect(allocateDetailsText('[1,2]')).toBe('');
    expect(allocateDetailsText('{"priority":"high","exportHandleTypes":null}')).toBe('');
    expect(allocateDetailsText('{"exportHandleTypes":4096}')).toBe('export 0x1000');
  });
});
