import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventLog, eventColumnNames } from '../../allocator/event-log.ts';
import { AllocationKind } from '../../allocator/types.ts';
import {
  decodeTraceAsync,
  webInflate,
  ByteReader,
  ByteWriter,
  TraceFormatError,
  crc32,
  traceEventsOf,
  TraceDecoder,
  type LoadedTrace,
  type TraceBytes,
} from '../../allocator/trace/index.ts';
import { nodeInflate } from '../../src-main/trace/codec.ts';
import { fileTraceBytes } from '../../src-main/trace/file-bytes.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { rng } from '../support/rng.ts';
import { openTrace } from '../../src-main/trace/open.ts';
import { loadTrace, loadTraceSync } from '../../src-main/trace/reader.ts';
import { TraceRecorder } from '../../src-main/trace/recorder.ts';
import { createTraceHeader } from '../../src-main/trace/header.ts';
import {
  generateWorkload,
  microClock,
  testDecision,
  testDevice,
  testHeader,
} from '../support/trace-fixtures.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vramscope-trace-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectSameEvents(log: EventLog, loaded: LoadedTrace): void {
  expect(loaded.events.length).toBe(log.length);
  const a = log.columns;
  const b = loaded.events.columns;
  for (const key of eventColumnNames) {
    const want = a[key] as ArrayLike<number>;
    const got = b[key] as ArrayLike<number>;
    let firstMismatch = -1;
    for (let i = 0; i < log.length && firstMismatch < 0; i++)
      if (!Object.is(want[i], got[i])) firstMismatch = i;
    expect(firstMismatch, `first mismatch in column ${key}`).toBe(-1);
  }
  expect(loaded.events.strings).toEqual(log.strings.strings);
  expect(loaded.events.decisions.length).toBe(log.decisions.length);
  log.decisions.forEach((d, i) => expect(loaded.events.decisions[i]).toEqual(d));
}

describe('varints', () => {
  test('unsigned and signed varints are exact for every safe integer magnitude', () => {
    const values = [
      0,
      1,
      63,
      64,
      127,
      128,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 + 5,
      2 ** 40 + 12345,
      2 ** 52 + 1,
      2 ** 53 - 2,
      2 ** 53 - 1,
    ];
    const w = new ByteWriter();
    for (const v of values) {
      w.uvar(v);
      w.svar(v);
      w.svar(-v);
    }
    const r = new ByteReader(w.finish());
    for (const v of values) {
      expect(r.uvar()).toBe(v);
      expect(r.svar()).toBe(v);
      expect(r.svar()).toBe(v === 0 ? 0 : -v);
    }
    expect(r.remaining).toBe(0);
  });

  test('varints are the canonical LEB128 bytes (what earlier writers wrote) at every magnitude', () => {
    // Reference: LEB128 by BigInt, 7 bits at a time; svar = sign-magnitude with 6 bits in the first byte.
    const uvarRef = (v: bigint, out: number[]): void => {
      while (v >= 0x80n) {
        out.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      out.push(Number(v));
    };
    const svarRef = (v: bigint, out: number[]): void => {
      const sign = v < 0n ? 1 : 0;
      const m = v < 0n ? -v : v;
      if (m < 64n) out.push(Number(m << 1n) | sign);
      else {
        out.push((Number(m & 63n) << 1) | sign | 0x80);
        uvarRef(m >> 6n, out);
      }
    };
    // Every power of two and its neighbours up to 2^53 - 1 (the 2^28 / 2^31 / 2^32 seams of the writer's
    // integer paths among them), plus pseudo-random values of every bit length.
    const values: number[] = [];
    for (let bit = 0; bit <= 53; bit++) {
      for (const d of [-1, 0, 1]) {
        const v = 2 ** bit + d;
        if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) values.push(v);
      }
    }
    let seed = 12345;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let k = 0; k < 2000; k++) values.push(Math.floor(random() * 2 ** Math.floor(random() * 54)));
    const w = new ByteWriter(16);
    const expected: number[] = [];
    for (const v of values) {
      w.uvar(v);
      uvarRef(BigInt(v), expected);
      w.svar(v);
      svarRef(BigInt(v), expected);
      w.svar(-v);
      svarRef(-BigInt(v), expected);
    }
    expect([...w.finish()]).toEqual(expected);
  });

  test('a varint past 2^53 - 1 is refused', () => {
    const w = new ByteWriter();
    // 2^53 written by hand as LEB128: 7 bytes of 0x80 then 0x10.
    for (let i = 0; i < 7; i++) w.u8(0x80);
    w.u8(0x10);
    expect(() => new ByteReader(w.finish()).uvar()).toThrow(/2\^53/);
  });

  test('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('trace round trip', () => {
  test('a generated workload survives write and read unchanged (compressed and raw)', async () => {
    const log = generateWorkload({ events: 30_000, seed: 7 });
    for (const compress of [true, false]) {
      const file = path.join(dir, `workload-${compress}.vrt`);
      const writer = new TraceWriter(file, log, {
        header: testHeader(),
        compress,
        maxEventsPerChunk: 4096,
        flushIntervalMs: 0,
      });
      writer.close();
      const progress: number[] = [];
      const loaded = await loadTrace(file, { onProgress: (p) => progress.push(p.events) });
      expect(loaded.warnings).toEqual([]);
      expect(loaded.complete).toBe(true);
      expect(loaded.chunkCount).toBe(Math.ceil(log.length / 4096));
      expect(loaded.header).toEqual(testHeader());
      expect(progress.at(-1)).toBe(log.length);
      expectSameEvents(log, loaded);
    }
  });

  test('a file is decoded from disk one record at a time: no read is longer than the largest record', () => {
    const log = generateWorkload({ events: 40_000, seed: 11 });
    const file = path.join(dir, 'streamed.vrt');
    new TraceWriter(file, log, { header: testHeader(), maxEventsPerChunk: 2048, flushIntervalMs: 0 }).close();
    const size = statSync(file).size;
    // The largest record, from the frames (type u8, payload length u32 LE, crc u32 LE) after the preamble.
    const whole = readFileSync(file);
    let largestRecord = 0;
    let records = 0;
    for (let p = 12; p < whole.length; p += 9 + whole.readUInt32LE(p + 1), records++)
      largestRecord = Math.max(largestRecord, whole.readUInt32LE(p + 1));
    expect(records).toBeGreaterThan(20);
    const fd = openSync(file, 'r');
    let longestRead = 0;
    let bytesRead = 0;
    try {
      const inner = fileTraceBytes(fd, size);
      const counting: TraceBytes = {
        size: inner.size,
        read(position, length) {
          longestRead = Math.max(longestRead, length);
          bytesRead += length;
          return inner.read(position, length);
        },
      };
      const decoder = new TraceDecoder(counting, { inflate: nodeInflate });
      while (decoder.step()) {
        // record by record
      }
      const loaded = decoder.result();
      expect(loaded.warnings).toEqual([]);
      expect(loaded.complete).toBe(true);
      expectSameEvents(log, loaded);
    } finally {
      closeSync(fd);
    }
    expect(longestRead).toBe(largestRecord);
    expect(longestRead).toBeLessThan(size / 10);
    // Every byte once, plus each record's frame and a chunk's leading fields again for the size hint.
    expect(bytesRead).toBeLessThanOrEqual(size + records * (9 + 33));
  });

  test("file reads by position give the file's bytes: short ones from the read-ahead window, long ones whole", () => {
    const file = path.join(dir, 'random.bin');
    const content = new Uint8Array(3 * 1024 * 1024 + 123).map((_, i) => (i * 2654435761) >>> 24);
    writeFileSync(file, content);
    const fd = openSync(file, 'r');
    try {
      const bytes = fileTraceBytes(fd, content.length);
      const random = rng(99);
      let cursor = 0;
      for (let k = 0; k < 2000; k++) {
        // Mostly short reads walking forward (frames and small records: from the window, and across its
        // end), now and then one longer than the window at a random place.
        const long = k % 50 === 0;
        const length = long ? 1 + Math.floor(random() * 2_500_000) : Math.floor(random() * 5000);
        if (!long) cursor = (cursor + Math.floor(random() * 6000)) % (content.length - 5000);
        const position = long ? Math.floor(random() * (content.length - length + 1)) : cursor;
        const read = bytes.read(position, length);
        // Buffer.compare: a per-element toEqual of megabytes is slow.
        const same =
          read.length === length && Buffer.compare(read, content.subarray(position, position + length)) === 0;
        expect(same, `read ${position}+${length}`).toBe(true);
      }
      // At the window's edges: a read that ends on its last byte, one that ends a byte past it, the file's end.
      // (A fresh reader: its first read, at byte 1000, places the window.)
      const fresh = fileTraceBytes(fd, content.length);
      const edge = 1000 + 2 ** 20;
      for (const [position, length] of [
        [1000, 9],
        [edge - 9, 9],
        [edge - 8, 9],
        [content.length - 9, 9],
        [content.length - 20, 20],
      ] as const)
        expect(fresh.read(position, length), `read ${position}+${length}`).toEqual(
          content.subarray(position, position + length),
        );
    } finally {
      closeSync(fd);
    }
  });

  test('columns sized for fewer events than the trace holds grow on the way and keep every value', () => {
    const log = generateWorkload({ events: 20_000, seed: 5 });
    const file = path.join(dir, 'grown.vrt');
    new TraceWriter(file, log, { header: testHeader(), maxEventsPerChunk: 1000, flushIntervalMs: 0 }).close();
    const bytes = readFileSync(file);
    // 100 events first: the columns double 8 times; the ones no chunk wrote are not copied, still all zero.
    const decoder = new TraceDecoder(bytes, { inflate: nodeInflate, maxInitialEvents: 100 });
    while (decoder.step()) {
      // record by record
    }
    const loaded = decoder.result();
    expect(loaded.warnings).toEqual([]);
    expectSameEvents(log, loaded);
    expect(loaded.events.columns.kind.buffer.byteLength).toBe(100 * 2 ** 8);
  });

  test('sizes near 2^53, unicode names, many strings and decision records round-trip', () => {
    const { clock, advance } = microClock();
    const log = new EventLog({ clock });
    const decisions = [testDecision(0, 1, 'GpuOnly'), undefined, testDecision(2, 4, 'CpuToGpu')];
    log.setDecisionSource((id) => decisions[id]);
    const max = Number.MAX_SAFE_INTEGER;
    log.blockCreate({ blockId: max, memoryTypeIndex: 1, size: max, dedicated: true });
    log.allocate({
      allocationId: max - 1,
      blockId: max,
      memoryTypeIndex: 1,
      offset: 0,
      size: max,
      alignment: 1,
      kind: AllocationKind.Dedicated,
      location: 'GpuOnly',
      name: 'Ω 🚀 テクスチャ',
      decisionId: 0,
      usedRetry: false,
      stack: 'file.mjs:1',
    });
    advance(2 ** 40);
    log.budgetSample({ heapIndex: 1, budget: max, usage: max - 7 });
    log.allocate({
      allocationId: 2 ** 32 + 1,
      blockId: max,
      memoryTypeIndex: 1,
      offset: 2 ** 52,
      size: 2 ** 52 - 1,
      alignment: 2 ** 31,
      kind: AllocationKind.Linear,
      location: 'CpuToGpu',
      name: '',
      decisionId: 2,
      usedRetry: true,
      stack: null,
    });
    for (let i = 0; i < 5000; i++) {
      advance(1);
      log.mark(`m${i}-${'é'.repeat(i % 7)}`, i % 3 === 0 ? null : `stack ${i}`);
    }
    log.rename(max - 1, 'renamed \u0000 nul and \\ backslash "quote"');
    log.failure({
      name: 'too big',
      size: max,
      alignment: 2 ** 40,
      location: 'GpuToCpu',
      linear: false,
      code: 'OutOfMemory',
      message: 'message ✗',
      decisionId: -1,
      stack: null,
    });
    log.free(2 ** 32 + 1);
    log.free(max - 1);
    log.blockDestroy(max);
    log.frame(0, '');
    log.frame(2 ** 53 - 1, 'last frame');
    const file = path.join(dir, 'extremes.vrt');
    const writer = new TraceWriter(file, log, {
      header: testHeader(),
      maxEventsPerChunk: 1000,
      flushIntervalMs: 0,
    });
    writer.close();
    const loaded = loadTraceSync(file);
    expect(loaded.warnings).toEqual([]);
    expectSameEvents(log, loaded);
    expect(loaded.events.decisions[1]).toBeUndefined();
  });

  test('the writer streams while the log grows: flushes land in order and close adds the index', () => {
    const { clock, advance } = microClock();
    const log = new EventLog({ clock });
    const file = path.join(dir, 'streaming.vrt');
    const writer = new TraceWriter(file, log, {
      header: testHeader(),
      maxEventsPerChunk: 64,
      flushIntervalMs: 0,
    });
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 37; i++) {
        advance(5);
        log.mark(`r${round} i${i}`);
      }
      writer.flush();
      const partial = loadTraceSync(file);
      expect(partial.events.length).toBe(log.length);
      expect(partial.complete).toBe(false);
      expect(partial.warnings[0]?.message).toMatch(/without its end-of-trace index/);
    }
    writer.close();
    const loaded = loadTraceSync(file);
    expect(loaded.complete).toBe(true);
    expectSameEvents(log, loaded);
    expect(writer.eventsWritten).toBe(log.length);
    expect(writer.bytesWritten).toBe(readFileSync(file).length);
  });

  test('openTrace loads and analyses in one call', async () => {
    const log = generateWorkload({ events: 5000, seed: 31, liveTarget: 100 });
    const file = path.join(dir, 'open.vrt');
    new TraceWriter(file, log, { header: testHeader(), flushIntervalMs: 0 }).close();
    const opened = await openTrace(file, { analysis: { checkpointInterval: 256 } });
    expect(opened.trace.events.length).toBe(log.length);
    expect(opened.analysis.checkpointInterval).toBe(256);
    expect(opened.analysis.summary.eventCount).toBe(log.length);
    expect(opened.analysis.leaksAt().count).toBe(opened.analysis.summary.liveAllocations);
  });

  test('the timer flushes on its own every flushIntervalMs', () => {
    vi.useFakeTimers();
    try {
      const { clock, advance } = microClock();
      const log = new EventLog({ clock });
      const file = path.join(dir, 'timer.vrt');
      const writer = new TraceWriter(file, log, { header: testHeader(), flushIntervalMs: 50 });
      for (let i = 0; i < 500; i++) {
        advance(3);
        log.mark(`tick ${i}`);
      }
      vi.advanceTimersByTime(49);
      expect(loadTraceSync(file).events.length).toBe(0);
      // The interval elapses (on the fake clock): the writer's own timer writes everything logged.
      vi.advanceTimersByTime(1);
      expect(loadTraceSync(file).events.length).toBe(500);
      writer.close();
      expect(loadTraceSync(file).complete).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  test('the recorder wires decisions from an allocator-like source and writes a createTraceHeader header', () => {
    const file = path.join(dir, 'recorder.vrt');
    const header = createTraceHeader({
      device: testDevice,
      allocator: { strategy: 'freelist' },
      session: { scenario: 'leaks', seed: 3, params: { frames: 10 } },
    });
    const recorder = new TraceRecorder({ path: file, header, flushIntervalMs: 0 });
    let sink: unknown = null;
    recorder.attach({ setEventSink: (s) => (sink = s), decision: (id) => testDecision(id, 1, 'GpuOnly') });
    expect(sink).toBe(recorder.log);
    recorder.log.blockCreate({ blockId: 1, memoryTypeIndex: 1, size: 1 << 20, dedicated: false });
    recorder.log.allocate({
      allocationId: 1,
      blockId: 1,
      memoryTypeIndex: 1,
      offset: 0,
      size: 256,
      alignment: 256,
      kind: AllocationKind.Linear,
      location: 'GpuOnly',
      name: 'a',
      decisionId: 5,
      usedRetry: false,
      stack: null,
    });
    for (let i = 0; i < 1000; i++) recorder.tick();
    recorder.close();
    const loaded = loadTraceSync(file);
    expect(loaded.header.allocator.strategy).toBe('freelist');
    expect(loaded.header.session?.scenario).toBe('leaks');
    expect(loaded.events.decisions[5]).toEqual(testDecision(5, 1, 'GpuOnly'));
    expect(loaded.events.length).toBe(2);
    expect(traceEventsOf(recorder.log).length).toBe(2);
  });

  test('the writer refuses values a trace cannot hold, naming the event', () => {
    const log = new EventLog();
    log.blockCreate({ blockId: 1, memoryTypeIndex: 1, size: -5, dedicated: false });
    const file = path.join(dir, 'bad.vrt');
    const writer = new TraceWriter(file, log, { header: testHeader(), flushIntervalMs: 0 });
    expect(() => writer.flush()).toThrow(/event 0: column "size" holds -5/);
    const long = new EventLog();
    long.mark('x'.repeat(2 ** 20 + 1));
    const longWriter = new TraceWriter(path.join(dir, 'long.vrt'), long, {
      header: testHeader(),
      flushIntervalMs: 0,
    });
    expect(() => longWriter.flush()).toThrow(/longer than 1048576 UTF-16 units/);
    log.blockCreate({ blockId: 2, memoryTypeIndex: 1, size: 1.5, dedicated: false });
  });

  test('a torn final chunk is dropped with a warning naming the byte and the events kept', () => {
    const log = generateWorkload({ events: 3000, seed: 12 });
    const file = path.join(dir, 'torn.vrt');
    const writer = new TraceWriter(file, log, {
      header: testHeader(),
      maxEventsPerChunk: 1000,
      flushIntervalMs: 0,
    });
    writer.flush();
    const bytes = new Uint8Array(readFileSync(file));
    writer.close();
    const full = loadTraceSync(file);
    expect(full.chunkCount).toBe(3);
    // `bytes` is the file before close(): three chunks, no index. Cut inside the third chunk.
    for (const cut of [bytes.length - 1, bytes.length - 200]) {
      const torn = loadTraceSync(bytes.subarray(0, cut));
      expect(torn.events.length).toBe(2000);
      expect(torn.warnings).toHaveLength(1);
      const w = torn.warnings[0]!;
      expect(w.eventIndex).toBe(2000);
      expect(w.message).toMatch(
        /^the record at byte (\d+) claims \d+ bytes but only \d+ remain \(torn write\); kept the 2000 events before it$/,
      );
      expect(w.position).toBe(Number(/byte (\d+)/.exec(w.message)![1]));
      expect(w.position).toBeLessThan(cut);
      // The prefix is the same events.
      expect(Array.from(torn.events.columns.id)).toEqual(
        Array.from(full.events.columns.id.subarray(0, 2000)),
      );
    }
    // Strict mode turns the same problem into a TraceFormatError at that byte.
    expect(() => loadTraceSync(bytes.subarray(0, bytes.length - 1), { strict: true })).toThrow(
      TraceFormatError,
    );
  });

  test('the pure decoder loads with the web DecompressionStream (no Node zlib) the same events', async () => {
    const log = generateWorkload({ events: 20_000, seed: 21 });
    const file = path.join(dir, 'web.vrt');
    new TraceWriter(file, log, { header: testHeader(), maxEventsPerChunk: 3000, flushIntervalMs: 0 }).close();
    const bytes = new Uint8Array(readFileSync(file));
    const seen: number[] = [];
    const web = await decodeTraceAsync(bytes, {
      inflate: webInflate,
      onProgress: (p) => seen.push(p.events),
    });
    expect(web.warnings).toEqual([]);
    expect(web.complete).toBe(true);
    expectSameEvents(log, web);
    expect(seen.at(-1)).toBe(log.length);
    // A chunk whose deflate stream is damaged (checksum re-sealed) stops loading there, with the prefix kept.
    const damaged = bytes.slice();
    const sync = loadTraceSync(bytes);
    expect(sync.chunkCount).toBe(7);
    const dv = new DataView(damaged.buffer);
    let p = 12;
    for (let k = 0; k < 3; k++) p += 9 + dv.getUint32(p + 1, true); // header + 2 chunks
    const len = dv.getUint32(p + 1, true);
    for (let q = p + 9 + 12; q < p + 9 + len; q += 7) damaged[q] = 0xff;
    dv.setUint32(p + 5, crc32(damaged, crc32(damaged, 0, p, p + 1), p + 9, p + 9 + len), true);
    for (const result of [await decodeTraceAsync(damaged, { inflate: webInflate }), loadTraceSync(damaged)]) {
      expect(result.events.length).toBe(6000);
      expect(result.warnings).toHaveLength(1);
      expect(result.warnings[0]!.position).toBe(p);
    }
  });

  test('bad magic and unknown versions are one TraceFormatError at a byte position', () => {
    const log = generateWorkload({ events: 100, seed: 1 });
    const file = path.join(dir, 'small.vrt');
    new TraceWriter(file, log, { header: testHeader(), flushIntervalMs: 0 }).close();
    const bytes = new Uint8Array(readFileSync(file));
    const badMagic = bytes.slice();
    badMagic[1] = 0x41;
    expect(() => loadTraceSync(badMagic)).toThrow(TraceFormatError);
    const badVersion = bytes.slice();
    badVersion[8] = 2;
    try {
      loadTraceSync(badVersion);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TraceFormatError);
      expect((error as TraceFormatError).position).toBe(8);
      expect((error as Error).message).toMatch(/unknown trace format version 2/);
    }
  });
});
