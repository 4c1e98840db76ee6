// The engine behind the API: one per process (web server or Electron main). Owns the open sessions, the
// loaded traces and the event batcher, and implements every request of the contract (RequestHandlers).
// Transports (src-main/web, src-main/electron, the in-process test transport) only move frames to
// `dispatch` and event batches from `batcher`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTrace } from '../trace/reader.ts';
import { AnalyzedSource } from './analyzed-source.ts';
import { ApiFailure, notFound } from './api-failure.ts';
import type { FileSource, RequestResult, TraceSummary, ValidatedParams } from './contract.ts';
import { listDevices } from './devices.ts';
import { EventBatcher } from './event-batcher.ts';
import { createDispatcher, type Dispatcher, type RequestHandlers } from './handlers.ts';
import { RecentTraces } from './recent-traces.ts';
import { listBuiltinScenarios } from './scenario-catalog.ts';
import { SessionManager } from './sessions.ts';

export interface AppBackendOptions {
  /** Folder with profiles/, scenarios/ and traces/ (default: the repository's assets/). */
  readonly assetsDir?: string;
  /** Where recent trace paths persist (Electron: userData); null keeps them in memory. */
  readonly recentFile?: string | null;
  /** Check every result against the contract (tests). */
  readonly checkResults?: boolean;
  /** Flush interval of the event batcher, ms (default: the contract's). */
  readonly flushIntervalMs?: number;
  /** Relative paths in requests resolve against this (default: process.cwd()). */
  readonly cwd?: string;
  /** Allow runScenario with a script path (desktop app); default false (built-ins only). */
  readonly allowScenarioFiles?: boolean;
}

export const defaultAssetsDir = fileURLToPath(new URL('../../assets/', import.meta.url));

type StateResult = RequestResult<'getState'>;

/** Progress events of one long task: throttled by the batcher (keyed), start and end always sent. */
function progressReporter(
  batcher: EventBatcher,
  taskId: string,
  kind: 'loadTrace' | 'importFile' | 'exportReport',
  unit: 'bytes' | 'events',
): (phase: 'start' | 'progress' | 'done' | 'failed', done: number, total: number, message?: string) => void {
  return (phase, done, total, message) => {
    batcher.emit(
      {
        name: 'progress',
        payload: { taskId, kind, phase, done, total, unit, ...(message === undefined ? {} : { message }) },
      },
      phase === 'progress' ? `progress:${taskId}` : undefined,
    );
  };
}

export class AppBackend {
  readonly batcher: EventBatcher;
  readonly dispatch: Dispatcher;
  readonly assetsDir: string;
  readonly cwd: string;
  private readonly recent: RecentTraces;
  private readonly traces = new Map<string, AnalyzedSource>();
  private readonly sessions: SessionManager;
  private activeSource: string | null = null;
  private nextTrace = 1;
  private nextTask = 1;

  constructor(options: AppBackendOptions = {}) {
    this.assetsDir = options.assetsDir ?? defaultAssetsDir;
    this.cwd = options.cwd ?? process.cwd();
    this.recent = new RecentTraces(options.recentFile ?? null);
    this.batcher = new EventBatcher(options.flushIntervalMs);
    this.sessions = new SessionManager({
      batcher: this.batcher,
      cwd: this.cwd,
      allowScenarioFiles: options.allowScenarioFiles ?? false,
      onChange: () => this.emitState(),
    });
    this.dispatch = createDispatcher(this.handlers(), { checkResults: options.checkResults ?? false });
  }

  /** The source the UI last said it shows (menu: Export Report). */
  get activeSourceId(): string | null {
    return this.activeSource;
  }

  /** Sample traces shipped in assets/traces/. */
  sampleTraces(): StateResult['sampleTraces'] {
    const dir = path.join(this.assetsDir, 'traces');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.trace'))
      .sort()
      .map((f) => {
        const file = path.join(dir, f);
        return { name: f, path: file, bytes: statSync(file).size };
      });
  }

  state(): StateResult {
    return {
      sessions: this.sessions.list(),
      traces: [...this.traces.values()].map((t) => t.summary()),
      sampleTraces: this.sampleTraces(),
      recentTraces: this.recent.list(),
    };
  }

  recentTraces(): string[] {
    return this.recent.list();
  }

  private emitState(): void {
    this.batcher.emit({ name: 'stateChanged', payload: this.state() }, 'stateChanged');
  }

  private source(sourceId: string): AnalyzedSource {
    const source = this.traces.get(sourceId) ?? this.sessions.source(sourceId);
    if (!source) throw notFound('source', sourceId);
    return source;
  }

  /** Loads and analyzes a trace file or dropped bytes, with progress events. */
  async loadTraceFile(source: FileSource, taskId: string | undefined): Promise<TraceSummary> {
    const task = taskId ?? `task-${this.nextTask++}`;
    const report = progressReporter(this.batcher, task, 'loadTrace', 'bytes');
    const started = performance.now();
    let input: string | Uint8Array;
    let name: string;
    if (source.kind === 'path') {
      input = path.resolve(this.cwd, source.path);
      name = path.basename(input);
      let size: number;
      try {
        const info = statSync(input);
        if (!info.isFile()) throw new Error('not a file');
        size = info.size;
      } catch {
        throw new ApiFailure('NotFound', `There is no trace file at ${input}.`);
      }
      report('start', 0, size);
    } else {
      input = source.data;
      name = source.name;
      report('start', 0, source.data.byteLength);
    }
    let loaded;
    try {
      loaded = await loadTrace(input, {
        onProgress: (p) => report('progress', p.bytesDone, p.bytesTotal, `${p.events} events`),
      });
    } catch (error) {
      report('failed', 0, 0, (error as Error).message);
      const position = (error as { position?: unknown }).position;
      throw new ApiFailure(
        'Failed',
        `${name} is not a readable trace: ${(error as Error).message}${typeof position === 'number' ? ` (at byte ${position})` : ''}.`,
      );
    }
    const sourceId = `trace-${this.nextTrace++}`;
    const events = loaded.events;
    const trace = new AnalyzedSource({
      sourceId,
      name,
      device: loaded.header.device,
      strategy: loaded.header.allocator.strategy,
      warnings: loaded.warnings.map((w) => w.message),
      loadMs: 0,
      events: () => events,
    });
    // The one synchronous pass (checkpoints, timeline pyramid); the load time includes it.
    trace.analysis();
    trace.loadMs = performance.now() - started;
    this.traces.set(sourceId, trace);
    if (source.kind === 'path') this.recent.add(input as string);
    report('done', loaded.fileBytes, loaded.fileBytes, `${events.length} events`);
    this.emitState();
    return trace.summary();
  }

  /** Opens the default device's session (npm start / serve). Errors become a log event, never a crash. */
  async openDefaultSession(): Promise<void> {
    try {
      await this.dispatch(
        { t: 'req', id: 0, name: 'openSession', params: {} },
        { clientId: 'main', transport: 'in-process' },
      );
    } catch (error) {
      this.batcher.emit({
        name: 'log',
        payload: {
          sessionId: null,
          level: 'warn',
          message: `no default session: ${(error as Error).message}`,
        },
      });
    }
  }

  private async exportReport(p: ValidatedParams<'exportReport'>): Promise<RequestResult<'exportReport'>> {
    const content = this.source(p.sourceId).report(p.format);
    let written: string | null = null;
    if (p.path !== undefined) {
      written = path.resolve(this.cwd, p.path);
      try {
        await writeFile(written, content);
      } catch (error) {
        throw new ApiFailure('Failed', `Cannot write the report to ${written}: ${(error as Error).message}.`);
      }
    }
    return { format: p.format, content, path: written };
  }

  private handlers(): RequestHandlers {
    return {
      listDevices: () => listDevices(this.cwd),
      getState: () => this.state(),
      openSession: (config) => this.sessions.open(config),
      closeSession: async ({ sessionId }) => {
        await this.sessions.close(sessionId);
        if (this.activeSource === sessionId) this.activeSource = null;
        return { ok: true as const };
      },
      listScenarios: async () => ({ scenarios: await listBuiltinScenarios(this.cwd) }),
      runScenario: (p) => this.sessions.run(p),
      pauseRun: ({ runId }) => this.sessions.pause(runId),
      stepRun: ({ runId, ops }) => this.sessions.step(runId, ops ?? 1),
      resumeRun: ({ runId }) => this.sessions.resume(runId),
      cancelRun: ({ runId }) => this.sessions.cancel(runId),
      loadTrace: ({ source, taskId }) => this.loadTraceFile(source, taskId),
      importFile: () => {
        throw new ApiFailure('NotImplemented', 'Importing foreign dumps is not available in this build yet.');
      },
      setActiveSource: ({ sourceId }) => {
        this.source(sourceId);
        this.activeSource = sourceId;
        return { ok: true as const };
      },
      closeTrace: ({ sourceId }) => {
        if (!this.traces.delete(sourceId)) throw notFound('trace', sourceId);
        if (this.activeSource === sourceId) this.activeSource = null;
        this.emitState();
        return { ok: true as const };
      },
      queryTimeline: (p) => this.source(p.sourceId).timeline(p),
      snapshotAt: (p) => this.source(p.sourceId).snapshot(p),
      listAllocations: (p) => this.source(p.sourceId).allocations(p),
      allocationDetail: (p) => this.source(p.sourceId).detail(p),
      leaks: (p) => this.source(p.sourceId).leaks(p),
      diff: (p) => this.source(p.sourceId).diff(p),
      exportReport: (p) => this.exportReport(p),
    };
  }

  /** Stops runs, closes sessions, sends what is pending, drops the batcher's timers. */
  async dispose(): Promise<void> {
    await this.sessions.closeAll();
    this.batcher.flushNow();
    this.batcher.dispose();
  }
}
