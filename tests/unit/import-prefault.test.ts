// src-main/import/prefault.ts: the memory an import is given, and the touching of its pages ahead of the
// import, which must never change what the memory holds.
import { expect, test } from 'vitest';
import { columnBit } from '../../allocator/event-log.ts';
import {
  PrefaultedImportMemory,
  prefaultInSlices,
  type PrefaultRequest,
} from '../../src-main/import/prefault.ts';

test('touching in slices while the importer writes changes nothing, ends with the parse, and the timeline gets the columns', async () => {
  let request: PrefaultRequest | null = null;
  const memory = new PrefaultedImportMemory((r) => (request = r));
  const rows = 300_000;
  const shape = {
    columns: columnBit('kind') | columnBit('size') | columnBit('address'),
    eventsPerEntry: 0.7,
  };
  const { buffers, rowsWritten } = memory.entryMemory(rows, [8, 4, 1], shape);
  expect(request).not.toBeNull();
  expect(request!.log.buffers).toHaveLength(3); // the timeline's three columns
  const columns = [new Float64Array(buffers[0]!), new Uint32Array(buffers[1]!), new Uint8Array(buffers[2]!)];
  const touching = prefaultInSlices(request!, 16);
  // The importer: writes rows with values other than 0 (and some 0s), publishing every 4096, yielding.
  for (let i = 0; i < 200_000; i++) {
    if ((i & 4095) === 0) {
      Atomics.store(rowsWritten, 0, i);
      await new Promise((resolve) => setImmediate(resolve));
    }
    columns[0]![i] = i % 7 === 0 ? 0 : i * 1.5 + 2 ** 40;
    columns[1]![i] = i % 5;
    columns[2]![i] = (i * 31) & 0xff;
  }
  Atomics.store(rowsWritten, 0, -1);
  await touching;
  let wrong = 0;
  for (let i = 0; i < rows; i++) {
    const want = i < 200_000;
    if (columns[0]![i] !== (want ? (i % 7 === 0 ? 0 : i * 1.5 + 2 ** 40) : 0)) wrong++;
    if (columns[1]![i] !== (want ? i % 5 : 0)) wrong++;
    if (columns[2]![i] !== (want ? (i * 31) & 0xff : 0)) wrong++;
  }
  expect(wrong).toBe(0);
  // The timeline starts in the log columns made with the entries (room for more events than entries).
  const log = memory.eventLog({ initialCapacity: 210_000 });
  expect(log.columns.kind.length).toBeGreaterThanOrEqual(rows);
  expect(log.columns.kind.buffer).toBeInstanceOf(SharedArrayBuffer);
  // Only once; a log too big for them gets fresh shared columns.
  expect(memory.eventLog({ initialCapacity: 1000 }).columns.kind.length).toBe(1000);
});
