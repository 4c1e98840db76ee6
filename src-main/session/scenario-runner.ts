// Runs one scenario in the current thread (the worker, normally): opens the device, builds the session,
// loads and runs the script under the run gate, ships event batches (at most ~30 per second) and status
// through `post`, and returns the result. Script errors are caught and reported with file:line; the events
// recorded so far are kept (flushed to the trace and to main).
import { pathToFileURL } from 'node:url';
import { AllocationError, copyMapped, type Device } from '../../allocator/index.ts';
import { createRelocationCopy } from '../../native/defrag-copy.ts';
import { VulkanDevice } from '../../native/vulkan-device.ts';
import type { EventLog, LogLevel, MemoryTypeDecision } from '../../allocator/index.ts';
import type { DebugMessage } from '../../native/index.ts';
import { TraceEventKind } from '../../allocator/index.ts';
import { openDevice, DeviceOpenError, ProfileNotFoundError, type OpenedDevice } from './open-device.ts';
import { baseName } from './origin.ts';
import { createRandom, normalizeSeed, randomSeed } from './rng.ts';
import { CancelledError, RunGate } from './run-control.ts';
import type {
  EventBatch,
  RunError,
  RunInfo,
  RunRequest,
  RunResult,
  RunStatus,
  RunSummary,
  WorkerMessage,
} from './run-protocol.ts';
import { createScenarioContext, ScenarioUsageError } from './scenario-context.ts';
import {
  loadScenario,
  resolveScenarioPath,
  ScenarioNotFoundError,
  syntaxErrorLine,
  type LoadedScenario,
} from './scenario-loader.ts';
import { resolveParams, ScenarioParamError } from './scenario-params.ts';
import type { ScenarioParams } from './scenario-types.ts';
import { Session, type RelocationCopier, type SessionEventConsumer } from './session.ts';

/** Log level of a validation layer message. */
const debugMessageLevel: Record<DebugMessage['severity'], LogLevel> = {
  error: 'error',
  warning: 'warn',
  info: 'info',
  verbose: 'debug',
};

/** A validation layer message as a run's log line: "[vulkan warning] VUID-…: text", at its level. */
export function validationLog(m: DebugMessage): { level: LogLevel; message: string } {
  const id = m.messageIdName ? `${m.messageIdName}: ` : '';
  return { level: debugMessageLevel[m.severity], message: `[vulkan ${m.severity}] ${id}${m.message}` };
}

/**
 * Minimum milliseconds between two event batches: 34, not 33, so that no 1 s window holds more than 30
 * (33 ms apart, 31 fit in one second).
 */
export const batchIntervalMs = 34;

export type Post = (message: WorkerMessage, transfer?: ArrayBuffer[]) => void;

/** Builds the trace consumer for a run; supplied by the trace module (kept out of here to keep layers thin). */
export type ConsumerFactory = (path: string, info: RunInfo, session: Session) => SessionEventConsumer;

export interface RunnerOptions {
  readonly createConsumer?: ConsumerFactory | null;
  /**
   * Monotonic ms deciding when event batches go out (at most one per batchIntervalMs while running);
   * default performance.now. Tests pass a fake clock to check the rate on the sending side.
   */
  readonly clock?: () => number;
}

/** Batches new events of a log into transferable slices. */
export class BatchCursor {
  private events = 0;
  private strings = 0;
  private decisions = 0;

  constructor(private readonly log: EventLog) {}

  get shipped(): number {
    return this.events;
  }

  /** Null when nothing is new. */
  next(): { batch: EventBatch; transfer: ArrayBuffer[] } | null {
    const log = this.log;
    const end = log.length;
    if (end === this.events && log.strings.size === this.strings) return null;
    const columns = log.slice(this.events, end);
    const decisions: MemoryTypeDecision[] = [];
    for (let i = this.decisions; i < log.decisions.length; i++) {
      const d = log.decisions[i];
      if (d) decisions.push(d);
    }
    const batch: EventBatch = {
      start: this.events,
      columns,
      stringsStart: this.strings,
      strings: log.strings.strings.slice(this.strings),
      decisions,
    };
    this.events = end;
    this.strings = log.strings.size;
    this.decisions = log.decisions.length;
    const transfer = Object.values(columns).map((c: Uint8Array) => c.buffer as ArrayBuffer);
    return { batch, transfer };
  }
}

function scriptLocation(error: unknown, scenario: LoadedScenario | null): string | null {
  if (!scenario || !(error instanceof Error) || !error.stack) return null;
  const escaped = scenario.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}:(\\d+)`).exec(error.stack);
  return m ? `${scenario.scriptName}:${m[1]}` : null;
}

function describeError(error: unknown, scenario: LoadedScenario | null): RunError {
  const err = error instanceof Error ? error : new Error(String(error));
  if (
    err instanceof ScenarioNotFoundError ||
    err instanceof ScenarioParamError ||
    err instanceof ProfileNotFoundError
  )
    return { kind: 'usage', message: err.message, location: null, stack: null };
  if (err instanceof DeviceOpenError)
    return { kind: 'device', message: err.message, location: null, stack: null };
  const location = scriptLocation(err, scenario);
  const what =
    err instanceof ScenarioUsageError || err instanceof AllocationError
      ? err.message
      : `${err.name}: ${err.message}`;
  const where = scenario ? (location ?? scenario.scriptName) : null;
  return {
    kind: scenario ? 'script' : 'internal',
    message: where ? `${where}: ${what}` : what,
    location,
    stack: err.stack ?? null,
  };
}

function summarize(session: Session, info: RunInfo, startedAt: number, tracePath: string | null): RunSummary {
  const state = session.state();
  const cols = session.log.columns;
  const failuresByCode: Record<string, number> = {};
  for (let i = 0; i < session.log.length; i++) {
    if (cols.kind[i] === TraceEventKind.Failure) {
      const code = session.log.strings.get(cols.code[i] ?? 0);
      failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
    }
  }
  const leaks = session.leaks();
  return {
    scenario: info.scenario.name,
    seed: info.seed,
    device: info.deviceLabel,
    strategy: info.strategy,
    allocationSizes: info.allocationSizes,
    bufferDeviceAddress: info.bufferDeviceAddress,
    validation: info.validation,
    ops: state.ops,
    allocations: state.allocationCount,
    frees: state.freeCount,
    failures: state.failureCount,
    failuresByCode,
    frames: state.frame,
    events: session.log.length,
    peakCommittedBytes: session.peakCommittedBytes,
    peakBlocks: session.peakBlockCount,
    budget: session.allocator.budget,
    resources: info.resources,
    relocation: info.relocation,
    relocationMoves: session.allocator.relocationMoveCount,
    budgetCrossings: state.budgetCrossings,
    budgetRefusals: state.budgetRefusals,
    leaks,
    leakedBytes: leaks.reduce((sum, l) => sum + l.size, 0),
    durationMs: Math.round(performance.now() - startedAt),
    tracePath,
  };
}

/**
 * Who copies a relocated allocation's bytes: the device, on a real one (one submission per relocating
 * request; through the mapping from HOST_CACHED memory); on a simulated device the mapped blocks, the only
 * ones that hold bytes.
 */
function relocationCopier(device: Device): RelocationCopier {
  if (device instanceof VulkanDevice) return createRelocationCopy(device.context, 'auto');
  return { copy: (move, from, to) => copyMapped(from, move.fromOffset, to, move.toOffset, move.size) };
}

export async function runScenario(
  request: RunRequest,
  control: SharedArrayBuffer,
  post: Post,
  options: RunnerOptions = {},
): Promise<RunResult> {
  const startedAt = performance.now();
  const clock = options.clock ?? (() => performance.now());
  const gate = new RunGate(control);
  let scenario: LoadedScenario | null = null;
  let opened: OpenedDevice | null = null;
  let session: Session | null = null;
  let info: RunInfo | null = null;
  let params: ScenarioParams;
  const seed = request.seed === undefined ? randomSeed() : normalizeSeed(request.seed);

  const fail = (error: RunError): RunResult => ({ outcome: 'failed', error, summary: null });
  const usage = (error: unknown): RunResult =>
    fail({ kind: 'usage', message: (error as Error).message, location: null, stack: null });
  let file: string;
  try {
    file = resolveScenarioPath(request.scenario, request.cwd);
  } catch (error) {
    return usage(error);
  }
  try {
    scenario = await loadScenario(file);
  } catch (error) {
    // Import-time errors (syntax, a throwing top level, a bad meta) point into the script.
    if (error instanceof ScenarioParamError || error instanceof ScenarioNotFoundError) return usage(error);
    if (error instanceof SyntaxError) {
      const line = syntaxErrorLine(file);
      const where = line === null ? baseName(file) : `${baseName(file)}:${line}`;
      return fail({
        kind: 'script',
        message: `${where}: SyntaxError: ${error.message}`,
        location: line === null ? null : where,
        stack: error.stack ?? null,
      });
    }
    const url = pathToFileURL(file).href;
    const stub = {
      file,
      url,
      scriptName: baseName(file),
      meta: { name: '', description: '', parameters: {} },
    };
    return fail(describeError(error, { ...stub, run: () => undefined }));
  }
  try {
    params = resolveParams(scenario.meta, request.params ?? {});
  } catch (error) {
    return usage(error);
  }
  if (request.validation === true && request.device?.kind === 'profile') {
    return usage(
      new Error(
        `validation needs a real Vulkan device; the simulated profile "${request.device.profile}" has no validation layer`,
      ),
    );
  }
  try {
    opened = await openDevice(request.device ?? { kind: 'default' }, request.cwd, {
      validation: request.validation === true,
      // Validation layer messages arrive synchronously after the Vulkan call that caused them.
      onMessage: (m) => post({ type: 'log', ...validationLog(m) }),
    });
  } catch (error) {
    if (error instanceof ProfileNotFoundError) return usage(error);
    const e = error instanceof Error ? error : new Error(String(error));
    return fail({ kind: 'device', message: e.message, location: null, stack: e.stack ?? null });
  }
  if (request.bufferDeviceAddress === true && !opened.device.description.extensions.bufferDeviceAddress) {
    const name = opened.label;
    opened.close();
    return usage(
      new Error(`bufferDeviceAddress was asked for, but ${name} does not offer buffer device addresses`),
    );
  }

  const resources = request.resources ?? (opened.resources !== null ? 'real' : 'none');
  if (resources === 'real' && opened.resources === null) {
    const name = opened.label;
    opened.close();
    return usage(
      new Error(
        `resources real needs a real Vulkan device; ${name} is simulated (its scenarios run with resources none)`,
      ),
    );
  }
  const strategy = request.strategy ?? 'tlsf';
  const relocation = request.relocation ?? strategy === 'tlsf';
  if (relocation && strategy !== 'tlsf') {
    opened.close();
    return usage(new Error("relocation needs the tlsf strategy (freelist keeps the crate's behaviour)"));
  }
  const tracePath = request.tracePath ?? null;
  let pendingConsumer: SessionEventConsumer | null = null;
  const consumerProxy: SessionEventConsumer = {
    append: (log, start, end) => pendingConsumer?.append(log, start, end),
    close: () => pendingConsumer?.close(),
  };
  try {
    session = new Session({
      device: opened.device,
      strategy,
      consumer: consumerProxy,
      ...(request.allocationSizes ? { allocationSizes: request.allocationSizes } : {}),
      ...(request.debugSettings ? { debugSettings: request.debugSettings } : {}),
      ...(request.bufferDeviceAddress === true ? { bufferDeviceAddress: true } : {}),
      ...(request.budget !== undefined ? { budget: request.budget } : {}),
      ...(resources === 'real' ? { resources: opened.resources } : {}),
      ...(relocation ? { relocation: relocationCopier(opened.device) } : {}),
      logger: (level, message) => post({ type: 'log', level, message: `[allocator ${level}] ${message}` }),
    });
    // What the allocator actually uses (block sizes after its rounding and clamping), for the trace header.
    const allocator = session.allocator;
    info = {
      scenario: scenario.meta,
      file: baseName(scenario.file),
      params,
      seed,
      device: opened.device.description,
      deviceLabel: opened.label,
      deviceNote: opened.note,
      strategy: allocator.strategy,
      allocationSizes: { ...allocator.allocationSizes },
      debugSettings: { ...allocator.debugSettings },
      bufferDeviceAddress: allocator.bufferDeviceAddress,
      budget: allocator.budget,
      resources,
      relocation,
      validation: opened.validation,
    };
    if (tracePath !== null) {
      if (!options.createConsumer) throw new Error('this build cannot write traces (no trace writer)');
      pendingConsumer = options.createConsumer(tracePath, info, session);
    }
  } catch (error) {
    try {
      session?.close();
    } finally {
      opened.close();
    }
    const e = error instanceof Error ? error : new Error(String(error));
    const invalidDesc = e instanceof AllocationError && e.code === 'InvalidAllocatorCreateDesc';
    return {
      outcome: 'failed',
      error: {
        kind: invalidDesc ? 'usage' : 'device',
        message: e.message,
        location: null,
        stack: invalidDesc ? null : (e.stack ?? null),
      },
      summary: null,
    };
  }
  post({ type: 'ready', info });

  const live = session;
  const cursor = new BatchCursor(live.log);
  let lastFlush = clock();
  let lastTraceFlush = lastFlush;
  let blocked = false;
  const status = (state: RunStatus['state']): RunStatus => {
    const s = live.state();
    return {
      state,
      ops: s.ops,
      frame: s.frame,
      events: live.log.length,
      committedBytes: s.committedBytes,
      allocatedBytes: s.allocatedBytes,
      liveAllocations: s.liveAllocations,
      failures: s.failureCount,
    };
  };
  const flush = (state: RunStatus['state']): void => {
    const now = clock();
    lastFlush = now;
    const next = cursor.next();
    if (next) post({ type: 'events', batch: next.batch }, next.transfer);
    post({ type: 'status', status: status(state) });
    // The trace gets chunks at most every 250 ms (and at the end); it must see one at least every second.
    if (now - lastTraceFlush >= 250 || state !== 'running') {
      lastTraceFlush = now;
      live.flush();
    }
  };
  const hooks = {
    onBlock(): void {
      blocked = true;
      flush('paused');
    },
    afterOp(): void {
      if (blocked) {
        blocked = false;
        flush(gate.paused ? 'paused' : 'running');
      } else if (clock() - lastFlush >= batchIntervalMs) flush('running');
    },
    log(message: string): void {
      post({ type: 'log', message });
    },
  };
  const ctx = createScenarioContext({
    session: live,
    gate,
    random: createRandom(seed),
    seed,
    scriptUrl: scenario.url,
    scriptName: scenario.scriptName,
    hooks,
  });
  // Async scripts (sleep) leave the event loop free: flush on a timer then too.
  // Only when something changed: an idle (sleeping) script costs no messages.
  let lastShipped = -1;
  let lastState = '';
  const timer = setInterval(() => {
    const state = gate.paused ? 'paused' : 'running';
    if (live.log.length === lastShipped && state === lastState) return;
    if (clock() - lastFlush >= batchIntervalMs) {
      lastShipped = live.log.length;
      lastState = state;
      flush(state);
    }
  }, batchIntervalMs);

  let outcome: RunResult['outcome'] = 'completed';
  let runError: RunError | null = null;
  try {
    await scenario.run(ctx, params);
  } catch (error) {
    if (error instanceof CancelledError) outcome = 'cancelled';
    else {
      outcome = 'failed';
      runError = describeError(error, scenario);
    }
  } finally {
    clearInterval(timer);
  }
  if (outcome === 'completed' && gate.cancelled) outcome = 'cancelled';
  const summary = summarize(live, info, startedAt, tracePath);
  try {
    live.close();
  } catch (error) {
    if (runError === null) {
      outcome = 'failed';
      runError = describeError(error, null);
    }
  }
  flush('finished');
  opened.close();
  return { outcome, error: runError, summary };
}
