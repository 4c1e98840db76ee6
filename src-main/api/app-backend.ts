// The engine behind the API: one per process (web server or Electron main). Owns the open sessions, the
// loaded traces and the event batcher, and implements every request of the contract (RequestHandlers).
// Transports (src-main/web, src-main/electron, the in-process test transport) only move frames to
// `dispatch` and event batches from `batcher`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiFailure, notFound } from './api-failure.ts';
import type { RequestName, RequestResult, TraceSummary } from './contract.ts';
import { EventBatcher } from './event-batcher.ts';
import { createDispatcher, type Dispatcher, type RequestHandlers } from './handlers.ts';
import { RecentTraces } from './recent-traces.ts';

export interface AppBackendOptions {
  /** Folder with profiles/, scenarios/ and traces/ (default: the repository's assets/). */
  readonly assetsDir?: string;
  /** Where recent trace paths persist (Electron: userData); null keeps them in memory. */
  readonly recentFile?: string | null;
  /** Check every result against the contract (tests). */
  readonly checkResults?: boolean;
  /** Flush interval of the event batcher, ms (default: the contract's). */
  readonly flushIntervalMs?: number;
}

export const defaultAssetsDir = fileURLToPath(new URL('../../assets/', import.meta.url));

type StateResult = RequestResult<'getState'>;

export class AppBackend {
  readonly batcher: EventBatcher;
  readonly dispatch: Dispatcher;
  readonly assetsDir: string;
  private readonly recent: RecentTraces;
  private readonly traces = new Map<string, TraceSummary>();
  private activeSource: string | null = null;

  constructor(options: AppBackendOptions = {}) {
    this.assetsDir = options.assetsDir ?? defaultAssetsDir;
    this.recent = new RecentTraces(options.recentFile ?? null);
    this.batcher = new EventBatcher(options.flushIntervalMs);
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
      sessions: [],
      traces: [...this.traces.values()],
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

  private notYet(name: RequestName): never {
    throw new ApiFailure('NotImplemented', `"${name}" is not available in this build yet.`);
  }

  private requireSource(sourceId: string): void {
    if (!this.traces.has(sourceId)) throw notFound('source', sourceId);
  }

  private handlers(): RequestHandlers {
    return {
      listDevices: () => this.notYet('listDevices'),
      getState: () => this.state(),
      openSession: () => this.notYet('openSession'),
      closeSession: ({ sessionId }) => {
        throw notFound('session', sessionId);
      },
      listScenarios: () => this.notYet('listScenarios'),
      runScenario: () => this.notYet('runScenario'),
      pauseRun: ({ runId }) => {
        throw notFound('run', runId);
      },
      stepRun: ({ runId }) => {
        throw notFound('run', runId);
      },
      resumeRun: ({ runId }) => {
        throw notFound('run', runId);
      },
      cancelRun: ({ runId }) => {
        throw notFound('run', runId);
      },
      loadTrace: () => this.notYet('loadTrace'),
      importFile: () => this.notYet('importFile'),
      setActiveSource: ({ sourceId }) => {
        this.requireSource(sourceId);
        this.activeSource = sourceId;
        return { ok: true as const };
      },
      closeTrace: ({ sourceId }) => {
        this.requireSource(sourceId);
        this.traces.delete(sourceId);
        if (this.activeSource === sourceId) this.activeSource = null;
        this.emitState();
        return { ok: true as const };
      },
      queryTimeline: ({ sourceId }) => {
        this.requireSource(sourceId);
        return this.notYet('queryTimeline');
      },
      snapshotAt: ({ sourceId }) => {
        this.requireSource(sourceId);
        return this.notYet('snapshotAt');
      },
      listAllocations: ({ sourceId }) => {
        this.requireSource(sourceId);
        return this.notYet('listAllocations');
      },
      allocationDetail: ({ sourceId }) => {
        this.requireSource(sourceId);
        return this.notYet('allocationDetail');
      },
      leaks: ({ sourceId }) => {
        this.requireSource(sourceId);
        return this.notYet('leaks');
      },
      diff: ({ sourceId }) => {
        this.requireSource(sourceId);
        return this.notYet('diff');
      },
      exportReport: ({ sourceId }) => {
        this.requireSource(sourceId);
        return this.notYet('exportReport');
      },
    };
  }

  /** Stops runs, closes sessions, drops the batcher's timers. */
  async dispose(): Promise<void> {
    this.batcher.flushNow();
    this.batcher.dispose();
  }
}
