// src-main/import/import-reserve.ts: memory touched while the trace worker is idle, taken by the next large
// import. What it must guarantee: a reserve is handed out only whole (every page touched), only to an
// import of its shape that asks for enough rows and fits in it, once; filling stops for an import and goes
// on later; and an import that starts in it makes the same timeline as one in fresh memory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  allocateEventColumns,
  columnBit,
  eventColumnBytes,
  eventColumnNames,
} from '../../allocator/event-log.ts';
import { importSource, pytorchEntryColumnBytes, pytorchTimelineShape } from '../../allocator/import/index.ts';
import { traceEventsOf } from '../../allocator/trace/index.ts';
import { fileSource } from '../../src-main/import/file-source.ts';
import { ImportReserve, importReserveFor, type ReserveShape } from '../../src-main/import/import-reserve.ts';
import { PrefaultedImportMemory } from '../../src-main/import/prefault.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';

const shape: ReserveShape = {
  entryColumnBytes: [8, 4, 1],
  logColumns: columnBit('kind') | columnBit('time') | columnBit('size'),
  eventsPerEntry: 0.5,
};
const size = { capacityRows: 100_000, touchedEntryRows: 40_000 };

/** Bytes a full reserve of `shape` and `size` covers: each buffer from its start, in whole Int32s. */
function touchedBytesOf(s: ReserveShape, rows: { capacityRows: number; touchedEntryRows: number }): number {
  const covered = (touched: number, length: number): number =>
    Math.min(Math.ceil(touched / 4) * 4, Math.ceil(length / 8) * 8);
  let total = 0;
  for (const b of s.entryColumnBytes) total += covered(rows.touchedEntryRows * b, rows.capacityRows * b);
  const logRows = Math.ceil(rows.touchedEntryRows * s.eventsPerEntry);
  eventColumnNames.forEach((name, tag) => {
    const b = eventColumnBytes[name];
    if ((s.logColumns & (1 << tag)) !== 0) total += covered(logRows * b, rows.capacityRows * b);
  });
  return total;
}

describe('ImportReserve', () => {
  test('is handed out only when full, once, and a fill makes a new one', async () => {
    const reserve = new ImportReserve(shape, size);
    expect(reserve.full).toBe(false);
    expect(reserve.take(50_000, 54_096, [8, 4, 1], shape.logColumns)).toBeNull();
    await reserve.fill();
    expect(reserve.full).toBe(true);
    expect(reserve.touchedBytes).toBe(touchedBytesOf(shape, size));
    const taken = reserve.take(50_000, 54_096, [8, 4, 1], shape.logColumns);
    if (taken === null) throw new Error('a full reserve was not handed out');
    // One buffer per entry column, capacityRows long, zeroed; one per log column the shape writes.
    expect(taken.entries.map((b) => b.byteLength)).toEqual([800_000, 400_000, 100_000]);
    expect(Object.keys(taken.log).sort()).toEqual(['kind', 'size', 'time']);
    expect(taken.log.time!.byteLength).toBe(800_000);
    expect(new Float64Array(taken.entries[0]!).every((v) => v === 0)).toBe(true);
    expect(reserve.full).toBe(false);
    expect(reserve.take(50_000, 54_096, [8, 4, 1], shape.logColumns)).toBeNull();
    await reserve.fill();
    const again = reserve.take(50_000, 54_096, [8, 4, 1], shape.logColumns);
    expect(again?.entries[0]).not.toBe(taken.entries[0]);
  });

  test('refuses imports too small for it, too large for it, or of another shape', async () => {
    const reserve = new ImportReserve(shape, size);
    await reserve.fill();
    expect(reserve.take(39_999, 44_095, [8, 4, 1], shape.logColumns)).toBeNull(); // under touchedEntryRows
    expect(reserve.take(50_000, 54_096, [8, 4, 2], shape.logColumns)).toBeNull(); // other entry columns
    expect(reserve.take(50_000, 54_096, [8, 4], shape.logColumns)).toBeNull();
    expect(reserve.take(50_000, 54_096, [8, 4, 1], shape.logColumns | columnBit('id'))).toBeNull();
    expect(reserve.full).toBe(true);
    expect(reserve.take(40_000, 44_096, [8, 4, 1], shape.logColumns)).not.toBeNull();
  });

  test('lets its memory go for an import too large for it', async () => {
    const reserve = new ImportReserve(shape, size);
    for (const [entryRows, logRows] of [
      [100_001, 100_001], // entries past capacity
      [98_000, 102_096], // log past capacity
    ] as const) {
      await reserve.fill();
      expect(reserve.full).toBe(true);
      expect(reserve.take(entryRows, logRows, [8, 4, 1], shape.logColumns)).toBeNull();
      expect(reserve.full).toBe(false);
      expect(reserve.touchedBytes).toBe(0);
    }
  });

  test('filling stops while an import runs and later goes on where it stopped', async () => {
    const reserve = new ImportReserve(shape, { capacityRows: 4_000_000, touchedEntryRows: 3_000_000 });
    let slices = 0;
    // Busy from the second slice on (one slice is 4 ms; the whole takes far longer): it stops part done.
    await reserve.fill(() => ++slices > 1);
    const part = reserve.touchedBytes;
    expect(part).toBeGreaterThan(0);
    expect(reserve.full).toBe(false);
    expect(reserve.take(3_000_000, 3_004_096, [8, 4, 1], shape.logColumns)).toBeNull();
    await reserve.fill(() => false);
    expect(reserve.touchedBytes).toBe(
      touchedBytesOf(shape, { capacityRows: 4_000_000, touchedEntryRows: 3_000_000 }),
    );
    expect(reserve.full).toBe(true);
  });

  test('the worker makes one for PyTorch snapshots when asked to, none when turned off', () => {
    expect(importReserveFor('off')).toBeNull();
    const on = importReserveFor('on');
    expect(on?.shape.entryColumnBytes).toEqual(pytorchEntryColumnBytes);
    expect(on?.shape.logColumns).toBe(pytorchTimelineShape.columns);
  });
});

test('allocateEventColumns starts the given columns in the given buffers, as views of the capacity', () => {
  const time = new SharedArrayBuffer(8 * 500);
  const columns = allocateEventColumns(100, true, { time });
  expect(columns.time.buffer).toBe(time);
  expect(columns.time.length).toBe(100);
  expect(columns.size.length).toBe(100);
  expect(columns.size.buffer).toBeInstanceOf(SharedArrayBuffer);
  expect(() => allocateEventColumns(600, true, { time })).toThrow(/shorter/);
});

describe('an import that starts in the reserve', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vramscope-reserve-'));
    file = path.join(dir, 'training.pickle');
    writeTrainingPickle(file, simulateTraining({ entries: 30_000, layers: 1, hidden: 64, batch: 1 }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('makes the same timeline as one in fresh memory, in the reserved buffers', async () => {
    const fresh = await importSource(await fileSource(file, {}));
    const reserve = new ImportReserve(
      {
        entryColumnBytes: pytorchEntryColumnBytes,
        logColumns: pytorchTimelineShape.columns,
        eventsPerEntry: pytorchTimelineShape.eventsPerEntry,
      },
      { capacityRows: 1 << 20, touchedEntryRows: 8192 },
    );
    await reserve.fill();
    const memory = new PrefaultedImportMemory(() => undefined, reserve);
    const reserved = await importSource(await fileSource(file, {}), {
      entryMemory: memory.entryMemory,
      eventLog: (options) => memory.eventLog(options),
    });
    expect(reserve.full).toBe(false); // taken
    // The timeline's columns are views of reserved buffers (capacityRows long, more than the view).
    expect(reserved.log.columns.time.buffer.byteLength).toBe(8 << 20);
    expect(reserved.log.columns.time.length).toBeLessThan(1 << 20);
    const a = traceEventsOf(fresh.log);
    const b = traceEventsOf(reserved.log);
    expect(b.length).toBe(a.length);
    expect(a.length).toBeGreaterThan(10_000);
    for (const name of eventColumnNames)
      expect(Array.from(b.columns[name].subarray(0, b.length)), name).toEqual(
        Array.from(a.columns[name].subarray(0, a.length)),
      );
    expect(reserved.totals).toEqual(fresh.totals);
    expect(reserved.warnings).toEqual(fresh.warnings);
  });
});
