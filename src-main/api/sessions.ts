// Sessions for the API: a device choice plus allocator config, and the scenario runs made in it. Each run
// lives in the scenario worker (src-main/session/scenario-host.ts); main forwards its event batches to the
// UI as `sessionEvents` (coalesced by the batcher: one slice per session per flush) and to the trace
// worker, which keeps the recording of the session's latest run, extends its analysis by each batch (off
// main's thread: main never analyses) and answers queries over it. The grown summary is pushed to the UI
// as `analysisChanged`.
import { concatEventColumns } from '../../allocator/index.ts';
import { printable } from '../../allocator/text/printable.ts';
import type { EventBatch, RunResult, RunStatus } from '../session/run-protocol.ts';
import { startScenario, type ScenarioRun } from '../session/scenario-host.ts';
import { resolveParams } from '../session/scenario-params.ts';
import { ApiFailure, notFound } from './api-failure.ts';
import type {
  AnyEvent,
  EventPayload,
  RunInfo,
  SessionConfig,
  SessionInfo,
  ValidatedParams,
} from './contract.ts';

type AnalysisSummaryDto = EventPayload<'analysisChanged'>['summary'];
import { decisionDto, deviceDto } from './dto.ts';
import { resolveDevice, type ResolvedDevice } from './devices.ts';
import type { EventBatcher } from './event-batcher.ts';
import type { TraceHost } from './trace-host.ts';
import { builtinScenarioMeta } from './scenario-catalog.ts';

interface Run {
  readonly runId: string;
  readonly scenario: string;
  readonly handle: ScenarioRun;
  info: RunInfo;
  /** Worker batches not yet sent to the UI. */
  readonly unsent: EventBatch[];
  blockCount: number;
}

interface Session {
  readonly sessionId: string;
  readonly config: SessionConfig;
  readonly device: ResolvedDevice;
  run: Run | null;
}

const BLOCK_CREATE = 4;
const BLOCK_DESTROY = 5;

function runStateOf(status: RunStatus | null, result: RunResult | null): RunInfo['state'] {
  if (result) {
    return result.outcome === 'completed'
      ? 'finished'
      : result.outcome === 'cancelled'
        ? 'cancelled'
        : 'failed';
  }
  return status?.state === 'paused' ? 'paused' : 'running';
}

export interface SessionManagerOptions {
  readonly batcher: EventBatcher;
  readonly cwd: string;
  /** The file of a profile the user added, by short name (null: not one of theirs). */
  readonly resolveUserProfile?: (name: string) => string | null;
  /**
   * The path behind a client's fileId (file-grants.ts); throws NotFound for an id main did not grant. A
   * scenario parameter of type "file" goes through it, so runs read only granted files.
   */
  readonly resolveFile: (fileId: string) => string;
  /** Sessions or runs changed (for stateChanged). */
  readonly onChange: () => void;
  /** Holds each session's recording and its analysis (the trace worker). */
  readonly traceHost: TraceHost;
}

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly runs = new Map<string, { session: Session; run: Run }>();
  private nextSession = 1;
  private nextRun = 1;

  constructor(private readonly options: SessionManagerOptions) {}

  list(): SessionInfo[] {
    return [...this.sessions.values()].map((s) => this.info(s));
  }

  has(sourceId: string): boolean {
    return this.sessions.has(sourceId);
  }

  /** The session's recording lives in the trace worker under the session id (liveOpen). */
  private async openLiveSource(s: Session, name: string): Promise<void> {
    await this.options.traceHost.liveOpen({
      sourceId: s.sessionId,
      name,
      device: s.device.description,
      strategy: s.config.strategy,
      warnings: s.device.note ? [s.device.note] : [],
    });
  }

  private info(s: Session): SessionInfo {
    return {
      sessionId: s.sessionId,
      sourceId: s.sessionId,
      device: deviceDto(s.device.description),
      strategy: s.config.strategy,
      eventCount: s.run?.handle.eventCount ?? 0,
      run: s.run ? { ...s.run.info } : null,
    };
  }

  async open(config: SessionConfig): Promise<SessionInfo> {
    if (config.validation === true && config.device.kind !== 'vulkan') {
      throw new ApiFailure(
        'InvalidRequest',
        `openSession: validation needs a real Vulkan device (device.kind "vulkan"), not a ${config.device.kind} device.`,
      );
    }
    if (config.relocation === true && config.strategy !== 'tlsf') {
      throw new ApiFailure(
        'InvalidRequest',
        `openSession: relocation needs the tlsf strategy (freelist keeps gpu-allocator's behaviour), not ${config.strategy}.`,
      );
    }
    if (config.resources === 'real' && config.device.kind !== 'vulkan') {
      throw new ApiFailure(
        'InvalidRequest',
        `openSession: resources "real" needs a real Vulkan device (device.kind "vulkan"), not a ${config.device.kind} device.`,
      );
    }
    let device = await resolveDevice(config.device, this.options.cwd, this.options.resolveUserProfile);
    if (config.validation === true && device.description.source !== 'vulkan') {
      // The default device fell back to a simulated profile: runs go on without the layer; say so.
      device = { ...device, note: `${device.note ?? 'no real Vulkan device'}; validation is off` };
    }
    if (config.bufferDeviceAddress === true && !device.description.extensions.bufferDeviceAddress) {
      throw new ApiFailure(
        'InvalidRequest',
        `openSession: bufferDeviceAddress was asked for, but ${device.description.name} does not offer buffer device addresses.`,
      );
    }
    const sessionId = `session-${this.nextSession++}`;
    const session: Session = {
      sessionId,
      config,
      device,
      run: null,
    };
    await this.openLiveSource(session, `${sessionId} (no run yet)`);
    this.sessions.set(sessionId, session);
    this.options.onChange();
    return this.info(session);
  }

  private session(sessionId: string): Session {
    const s = this.sessions.get(sessionId);
    if (!s) throw notFound('session', sessionId);
    return s;
  }

  async close(sessionId: string): Promise<void> {
    const s = this.session(sessionId);
    this.sessions.delete(sessionId);
    await this.options.traceHost.close(sessionId).catch(() => undefined);
    if (s.run) {
      this.options.batcher.removeSource(s.sessionId);
      if (s.run.info.state === 'running' || s.run.info.state === 'paused') await s.run.handle.cancel();
      this.runs.delete(s.run.runId);
    }
    this.options.onChange();
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.sessions.keys()]) await this.close(id);
  }

  async run(p: ValidatedParams<'runScenario'>): Promise<RunInfo> {
    const s = this.session(p.sessionId);
    if (s.run && (s.run.info.state === 'running' || s.run.info.state === 'paused')) {
      throw new ApiFailure(
        'InvalidState',
        `Session ${s.sessionId} is already running ${s.run.scenario}; cancel it first.`,
      );
    }
    // Clients run built-in scenarios only (scenario scripts are code: the CLI runs them, on the user's
    // word). Their "file" parameters are fileIds, resolved here to the granted paths.
    const meta = await builtinScenarioMeta(p.scenario, this.options.cwd);
    if (!meta) {
      throw new ApiFailure(
        'NotFound',
        `There is no built-in scenario "${printable(p.scenario, 100)}" (see listScenarios).`,
      );
    }
    try {
      resolveParams(meta, p.params);
    } catch (error) {
      throw new ApiFailure('InvalidRequest', `runScenario: ${(error as Error).message}.`);
    }
    const params = { ...p.params };
    for (const [key, spec] of Object.entries(meta.parameters)) {
      const value = params[key];
      if (spec.type === 'file' && typeof value === 'string' && value !== '') {
        params[key] = this.options.resolveFile(value);
      }
    }

    const runId = `run-${this.nextRun++}`;
    const batcher = this.options.batcher;
    // A fresh recording in the trace worker; posted before any of the run's batches, so they follow it.
    await this.openLiveSource(s, `${s.sessionId}: ${p.scenario}`);
    const traceHost = this.options.traceHost;
    if (s.run) {
      batcher.removeSource(s.sessionId);
      this.runs.delete(s.run.runId);
    }
    let run: Run | null = null;
    const emitState = (): void => {
      if (run) batcher.emit({ name: 'runState', payload: { ...run.info } }, `runState:${runId}`);
    };
    const handle = startScenario(
      {
        scenario: p.scenario,
        params,
        device: s.device.spec,
        strategy: s.config.strategy,
        ...(s.config.allocationSizes ? { allocationSizes: s.config.allocationSizes } : {}),
        ...(s.config.debugSettings ? { debugSettings: s.config.debugSettings } : {}),
        ...(s.config.bufferDeviceAddress === true ? { bufferDeviceAddress: true } : {}),
        ...(s.config.budget !== undefined ? { budget: s.config.budget } : {}),
        ...(s.config.resources !== undefined ? { resources: s.config.resources } : {}),
        ...(s.config.relocation !== undefined ? { relocation: s.config.relocation } : {}),
        ...(s.config.validation === true ? { validation: true } : {}),
        ...(p.seed === undefined ? {} : { seed: p.seed }),
        tracePath: null,
        cwd: this.options.cwd,
      },
      {
        onEvents: (batch) => {
          if (!run) return;
          run.unsent.push(batch);
          const current = run;
          traceHost.liveAppend(s.sessionId, batch).then(
            (summary) => {
              // Only the newest run of a session pushes (an older run's late answers are stale).
              if (s.run !== current) return;
              batcher.emit(
                {
                  name: 'analysisChanged',
                  // The engine's AnalysisSummary is the contract's shape (contract-shapes.ts), readonly aside.
                  payload: { sourceId: s.sessionId, summary: summary as AnalysisSummaryDto },
                },
                `analysisChanged:${s.sessionId}`,
              );
            },
            (error: unknown) => {
              batcher.emit({
                name: 'log',
                payload: {
                  sessionId: s.sessionId,
                  level: 'error',
                  message: `The live analysis of ${s.sessionId} failed: ${(error as Error).message}`,
                },
              });
            },
          );
          const kinds = batch.columns.kind;
          for (let i = 0; i < kinds.length; i++) {
            if (kinds[i] === BLOCK_CREATE) run.blockCount++;
            else if (kinds[i] === BLOCK_DESTROY) run.blockCount--;
          }
          batcher.markDirty(s.sessionId);
        },
        onStatus: (status) => {
          if (!run || run.handle.result) return;
          run.info = { ...run.info, state: runStateOf(status, null), opsDone: status.ops };
          emitState();
        },
        onLog: (message, level) => {
          batcher.emit({ name: 'log', payload: { sessionId: s.sessionId, level, message } });
        },
        onDone: (result) => {
          if (!run) return;
          const error = result.error;
          const location = error?.location ? /^(.*):(\d+)$/.exec(error.location) : null;
          run.info = {
            ...run.info,
            state: runStateOf(null, result),
            opsDone: result.summary?.ops ?? run.info.opsDone,
            ...(error
              ? {
                  error: {
                    message: error.message,
                    ...(location ? { file: location[1]!, line: Number(location[2]) } : {}),
                  },
                }
              : {}),
          };
          batcher.markDirty(s.sessionId);
          emitState();
          this.options.onChange();
        },
      },
      // The trace worker keeps the recording; main only counts events (no second copy on main).
      { mirror: false },
    );
    run = {
      runId,
      scenario: p.scenario,
      handle,
      info: { runId, sessionId: s.sessionId, scenario: p.scenario, state: 'running', opsDone: 0 },
      unsent: [],
      blockCount: 0,
    };
    if (p.startPaused) {
      // The control block is shared memory: the worker sees "paused" before its first op.
      void handle.pause();
      run.info = { ...run.info, state: 'paused' };
    }
    s.run = run;
    this.runs.set(runId, { session: s, run });
    const current = run;
    batcher.addSource(s.sessionId, { pull: () => this.pull(s, current) });
    emitState();
    this.options.onChange();
    return { ...run.info };
  }

  /** One sessionEvents event with every batch not yet sent, or null. */
  private pull(s: Session, run: Run): AnyEvent | null {
    if (run.unsent.length === 0) return null;
    const batches = run.unsent.splice(0);
    const first = batches[0]!;
    const strings: string[] = [];
    let stringsStart = first.stringsStart;
    for (const b of batches) {
      if (strings.length === 0) stringsStart = b.stringsStart;
      strings.push(...b.strings);
    }
    const columns = concatEventColumns(batches.map((b) => b.columns));
    const status = run.handle.status;
    return {
      name: 'sessionEvents',
      payload: {
        sessionId: s.sessionId,
        runId: run.runId,
        start: first.start,
        count: columns.kind.length,
        columns,
        stringsStart,
        newStrings: strings,
        newDecisions: batches.flatMap((b) => b.decisions.map(decisionDto)),
        stats: {
          committedBytes: status?.committedBytes ?? 0,
          allocatedBytes: status?.allocatedBytes ?? 0,
          blockCount: Math.max(0, run.blockCount),
          allocationCount: status?.liveAllocations ?? 0,
        },
      },
    };
  }

  private runOf(runId: string): Run {
    const entry = this.runs.get(runId);
    if (!entry) throw notFound('run', runId);
    return entry.run;
  }

  private requireLive(run: Run, action: string): void {
    if (run.handle.result || (run.info.state !== 'running' && run.info.state !== 'paused')) {
      throw new ApiFailure('InvalidState', `Run ${run.runId} has ${run.info.state}; it cannot ${action}.`);
    }
  }

  async pause(runId: string): Promise<RunInfo> {
    const run = this.runOf(runId);
    this.requireLive(run, 'be paused');
    const status = await run.handle.pause();
    if (!run.handle.result) run.info = { ...run.info, state: 'paused', opsDone: status.ops };
    return { ...run.info };
  }

  resume(runId: string): RunInfo {
    const run = this.runOf(runId);
    this.requireLive(run, 'be resumed');
    run.handle.resume();
    run.info = { ...run.info, state: 'running' };
    return { ...run.info };
  }

  async step(runId: string, ops: number): Promise<RunInfo> {
    const run = this.runOf(runId);
    this.requireLive(run, 'step');
    if (run.handle.status?.state !== 'paused') {
      throw new ApiFailure('InvalidState', `Run ${run.runId} is not paused; pause it before stepping.`);
    }
    for (let i = 0; i < ops && !run.handle.result; i++) {
      const status = await run.handle.step();
      run.info = { ...run.info, opsDone: status.ops };
    }
    return { ...run.info };
  }

  async cancel(runId: string): Promise<RunInfo> {
    const run = this.runOf(runId);
    this.requireLive(run, 'be cancelled');
    await run.handle.cancel();
    return { ...run.info };
  }
}
