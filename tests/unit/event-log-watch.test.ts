// EventLog.watchFinal and shared-memory columns, which `vramscope import` relies on to encode a log on
// another thread while it grows (src-main/import/trace-stream.ts).
import { describe, expect, test } from 'vitest';
import { EventLog, eventColumnNames } from '../../allocator/event-log.ts';

describe('EventLog.watchFinal', () => {
  test('reports every `every` events, each time with exactly the events that no longer change', () => {
    const log = new EventLog({ initialCapacity: 16, clock: () => 0 });
    log.frame(0); // before the watcher: counted, the first report is still at 4
    const reports: { final: number; sizes: number[]; lastAddress: number }[] = [];
    log.watchFinal(4, (final) =>
      reports.push({
        final,
        sizes: Array.from(log.columns.size.subarray(0, final)),
        lastAddress: log.columns.address[final - 1]!,
      }),
    );
    for (let k = 1; k <= 10; k++) {
      log.blockCreate({ blockId: k, memoryTypeIndex: 0, size: k * 100, dedicated: false });
      log.placeLast(k * 4096); // amends the event just appended, never a reported one
    }
    // 11 events: reports when events 4 and 8 are appended (the 12th would make the next).
    expect(reports.map((r) => r.final)).toEqual([4, 8]);
    for (const r of reports) {
      // What the watcher saw is what the events hold at the end: reported events were final.
      expect(r.sizes).toEqual(Array.from(log.columns.size.subarray(0, r.final)));
      // The last reported event had its placeLast before the report.
      expect(r.lastAddress).toBe(log.columns.address[r.final - 1]);
      expect(r.lastAddress).toBeGreaterThan(0);
    }
  });
});

describe('EventLog sharedMemory', () => {
  test('columns live in SharedArrayBuffers, also after the log grows, and keep their events', () => {
    const log = new EventLog({ initialCapacity: 16, sharedMemory: true, clock: () => 1 });
    for (let k = 0; k < 40; k++) log.free(k);
    expect(log.length).toBe(40);
    for (const name of eventColumnNames)
      expect((log.columns[name] as Uint8Array).buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(log.columns.id.subarray(0, 40))).toEqual(Array.from({ length: 40 }, (_v, k) => k));
    const plain = new EventLog({ initialCapacity: 16 });
    expect(plain.columns.id.buffer).not.toBeInstanceOf(SharedArrayBuffer);
  });
});
