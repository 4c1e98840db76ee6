// The streamed trace of `vramscope import` (src-main/import/trace-stream.ts): encoded on a worker thread while
// the PyTorch importer builds its timeline, it must be the same file, byte for byte, as writeImportedTrace
// writes once the import is done; failures must leave no file behind and stop the worker.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { EventLogOptions } from '../../allocator/event-log.ts';
import { endState, importSource } from '../../allocator/import/index.ts';
import { fileSource } from '../../src-main/import/file-source.ts';
import { ImportTraceStream, type TraceStreamOptions } from '../../src-main/import/trace-stream.ts';
import {
  importDeflate,
  importedTraceHeader,
  writeImportedTrace,
} from '../../src-main/import/write-imported.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';
import { runCliInProcess } from '../support/cli-in-process.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-trace-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const createdAt = new Date('2026-01-02T03:04:05.000Z');
const snapshots = new Map<number, string>();

/** A training-loop snapshot of `entries` trace entries, written once per size. */
function snapshot(entries: number): string {
  let file = snapshots.get(entries);
  if (file === undefined) {
    file = path.join(dir, `training-${entries}.pickle`);
    writeTrainingPickle(file, simulateTraining({ entries, layers: 2, hidden: 128, batch: 2 }));
    snapshots.set(entries, file);
  }
  return file;
}

/** Imports `file` with a stream attached; `tamper` may append to the streamed log before the import does. */
async function importStreamed(
  file: string,
  options: TraceStreamOptions,
  tamper?: (log: ReturnType<ImportTraceStream['eventLog']>) => void,
  entryMemory = false,
) {
  const stream = new ImportTraceStream({ createdAt, ...options });
  const eventLog = (o: EventLogOptions) => {
    const log = stream.eventLog(o);
    tamper?.(log);
    return log;
  };
  if (!entryMemory) return { stream, result: await importSource(await fileSource(file), { eventLog }) };
  // As the CLI does it: the worker started first, the entries (and the timeline's log) in memory it
  // touches during the parse.
  stream.warmUp();
  let entryRows = 0;
  const result = await importSource(await fileSource(file), {
    eventLog,
    entryMemory: (rows, elementBytes, timeline) => {
      entryRows = rows;
      return stream.memory.entryMemory(rows, elementBytes, timeline);
    },
  });
  // The timeline was built in the log columns made with the entries' memory (room for more events than
  // entries), not in fresh ones sized to the timeline.
  expect(result.log.columns.kind.length).toBeGreaterThan(entryRows);
  return { stream, result };
}

function leftovers(folder: string): string[] {
  return readdirSync(folder).filter((f) => f.endsWith('.tmp'));
}

describe('streamed import trace', () => {
  for (const [entries, entryMemory] of [
    [3000, false],
    [60_000, false],
    [60_000, true],
  ] as const) {
    test(`is byte for byte what writeImportedTrace writes (${entries} entries${entryMemory ? ', in memory the worker touched' : ''})`, async () => {
      const { stream, result } = await importStreamed(
        snapshot(entries),
        { minEvents: 0 },
        undefined,
        entryMemory,
      );
      // The log really was streamed (not written whole at the end).
      expect(stream.streaming).toBe(true);
      const out = path.join(dir, `streamed-${entries}-${entryMemory}.trace`);
      const written = await stream.write(result, out);
      expect(stream.streaming).toBe(false);
      // The end state the worker replayed while the events came is the one of the whole log.
      expect(await stream.endState()).toEqual(endState(result.log));
      const reference = path.join(dir, `whole-${entries}-${entryMemory}.trace`);
      const whole = writeImportedTrace(result, reference, { createdAt });
      expect(written).toEqual({ ...whole, path: out });
      expect(Buffer.compare(readFileSync(out), readFileSync(reference))).toBe(0);
      const loaded = loadTraceSync(out);
      expect(loaded.events.length).toBe(result.log.length);
      // 60,000 entries make more than one chunk of 16384 events.
      if (entries > 16384) expect(result.log.length).toBeGreaterThan(2 * 16384);
      expect(leftovers(dir)).toEqual([]);
    });
  }

  test('chunks of 700 events, ends inside an announced batch: what TraceWriter writes with such chunks', async () => {
    const { stream, result } = await importStreamed(snapshot(3000), { minEvents: 0, maxEventsPerChunk: 700 });
    expect(stream.streaming).toBe(true);
    const out = path.join(dir, 'small-chunks.trace');
    await stream.write(result, out);
    const reference = path.join(dir, 'small-chunks-whole.trace');
    const header = importedTraceHeader(result, { createdAt });
    const options = { header, flushIntervalMs: 0, maxEventsPerChunk: 700, deflate: importDeflate };
    new TraceWriter(reference, result.log, options).close();
    expect(result.log.length % 700).not.toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(reference))).toBe(0);
  });

  test('a log smaller than minEvents is written whole at the end, without a worker', async () => {
    const { stream, result } = await importStreamed(snapshot(3000), {});
    expect(stream.streaming).toBe(false);
    const out = path.join(dir, 'unstreamed.trace');
    const written = await stream.write(result, out);
    expect(await stream.endState()).toBeNull();
    const reference = path.join(dir, 'unstreamed-whole.trace');
    writeImportedTrace(result, reference, { createdAt });
    expect(written.events).toBe(result.log.length);
    expect(Buffer.compare(readFileSync(out), readFileSync(reference))).toBe(0);
  });

  test('an event the trace cannot store: the error says which, no file is left, the worker stops', async () => {
    const { stream, result } = await importStreamed(snapshot(3000), { minEvents: 0 }, (log) =>
      log.blockCreate({ blockId: 1, memoryTypeIndex: 0, size: -5, dedicated: false }),
    );
    expect(stream.streaming).toBe(true);
    const out = path.join(dir, 'bad-value.trace');
    await expect(stream.write(result, out)).rejects.toThrow(/event 0: column "size" holds -5/);
    expect(stream.streaming).toBe(false);
    expect(existsSync(out)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  test('an output folder that does not exist: the write fails with the reason, nothing is left', async () => {
    const { stream, result } = await importStreamed(snapshot(3000), { minEvents: 0 });
    const out = path.join(dir, 'no-such-folder', 'x.trace');
    await expect(stream.write(result, out)).rejects.toThrow(/ENOENT/);
    expect(stream.streaming).toBe(false);
    expect(existsSync(path.dirname(out))).toBe(false);
  });

  test('a failed import stops the worker (close), warmed up or streaming', async () => {
    const stream = new ImportTraceStream({ minEvents: 0 });
    stream.eventLog({ initialCapacity: 10 });
    expect(stream.streaming).toBe(true);
    await stream.close();
    expect(stream.streaming).toBe(false);
    const warm = new ImportTraceStream({ minEvents: 0 });
    warm.warmUp();
    await warm.close();
    // Closed: a log made afterwards is not streamed, and no worker starts again.
    warm.eventLog({ initialCapacity: 10 });
    expect(warm.streaming).toBe(false);
  });

  test('a worker warmed up before the import streams the log; unused, it is stopped by write', async () => {
    const stream = new ImportTraceStream({ createdAt, minEvents: 0 });
    stream.warmUp();
    const result = await importSource(await fileSource(snapshot(3000)), { eventLog: stream.eventLog });
    expect(stream.streaming).toBe(true);
    const out = path.join(dir, 'warm.trace');
    await stream.write(result, out);
    const reference = path.join(dir, 'warm-whole.trace');
    writeImportedTrace(result, reference, { createdAt });
    expect(Buffer.compare(readFileSync(out), readFileSync(reference))).toBe(0);
    // Warmed up for a file that turned out too small to stream: written whole, the worker stopped.
    const unused = new ImportTraceStream({ createdAt });
    unused.warmUp();
    const small = await importSource(await fileSource(snapshot(3000)), { eventLog: unused.eventLog });
    expect(unused.streaming).toBe(false);
    const written = await unused.write(small, path.join(dir, 'unused.trace'));
    expect(written.events).toBe(small.log.length);
  });

  test('vramscope import of a snapshot big enough to stream: a clear error when the trace cannot be written', async () => {
    // 70,000 entries: a timeline log made for more than the 65,536 events that start streaming.
    const file = snapshot(70_000);
    const ok = await runCliInProcess(['import', file, '--out', 'cli.trace'], dir);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const reference = path.join(dir, 'cli-reference.trace');
    const whole = writeImportedTrace(await importSource(await fileSource(file)), reference);
    expect(ok.stdout).toContain(
      `wrote ${path.join(dir, 'cli.trace')}: ${whole.events} events, ${whole.bytes} bytes`,
    );
    const bad = await runCliInProcess(['import', file, '--out', 'missing/cli.trace'], dir);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/cannot write .*missing[\\/]cli\.trace: ENOENT/);
    expect(leftovers(dir)).toEqual([]);
  });
});
