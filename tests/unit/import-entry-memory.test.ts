// ImportOptions.entryMemory (EntryMemoryProvider): a PyTorch import can keep its per-entry columns in
// buffers it is given and publish how many rows it has written, so that another thread touches their pages
// just ahead of the parse (the CLI's trace-stream worker does). The import must come out the same, whoever
// touches the pages meanwhile.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, expect, test } from 'vitest';
import { eventColumnNames } from '../../allocator/event-log.ts';
import { importSource, type EntryMemoryProvider, type ImportResult } from '../../allocator/import/index.ts';
import { fileSource } from '../../src-main/import/file-source.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-entry-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A thread that, like the trace-stream worker, compare-exchanges 0 with 0 on every page ahead of the parse.
 * It sets `ready` once its first pass has touched the pages ahead of row 0.
 */
const toucher = `
const { workerData, parentPort } = require('node:worker_threads');
const { buffers, rowsWritten, elementBytes, ready } = workerData;
const views = buffers.map((b) => new Int32Array(b));
let touches = 0, seen = new Set();
for (;;) {
  const written = Atomics.load(rowsWritten, 0);
  if (written < 0) break;
  seen.add(written);
  for (let k = 0; k < views.length; k++) {
    const end = Math.min(views[k].length, Math.ceil(((written + 8192) * elementBytes[k]) / 4));
    for (let i = Math.floor((written * elementBytes[k]) / 4); i < end; i += 1024) { Atomics.compareExchange(views[k], i, 0, 0); touches++; }
  }
  if (Atomics.load(ready, 0) === 0) { Atomics.store(ready, 0, 1); Atomics.notify(ready, 0); }
  Atomics.wait(rowsWritten, 0, written, 1);
}
parentPort.postMessage({ touches, published: [...seen] });
`;

function sameTimeline(a: ImportResult, b: ImportResult): void {
  expect(b.log.length).toBe(a.log.length);
  for (const name of eventColumnNames)
    expect(Array.from(b.log.columns[name].subarray(0, b.log.length) as ArrayLike<number>), name).toEqual(
      Array.from(a.log.columns[name].subarray(0, a.log.length) as ArrayLike<number>),
    );
  expect(b.log.strings.strings).toEqual(a.log.strings.strings);
  expect(b.totals).toEqual(a.totals);
  expect(b.warnings).toEqual(a.warnings);
}

test('a PyTorch import in provided memory, touched by another thread meanwhile, is the import in its own', async () => {
  const file = path.join(dir, 'training.pickle');
  writeTrainingPickle(file, simulateTraining({ entries: 60_000 }));
  const plain = await importSource(await fileSource(file));

  let asked: { rows: number; elementBytes: readonly number[] } | null = null;
  let thread: Promise<{ touches: number; published: number[] }> | null = null;
  const entryMemory: EntryMemoryProvider = (rows, elementBytes) => {
    asked = { rows, elementBytes };
    const buffers = elementBytes.map((b) => new SharedArrayBuffer(Math.ceil((rows * b) / 8) * 8));
    const rowsWritten = new Int32Array(new SharedArrayBuffer(4));
    const ready = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(toucher, {
      eval: true,
      workerData: { buffers, rowsWritten, elementBytes, ready },
    });
    thread = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // The import goes on only once the thread is touching: on a loaded machine the thread's start could
    // otherwise take longer than the whole import, and the test would touch nothing meanwhile.
    Atomics.wait(ready, 0, 0, 30_000);
    return { buffers, rowsWritten };
  };
  const provided = await importSource(await fileSource(file), { entryMemory });
  expect(asked).not.toBeNull();
  expect(asked!.rows).toBeGreaterThanOrEqual(60_000); // room for every entry at once
  // The counter ended at -1 (the thread stopped), after counts of rows written in steps of 4096.
  const { touches, published } = await thread!;
  expect(touches).toBeGreaterThan(0);
  for (const n of published) expect(n % 4096).toBe(0);
  sameTimeline(plain, provided);
});

test('an import that fails or is cancelled still ends the counter at -1 (a toucher waits for that)', async () => {
  const file = path.join(dir, 'training.pickle'); // written by the test above
  const whole = readFileSync(file);
  const cut = path.join(dir, 'cut.pickle');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2))); // torn in the middle of the entries
  const counters: Int32Array[] = [];
  const entryMemory: EntryMemoryProvider = (rows, elementBytes) => {
    const rowsWritten = new Int32Array(new SharedArrayBuffer(4));
    counters.push(rowsWritten);
    return {
      buffers: elementBytes.map((b) => new SharedArrayBuffer(Math.ceil((rows * b) / 8) * 8)),
      rowsWritten,
    };
  };
  await expect(importSource(await fileSource(cut), { entryMemory })).rejects.toThrow();
  // Cancelled through onProgress, as the API's trace worker cancels an import.
  const cancelled = importSource(await fileSource(file), {
    entryMemory,
    onProgress: (done) => {
      if (done > whole.length / 3) throw new Error('cancelled');
    },
  });
  await expect(cancelled).rejects.toThrow('cancelled');
  expect(counters.length).toBe(2);
  for (const c of counters) expect(Atomics.load(c, 0)).toBe(-1);
});
