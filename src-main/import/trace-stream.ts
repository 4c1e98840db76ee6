// `vramscope import` writes its trace while the import still runs: the PyTorch importer's timeline log is
// made with its columns in shared memory (ImportOptions.eventLog), and every maxEventsPerChunk events that
// become final are announced to a worker thread (trace-stream-worker.ts) that encodes and compresses them
// on the other core. At the end only the last chunk, the header and the index are left. The file is the
// same, byte for byte, as writeImportedTrace's; it appears only when complete (temporary name + rename).
// Logs this does not stream (other formats, small ones, logs with decision records) are written by
// writeImportedTrace at the end, as before.
import { renameSync, rmSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { EventLog, type EventLogOptions } from '../../allocator/event-log.ts';
import type { EndState, ImportResult } from '../../allocator/import/index.ts';
import { traceEventsOf } from '../../allocator/trace/index.ts';
import { startWorker } from '../runtime/install.ts';
import { FinalEventsSender } from './final-events.ts';
import { PrefaultedImportMemory } from './prefault.ts';
import type { FromTraceStream, ToTraceStream, TraceStreamSettings } from './trace-stream-protocol.ts';
import {
  importedTraceHeader,
  importTempPath,
  writeImportedTrace,
  type ImportedTraceOptions,
  type WrittenTrace,
} from './write-imported.ts';

export interface TraceStreamOptions extends ImportedTraceOptions {
  /** Events per chunk at most (default 16384, as TraceWriter). */
  readonly maxEventsPerChunk?: number;
  /**
   * Logs made for fewer events than this are not streamed (default 65536): below that, writing at the end
   * takes a few tens of ms, less than starting a worker thread costs.
   */
  readonly minEvents?: number;
}

/** The worker's last answer, or why it ended without one: its error, or its exit. */
type Answer =
  Exclude<FromTraceStream, { type: 'end' }> | { readonly type: 'stopped'; readonly message: string };

export class ImportTraceStream {
  private readonly maxEventsPerChunk: number;
  private readonly minEvents: number;
  private readonly headerOptions: ImportedTraceOptions;
  private worker: Worker | null = null;
  /** write or close ran: no worker is started any more. */
  private done = false;
  private log: EventLog | null = null;
  private readonly sender = new FinalEventsSender((columns) => this.post({ type: 'columns', columns }));
  /** The worker's answer, or why it stopped; resolved once. */
  private answer: Promise<Answer> = Promise.resolve({ type: 'stopped', message: 'not started' });
  /** The end state the worker replayed (null: it sent none, or nothing was streamed). */
  private end: Promise<EndState | null> = Promise.resolve(null);

  constructor(options: TraceStreamOptions = {}) {
    this.maxEventsPerChunk = options.maxEventsPerChunk ?? 16384;
    this.minEvents = options.minEvents ?? 65536;
    this.headerOptions = options.createdAt ? { createdAt: options.createdAt } : {};
  }

  /** Whether a log is being streamed (one was made, and the worker runs). */
  get streaming(): boolean {
    return this.log !== null && this.worker !== null;
  }

  /**
   * ImportOptions.eventLog: a log that is streamed when it is made for at least minEvents events (only
   * the first such log: an import writes its timeline into one).
   */
  readonly eventLog = (options: EventLogOptions): EventLog => {
    if (this.log !== null || (options.initialCapacity ?? 0) < this.minEvents) return new EventLog(options);
    // In the columns made (and touched) during the parse when they have room, else fresh ones.
    const log = this.memory.eventLog(options);
    this.log = log;
    this.warmUp();
    log.watchFinal(this.maxEventsPerChunk, (final) =>
      this.post({ type: 'final', ...this.sender.batch(traceEventsOf(log), final) }),
    );
    return log;
  };

  /**
   * The entries' and the timeline's memory, touched by the worker during the parse (prefault.ts).
   * ImportOptions.entryMemory is `memory.entryMemory`.
   */
  readonly memory = new PrefaultedImportMemory((request) => {
    if (!this.done) this.post({ type: 'prefault', request });
  });

  /**
   * Starts the worker now, before a log is made (an input large enough to be streamed: the thread's start-up
   * then overlaps the parse instead of the timeline). Stopped by write or close like any other.
   */
  warmUp(): void {
    if (this.worker !== null || this.done) return;
    const settings: TraceStreamSettings = { maxEventsPerChunk: this.maxEventsPerChunk };
    const worker = startWorker('trace-stream-worker', { workerData: settings });
    // Never keeps the process alive by itself; write() holds it while it waits for the answer.
    worker.unref();
    let endOf: (end: EndState | null) => void = () => {};
    this.end = new Promise((resolve) => (endOf = resolve));
    this.answer = new Promise<Answer>((resolve) => {
      const settle = (answer: Answer): void => {
        endOf(null); // no-op once the end state came
        resolve(answer);
      };
      worker.on('message', (m: FromTraceStream) => (m.type === 'end' ? endOf(m.end) : settle(m)));
      worker.once('error', (error) => settle({ type: 'stopped', message: error.message }));
      worker.once('exit', (code) =>
        settle({ type: 'stopped', message: `the trace writer thread stopped (exit code ${code})` }),
      );
    });
    this.worker = worker;
  }

  private post(message: ToTraceStream): void {
    this.worker?.postMessage(message);
  }

  /**
   * Writes the import's trace to `outPath`: finishes the streamed log, or writes the log at once
   * (writeImportedTrace) when it was not streamed. Stops the worker either way.
   */
  async write(result: ImportResult, outPath: string): Promise<WrittenTrace> {
    const log = this.log;
    const worker = this.worker;
    // The streamed chunks carry no decision records, so a log with any is written whole.
    if (log === null || worker === null || result.log !== log || log.decisions.length > 0) {
      this.end = Promise.resolve(null);
      void this.stop();
      return writeImportedTrace(result, outPath, this.headerOptions);
    }
    const temp = importTempPath(outPath);
    try {
      worker.ref();
      const header = importedTraceHeader(result, this.headerOptions);
      this.post({ type: 'finish', ...this.sender.batch(traceEventsOf(log), log.length), header, path: temp });
      const answer = await this.answer;
      if (answer.type !== 'written') throw new Error(answer.message);
      // Its work done, the thread ends on its own time (waiting for that took 20-55 ms at load 5).
      void this.stop();
      renameSync(temp, outPath);
      return { path: outPath, events: answer.events, bytes: answer.bytes };
    } catch (error) {
      // Nothing may write the temporary file any more before it is removed.
      await this.close();
      rmSync(temp, { force: true });
      throw error;
    }
  }

  /**
   * What is live at the end of the streamed log, as the worker replayed it (endState), once write has
   * been called; null when the log was not streamed or the worker stopped first (compute it then).
   */
  endState(): Promise<EndState | null> {
    return this.end;
  }

  /** Stops the worker (an import that failed, or done) and waits until its thread has ended; idempotent. */
  async close(): Promise<void> {
    await this.stop();
  }

  /** Tells the worker to stop; resolves once its thread has ended. No worker starts after this. */
  private stop(): Promise<unknown> {
    this.done = true;
    const worker = this.worker;
    this.worker = null;
    return worker === null ? Promise.resolve() : worker.terminate();
  }
}
