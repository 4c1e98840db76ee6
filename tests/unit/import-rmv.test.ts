// Radeon Memory Visualizer traces: both containers (legacy RMT, RDF), from AMD's own sample traces and
// from traces written by tests/support/rmv-writer.ts (token layouts as AMD documents them), whose totals
// follow from the description by hand; malformed files give one clear sentence.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { TraceEventKind } from '../../allocator/event-log.ts';
import {
  detectFormat,
  endState,
  ImportError,
  summaryLine,
  type ImportResult,
} from '../../allocator/import/index.ts';
import { expectedTotals, fixture, importBytes, totalsOf } from '../support/import-fixtures.ts';
import {
  concat,
  encodeStream,
  rdfFile,
  rdfStreams,
  rmtFile,
  rmtStreams,
  type RmvDescription,
} from '../support/rmv-writer.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const A = 0x10_0000;
const B = 0x20_0000;
const C = 0x30_0000;
const D = 0x40_0000;
const E = 0x50_0000;

/**
 * Two streams. Live at the end: A (16 pages, invisible), B (4 pages, local), D (2 pages, no preference),
 * E (2 pages, invisible); C is freed. Bound and live: 1 (4096 at A), 2 (16384 at A+8192, named), 4 (1000
 * at B+4096), 10 (4096 at E), 11 (256 at E+4096). Not allocations: the heap resource 3, resource 5
 * (destroyed), resource 12 (never bound), the bind of the unknown resource 99.
 */
const description: RmvDescription = {
  adapter: 'Test Radeon 9000',
  segments: [
    { heap: 0, base: 0, size: 256 * MiB },
    { heap: 1, base: 256 * MiB, size: 8 * GiB },
    { heap: 2, base: 0, size: 16 * GiB },
  ],
  streams: [
    {
      major: 1,
      minor: 6,
      start: 1000,
      frequency: 1_000_000,
      ops: [
        { op: 'va', address: A, pages: 16, heap: 1, dt: 1 },
        { op: 'va', address: B, pages: 4, heap: 0, dt: 2 },
        { op: 'va', address: C, pages: 8, heap: 2, dt: 20 },
        { op: 'create', id: 1, type: 1, dt: 1 },
        { op: 'bind', id: 1, address: A, size: 4096 },
        { op: 'create', id: 2, type: 0, dt: 3 },
        { op: 'bind', id: 2, address: A + 8192, size: 16384 },
        { op: 'name', id: 2, name: 'albedo' },
        { op: 'create', id: 3, type: 11 },
        { op: 'bind', id: 3, address: B, size: 16384 },
        { op: 'create', id: 4, type: 1 },
        { op: 'bind', id: 4, address: B + 4096, size: 1000 },
        { op: 'snapshot', name: 'frame 1', dt: 5 },
        { op: 'create', id: 5, type: 1 },
        { op: 'bind', id: 5, address: C, size: 2048 },
        { op: 'destroy', id: 5, dt: 2 },
        { op: 'vf', address: C, dt: 300 },
        { op: 'va', address: D, pages: 2, heap: 3 },
        { op: 'pageTable' },
        { op: 'residency' },
        { op: 'cpuMap' },
        { op: 'misc' },
        { op: 'pageReference' },
        { op: 'bind', id: 99, address: A, size: 64 },
      ],
    },
    {
      major: 1,
      minor: 0,
      start: 1010,
      frequency: 1_000_000,
      ops: [
        { op: 'va', address: E, pages: 2, heap: 1, dt: 4 },
        { op: 'create', id: 10, type: 1 },
        { op: 'bind', id: 10, address: E, size: 4096 },
        { op: 'create', id: 11, type: 14, poolSizes: 2 },
        { op: 'bind', id: 11, address: E + 4096, size: 256 },
        { op: 'create', id: 12, type: 0 }, // an image before RMT 1.6: a 38-byte payload
        { op: 'vf', address: 0x90_0000, dt: 7 },
      ],
    },
  ],
  snapshots: [{ ts: 1005 * 32, name: 'Snapshot 0' }],
};

const expected = {
  blocks: 4,
  block_bytes: (16 + 4 + 2 + 2) * 4096,
  allocations: 5,
  allocated_bytes: 4096 + 16384 + 1000 + 4096 + 256,
  // Tokens: each stream's timestamp, one per op, and a TimeDelta before ops whose delta does not fit the
  // 4-bit nibble (dt > 15) or that carry none (destroy with dt 2).
  events: 1 + 24 + 3 + (1 + 7),
};

function marks(r: ImportResult): string[] {
  const c = r.log.columns;
  const out: string[] = [];
  for (let i = 0; i < r.log.length; i++)
    if (c.kind[i] === TraceEventKind.Mark) out.push(r.log.strings.get(c.name[i]!));
  return out;
}

function sameLog(a: ImportResult, b: ImportResult): void {
  expect(a.log.length).toBe(b.log.length);
  const ca = a.log.columns;
  const cb = b.log.columns;
  for (const col of ['kind', 'time', 'id', 'block', 'type', 'offset', 'size'] as const)
    expect(Array.from(ca[col].subarray(0, a.log.length))).toEqual(
      Array.from(cb[col].subarray(0, b.log.length)),
    );
}

async function importError(name: string, bytes: Uint8Array, format?: 'rmv'): Promise<string> {
  try {
    await importBytes(name, bytes, 4096, format ? { format } : {});
  } catch (error) {
    expect(error).toBeInstanceOf(ImportError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`${name} was imported, an error was expected`);
}

describe('RMV traces written from a description', () => {
  test('legacy RMT file: totals, heaps from the segments, marks, names, ignored tokens counted', async () => {
    const bytes = rmtFile(description);
    expect(detectFormat(bytes.subarray(0, 64))).toBe('rmv');
    const r = await importBytes('gen.rmv', bytes, 333);
    expect(totalsOf(r)).toEqual(expected);
    expect(r.header.importedFrom).toEqual({ format: 'rmv', version: 'rmt-1.0', file: 'gen.rmv' });
    expect(summaryLine(r)).toBe(
      `format=rmv version=rmt-1.0 blocks=4 block_bytes=${expected.block_bytes} allocations=5 allocated_bytes=${expected.allocated_bytes} events=${expected.events}`,
    );
    expect(r.header.device.name).toBe('Test Radeon 9000');
    expect(r.header.device.heaps.map((h) => h.size)).toEqual([256 * MiB, 8 * GiB, 16 * GiB]);
    // Per memory type (= RMT heap kind): A and E invisible, B local, D no preference.
    expect(r.perType.map((t) => t.blocks)).toEqual([1, 2, 0, 1]);
    expect(r.perType.map((t) => t.allocations)).toEqual([1, 4, 0, 0]);
    expect(marks(r)).toEqual(['snapshot: Snapshot 0', 'snapshot: frame 1']);
    // The timeline ends in the printed totals.
    const end = endState(r.log);
    expect(end.totals).toEqual(r.totals);
    expect(end.unknownIds).toBe(0);
    // Allocation 2 at offset 8192 of block A, named by its userdata token.
    const c = r.log.columns;
    let named = '';
    for (let i = 0; i < r.log.length; i++)
      if (c.kind[i] === TraceEventKind.Allocate && c.size[i] === 16384) {
        expect(c.offset[i]).toBe(8192);
        named = r.log.strings.get(c.name[i]!);
      }
    // The name token comes after the bind: the allocation is renamed.
    const renames: string[] = [];
    for (let i = 0; i < r.log.length; i++)
      if (c.kind[i] === TraceEventKind.Rename) renames.push(r.log.strings.get(c.name[i]!));
    expect(named).toBe('resource 2'); // unnamed at its bind: the driver's resource id
    expect(renames).toEqual(['albedo']);
    expect(r.warnings.join(' ')).toMatch(/1 resource binds name a resource the trace never created/);
    const found = r.found.join('\n');
    expect(found).toMatch(/1 page table updates/);
    expect(found).toMatch(/1 residency/);
    expect(found).toMatch(/1 heap-resource binds/);
    expect(found).toMatch(/1 virtual frees of allocations made before the trace started/);
    // Times: stream clock at 1 MHz, 32 ticks per quantum, origin = the earliest stream start.
    let last = 0;
    for (let i = 0; i < r.log.length; i++) {
      expect(c.time[i]!).toBeGreaterThanOrEqual(last);
      last = c.time[i]!;
    }
    expect(last).toBeCloseTo(((1000 + 1 + 2 + 20 + 1 + 3 + 5 + 2 + 300 - 1000) * 32) / 1000, 6);
  });

  test('RDF file: the same totals and the same event log, whole or cut into 7-byte chunks interleaved', async () => {
    const legacy = await importBytes('gen.rmv', rmtFile(description));
    for (const options of [{}, { chunkBytes: 7, interleave: true }]) {
      const r = await importBytes('gen.rmv', rdfFile(description, options), 1000);
      expect(totalsOf(r)).toEqual(expected);
      expect(r.header.importedFrom.version).toBe('rdf-3');
      expect(marks(r)).toEqual(['snapshot: Snapshot 0', 'snapshot: frame 1']);
      sameLog(r, legacy);
    }
  });

  test('a resource bound outside every virtual allocation becomes a block of its own (shared memory)', async () => {
    const d: RmvDescription = {
      streams: [
        {
          ops: [
            { op: 'create', id: 1, type: 1 },
            { op: 'bind', id: 1, address: 0x7000_0000, size: 8192 },
          ],
        },
      ],
    };
    const r = await importBytes('shared.rmv', rdfFile(d));
    expect(totalsOf(r)).toMatchObject({
      blocks: 1,
      block_bytes: 8192,
      allocations: 1,
      allocated_bytes: 8192,
    });
    expect(r.found.join('\n')).toMatch(/1 resources bound outside every virtual allocation/);
  });
});

test('a 1 MiB userdata token fed in 7-byte pieces is read once (linear carry-over), then the stream goes on', async () => {
  const length = (1 << 20) - 1; // the largest userdata payload: 20 bits
  const big = new Uint8Array(4 + length);
  // Userdata (type 4), subtype binary (2) in bits 8-11, payload length in bits 12-31.
  new DataView(big.buffer).setUint32(0, 4 | (2 << 8) | (length << 12), true);
  const before = encodeStream({ ops: [{ op: 'va', address: A, pages: 1, heap: 1 }] });
  const after = encodeStream({ ops: [{ op: 'va', address: B, pages: 2, heap: 1 }] }).subarray(12);
  const stream = { bytes: concat([before, big, after]), major: 1, minor: 0 };
  const r = await importBytes('big.rmv', rdfFile({ streams: [] }, { raw: [stream], chunkBytes: 4096 }), 7);
  expect(totalsOf(r)).toMatchObject({ blocks: 2, block_bytes: 3 * 4096, events: 4 });
  expect(r.found.join('\n')).toMatch(/1 binary or reserved userdata/);
});

describe("AMD's sample traces (GPUOpen-Tools/radeon_memory_visualizer samples/sample_trace.rmv)", () => {
  const rdf = new Uint8Array(readFileSync(fixture('rmv-amd-sample-rdf.rmv')));
  const rmt = new Uint8Array(readFileSync(fixture('rmv-amd-sample-rmt.rmv')));

  test('RDF sample (RMV 1.13): adapter, segments and the four snapshots as the file holds them', async () => {
    const r = await importBytes('sample_trace.rmv', rdf);
    expect(r.header.importedFrom.version).toBe('rdf-3');
    expect(r.header.device.name).toBe('AMD Radeon RX 6600');
    expect(r.header.device.heaps.map((h) => h.size)).toEqual([268435456, 8304721920, 68623638528]);
    expect(marks(r).sort()).toEqual(
      ['Snapshot 0', 'Snapshot 1', 'Snapshot 2', 'Snapshot 3'].map((n) => `snapshot: ${n}`),
    );
    expect(endState(r.log).totals).toEqual(r.totals);
    // Totals from the second, independent reader (make-rmv-expected.py).
    const { marks: markCount, ...want } = expectedTotals('rmv-amd-sample-rdf.rmv') as ReturnType<
      typeof expectedTotals
    > & { marks: number };
    expect(totalsOf(r)).toEqual(want);
    expect(marks(r).length).toBe(markCount);
  });

  test('legacy sample (RMV 1.0): adapter and segments', async () => {
    const r = await importBytes('sample_trace.rmv', rmt);
    expect(r.header.importedFrom.version).toBe('rmt-1.0');
    expect(r.header.device.name).toBe('Radeon RX 5500 XT');
    expect(r.header.device.heaps.map((h) => h.size)).toEqual([268435456, 8304721920, 34305249280]);
    expect(endState(r.log).totals).toEqual(r.totals);
    const { marks: markCount, ...want } = expectedTotals('rmv-amd-sample-rmt.rmv') as ReturnType<
      typeof expectedTotals
    > & { marks: number };
    expect(totalsOf(r)).toEqual(want);
    expect(marks(r).length).toBe(markCount);
  });

  test('the same token streams in the other container give the same timeline', async () => {
    const fromRmt = await importBytes('a.rmv', rmt);
    const rewrapped = await importBytes(
      'b.rmv',
      rdfFile({ streams: [] }, { raw: rmtStreams(rmt), chunkBytes: 4093, interleave: true }),
    );
    expect(totalsOf(rewrapped)).toEqual(totalsOf(fromRmt));
    sameLog(rewrapped, fromRmt);
    const fromRdf = await importBytes('c.rmv', rdf);
    const back = await importBytes('d.rmv', rmtFile({ streams: [] }, rdfStreams(rdf)));
    expect(totalsOf(back)).toEqual(totalsOf(fromRdf));
  });
});

describe('malformed RMV files: one sentence, no file content', () => {
  const good = rmtFile(description);
  const goodRdf = rdfFile(description);

  test('bad magic', async () => {
    const bytes = good.slice();
    bytes[0] = 0x41;
    expect(await importError('x.rmv', bytes)).toMatch(/x\.rmv is not a .* or an RMV trace/);
    expect(await importError('x.rmv', bytes, 'rmv')).toMatch(
      /starts with neither the RMT magic .* nor the RDF magic/,
    );
  });

  test('truncated files', async () => {
    expect(await importError('t.rmv', good.subarray(0, good.length - 20))).toMatch(
      /runs past the end of the file: the file is truncated/,
    );
    expect(await importError('t.rmv', good.subarray(0, 40))).toMatch(/RMT file header is cut off/);
    expect(await importError('t.rmv', goodRdf.subarray(0, goodRdf.length - 1))).toMatch(
      /the file is truncated/,
    );
    const partial = await importBytes('t.rmv', good.subarray(0, good.length - 20), 4096, { partial: true });
    expect(partial.warnings.some((w) => w.startsWith('Reading stopped early'))).toBe(true);
  });

  test('bad token sizes and reserved tokens', async () => {
    // A stream whose last token is cut short (a 17-byte bind with 10 bytes present).
    const cut = encodeStream({ ops: [{ op: 'create', id: 1, type: 1 }] });
    const bind = encodeStream({ ops: [{ op: 'bind', id: 1, address: A, size: 4096 }] }).subarray(12, 22);
    const s1 = { bytes: concat([cut, bind]), major: 1, minor: 0 };
    expect(await importError('c.rmv', rdfFile({ streams: [] }, { raw: [s1] }))).toMatch(
      /ends inside a token at stream byte \d+ .*truncated/,
    );
    // Token type 2 is reserved and has no size: the stream cannot be read past it.
    const s2 = { bytes: concat([cut, new Uint8Array([0x02, 0, 0, 0])]), major: 1, minor: 0 };
    expect(await importError('r.rmv', rmtFile({ streams: [] }, [s2]))).toMatch(/token type 2 \(reserved/);
    // A chunk whose size is smaller than its own header.
    const bytes = good.slice();
    new DataView(bytes.buffer).setInt32(56 + 8, 3, true);
    expect(await importError('s.rmv', bytes)).toMatch(/has size 3, less than its 16-byte header/);
  });

  test('sizes and offsets beyond 2^53 are refused, not rounded', async () => {
    const bytes = goodRdf.slice();
    new DataView(bytes.buffer).setBigUint64(16, 2n ** 60n, true); // index offset
    expect(await importError('o.rmv', bytes)).toMatch(/chunk index offset is beyond 2\^53/);
    const seg = rmtFile({ segments: [{ heap: 1, base: 0, size: 1 }], streams: [] });
    new DataView(seg.buffer).setBigUint64(56 + 16 + 8, 2n ** 62n, true);
    expect(await importError('g.rmv', seg)).toMatch(/segment size is beyond 2\^53/);
    const clock = encodeStream({ start: 1, ops: [] });
    new DataView(clock.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(
      await importError('k.rmv', rmtFile({ streams: [] }, [{ bytes: clock, major: 1, minor: 0 }])),
    ).toMatch(/beyond 2\^53 clock ticks/);
  });

  test('errors name offsets and known chunk kinds, never text from the file', async () => {
    const secret = 'SECRET-7f3a';
    const d: RmvDescription = { ...description, adapter: secret, snapshots: [{ ts: 1, name: secret }] };
    const rdfBytes = rdfFile(d);
    // An unknown chunk named by the file, whose data lies outside the file.
    const dv = new DataView(rdfBytes.buffer);
    const indexAt = Number(dv.getBigUint64(16, true));
    rdfBytes.set(new TextEncoder().encode(secret.padEnd(16, '\0')), indexAt);
    dv.setBigUint64(indexAt + 40, BigInt(rdfBytes.length + 100), true);
    const messages = [
      await importError('a.rmv', rdfBytes),
      await importError('b.rmv', rmtFile(d).subarray(0, rmtFile(d).length - 3)),
      await importError('c.rmv', rdfFile(d).subarray(0, 200)),
    ];
    for (const m of messages) expect(m).not.toContain(secret);
    expect(messages[0]).toMatch(/RDF index entry 0 .*lies outside the file/);
  });

  test('compressed RDF chunks are refused by name', async () => {
    const bytes = goodRdf.slice();
    const dv = new DataView(bytes.buffer);
    const indexAt = Number(dv.getBigUint64(16, true));
    // Entry 0 is GpuMemSegment.
    bytes[indexAt + 16] = 1;
    expect(await importError('z.rmv', bytes)).toMatch(
      /"GpuMemSegment" \(RDF index entry 0\) is Zstd-compressed; compressed chunks are not supported/,
    );
  });
});
