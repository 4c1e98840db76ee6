// The trace-stream worker thread: encodes an import's event log into trace chunks while the import still
// appends to it (main shares the log's columns and says how many events are final), then writes header,
// chunks and index to the file main names. The bytes are those TraceWriter writes for the same log: same
// encoder, same chunking; only the header is encoded last (it depends on the whole log) and placed first.
import { closeSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { EventLog } from '../../allocator/event-log.ts';
import { EndStateReplay } from '../../allocator/import/end-state.ts';
import { TraceEncoder, traceEventsOf } from '../../allocator/trace/index.ts';
import { reusableAllocateRecord } from '../../allocator/import/model.ts';
import { writeAllSync } from '../trace/writer.ts';
import { FinalEvents, type FinalBatch } from './final-events.ts';
import { prefaultBlocking } from './prefault.ts';
import type { FromTraceStream, ToTraceStream, TraceStreamSettings } from './trace-stream-protocol.ts';
import { importDeflate } from './write-imported.ts';

const port = parentPort;
if (!port) throw new Error('trace-stream-worker.ts must run in a worker thread');
const settings = workerData as TraceStreamSettings;
const post = (message: FromTraceStream): void => port.postMessage(message);

// Compressed as writeImportedTrace does, so the files are the same.
const encoder = new TraceEncoder({
  deflate: importDeflate,
  maxEventsPerChunk: settings.maxEventsPerChunk,
});
/** main's log as far as it is final. */
const events = new FinalEvents();
/** Chunk records encoded so far, in file order. */
const chunks: Uint8Array[] = [];
/** The first encoding error; reported at 'finish' (main has nothing to do with it before). */
let failure: Error | null = null;
const replay = new EndStateReplay();

function advance(batch: FinalBatch, onlyFull: boolean): void {
  events.advance(batch);
  const columns = events.columnsIfSent;
  if (columns !== null) replay.advance(columns, batch.final);
  if (failure !== null) return;
  try {
    for (const record of encoder.encodePending(events, batch.final, onlyFull)) chunks.push(record);
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
  }
}

/** Header, chunks and index into `path`, synced. Removes the file on failure. */
function writeTrace(path: string, header: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    writeAllSync(fd, header);
    for (const record of chunks) writeAllSync(fd, record);
    writeAllSync(fd, encoder.finish());
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
  closeSync(fd);
}

/**
 * Runs the encoder and the end-state replay once over a small made-up log of the import's kinds of events
 * (blocks, allocations with addresses, streams and stacks, frees), output discarded. The thread starts
 * while main still parses and has nothing to do until the timeline's first chunk, so this compiles their
 * code meanwhile: cold, the first real chunk took about 70 ms against about 7 ms for each later one, and the
 * thread then trailed the timeline to its end (idle 2-core machine, 1,000,000-entry snapshot).
 */
function warmUpCode(): void {
  let now = 0;
  const events = 2 * settings.maxEventsPerChunk;
  const log = new EventLog({ sharedMemory: true, initialCapacity: events, clock: () => now });
  const base = 0x7f00_0000_0000;
  log.blockCreate({ blockId: 1, memoryTypeIndex: 0, size: 2 ** 30, dedicated: false });
  log.placeLast(base);
  const fields = reusableAllocateRecord();
  fields.blockId = 1;
  for (let i = 1; log.length < events - 2; i++) {
    now += 0.013;
    fields.allocationId = i;
    fields.offset = (i * 4096) % 2 ** 29;
    fields.size = 512 * (1 + (i % 97));
    fields.stack = i % 3 === 0 ? `warm-up frame ${i % 50}` : null;
    log.allocate(fields);
    log.placeLast(base + fields.offset, i % 4);
    if (i > 8) log.free(i - 8);
  }
  new TraceEncoder({ deflate: importDeflate, maxEventsPerChunk: settings.maxEventsPerChunk }).encodePending(
    traceEventsOf(log),
  );
  new EndStateReplay().advance(log.columns, log.length);
}

// Messages wait until this has run: it is over long before the first chunk is due.
warmUpCode();

port.on('message', (m: ToTraceStream) => {
  switch (m.type) {
    case 'prefault':
      // Nothing else to do during the parse (the timeline comes after it): messages wait meanwhile.
      prefaultBlocking(m.request);
      return;
    case 'columns':
      events.setColumns(m.columns);
      return;
    case 'final':
      advance(m, true);
      return;
    case 'finish':
      advance(m, false);
      try {
        post({ type: 'end', end: replay.result() });
        if (failure !== null) throw failure;
        writeTrace(m.path, encoder.start(m.header));
        post({ type: 'written', events: encoder.eventsWritten, bytes: encoder.bytesWritten });
      } catch (error) {
        post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      }
      return;
  }
});
