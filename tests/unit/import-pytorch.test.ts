import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { detectFormat, endState, summaryLine } from '../../allocator/import/index.ts';
import {
  MemoReferenceScanner,
  PickleStreamReader,
  type PicklePath,
  type PickleValue,
} from '../../allocator/import/pickle.ts';
import { TraceEventKind } from '../../allocator/index.ts';
import {
  eventRows,
  expectedTotals,
  fixture,
  importBytes,
  importFixture,
  totalsOf,
} from '../support/import-fixtures.ts';

const pickles = [
  'pytorch-trace-p2.pickle',
  'pytorch-trace-p4.pickle',
  'pytorch-trace-p5.pickle',
  'pytorch-ringbuffer-2dev-p4.pickle',
  'pytorch-bigint-p5.pickle',
  'pytorch-snapshot-only-p4.pickle',
  'pytorch-empty-p5.pickle',
  'pytorch-segments-list-p0.pickle',
  'pytorch-expandable-p4.pickle',
];

describe('PyTorch memory snapshots', () => {
  for (const name of [...pickles, 'pytorch-trace.json']) {
    test(`${name}: the snapshot's totals, and a timeline that ends in the snapshot's state`, async () => {
      const r = await importFixture(name, 509);
      expect(totalsOf(r)).toEqual(expectedTotals(name));
      expect(r.warnings).toEqual([]);
      const end = endState(r.log);
      expect(end.unknownIds).toBe(0);
      expect(end.totals).toEqual(r.timelineEnd ?? r.totals);
      expect(r.header.importedFrom.format).toBe('pytorch');
      // Times never go backwards.
      const t = r.log.columns.time;
      for (let i = 1; i < r.log.length; i++) expect(t[i]!).toBeGreaterThanOrEqual(t[i - 1]!);
    });
  }

  test('protocols 2, 4, 5 and JSON of one snapshot give the same timeline', async () => {
    const logs = await Promise.all(
      [
        'pytorch-trace-p2.pickle',
        'pytorch-trace-p4.pickle',
        'pytorch-trace-p5.pickle',
        'pytorch-trace.json',
      ].map((n) => importFixture(n)),
    );
    expect(logs.map((r) => r.header.importedFrom.version)).toEqual([
      'pickle-2',
      'pickle-4',
      'pickle-5',
      'json',
    ]);
    const first = eventRows(logs[0]!);
    expect(first.length).toBeGreaterThan(100);
    for (const r of logs.slice(1)) expect(eventRows(r)).toEqual(first);
  });

  test('the trace becomes allocate/free/block events with frames as stacks', async () => {
    const r = await importFixture('pytorch-trace-p5.pickle');
    const doc = JSON.parse(readFileSync(fixture('pytorch-trace.json'), 'utf8')) as {
      device_traces: { action: string; frames?: { name: string }[] }[][];
    };
    const count = (a: string): number => doc.device_traces[0]!.filter((e) => e.action === a).length;
    const c = r.log.columns;
    const kinds = new Map<number, number>();
    for (let i = 0; i < r.log.length; i++) kinds.set(c.kind[i]!, (kinds.get(c.kind[i]!) ?? 0) + 1);
    expect(kinds.get(TraceEventKind.Allocate)).toBe(count('alloc'));
    expect(kinds.get(TraceEventKind.BlockCreate)).toBe(count('segment_alloc'));
    expect(kinds.get(TraceEventKind.BlockDestroy)).toBe(count('segment_free'));
    expect(kinds.get(TraceEventKind.Free)).toBe(count('free_requested'));
    expect(kinds.get(TraceEventKind.Mark)).toBe(count('snapshot') + count('annotate'));
    expect(kinds.get(TraceEventKind.Failure)).toBe(count('oom'));
    expect(count('oom')).toBe(1);
    for (let i = 0; i < r.log.length; i++) {
      if (c.kind[i] === TraceEventKind.Failure) {
        expect(r.log.strings.get(c.code[i]!)).toBe('CUDA_OUT_OF_MEMORY');
        expect(r.log.strings.get(c.message[i]!)).toBe(
          `CUDA out of memory on device 0: ${80 * 1024 * 1024 * 1024} bytes requested, ${3 * 1024 * 1024} bytes free on the device`,
        );
      }
      if (c.kind[i] === TraceEventKind.Mark && r.log.strings.get(c.name[i]!).startsWith('annotate'))
        expect(r.log.strings.get(c.name[i]!)).toContain('{"tag":"weights"}');
    }
    const firstAlloc = doc.device_traces[0]!.find((e) => e.action === 'alloc')!;
    let stack = '';
    for (let i = 0; i < r.log.length && stack === ''; i++)
      if (c.kind[i] === TraceEventKind.Allocate) stack = r.log.strings.get(c.stack[i]!);
    expect(stack.split('\n')[0]).toContain(firstAlloc.frames![0]!.name);
    expect(summaryLine(r)).toMatch(
      /^format=pytorch version=pickle-5 blocks=\d+ block_bytes=\d+ allocations=\d+ allocated_bytes=\d+ events=266$/,
    );
  });

  test('segment_free with allocations still live in it: those (only those) are freed with it', async () => {
    const MiB = 1 << 20;
    const [s1, s2, s3] = [0x7f0000000000, 0x7f0000200000, 0x7f0000400000];
    const doc = {
      // The end state: the segments on either side of the freed one, one allocation live in each.
      segments: [s1, s3].map((address) => ({
        device: 0,
        address,
        total_size: 2 * MiB,
        allocated_size: 512,
        stream: 0,
        is_expandable: false,
        blocks: [
          { address, size: 512, requested_size: 512, state: 'active_allocated', frames: [] },
          { address: address + 512, size: 2 * MiB - 512, requested_size: 0, state: 'inactive', frames: [] },
        ],
      })),
      device_traces: [
        [
          ...[s1, s2, s3].map((addr) => ({ action: 'segment_alloc', addr, size: 2 * MiB, stream: 0 })),
          // s2's allocations are made between those of s1 and s3 (insertion order mixes the segments).
          ...[s1, s2, s3, s2 + 512, s2 + 1024].map((addr) => ({
            action: 'alloc',
            addr,
            size: 512,
            stream: 0,
          })),
          { action: 'free_requested', addr: s2 + 512, size: 512, stream: 0 },
          { action: 'free_completed', addr: s2 + 512, size: 512, stream: 0 },
          { action: 'segment_free', addr: s2, size: 2 * MiB, stream: 0 },
        ].map((e, i) => ({ ...e, time_us: 1000 + i })),
      ],
    };
    const r = await importBytes('freed-with-live.json', new TextEncoder().encode(JSON.stringify(doc)));
    expect(r.warnings).toEqual([
      'The trace is inconsistent: 2 × allocation still live when its segment was freed (freed with it); skipped',
    ]);
    const c = r.log.columns;
    const events: string[] = [];
    for (let i = 0; i < r.log.length; i++) {
      const kind = c.kind[i] as TraceEventKind;
      if (kind === TraceEventKind.Allocate) events.push(`allocate ${c.id[i]} at ${c.address[i]! - s1}`);
      else if (kind === TraceEventKind.Free) events.push(`free ${c.id[i]}`);
      else if (kind === TraceEventKind.BlockDestroy) events.push(`blockDestroy ${c.id[i]}`);
    }
    // Allocation ids in allocation order: 1 (s1), 2 (s2), 3 (s3), 4 (s2 + 512, freed), 5 (s2 + 1024).
    expect(events).toEqual([
      'allocate 1 at 0',
      `allocate 2 at ${s2 - s1}`,
      `allocate 3 at ${s3 - s1}`,
      `allocate 4 at ${s2 - s1 + 512}`,
      `allocate 5 at ${s2 - s1 + 1024}`,
      'free 4',
      'free 2', // freed with segment s2 (block 2), in the order they were made
      'free 5',
      'blockDestroy 2',
    ]);
    expect(endState(r.log).totals).toEqual(r.timelineEnd ?? r.totals);
  });

  test('sizes of 4 GiB and more, and hundreds of streams, come through the narrow entry columns exactly', async () => {
    const GiB = 2 ** 30;
    const seg = 0x7f0000000000;
    const streams = Array.from({ length: 300 }, (_, k) => 0x5000 + 16 * k);
    const sizes = [4 * GiB - 1, 4 * GiB, 4.5 * GiB + 512, ...streams.slice(3).map((_, k) => 512 * (k + 1))];
    const addrs: number[] = [];
    for (let k = 0, at = seg; k < streams.length; at += sizes[k]!, k++) addrs.push(at);
    const total = addrs.at(-1)! + sizes.at(-1)! - seg;
    const doc = {
      segments: [{ device: 0, address: seg, total_size: total, stream: 0, is_expandable: false, blocks: [] }],
      device_traces: [
        [
          { action: 'segment_alloc', addr: seg, size: total, stream: 0 },
          ...streams.map((stream, k) => ({ action: 'alloc', addr: addrs[k], size: sizes[k], stream })),
          ...streams.map((stream, k) => ({
            action: 'free_requested',
            addr: addrs[k],
            size: sizes[k],
            stream,
          })),
        ].map((e, i) => ({ ...e, time_us: 1000 + i })),
      ],
    };
    const r = await importBytes('wide.json', new TextEncoder().encode(JSON.stringify(doc)));
    expect(r.warnings).toEqual([]);
    const c = r.log.columns;
    const made: [number, number, number][] = [];
    for (let i = 0; i < r.log.length; i++)
      if (c.kind[i] === TraceEventKind.Allocate) made.push([c.size[i]!, c.stream[i]! - 1, c.address[i]!]);
    expect(made).toEqual(streams.map((stream, k) => [sizes[k], stream, addrs[k]]));
    const blocks: number[] = [];
    for (let i = 0; i < r.log.length; i++)
      if (c.kind[i] === TraceEventKind.BlockCreate) blocks.push(c.size[i]!);
    expect(blocks).toEqual([total]);
  });

  test('ring buffer: memory from before the trace is created at time 0, frees of it are not lost', async () => {
    const r = await importFixture('pytorch-ringbuffer-2dev-p4.pickle');
    expect(r.header.device.types).toHaveLength(2);
    expect(r.found.some((l) => /allocations existed before the trace started/.test(l))).toBe(true);
    expect(r.warnings).toEqual([]);
    const c = r.log.columns;
    let atZeroBlocks = 0;
    for (let i = 0; i < r.log.length; i++)
      if (c.kind[i] === TraceEventKind.BlockCreate && c.time[i] === 0) atZeroBlocks++;
    expect(atZeroBlocks).toBeGreaterThan(0);
  });

  test('addresses above 2^63 and streams above 2^53 import exactly (offsets stay exact)', async () => {
    const r = await importFixture('pytorch-bigint-p5.pickle');
    expect(totalsOf(r)).toEqual(expectedTotals('pytorch-bigint-p5.pickle'));
    const c = r.log.columns;
    for (let i = 0; i < r.log.length; i++) {
      if (c.kind[i] !== TraceEventKind.Allocate) continue;
      expect(Number.isSafeInteger(c.offset[i])).toBe(true);
      expect(c.offset[i]!).toBeLessThan(1 << 30);
    }
  });

  test('expandable segments: each mapped piece is a block, an allocation may run across pieces', async () => {
    const r = await importFixture('pytorch-expandable-p4.pickle');
    expect(r.warnings).toEqual([]);
    // The snapshot's one segment (two 20 MiB pieces) is two blocks in the timeline; the third piece was
    // mapped and unmapped during the trace.
    expect(r.timelineEnd).toEqual({ ...r.totals, blocks: 2 });
    const c = r.log.columns;
    const sizes: number[] = [];
    let destroyed = 0;
    for (let i = 0; i < r.log.length; i++) {
      if (c.kind[i] === TraceEventKind.BlockCreate) sizes.push(c.size[i]!);
      if (c.kind[i] === TraceEventKind.BlockDestroy) destroyed++;
      if (c.kind[i] === TraceEventKind.Allocate && c.size[i] === 24 * 1024 * 1024)
        expect(c.offset[i]).toBe(8 * 1024 * 1024);
    }
    expect(sizes).toEqual([20, 20, 20].map((m) => m * 1024 * 1024));
    expect(destroyed).toBe(1);
  });

  test('snapshot only (no history): one point in time, per-device memory types', async () => {
    const r = await importFixture('pytorch-snapshot-only-p4.pickle');
    expect(r.sourceEvents).toBe(0);
    expect(r.found.some((l) => l.includes('one point in time'))).toBe(true);
    expect(r.perType.map((t) => t.blocks).reduce((a, b) => a + b)).toBe(r.totals.blocks);
    expect(r.header.device.heaps.every((h) => h.size > 0)).toBe(true);
    expect(new Set(Array.from(r.log.columns.time.subarray(0, r.log.length)))).toEqual(new Set([0]));
  });

  test('format detection: pickles by opcode, JSON by first key', () => {
    const head = (n: string): Uint8Array => new Uint8Array(readFileSync(fixture(n))).subarray(0, 4096);
    for (const n of pickles) expect(detectFormat(head(n))).toBe('pytorch');
    expect(detectFormat(head('pytorch-trace.json'))).toBe('pytorch');
  });

  for (const name of [
    'pytorch-trace-p2.pickle',
    'pytorch-trace-p4.pickle',
    'pytorch-ringbuffer-2dev-p4.pickle',
  ]) {
    test(`${name}: the segment and trace lists are streamed, not kept (bounded memory)`, () => {
      const bytes = new Uint8Array(readFileSync(fixture(name)));
      const scanner = new MemoReferenceScanner();
      scanner.feed(bytes);
      let streamed = 0;
      const reader = new PickleStreamReader({
        referencedMemo: scanner.referenced,
        streamItems: (p: PicklePath) =>
          (p.length === 1 && p[0] === 'segments') || (p.length === 2 && p[0] === 'device_traces'),
        onItem: () => streamed++,
      });
      for (let i = 0; i < bytes.length; i += 4096) reader.feed(bytes.subarray(i, i + 4096));
      const root = reader.end() as Record<string, PickleValue>;
      expect(root.segments).toEqual([]);
      for (const list of root.device_traces as PickleValue[][]) expect(list).toEqual([]);
      const e = expectedTotals(name);
      expect(streamed).toBe(e.blocks + e.events!);
    });
  }

  test('not a snapshot: a pickle of something else names what was expected', async () => {
    // pickle.dumps({'x': 1}, protocol=4)
    const bytes = new Uint8Array(Buffer.from('80049506000000000000007d948c0178944b01732e', 'hex'));
    await expect(importBytes('x.pickle', bytes)).rejects.toThrow(
      /without "segments" or "device_traces", so it is not a PyTorch memory snapshot/,
    );
  });
});
