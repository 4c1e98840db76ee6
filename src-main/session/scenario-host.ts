// Main-thread side of a scenario run: starts the worker, mirrors its events, and offers the controls
// (pause, step exactly one allocator op, resume, cancel). The main thread never blocks on the worker.
import type { Worker } from 'node:worker_threads';
import type { LogLevel } from '../../allocator/index.ts';
import { startWorker } from '../runtime/install.ts';
import { EventMirror } from './event-mirror.ts';
import { createControlBuffer, RunController, RunState } from './run-control.ts';
import type {
  EventBatch,
  RunInfo,
  RunRequest,
  RunResult,
  RunStatus,
  WorkerData,
  WorkerMessage,
} from './run-protocol.ts';

export interface RunListener {
  onReady?(info: RunInfo): void;
  onEvents?(batch: EventBatch, mirror: EventMirror): void;
  onStatus?(status: RunStatus): void;
  /** Scenario ctx.log lines (level absent: info), allocator log lines and validation layer messages. */
  onLog?(message: string, level: LogLevel): void;
  onDone?(result: RunResult): void;
}

/** How long cancel() waits for the script to reach a cancellation point before terminating the worker. */
export const cancelGraceMs = 2000;

type Waiter = { test: (s: RunStatus) => boolean; resolve: (s: RunStatus) => void };

export interface ScenarioRunOptions {
  /**
   * Keep a copy of every event in `events` (default true: the CLI and tests read it). The API passes false:
   * the trace worker keeps the recording, and a second copy on main cost its CPU, memory and GC.
   */
  readonly mirror?: boolean;
}

export class ScenarioRun {
  /** Every event so far (empty when started with `mirror: false`). */
  readonly events = new EventMirror();
  /** Events received from the worker so far (counted with or without the mirror). */
  eventCount = 0;
  info: RunInfo | null = null;
  status: RunStatus | null = null;
  result: RunResult | null = null;
  readonly done: Promise<RunResult>;
  private readonly worker: Worker;
  private readonly controller: RunController;
  private waiters: Waiter[] = [];
  private finish!: (result: RunResult) => void;

  private readonly mirror: boolean;

  constructor(
    request: RunRequest,
    private readonly listener: RunListener = {},
    options: ScenarioRunOptions = {},
  ) {
    this.mirror = options.mirror ?? true;
    const control = createControlBuffer();
    this.controller = new RunController(control);
    this.done = new Promise<RunResult>((resolve) => {
      this.finish = resolve;
    });
    const data: WorkerData = { request, control };
    this.worker = startWorker('scenario-worker', { workerData: data });
    this.worker.on('message', (m: WorkerMessage) => this.onMessage(m));
    this.worker.on('error', (error: Error) =>
      this.end({
        outcome: 'failed',
        error: {
          kind: 'internal',
          message: `the scenario worker crashed: ${error.message}`,
          location: null,
          stack: error.stack ?? null,
        },
        summary: null,
      }),
    );
    this.worker.on('exit', (code) => {
      if (!this.result)
        this.end({
          outcome: this.controller.state === RunState.Cancelled ? 'cancelled' : 'failed',
          error:
            this.controller.state === RunState.Cancelled
              ? null
              : {
                  kind: 'internal',
                  message: `the scenario worker exited with code ${code} before finishing`,
                  location: null,
                  stack: null,
                },
          summary: null,
        });
    });
  }

  private onMessage(m: WorkerMessage): void {
    switch (m.type) {
      case 'ready':
        this.info = m.info;
        this.listener.onReady?.(m.info);
        break;
      case 'events':
        this.eventCount = m.batch.start + m.batch.columns.kind.length;
        if (this.mirror) this.events.apply(m.batch);
        this.listener.onEvents?.(m.batch, this.events);
        break;
      case 'status': {
        this.status = m.status;
        this.listener.onStatus?.(m.status);
        const keep: Waiter[] = [];
        for (const w of this.waiters) {
          if (w.test(m.status)) w.resolve(m.status);
          else keep.push(w);
        }
        this.waiters = keep;
        break;
      }
      case 'log':
        this.listener.onLog?.(m.message, m.level ?? 'info');
        break;
      case 'done':
        this.end(m.result);
        break;
    }
  }

  private end(result: RunResult): void {
    if (this.result) return;
    this.result = result;
    const last = this.status;
    for (const w of this.waiters) w.resolve(last ?? emptyStatus);
    this.waiters = [];
    this.listener.onDone?.(result);
    this.finish(result);
    void this.worker.terminate();
  }

  private waitFor(test: (s: RunStatus) => boolean): Promise<RunStatus> {
    if (this.result) return Promise.resolve(this.status ?? emptyStatus);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Resolves once the worker stopped before its next allocator op (or the run ended). */
  pause(): Promise<RunStatus> {
    this.controller.pause();
    return this.waitFor((s) => s.state === 'paused');
  }

  resume(): void {
    this.controller.resume();
  }

  /**
   * While paused: lets exactly one allocator op run and resolves with the status after it (or at the end of
   * the run, if the script finishes first). Call pause() first and wait for it.
   */
  step(): Promise<RunStatus> {
    const before = this.status;
    if (this.result) return Promise.resolve(before ?? emptyStatus);
    if (!before || before.state !== 'paused') return Promise.reject(new Error('step() needs a paused run'));
    const target = before.ops + 1;
    const waiting = this.waitFor((s) => s.ops >= target);
    this.controller.step();
    return waiting;
  }

  /** Stops at the next cancellation point; terminates the worker if it does not get there in time. */
  async cancel(): Promise<RunResult> {
    this.controller.cancel();
    const timer = setTimeout(() => void this.worker.terminate(), cancelGraceMs);
    try {
      return await this.done;
    } finally {
      clearTimeout(timer);
    }
  }
}

const emptyStatus: RunStatus = {
  state: 'finished',
  ops: 0,
  frame: 0,
  events: 0,
  committedBytes: 0,
  allocatedBytes: 0,
  liveAllocations: 0,
  failures: 0,
};

export function startScenario(
  request: RunRequest,
  listener?: RunListener,
  options?: ScenarioRunOptions,
): ScenarioRun {
  return new ScenarioRun(request, listener, options);
}
