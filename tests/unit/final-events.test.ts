import { describe, expect, test } from 'vitest';
import { EventLog, type EventColumns } from '../../allocator/event-log.ts';
import { reusableAllocateRecord } from '../../allocator/import/model.ts';
import { traceEventsOf } from '../../allocator/trace/index.ts';
import { FinalEvents, FinalEventsSender } from '../../src-main/import/final-events.ts';

/** Appends `n` allocations to `log`, every third with a stack of its own (new strings). */
function allocate(log: EventLog, n: number): void {
  const fields = reusableAllocateRecord();
  fields.blockId = 1;
  for (let i = 0; i < n; i++) {
    const id = log.length + 1;
    fields.allocationId = id;
    fields.offset = id * 256;
    fields.size = 256;
    fields.stack = id % 3 === 0 ? `frame ${id}` : null;
    log.allocate(fields);
  }
}

describe('an import log shared with a worker batch by batch', () => {
  test("the receiver sees the sender's log: columns when new, each string once, the columns written", () => {
    const log = new EventLog({ sharedMemory: true, initialCapacity: 16 });
    log.blockCreate({ blockId: 1, memoryTypeIndex: 0, size: 2 ** 20, dedicated: false });
    const sentColumns: EventColumns[] = [];
    const receiver = new FinalEvents();
    const sender = new FinalEventsSender((columns) => {
      sentColumns.push(columns);
      receiver.setColumns(columns);
    });
    expect(receiver.columnsIfSent).toBeNull();
    expect(() => receiver.columns).toThrow(/no event columns/);

    allocate(log, 10);
    receiver.advance(sender.batch(traceEventsOf(log), 8));
    expect(sentColumns).toHaveLength(1);
    expect(receiver.length).toBe(8);
    // Interned strings go over once each, whether or not the final events name them yet.
    expect(receiver.strings).toEqual(log.strings.strings);

    // No new strings and the same columns: nothing but the count goes over.
    const again = sender.batch(traceEventsOf(log), 11);
    expect(again.strings).toEqual([]);
    receiver.advance(again);
    expect(sentColumns).toHaveLength(1);

    // The log grows past its capacity into new columns: they are sent again before the batch.
    allocate(log, 100);
    receiver.advance(sender.batch(traceEventsOf(log), log.length));
    expect(sentColumns).toHaveLength(2);
    expect(sentColumns[1]).toBe(log.columns);
    expect(receiver.strings).toEqual(log.strings.strings);
    expect(receiver.columnsWritten).toBe(log.columnsWritten);
    expect(receiver.length).toBe(log.length);
    expect(receiver.decisions).toEqual([]);

    // What a reader of the receiver sees is what it would see of the log itself.
    const direct = traceEventsOf(log);
    for (let i = 0; i < log.length; i++) {
      expect(receiver.columns.stack[i]).toBe(direct.columns.stack[i]);
      expect(receiver.strings[receiver.columns.stack[i]!]).toBe(direct.strings[direct.columns.stack[i]!]);
    }
  });
});
