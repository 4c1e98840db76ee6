// EventLog.watchFinal and shared-memory columns, which `vramscope import` relies on to encode a log on
// another thread while it grows (src-main/import/trace-stream.ts).
import { describe, expect, test } from 'vitest';
import { EventLog, columnBit, eventColumnNames, type EventColumns } from '../../allocator/event-log.ts';

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

describe('EventLog.columnsWritten', () => {
  /** Bits of the columns that hold a value other than 0 in some event of `log`. */
  const nonZeroColumns = (log: EventLog): number =>
    eventColumnNames.reduce((bits, name, tag) => {
      const column = log.columns[name] as ArrayLike<number>;
      for (let i = 0; i < log.length; i++) if (column[i] !== 0) return bits | (1 << tag);
      return bits;
    }, 0);

  test('every column an event method writes a value other than 0 into has its bit', () => {
    let now = 0;
    const log = new EventLog({ initialCapacity: 16, clock: () => now++ });
    log.thread = 77;
    const alloc = {
      allocationId: 5,
      blockId: 2,
      memoryTypeIndex: 1,
      offset: 256,
      size: 4096,
      alignment: 64,
      kind: 1,
      location: 'CpuToGpu',
      name: 'vertex buffer',
      decisionId: 3,
      usedRetry: true,
      stack: 'main.cpp:10',
    } as const;
    log.allocate(alloc);
    log.placeLast(0x7f0000001000, 9);
    log.free(5);
    log.failure({
      name: 'big',
      size: 1 << 30,
      alignment: 256,
      location: 'GpuOnly',
      linear: false,
      code: 'OutOfMemory',
      message: 'no room',
      decisionId: 4,
      stack: 'f.cpp:1',
    });
    log.blockCreate({ blockId: 7, memoryTypeIndex: 2, size: 1 << 26, dedicated: true });
    log.blockDestroy(7);
    log.rename(5, 'renamed');
    log.move({ allocationId: 5, blockId: 8, memoryTypeIndex: 2, offset: 512 });
    log.budgetSample({ heapIndex: 1, budget: 1 << 30, usage: 1 << 29, flags: 1 });
    log.frame(12, 'frame 12');
    log.mark('a mark', 'm.cpp:2');
    log.bindResource({ ...alloc, resourceId: 9, memoryTypeBits: 0b1011 });
    log.resourceCreate({
      resourceId: 10,
      image: true,
      linear: false,
      size: 8192,
      usage: 0x20,
      format: 37,
      name: 'albedo',
      details: '512x512',
      stack: 'r.cpp:3',
    });
    log.resourceDestroy(10);
    log.memoryMap({ blockId: 7, offset: 64, size: 128 });
    log.memoryUnmap(7);
    log.objectName(7, 'image', 'named');
    log.deviceDestroy('d.cpp:4');
    log.processEnd();
    log.captureLoss(3);
    log.setOnLast('message', log.strings.intern('details'));
    const nonZero = nonZeroColumns(log);
    expect(nonZero).toBe((1 << eventColumnNames.length) - 1); // every column is used above
    expect(log.columnsWritten & nonZero).toBe(nonZero);
  });

  test('columns nothing wrote keep their bit clear, so readers can skip them', () => {
    const log = new EventLog({ initialCapacity: 16, clock: () => 3 });
    for (let k = 1; k <= 4; k++) {
      log.allocate({
        allocationId: k,
        blockId: 1,
        memoryTypeIndex: 0,
        offset: k * 256,
        size: 256,
        alignment: 0,
        kind: 0,
        location: 'GpuOnly',
        name: '',
        decisionId: -1,
        usedRetry: false,
        stack: null,
      });
      log.placeLast(4096 * k);
    }
    log.free(2);
    const clear = [
      'thread',
      'alignment',
      'name',
      'stack',
      'code',
      'message',
      'usage',
      'typeBits',
      'format',
      'stream',
    ];
    for (const name of clear) expect(log.columnsWritten & columnBit(name as keyof EventColumns)).toBe(0);
    expect(log.columnsWritten & nonZeroColumns(log)).toBe(nonZeroColumns(log));
  });
});
