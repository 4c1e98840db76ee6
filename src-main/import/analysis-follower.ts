// Analysing an import's timeline while it is written. The web server's trace worker imports a file, then
// analyses its events (totals, peaks, checkpoints, the timeline pyramid) before it answers: 0.1-0.2 s of one
// thread at a million events, after the importer's own pass over them. The importer makes its timeline's
// events final in order (EventLog.watchFinal), in shared memory (PrefaultedImportMemory), so a second
// thread (analysis-worker.ts) can analyse each batch while the next is written, on the other core; at the
// end it hands the analysis over (TraceAnalysis.toParts, buffers moved, not copied) and the trace worker
// takes it up (TraceAnalysis.fromParts) instead of analysing. One thread serves all the trace worker's
// imports, started with it (startAnalysisThread) so that its code is loaded before the first file.
// Anything wrong on that side (the thread failed, could not start, or analysed for other memory types)
// leaves the trace worker to analyse the events itself, as before: the answer is the same either way.
import type { Worker } from 'node:worker_threads';
import type { AnalysisParts } from '../../allocator/analysis/index.ts';
import type { DeviceDescription } from '../../allocator/device.ts';
import type { EventLog } from '../../allocator/event-log.ts';
import { traceEventsOf, type TraceEvents } from '../../allocator/trace/index.ts';
import { startWorker } from '../runtime/install.ts';
import type { FromAnalysis, ToAnalysis } from './analysis-protocol.ts';
import { FinalEventsSender } from './final-events.ts';

/** Logs made for fewer events are analysed at the end (a few ms: not worth the messages). */
export const followMinEvents = 65_536;

/** Events per batch the analysis thread is told of (as the CLI's trace chunks). */
const batchEvents = 16_384;

/** The analysis thread and the jobs waiting for its answer. */
class AnalysisThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, (parts: AnalysisParts | null) => void>();
  private nextJob = 1;
  /** The thread ended (it failed or was stopped): a new one is started for the next job. */
  ended = false;

  constructor() {
    const worker = startWorker('analysis-worker');
    // Never keeps the process alive by itself.
    worker.unref();
    worker.on('message', (m: FromAnalysis) => this.answer(m.job, m.type === 'parts' ? m.parts : null));
    const end = (): void => {
      this.ended = true;
      for (const job of [...this.waiting.keys()]) this.answer(job, null);
    };
    worker.once('error', end);
    worker.once('exit', end);
    this.worker = worker;
  }

  newJob(): number {
    return this.nextJob++;
  }

  post(message: ToAnalysis): void {
    if (!this.ended) this.worker.postMessage(message);
  }

  /** The thread's answer to `job`'s 'finish' (null: it failed, or the thread ended). */
  answerOf(job: number): Promise<AnalysisParts | null> {
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.set(job, resolve));
  }

  private answer(job: number, parts: AnalysisParts | null): void {
    const resolve = this.waiting.get(job);
    this.waiting.delete(job);
    resolve?.(parts);
  }

  stop(): Promise<number> {
    this.ended = true;
    return this.worker.terminate();
  }
}

let shared: AnalysisThread | null = null;

/** The analysis thread, started now if none runs (throws if it cannot be started). */
function analysisThread(): AnalysisThread {
  if (shared === null || shared.ended) shared = new AnalysisThread();
  return shared;
}

/**
 * Starts the analysis thread ahead of the first import (the trace worker does when it starts: the thread
 * loads and compiles its code meanwhile, about 70 ms of CPU). Never fails: without a thread, imports are
 * analysed at the end.
 */
export function startAnalysisThread(): void {
  try {
    analysisThread();
  } catch {
    // Analysed at the end, as before.
  }
}

/** Stops the analysis thread (tests); the next follower starts another. */
export async function stopAnalysisThread(): Promise<void> {
  const thread = shared;
  shared = null;
  await thread?.stop();
}

/**
 * One stream of events analysed on the analysis thread as it is written: an import's timeline log
 * (`follow`), or a trace as it is decoded (`start`, then `advance` after each record).
 */
export class AnalysisFollower {
  private readonly thread: AnalysisThread;
  private readonly job: number;
  /** The events followed (null until start). */
  private followed: TraceEvents | null = null;
  /** The log followed, when `follow` was given one. */
  private followedLog: EventLog | null = null;
  private done = false;
  private readonly sender: FinalEventsSender;

  /** A job on the analysis thread (started now if none runs: throws if it cannot be started). */
  constructor() {
    this.thread = analysisThread();
    const job = this.thread.newJob();
    this.job = job;
    this.sender = new FinalEventsSender((columns) => this.thread.post({ type: 'columns', job, columns }));
  }

  /** The log followed: null until `follow` (and for events followed with `start`). */
  get log(): EventLog | null {
    return this.followedLog;
  }

  /**
   * Follows `log` (made for `expectedEvents` events, for `device`: see ImportOptions.eventLog) from now on:
   * each batch of its events that becomes final is analysed on the thread. Once.
   */
  follow(log: EventLog, device: DeviceDescription, expectedEvents: number): void {
    const events = traceEventsOf(log);
    this.start(events, device, expectedEvents);
    this.followedLog = log;
    log.watchFinal(batchEvents, (final) => this.advance(final));
  }

  /**
   * Follows `events` (a live view whose columns are SharedArrayBuffers and which says which columns are
   * written; about `expectedEvents` of them, for `device`), told by `advance` as they become final. Once.
   */
  start(events: TraceEvents, device: DeviceDescription, expectedEvents: number): void {
    if (this.followed !== null) throw new Error('AnalysisFollower: already following events');
    this.followed = events;
    this.thread.post({ type: 'start', job: this.job, device, expectedEvents });
  }

  /** Events [0, final) of the events followed are final: analysed on the thread. */
  advance(final: number): void {
    const events = this.followed;
    if (this.done || events === null) return;
    this.thread.post({ type: 'final', job: this.job, ...this.sender.batch(events, final) });
  }

  /**
   * The analysis of all the events followed, once the writer is done with them (null: none followed, it
   * failed or was closed: analyse them here).
   */
  async finish(): Promise<AnalysisParts | null> {
    const events = this.followed;
    if (this.done || events === null) {
      this.close();
      return null;
    }
    this.done = true;
    const answer = this.thread.answerOf(this.job);
    this.thread.post({ type: 'finish', job: this.job, ...this.sender.batch(events, events.length) });
    return answer;
  }

  /** Drops the job (the import or load failed or was cancelled); idempotent. */
  close(): void {
    if (this.done) return;
    this.done = true;
    if (this.followed !== null) this.thread.post({ type: 'drop', job: this.job });
  }
}
