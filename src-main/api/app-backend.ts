// The engine behind the API: one per process (web server or Electron main). Owns the open sessions, the
// loaded traces and the event batcher, and implements every request of the contract (RequestHandlers).
// Transports (src-main/web, src-main/electron, the in-process test transport) only move frames to
// `dispatch` and event batches from `batcher`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DeviceDescription } from '../../allocator/index.ts';
import { safeFileName } from '../../allocator/text/printable.ts';
import { notFound } from './api-failure.ts';
import type { FileSource, RequestResult, TraceSummary, ValidatedParams } from './contract.ts';
import { DeviceLibrary } from './device-library.ts';
import { listDevices, resolveDevice } from './devices.ts';
import { EventBatcher } from './event-batcher.ts';
import { FileGrants, type FileGrant, type GrantOrigin } from './file-grants.ts';
import { createDispatcher, type Dispatcher, type RequestHandlers } from './handlers.ts';
import { RecentTraces } from './recent-traces.ts';
import { listBuiltinScenarios } from './scenario-catalog.ts';
import { CaptureManager } from './captures.ts';
import { SessionManager } from './sessions.ts';
import { TraceHost } from './trace-host.ts';
import type { LoadedSource, SourceQuery, SourceQueryMap, WorkerFile } from './trace-protocol.ts';
import { UploadStore } from './uploads.ts';
import { assetsDir, bundled } from '../runtime/install.ts';

export interface AppBackendOptions {
  /** Folder with profiles/, scenarios/ and traces/ (default: the repository's assets/). */
  readonly assetsDir?: string;
  /** Where recent trace paths persist (Electron: userData); null keeps them in memory. */
  readonly recentFile?: string | null;
  /**
   * Check every result against the contract's result schema (a handler that breaks the contract answers
   * Internal). Default: checkResultsByDefault.
   */
  readonly checkResults?: boolean;
  /** Flush interval of the event batcher, ms (default: the contract's). */
  readonly flushIntervalMs?: number;
  /** Where profiles given by relative path resolve (default: process.cwd()). Clients send no paths. */
  readonly cwd?: string;
  /** Where profiles the user adds are kept (Electron: userData/profiles); null/absent: adding is refused. */
  readonly userProfilesDir?: string | null;
  /**
   * Whether clients may start programs under the capture layer (startCapture): code execution, so only on
   * the user's word: the desktop app, `vramscope serve --allow-capture`. Default false.
   */
  readonly allowCapture?: boolean;
  /** Environment of captured programs and of the layer lookup (default: process.env; tests). */
  readonly captureEnv?: NodeJS.ProcessEnv;
}

type StateResult = RequestResult<'getState'>;

/**
 * Whether results are checked against the contract when the backend's creator does not say. From the
 * sources (tests, scripts): unless NODE_ENV=production. In the bundles (the CLI's `serve` and the desktop
 * app, what users run): only under a test runner (NODE_ENV=test, which vitest sets and the servers its tests
 * start inherit). The check parses every answer again (a timeline's arrays of numbers, a report) on the
 * main thread: about 30 ms of the answers that bring a 1M-entry snapshot's first timeline.
 */
export function checkResultsByDefault(isBundle: boolean, nodeEnv: string | undefined): boolean {
  return isBundle ? nodeEnv === 'test' : nodeEnv !== 'production';
}

export class AppBackend {
  readonly batcher: EventBatcher;
  readonly dispatch: Dispatcher;
  readonly assetsDir: string;
  readonly cwd: string;
  private readonly recent: RecentTraces;
  /** The files clients may name (by fileId): see file-grants.ts. */
  readonly grants = new FileGrants();
  /** Loaded and imported traces, held and analyzed by the trace worker. */
  private readonly traces = new Map<string, TraceSummary>();
  private readonly traceHost: TraceHost;
  private readonly taskKinds = new Map<string, 'loadTrace' | 'importFile'>();
  /** Loads and imports of uploads in progress: the upload's id by task, so either cancel stops both. */
  private readonly uploadTasks = new Map<string, string>();
  /** Tasks a client cancelled (cancelTask or cancelUpload) while they ran; their upload goes with them. */
  private readonly cancelledTasks = new Set<string>();
  private readonly sessions: SessionManager;
  private readonly captures: CaptureManager;
  /** Uploads from the page (chunked or in one message), on disk until opened, then granted fileIds. */
  readonly uploads = new UploadStore(this.grants);
  readonly devices: DeviceLibrary;
  private activeSource: string | null = null;
  private nextTrace = 1;
  private nextTask = 1;

  constructor(options: AppBackendOptions = {}) {
    this.assetsDir = options.assetsDir ?? assetsDir();
    this.cwd = options.cwd ?? process.cwd();
    this.recent = new RecentTraces(options.recentFile ?? null);
    this.batcher = new EventBatcher(options.flushIntervalMs);
    this.devices = new DeviceLibrary(options.userProfilesDir ?? null);
    this.traceHost = new TraceHost((p) => {
      const kind = this.taskKinds.get(p.taskId) ?? 'loadTrace';
      if (p.phase === 'done' || p.phase === 'failed') this.taskKinds.delete(p.taskId);
      const { type: _type, ...rest } = p;
      this.batcher.emit(
        { name: 'progress', payload: { ...rest, kind, unit: 'bytes' } },
        p.phase === 'progress' ? `progress:${p.taskId}` : undefined,
      );
    });
    this.sessions = new SessionManager({
      resolveUserProfile: (name) => this.devices.userProfilePath(name),
      batcher: this.batcher,
      cwd: this.cwd,
      resolveFile: (fileId) => {
        const { path: file } = this.grants.resolve(fileId);
        this.uploads.used(fileId);
        return file;
      },
      onChange: () => this.emitState(),
      traceHost: this.traceHost,
    });
    this.captures = new CaptureManager({
      batcher: this.batcher,
      traceHost: this.traceHost,
      cwd: this.cwd,
      allowCapture: options.allowCapture === true,
      refusal:
        'Starting a program is code execution: this server does not allow it. Start `vramscope serve --allow-capture` (or use the desktop app), or run `vramscope capture --live -- <command>` yourself and attach to it.',
      onChange: () => this.emitState(),
      ...(options.captureEnv ? { env: options.captureEnv } : {}),
    });
    this.dispatch = createDispatcher(this.handlers(), {
      checkResults: options.checkResults ?? checkResultsByDefault(bundled, process.env['NODE_ENV']),
    });
  }
  /**
   * Starts what the first file opened would otherwise wait for (the trace worker), once the server or app
   * is up and idle.
   */
  prestart(): void {
    this.traceHost.prestart();
  }

  /** The source the UI last said it shows (menu: Export Report). */
  get activeSourceId(): string | null {
    return this.activeSource;
  }

  /** Sample traces shipped in assets/traces/, each granted to clients. */
  sampleTraces(): StateResult['sampleTraces'] {
    const dir = path.join(this.assetsDir, 'traces');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.trace'))
      .sort()
      .map((f) => {
        const file = path.join(dir, f);
        return { name: f, fileId: this.grants.grant(file, 'sample').fileId, bytes: statSync(file).size };
      });
  }

  state(): StateResult {
    return {
      sessions: this.sessions.list(),
      traces: [...this.traces.values()],
      sampleTraces: this.sampleTraces(),
      recentTraces: this.recentTraces(),
    };
  }

  /** Recently opened files (picked, given or samples; never uploads), newest first, granted. */
  recentTraces(): StateResult['recentTraces'] {
    return this.recent.list().map((file) => {
      const grant = this.grants.grant(file, 'recent');
      return { name: grant.name, fileId: grant.fileId };
    });
  }

  /**
   * Grants clients read access to a file main chose: one the user picked in a dialog, or a trace given
   * on the command line. Never called with a path a client sent.
   */
  grantFile(file: string, origin: Exclude<GrantOrigin, 'upload'>): FileGrant {
    return this.grants.grant(path.resolve(this.cwd, file), origin);
  }

  private emitState(): void {
    this.batcher.emit({ name: 'stateChanged', payload: this.state() }, 'stateChanged');
  }

  /** Throws NotFound unless the source is a loaded trace or a session's recording. */
  private requireSource(sourceId: string): void {
    if (!this.sessions.has(sourceId) && !this.traces.has(sourceId) && !this.captures.has(sourceId))
      throw notFound('source', sourceId);
  }

  /**
   * Runs a query on the source in the trace worker: traces and sessions' recordings alike live and are
   * analysed there, never on this thread.
   */
  private async query<M extends SourceQuery>(
    sourceId: string,
    method: M,
    params: SourceQueryMap[M][0],
  ): Promise<SourceQueryMap[M][1]> {
    this.requireSource(sourceId);
    return this.traceHost.query(sourceId, method, params);
  }

  /** Loads and analyzes a trace file or dropped bytes in the trace worker, with progress events. */
  async loadTraceFile(source: FileSource, taskId: string | undefined): Promise<TraceSummary> {
    return this.addTrace(source, taskId, 'loadTrace');
  }

  private async addTrace(
    source: FileSource,
    taskId: string | undefined,
    kind: 'loadTrace' | 'importFile',
    format: 'auto' | 'vma' | 'd3d12ma' | 'pytorch' | 'rmv' = 'auto',
  ): Promise<TraceSummary> {
    const task = taskId ?? `task-${this.nextTask++}`;
    let grant: FileGrant | null = null;
    let input: WorkerFile;
    if (source.kind === 'file') {
      grant = this.grants.resolve(source.fileId);
      this.uploads.used(grant.fileId);
      input = { kind: 'path', path: grant.path, name: grant.name };
    } else if (source.kind === 'arriving') {
      input = { kind: 'arriving', ...this.uploads.arriving(source.uploadId) };
    } else {
      input = source;
    }
    this.taskKinds.set(task, kind);
    const uploadId =
      source.kind === 'arriving'
        ? source.uploadId
        : grant?.origin === 'upload'
          ? this.uploads.uploadOf(grant.fileId)
          : null;
    if (uploadId !== null) this.uploadTasks.set(task, uploadId);
    const sourceId = `trace-${this.nextTrace++}`;
    let loaded: LoadedSource;
    try {
      loaded =
        kind === 'loadTrace'
          ? await this.traceHost.load(sourceId, input, task)
          : await this.traceHost.importDump(sourceId, input, format, task);
    } catch (error) {
      // Cancelled at any point (upload, import, decoding, analysis): the upload's file goes now, not when
      // it times out. A failure of another kind keeps it so another format can be tried.
      if (this.cancelledTasks.has(task) && uploadId !== null) await this.uploads.cancel(uploadId);
      throw error;
    } finally {
      this.uploadTasks.delete(task);
      this.cancelledTasks.delete(task);
    }
    this.traces.set(sourceId, loaded.summary);
    // An upload's temporary file is deleted once opened (the trace is in memory); a failed open kept it
    // for another try.
    if (uploadId !== null) await this.uploads.cancel(uploadId);
    if (grant !== null && grant.origin !== 'upload') this.recent.add(grant.path);
    this.emitState();
    return loaded.summary;
  }

  /** cancelTask: stops a load or import wherever it is (reading, decoding, analysing); its upload goes too. */
  private async cancelTask(taskId: string): Promise<boolean> {
    const cancelled = await this.traceHost.cancel(taskId);
    if (cancelled) this.cancelledTasks.add(taskId);
    return cancelled;
  }

  /**
   * cancelUpload: drops the upload (its file, its grant) and stops the load or import reading it, also
   * one past its last chunk (importing or analysing what arrived).
   */
  private async cancelUpload(uploadId: string): Promise<{ cancelled: boolean }> {
    for (const [task, id] of this.uploadTasks) if (id === uploadId) await this.cancelTask(task);
    return this.uploads.cancel(uploadId);
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

  /** The report as content; whoever saves it (main's dialog, the browser) picks where. */
  private async exportReport(p: ValidatedParams<'exportReport'>): Promise<RequestResult<'exportReport'>> {
    const content = await this.query(p.sourceId, 'report', p.format);
    const name = this.traces.get(p.sourceId)?.name ?? p.sourceId;
    const base = safeFileName(name.replace(/\.(trace|json|pickle|pkl|rmv)\b.*$/i, ''), 80);
    return { format: p.format, content, fileName: `${base}-report.${p.format === 'json' ? 'json' : 'txt'}` };
  }

  /** "Replay on…" a device and/or strategy: the replay is added as a loaded trace of its own. */
  private async replayTrace(p: ValidatedParams<'replayTrace'>): Promise<RequestResult<'replayTrace'>> {
    const baseline = this.traces.get(p.sourceId);
    if (baseline === undefined) throw notFound('trace', p.sourceId);
    let target: DeviceDescription = baseline.device as DeviceDescription;
    if (p.device !== undefined) {
      target = (await resolveDevice(p.device, this.cwd, (n) => this.devices.userProfilePath(n))).description;
    }
    const strategy = p.strategy ?? (baseline.strategy === 'freelist' ? 'freelist' : 'tlsf');
    const sourceId = `trace-${this.nextTrace++}`;
    const replayed = await this.traceHost.replay(p.sourceId, sourceId, target, strategy);
    this.traces.set(sourceId, replayed.summary);
    this.emitState();
    return { report: replayed.report, baseline, replay: replayed.summary };
  }

  private handlers(): RequestHandlers {
    return {
      listDevices: () => listDevices(this.cwd, this.devices),
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
      cancelTask: async ({ taskId }) => ({ cancelled: await this.cancelTask(taskId) }),
      uploadFile: ({ source }) => this.uploads.store(source.name, source.data),
      loadTrace: ({ source, taskId }) => this.loadTraceFile(source, taskId),
      importFile: (p) => this.addTrace(p.source, p.taskId, 'importFile', p.format),
      setActiveSource: ({ sourceId }) => {
        this.requireSource(sourceId);
        this.activeSource = sourceId;
        return { ok: true as const };
      },
      closeTrace: async ({ sourceId }) => {
        if (!this.traces.delete(sourceId)) throw notFound('trace', sourceId);
        await this.traceHost.close(sourceId);
        if (this.activeSource === sourceId) this.activeSource = null;
        this.emitState();
        return { ok: true as const };
      },
      queryTimeline: (p) => this.query(p.sourceId, 'timeline', p),
      snapshotAt: (p) => this.query(p.sourceId, 'snapshot', p),
      defragmentPlan: (p) => this.query(p.sourceId, 'defrag', p),
      listAllocations: (p) => this.query(p.sourceId, 'allocations', p),
      allocationDetail: (p) => this.query(p.sourceId, 'detail', p),
      allocationBands: (p) => this.query(p.sourceId, 'bands', p),
      searchAllocations: (p) => this.query(p.sourceId, 'search', p),
      leaks: (p) => this.query(p.sourceId, 'leaks', p),
      diff: (p) => this.query(p.sourceId, 'diff', p),
      getReport: (p) => this.query(p.sourceId, 'reportObject', null),
      exportReport: (p) => this.exportReport(p),
      beginUpload: ({ name, bytes }) => this.uploads.begin(name, bytes),
      uploadChunk: ({ uploadId, offset, data }) => this.uploads.chunk(uploadId, offset, data),
      finishUpload: ({ uploadId }) => this.uploads.finish(uploadId),
      cancelUpload: ({ uploadId }) => this.cancelUpload(uploadId),
      deviceLibrary: () => this.devices.list(),
      describeDevice: ({ device }) => this.devices.describe(device),
      addDeviceProfile: ({ name, data }) => this.devices.add(name, data),
      removeDeviceProfile: ({ name }) => {
        this.devices.remove(name);
        return { ok: true as const };
      },
      replayTrace: (p) => this.replayTrace(p),
      listCaptures: () => this.captures.list(),
      startCapture: ({ command, stacks }) => this.captures.start(command, stacks === true),
      attachCapture: ({ liveId }) => this.captures.attach(liveId),
      stopCapture: ({ captureId }) => this.captures.stop(captureId),
      compareSources: async ({ a, b }) => {
        for (const id of [a, b]) if (!this.traces.has(id)) throw notFound('trace', id);
        const [sa, sb] = await Promise.all([this.traceHost.side(a), this.traceHost.side(b)]);
        return { a: sa, b: sb };
      },
    };
  }

  /** Stops runs, closes sessions, sends what is pending, drops the batcher's timers. */
  async dispose(): Promise<void> {
    await this.sessions.closeAll();
    await this.captures.dispose();
    await this.traceHost.dispose();
    await this.uploads.dispose();
    this.grants.dispose();
    this.batcher.flushNow();
    this.batcher.dispose();
  }
}
