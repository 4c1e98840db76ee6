import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  decodeLong,
  MemoReferenceScanner,
  PickleBytes,
  PickleError,
  PickleNeedsRescan,
  PickleObject,
  PickleStreamReader,
  readPickle,
  type StreamedRecord,
  type PicklePath,
  type PickleValue,
} from '../../allocator/import/pickle.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';
import { fixture, importBytes } from '../support/import-fixtures.ts';

const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

// Written by CPython 3 `pickle.dumps(v, protocol=p)` for
// v = {'a': 2**64+5, 'b': -2**70, 'c': 2**53+1, 'd': -1, 'n': -300, 'e': [1.5, None, True, 'ü', (1, 2)],
//      'f': 2**31, 'g': 255}
const samples: Record<number, string> = {
  0: '286470300a56610a70310a4c31383434363734343037333730393535313632314c0a7356620a70320a4c2d313138303539313632303731373431313330333432344c0a7356630a70330a4c393030373139393235343734303939334c0a7356640a70340a492d310a73566e0a70350a492d3330300a7356650a70360a286c70370a46312e350a614e614930310a6156fc0a70380a612849310a49320a7470390a617356660a7031300a4c323134373438333634384c0a7356670a7031310a493235350a732e',
  1: '7d71002858010000006171014c31383434363734343037333730393535313632314c0a58010000006271024c2d313138303539313632303731373431313330333432344c0a58010000006371034c393030373139393235343734303939334c0a58010000006471044affffffff58010000006e71054ad4feffff58010000006571065d710728473ff80000000000004e4930310a5802000000c3bc7108284b014b0274710965580100000066710a4c323134373438333634384c0a580100000067710b4bff752e',
  2: '80027d71002858010000006171018a0905000000000000000158010000006271028a090000000000000000c058010000006371038a070100000000002058010000006471044affffffff58010000006e71054ad4feffff58010000006571065d710728473ff80000000000004e885802000000c3bc71084b014b0286710965580100000066710a8a050000008000580100000067710b4bff752e',
  3: '80037d71002858010000006171018a0905000000000000000158010000006271028a090000000000000000c058010000006371038a070100000000002058010000006471044affffffff58010000006e71054ad4feffff58010000006571065d710728473ff80000000000004e885802000000c3bc71084b014b0286710965580100000066710a8a050000008000580100000067710b4bff752e',
  4: '80049571000000000000007d94288c0161948a090500000000000000018c0162948a090000000000000000c08c0163948a07010000000000208c0164944affffffff8c016e944ad4feffff8c0165945d9428473ff80000000000004e888c02c3bc944b014b028694658c0166948a0500000080008c0167944bff752e',
  5: '80059571000000000000007d94288c0161948a090500000000000000018c0162948a090000000000000000c08c0163948a07010000000000208c0164944affffffff8c016e944ad4feffff8c0165945d9428473ff80000000000004e888c02c3bc944b014b028694658c0166948a0500000080008c0167944bff752e',
};

const expected = {
  a: 2n ** 64n + 5n,
  b: -(2n ** 70n),
  c: 2n ** 53n + 1n,
  d: -1,
  n: -300,
  e: [1.5, null, true, 'ü', [1, 2]],
  f: 2 ** 31,
  g: 255,
};

function plain(v: PickleValue): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object' && !(v instanceof PickleObject) && !(v instanceof PickleBytes))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe('safe pickle reader', () => {
  for (const p of [0, 1, 2, 3, 4, 5]) {
    test(`protocol ${p}: ints of any width (two's complement), floats, strings, tuples`, () => {
      const bytes = hex(samples[p]!);
      expect(plain(readPickle(bytes))).toEqual(expected);
      // The same value when the bytes arrive one at a time.
      const reader = new PickleStreamReader();
      for (let i = 0; i < bytes.length; i++) reader.feed(bytes.subarray(i, i + 1));
      expect(plain(reader.end())).toEqual(expected);
      expect(reader.protocol).toBe(p < 2 ? 0 : p);
    });
  }

  test('decodeLong: sign and width boundaries', () => {
    expect(decodeLong(new Uint8Array([]))).toBe(0);
    expect(decodeLong(new Uint8Array([0xff]))).toBe(-1);
    expect(decodeLong(new Uint8Array([0x00, 0x80]))).toBe(-32768);
    expect(decodeLong(new Uint8Array([0xff, 0x7f]))).toBe(32767);
    expect(decodeLong(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00]))).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    expect(decodeLong(new Uint8Array([0, 0, 0, 0, 0, 0, 0x20, 0]))).toBe(2n ** 53n);
    expect(decodeLong(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0x80, 0]))).toBe(2n ** 63n);
    expect(decodeLong(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0x80]))).toBe(-(2n ** 63n));
  });

  test('GLOBAL + REDUCE never runs anything: os.system becomes data', () => {
    // b"cos\nsystem\n(S'echo pwned'\ntR." — the classic pickle exploit.
    const v = readPickle(hex('636f730a73797374656d0a2853276563686f2070776e6564270a74522e'));
    expect(v).toBeInstanceOf(PickleObject);
    expect((v as PickleObject).className).toBe('os.system');
    expect((v as PickleObject).args).toEqual(['echo pwned']);
  });

  test('plain-data constructors become data: OrderedDict, set, bytes, bytearray (BYTEARRAY8)', () => {
    expect(
      plain(
        readPickle(
          hex('800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710158010000007871024b01732e'),
        ),
      ),
    ).toEqual({ x: 1 });
    const v = readPickle(
      hex(
        '8005952a000000000000007d94288c0173948f94284b03908c01629443026162948c0262619496030000000000000078797a94752e',
      ),
    ) as Record<string, PickleValue>;
    expect(v.s).toEqual([3]);
    expect(v.b).toEqual(new PickleBytes(2));
    expect(v.ba).toEqual(new PickleBytes(3));
  });

  test('a "__proto__" key is data and changes no prototype', () => {
    const v = readPickle(
      hex(
        '80049531000000000000007d94288c095f5f70726f746f5f5f947d948c08706f6c6c75746564944b01738c0b636f6e7374727563746f72944b02752e',
      ),
    ) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(null);
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((v.__proto__ as Record<string, unknown>).polluted).toBe(1);
  });

  test('truncated and malformed pickles give a PickleError with the position', () => {
    const bytes = hex(samples[4]!);
    for (const cut of [1, 2, 10, bytes.length - 1]) {
      expect(() => readPickle(bytes.subarray(0, cut))).toThrow(PickleError);
    }
    // Messages name the problem and the byte offset, never a byte of the file.
    expect(() => readPickle(hex('80069500'))).toThrow(/^Unsupported pickle protocol \(above 5\) at byte 0$/);
    expect(() => readPickle(hex('ff'))).toThrow(/^Unknown opcode at byte 0$/);
    expect(() => readPickle(hex('6802'))).toThrow(/^A memo slot is read before it is written at byte 0$/); // BINGET of nothing
    expect(() => readPickle(hex('652e'))).toThrow(/Missing MARK/); // APPENDS without MARK
  });

  test('streaming a PyTorch snapshot: items handed out by path, memo keeps only what is read back', () => {
    const bytes = new Uint8Array(readFileSync(fixture('pytorch-trace-p4.pickle')));
    const whole = readPickle(bytes) as Record<string, PickleValue>;
    const scanner = new MemoReferenceScanner();
    for (let i = 0; i < bytes.length; i += 97) scanner.feed(bytes.subarray(i, i + 97));
    const items: { path: string; index: number; value: PickleValue }[] = [];
    const reader = new PickleStreamReader({
      referencedMemo: scanner.referenced,
      streamItems: (p: PicklePath) =>
        (p.length === 1 && p[0] === 'segments') || (p.length === 2 && p[0] === 'device_traces'),
      onItem: (p, index, value) => items.push({ path: p.join('/'), index, value }),
    });
    for (let i = 0; i < bytes.length; i += 97) reader.feed(bytes.subarray(i, i + 97));
    const root = reader.end() as Record<string, PickleValue>;
    expect(root.segments).toEqual([]);
    expect(root.device_traces).toEqual([[]]);
    const segs = items.filter((x) => x.path === 'segments').map((x) => plain(x.value));
    const trace = items.filter((x) => x.path === 'device_traces/0').map((x) => plain(x.value));
    expect(segs).toEqual(plain(whole.segments!));
    expect(trace).toEqual(plain((whole.device_traces as PickleValue[])[0]!));
    expect(items.filter((x) => x.path === 'device_traces/0').map((x) => x.index)).toEqual(
      trace.map((_v, i) => i),
    );
    // Only the shared frame lists (and strings) are read back from the memo, far fewer than memoized.
    expect(scanner.referenced.size).toBeGreaterThan(0);
    expect(scanner.referenced.size).toBeLessThan(trace.length);
  });
});

describe('one-pass reading (referencedMemo "prune-streamed", internReferenceLists)', () => {
  const select = (p: PicklePath): boolean =>
    (p.length === 1 && p[0] === 'segments') || (p.length === 2 && p[0] === 'device_traces');

  test('hands out the same items as a whole read, and equal frames lists are one shared list', () => {
    const bytes = new Uint8Array(readFileSync(fixture('pytorch-trace-p4.pickle')));
    const whole = readPickle(bytes) as Record<string, PickleValue>;
    const trace: PickleValue[] = [];
    const reader = new PickleStreamReader({
      referencedMemo: 'prune-streamed',
      internReferenceLists: true,
      streamItems: select,
      onItem: (p, _i, v) => {
        if (p[0] === 'device_traces') trace.push(v);
      },
    });
    for (let i = 0; i < bytes.length; i += 97) reader.feed(bytes.subarray(i, i + 97));
    reader.end();
    expect(trace.map(plain)).toEqual(plain((whole.device_traces as PickleValue[])[0]!));
    // Entries with equal frames hold the very same list object.
    const frames = trace.map((e) => (e as Record<string, PickleValue>).frames as PickleValue[]);
    const byText = new Map<string, Set<PickleValue[]>>();
    for (const f of frames) {
      const key = JSON.stringify(plain(f));
      if (!byText.has(key)) byText.set(key, new Set());
      byText.get(key)!.add(f);
    }
    // Stacks repeat, and the repeats are the same object (a first occurrence with frame dicts written
    // inline is a list of its own).
    expect(frames.length).toBeGreaterThan(byText.size);
    for (const objects of byText.values()) expect(objects.size).toBeLessThanOrEqual(2);
    expect(new Set(frames).size).toBeLessThan(frames.length);
  });

  /** {'device_traces': [[entry, <memo reference to entry>]]}: an item read back after it was handed out. */
  function readBackPickle(): Uint8Array {
    const out: number[] = [0x80, 4, 0x7d, 0x94];
    const str = (s: string): void => {
      out.push(0x8c, s.length, ...Buffer.from(s), 0x94);
    };
    str('device_traces');
    out.push(0x5d, 0x94, 0x5d, 0x94, 0x28); // outer list, inner list, MARK
    out.push(0x7d, 0x94, 0x28); // the entry dict (memo slot 4), MARK
    str('action');
    str('alloc');
    str('addr');
    out.push(0x4b, 0);
    str('size');
    out.push(0x4d, 0, 2, 0x75); // 512, SETITEMS
    out.push(0x65); // APPENDS: the entry is handed out
    out.push(0x68, 4, 0x61); // BINGET 4, APPEND: the same entry again
    out.push(0x61, 0x73, 0x2e); // APPEND inner to outer, SETITEM, STOP
    return Uint8Array.from(out);
  }

  test('a handed-out item read back from the memo asks for a rescan; the importer then reads it whole', async () => {
    const bytes = readBackPickle();
    const reader = new PickleStreamReader({ referencedMemo: 'prune-streamed', streamItems: select });
    expect(() => reader.feed(bytes)).toThrow(PickleNeedsRescan);
    const r = await importBytes('read-back.pickle', bytes);
    expect(r.sourceEvents).toBe(2);
    expect(r.header.importedFrom.version).toBe('pickle-4');
  });
  /**
   * {'device_traces': [[{'frames': []} × n]]}: each entry makes a list of its own, empty (as a snapshot
   * taken with stacks="python" has for every allocation without Python frames), memoized.
   */
  function emptyListsPickle(n: number): Uint8Array {
    const out: number[] = [0x80, 4, 0x7d, 0x94]; // PROTO 4, root dict (slot 0)
    out.push(0x8c, 13, ...Buffer.from('device_traces'), 0x94); // slot 1
    out.push(0x5d, 0x94, 0x5d, 0x94); // outer list (slot 2), inner list (slot 3)
    for (let i = 0; i < n; i++) {
      if (i % 1000 === 0) out.push(0x28); // MARK: a batch of at most 1000 items, as CPython writes them
      out.push(0x7d, 0x94, 0x28); // the entry dict, MARK
      if (i === 0)
        out.push(0x8c, 6, ...Buffer.from('frames'), 0x94); // the key (slot 5), then by reference
      else out.push(0x68, 5); // BINGET 5
      out.push(0x5d, 0x94, 0x75); // EMPTY_LIST MEMOIZE, SETITEMS
      if (i % 1000 === 999 || i === n - 1) out.push(0x65); // APPENDS
    }
    out.push(0x61, 0x73, 0x2e); // APPEND inner to outer, SETITEM, STOP
    return Uint8Array.from(out);
  }

  /** Reads emptyListsPickle(n) in one pass; records of its 'frames' field: list ids and lengths seen. */
  function readEmptyLists(n: number, internReferenceLists: boolean) {
    const ids = new Set<number>();
    const lengths = new Set<number>();
    let records = 0;
    const reader = new PickleStreamReader({
      referencedMemo: 'prune-streamed',
      internReferenceLists,
      streamItems: select,
      maxPathLength: 2,
      onItem: () => {},
      record: {
        lists: () => true,
        fields: ['frames'],
        onRecord: (_p, _i, rec) => {
          records++;
          ids.add(rec.listId[0]!);
          lengths.add((rec.get(0) as PickleValue[]).length);
        },
      },
    });
    reader.feed(emptyListsPickle(n));
    reader.end();
    return { fast: reader.fastItemsRead, records, ids, lengths };
  }

  test('lists kept in the memo that are not interned are counted: past 200,000, a rescan', () => {
    expect(readEmptyLists(199_000, false).fast).toBe(199_000); // the fast path read them
    expect(() => readEmptyLists(200_001, false)).toThrow(PickleNeedsRescan);
  });

  test('empty lists are interned as one list with one id: any number of them in one pass', () => {
    // Before, each entry's empty list stayed in the memo as a list of its own: a snapshot with more than
    // 200,000 of them (stacks="python", allocations without Python frames) was read twice, the second
    // time without interned lists (no list ids for the importer's stack cache).
    const r = readEmptyLists(250_000, true);
    expect(r.fast).toBe(250_000);
    expect(r.records).toBe(250_000);
    expect(r.lengths).toEqual(new Set([0]));
    expect(r.ids.size).toBe(1);
    expect([...r.ids][0]).toBeGreaterThanOrEqual(0);
  });

  test('an interned empty list that the pickle appends to later asks for a rescan, whoever read it', () => {
    // {'device_traces': [[{'frames': []} × 3]], 'x': <an entry's frames list>} with 1 appended to that list
    // through the memo after the entries were handed out. The first entry is read by the fast path (its
    // list, slot 6, interned at once); the others by the opcode loop (SETITEM, no MARK: the fast path
    // gives up), their lists (slots 8 and 10) interned when their items are handed out.
    for (const [slot, entry] of [
      [6, 0],
      [8, 1],
    ] as const) {
      const out: number[] = [0x80, 4, 0x7d, 0x94, 0x28]; // PROTO 4, root dict (slot 0), MARK
      out.push(0x8c, 13, ...Buffer.from('device_traces'), 0x94); // slot 1
      out.push(0x5d, 0x94, 0x5d, 0x94, 0x28); // outer list (slot 2), inner list (slot 3), MARK
      out.push(0x7d, 0x94, 0x28, 0x8c, 6, ...Buffer.from('frames'), 0x94); // entry (4), MARK, key (5)
      out.push(0x5d, 0x94, 0x75); // EMPTY_LIST (slot 6), SETITEMS
      out.push(0x7d, 0x94, 0x68, 5, 0x5d, 0x94, 0x73); // entry (7), BINGET 5, EMPTY_LIST (8), SETITEM
      out.push(0x7d, 0x94, 0x68, 5, 0x5d, 0x94, 0x73); // entry (9), BINGET 5, EMPTY_LIST (10), SETITEM
      out.push(0x65, 0x61); // APPENDS (inner), APPEND inner to outer
      out.push(0x8c, 1, 0x78, 0x94, 0x68, slot, 0x4b, 1, 0x61); // 'x', BINGET slot, 1, APPEND
      out.push(0x75, 0x2e); // SETITEMS, STOP
      const bytes = Uint8Array.from(out);
      const entries = [{ frames: [] }, { frames: [] }, { frames: [] }] as { frames: number[] }[];
      entries[entry] = { frames: [1] };
      expect(plain(readPickle(bytes))).toEqual({ device_traces: [entries], x: [1] });
      const reader = new PickleStreamReader({
        referencedMemo: 'prune-streamed',
        internReferenceLists: true,
        streamItems: select,
        onItem: () => {},
      });
      expect(() => reader.feed(bytes)).toThrow(PickleNeedsRescan);
      expect(reader.fastItemsRead).toBe(1);
    }
  });
});

/**
 * The bytes of a small training-loop snapshot (4,000 entries), written once through a temporary file and
 * shared by the tests that only read them.
 */
let smallSnapshot: Uint8Array | undefined;
function smallTrainingSnapshot(): Uint8Array {
  if (smallSnapshot === undefined) {
    const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-small-snapshot-'));
    try {
      const file = path.join(dir, 's.pickle');
      writeTrainingPickle(file, simulateTraining({ entries: 4000, layers: 2, hidden: 128, batch: 2 }));
      smallSnapshot = new Uint8Array(readFileSync(file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return smallSnapshot;
}

describe('fast path for streamed dict items (streamedDict)', () => {
  const select = (p: PicklePath): boolean =>
    (p.length === 1 && p[0] === 'segments') || (p.length === 2 && p[0] === 'device_traces');

  test('hands out what the opcode loop does, at any chunk size, FRAMEs inside lists included', () => {
    // A training-loop snapshot: protocol 4 with FRAME opcodes between list items (inside frames lists too),
    // frame dicts written inline at their first use, shared frames lists, LONG1 addresses and times.
    const bytes = smallTrainingSnapshot();
    const read = (
      referencedMemo: 'prune-streamed' | null,
      chunk: number,
    ): { items: { path: string; index: number; value: unknown }[]; fast: number; byBytes: number } => {
      const items: { path: string; index: number; value: unknown }[] = [];
      const reader = new PickleStreamReader({
        referencedMemo,
        internReferenceLists: referencedMemo !== null,
        streamItems: select,
        maxPathLength: 2,
        onItem: (p, index, value) => items.push({ path: p.join('/'), index, value: plain(value) }),
      });
      for (let i = 0; i < bytes.length; i += chunk) reader.feed(bytes.subarray(i, i + chunk));
      reader.end();
      return { items, fast: reader.fastItemsRead, byBytes: reader.listsMatchedByBytes };
    };
    // referencedMemo null keeps every memoized object: the fast path is off, the opcode loop reads all.
    const reference = read(null, bytes.length);
    expect(reference.fast).toBe(0);
    expect(reference.items.length).toBeGreaterThan(4000);
    // Chunks above 64 KiB finish an opcode cut by the chunk end in a stitched copy (PickleStreamReader.feed).
    for (const chunk of [bytes.length, 150_001, 65_537, 4099, 333]) {
      const fast = read('prune-streamed', chunk);
      expect(fast.items).toEqual(reference.items);
      // Most entries take the fast path; the rest (first frames written inline, chunk ends) the loop.
      expect(fast.fast).toBeGreaterThan(reference.items.length / 2);
      // and most of their frames lists are recognised by their bytes (a repeat of a list read before).
      expect(fast.byBytes).toBeGreaterThan(fast.fast / 2);
    }
  });

  test('records (PickleStreamOptions.record) carry what the dicts do; one interned list, one id', () => {
    const bytes = smallTrainingSnapshot();
    const fields = ['action', 'addr', 'size', 'frames', 'time_us', 'no_such_key'];
    const project = (d: Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(fields.filter((f) => d[f] !== undefined).map((f) => [f, d[f]]));
    const referenceItems: unknown[] = [];
    const reference = new PickleStreamReader({
      referencedMemo: null,
      streamItems: select,
      onItem: (p, _i, v) => {
        if (p[0] === 'device_traces') referenceItems.push(project(plain(v) as Record<string, unknown>));
      },
    });
    reference.feed(bytes);
    reference.end();
    for (const chunk of [bytes.length, 65_537, 4099]) {
      const items: unknown[] = [];
      const idsByFrames = new Map<string, Set<number>>();
      let records = 0;
      const reader = new PickleStreamReader({
        referencedMemo: 'prune-streamed',
        internReferenceLists: true,
        streamItems: select,
        maxPathLength: 2,
        onItem: (p, _i, v) => {
          if (p[0] === 'device_traces') items.push(project(plain(v) as Record<string, unknown>));
        },
        record: {
          lists: (p) => p[0] === 'device_traces',
          fields,
          onRecord: (_p, _i, rec: StreamedRecord) => {
            records++;
            const d: Record<string, unknown> = {};
            fields.forEach((f, k) => {
              const v = rec.get(k);
              if (v !== undefined) d[f] = plain(v as PickleValue);
            });
            items.push(d);
            const frames = JSON.stringify(d.frames);
            const id = rec.listId[fields.indexOf('frames')]!;
            if (id >= 0) {
              if (!idsByFrames.has(frames)) idsByFrames.set(frames, new Set());
              idsByFrames.get(frames)!.add(id);
            }
          },
        },
      });
      for (let i = 0; i < bytes.length; i += chunk) reader.feed(bytes.subarray(i, i + chunk));
      reader.end();
      expect(items).toEqual(referenceItems);
      expect(records).toBe(reader.fastItemsRead);
      expect(records).toBeGreaterThan(referenceItems.length / 2);
      // Interned frames lists have ids; the same content is the same list, so it has one id.
      expect(idsByFrames.size).toBeGreaterThan(10);
      for (const ids of idsByFrames.values()) expect(ids.size).toBe(1);
    }
  });

  test('a memo slot written again between two items is read anew (the frames-list cache is dropped)', () => {
    // {'device_traces': [[{'frames': [BINGET 3]} × 2, 'y' BINPUT 3, {'frames': [BINGET 3]} × 2]]}: slot 3
    // holds 'x' for the first two entries and 'y' for the others, though all lists read the same slot. The
    // third entry's bytes (and the next 13) are the first one's, so neither the slots nor the bytes of a
    // list read before may stand for it.
    const out: number[] = [0x80, 4, 0x7d, 0x94];
    const str = (s: string): void => {
      out.push(0x8c, s.length, ...Buffer.from(s), 0x94);
    };
    str('device_traces'); // slot 1
    out.push(0x5d, 0x94, 0x28); // outer list (slot 2), MARK
    str('x'); // slot 3
    out.push(0x30); // POP: 'x' stays in the memo only
    str('frames'); // slot 4
    out.push(0x30, 0x5d, 0x94, 0x28); // POP, inner list (slot 5), MARK
    const entry = (): void => {
      out.push(0x7d, 0x94, 0x28, 0x68, 4); // {, MARK, key 'frames' (BINGET 4)
      out.push(0x5d, 0x94, 0x28, 0x68, 3, 0x65, 0x75); // [BINGET 3], SETITEMS
    };
    entry();
    entry();
    out.push(0x8c, 1, 0x79, 0x71, 3); // 'y', BINPUT 3 (an item of the list: written again)
    entry();
    entry();
    out.push(0x65, 0x65, 0x73, 0x2e); // APPENDS (inner), APPENDS (outer), SETITEM, STOP
    const bytes = Uint8Array.from(out);
    const read = (withRecord: boolean): unknown[] => {
      const items: unknown[] = [];
      const reader = new PickleStreamReader({
        referencedMemo: withRecord ? 'prune-streamed' : null,
        internReferenceLists: withRecord,
        streamItems: select,
        onItem: (_p, _i, v) => items.push(plain(v)),
        ...(withRecord
          ? {
              record: {
                lists: () => true,
                fields: ['frames'],
                onRecord: (_p: PicklePath, _i: number, rec: StreamedRecord) =>
                  items.push({ frames: plain(rec.get(0) as PickleValue) }),
              },
            }
          : {}),
      });
      reader.feed(bytes);
      reader.end();
      return items;
    };
    const reference = read(false);
    expect(reference).toEqual([
      { frames: ['x'] },
      { frames: ['x'] },
      'y',
      { frames: ['y'] },
      { frames: ['y'] },
    ]);
    expect(read(true)).toEqual(reference);
  });

  test('gives up on what it does not know and leaves it to the opcode loop (nested lists, tuples)', () => {
    // {'device_traces': [[{'a': [1, (2, 3)], 'b': 'x'}, {'a': 5}]]}, protocol 4.
    const out: number[] = [0x80, 4, 0x7d, 0x94];
    const str = (s: string): void => {
      out.push(0x8c, s.length, ...Buffer.from(s), 0x94);
    };
    str('device_traces');
    out.push(0x5d, 0x94, 0x5d, 0x94, 0x28); // outer list, inner list, MARK
    out.push(0x7d, 0x94, 0x28); // first entry, MARK
    str('a');
    out.push(0x5d, 0x94, 0x28, 0x4b, 1, 0x4b, 2, 0x4b, 3, 0x86, 0x94, 0x65); // [1, (2, 3)]
    str('b');
    str('x');
    out.push(0x75); // SETITEMS
    out.push(0x7d, 0x94, 0x68, 5, 0x4b, 5, 0x73); // second entry: {'a': 5} by SETITEM
    out.push(0x65, 0x61, 0x73, 0x2e); // APPENDS, APPEND inner to outer, SETITEM, STOP
    const items: unknown[] = [];
    const reader = new PickleStreamReader({
      referencedMemo: 'prune-streamed',
      streamItems: select,
      onItem: (_p, _i, v) => items.push(plain(v)),
    });
    reader.feed(Uint8Array.from(out));
    reader.end();
    expect(items).toEqual([{ a: [1, [2, 3]], b: 'x' }, { a: 5 }]);
    expect(reader.fastItemsRead).toBe(0);
  });
});
