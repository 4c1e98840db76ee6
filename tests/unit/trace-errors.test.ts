// One clear message per malformed input, with the byte position (and event index): the header cases are
// fatal TraceFormatErrors; problems in events keep the valid prefix with one warning.
import { describe, expect, test } from 'vitest';
import { EventLog, eventColumnNames, type EventColumns } from '../../allocator/event-log.ts';
import { AllocationKind } from '../../allocator/types.ts';
import {
  TraceEncoder,
  TraceFormatError,
  encodePreambleAndHeader,
  frameRecord,
  RecordType,
  traceEventsOf,
  type LoadedTrace,
  type TraceEvents,
  type TraceHeader,
} from '../../allocator/trace/index.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { thrownBy } from '../support/errors.ts';
import { testHeader } from '../support/trace-fixtures.ts';

function encode(events: TraceEvents, header: TraceHeader = testHeader()): Uint8Array {
  const enc = new TraceEncoder({ maxEventsPerChunk: 4 });
  const parts = [enc.start(header), ...enc.encodePending(events), enc.finish()];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function fatal(bytes: Uint8Array): TraceFormatError {
  return thrownBy(TraceFormatError, () => loadTraceSync(bytes));
}

function withHeaderJson(json: string): Uint8Array {
  const record = frameRecord(RecordType.Header, new TextEncoder().encode(json));
  const preamble = encodePreambleAndHeader(testHeader()).slice(0, 12);
  const out = new Uint8Array(12 + record.length);
  out.set(preamble);
  out.set(record, 12);
  return out;
}

function onlyWarning(trace: LoadedTrace): { message: string; position: number; eventIndex: number | null } {
  expect(trace.warnings).toHaveLength(1);
  return trace.warnings[0]!;
}

describe('fatal: nothing loadable', () => {
  test('empty file, magic only, and text files', () => {
    expect(fatal(new Uint8Array(0))).toMatchObject({
      position: 0,
      message: expect.stringMatching(/not a VRAMscope trace/),
    });
    const magicOnly = encodePreambleAndHeader(testHeader()).slice(0, 8);
    expect(fatal(magicOnly)).toMatchObject({
      position: 8,
      message: expect.stringMatching(/ends inside the trace preamble/),
    });
    expect(fatal(new TextEncoder().encode('{"format":"vramscope-trace"}')).position).toBe(0);
  });

  test('header JSON that does not parse names the byte where the JSON starts', () => {
    const e = fatal(withHeaderJson('{"format": "vramscope-trace", '));
    expect(e.position).toBe(21);
    expect(e.message).toMatch(/^bad trace header at byte 21: not valid UTF-8 JSON/);
  });

  test('header fields are checked one by one, naming the first bad one', () => {
    const h = testHeader();
    const cases: [unknown, RegExp][] = [
      [{ ...h, format: 'other' }, /header\.format must be "vramscope-trace"/],
      [{ ...h, version: 2 }, /header\.version is 2; this reader understands version 1/],
      [
        { ...h, device: { ...h.device, heaps: [{ index: 0, size: -1, flags: 0 }] } },
        /device\.heaps\[0\]\.size must be a non-negative integer/,
      ],
      [
        { ...h, device: { ...h.device, types: [{ index: 0, propertyFlags: 1, heapIndex: 9 }] } },
        /device\.types\[0\]\.heapIndex names no heap/,
      ],
      [
        { ...h, device: { ...h.device, heaps: [{ index: 0, size: 2 ** 53, flags: 0 }] } },
        /device\.heaps\[0\]\.size must be a non-negative integer below 2\^53/,
      ],
      [
        { ...h, allocator: { ...h.allocator, strategy: 'buddy' } },
        /allocator\.strategy must be one of tlsf, freelist/,
      ],
      [{ ...h, importedFrom: { format: 'vma-json' } }, /importedFrom\.source must be a string/],
      [[], /header must be an object/],
    ];
    for (const [json, message] of cases) {
      const e = fatal(withHeaderJson(JSON.stringify(json)));
      expect(e.position).toBe(21);
      expect(e.message).toMatch(/^bad trace header: /);
      expect(e.message).toMatch(message);
    }
  });

  test('a corrupt header record is fatal at byte 12', () => {
    const bytes = encode(traceEventsOf(new EventLog()));
    bytes[30] ^= 0x20;
    expect(fatal(bytes)).toMatchObject({
      position: 12,
      message: expect.stringMatching(/bad trace header: checksum mismatch/),
    });
  });
});

describe('impossible events: the prefix is kept, one warning names the event', () => {
  function logWith(build: (log: EventLog) => void): EventLog {
    const log = new EventLog({ clock: () => 0 });
    log.blockCreate({ blockId: 1, memoryTypeIndex: 1, size: 1 << 20, dedicated: false });
    log.allocate({
      allocationId: 1,
      blockId: 1,
      memoryTypeIndex: 1,
      offset: 0,
      size: 256,
      alignment: 256,
      kind: AllocationKind.Linear,
      location: 'GpuOnly',
      name: 'a',
      decisionId: -1,
      usedRetry: false,
      stack: null,
    });
    build(log);
    return log;
  }

  const cases: [string, (log: EventLog) => void, RegExp][] = [
    [
      'free of an unknown id',
      (l) => l.free(77),
      /event 2 \(in the chunk at byte \d+\): free of allocation id 77, which is not live/,
    ],
    ['double free', (l) => (l.free(1), l.free(1)), /event 3 .*free of allocation id 1, which is not live/],
    [
      'rename of a freed allocation',
      (l) => (l.free(1), l.rename(1, 'x')),
      /event 3 .*rename of allocation id 1, which is not live/,
    ],
    [
      'id reused while live',
      (l) =>
        l.allocate({
          allocationId: 1,
          blockId: 1,
          memoryTypeIndex: 1,
          offset: 512,
          size: 256,
          alignment: 256,
          kind: AllocationKind.Linear,
          location: 'GpuOnly',
          name: 'b',
          decisionId: -1,
          usedRetry: false,
          stack: null,
        }),
      /event 2 .*allocation id 1 is allocated again while still live/,
    ],
    [
      'memory type not on the device',
      (l) =>
        l.allocate({
          allocationId: 2,
          blockId: 1,
          memoryTypeIndex: 40,
          offset: 0,
          size: 256,
          alignment: 256,
          kind: AllocationKind.Linear,
          location: 'GpuOnly',
          name: 'c',
          decisionId: -1,
          usedRetry: false,
          stack: null,
        }),
      /event 2 .*memory type 40 does not exist on the device \(5 types\)/,
    ],
    [
      'destroy of an unknown block',
      (l) => l.blockDestroy(9),
      /event 2 .*destroy of block id 9, which is not live/,
    ],
    [
      'budget sample of a missing heap',
      (l) => l.budgetSample({ heapIndex: 7, budget: 1, usage: 1 }),
      /event 2 .*budget sample for heap 7, which does not exist \(2 heaps\)/,
    ],
  ];
  for (const [name, build, message] of cases) {
    test(name, () => {
      const log = logWith(build);
      const trace = loadTraceSync(encode(traceEventsOf(log)));
      const w = onlyWarning(trace);
      expect(w.message).toMatch(message);
      expect(w.message).toMatch(/; kept the \d+ events before it$/);
      expect(trace.events.length).toBe(w.eventIndex);
      expect(w.eventIndex).toBeLessThan(log.length);
      expect(trace.complete).toBe(false);
      expect(() => loadTraceSync(encode(traceEventsOf(log)), { strict: true })).toThrow(message);
    });
  }

  test('an unknown event kind', () => {
    const log = logWith((l) => l.mark('m'));
    const cols = log.slice(0, log.length);
    const kind = cols.kind.slice();
    kind[2] = 12;
    const columns = { ...cols, kind } as EventColumns;
    for (const key of eventColumnNames) expect(columns[key].length).toBe(log.length);
    const trace = loadTraceSync(
      encode({ length: log.length, columns, strings: log.strings.strings, decisions: [] }),
    );
    const w = onlyWarning(trace);
    expect(w.message).toMatch(
      /event 2 \(in the chunk at byte \d+\) has unknown kind 12; kept the 2 events before it/,
    );
    expect(w.eventIndex).toBe(2);
    expect(Array.from(trace.events.columns.kind)).toEqual([4, 1]);
    expect(trace.events.columns.size[0]).toBe(1 << 20);
  });
});
