// The trace worker thread: loads trace files, imports foreign dumps, keeps their analyses and answers the
// contract's queries over them (see trace-protocol.ts). Everything CPU-heavy about traces happens here.
import { parentPort } from 'node:worker_threads';
import {
  bytesSource,
  ImportError,
  importSource,
  type ByteSource,
  type ImportResult,
} from '../../allocator/import/index.ts';
import {
  createSimulatedDevice,
  type DeviceDescription,
  type PlacementStrategyName,
} from '../../allocator/index.ts';
import { printable } from '../../allocator/text/printable.ts';
import {
  GrowingEvents,
  traceEventsOf,
  type EventSlice,
  type TraceBytes,
  type TraceEvents,
} from '../../allocator/trace/index.ts';
import { fileLimits, fileSource, FileReadError, untilArrived, type Arrival } from '../import/file-source.ts';
import { arrivalOf } from '../import/upload-arrival.ts';
import { openTraceFile } from '../trace/file-bytes.ts';
import { recordedSide, replayRequests } from '../session/replay.ts';
import { loadTrace } from '../trace/reader.ts';
import { AnalyzedSource } from './analyzed-source.ts';
import { ApiFailure, notFound } from './api-failure.ts';
import { replayReportDto, replaySideDto } from './dto.ts';
import type {
  FromTraceWorker,
  LiveSummary,
  LoadedSource,
  ReplayedSource,
  SourceQuery,
  SourceSide,
  ToTraceWorker,
  WorkerFile,
} from './trace-protocol.ts';
import { PrefaultedImportMemory } from '../import/prefault.ts';
import { importReserveFor, type ImportReserve } from '../import/import-reserve.ts';
import { AnalysisFollower, followMinEvents, startAnalysisThread } from '../import/analysis-follower.ts';
import { TraceAnalysis } from '../../allocator/analysis/index.ts';

const port = parentPort;
if (!port) throw new Error('trace-worker.ts must run in a worker thread');
// Loads its code now, while nothing waits for it (analysis-follower.ts).
startAnalysisThread();
const post = (message: FromTraceWorker): void => port.postMessage(message);

/** Memory for the next large import, touched while nothing loads (import-reserve.ts); decided at the first fill. */
let reserve: ImportReserve | null | undefined;
/** Loads and imports running: the reserve is filled only while there are none. */
let loadsRunning = 0;
let refillTimer: ReturnType<typeof setTimeout> | null = null;
/** Fills the reserve once nothing has loaded for `afterMs` (after the start, after each load). */
function refillLater(afterMs: number): void {
  if (reserve === null) return;
  if (refillTimer !== null) clearTimeout(refillTimer);
  refillTimer = setTimeout(() => {
    refillTimer = null;
    if (loadsRunning > 0) return;
    reserve ??= importReserveFor(process.env.VRAMSCOPE_IMPORT_RESERVE);
    void reserve?.fill(() => loadsRunning > 0);
  }, afterMs);
  refillTimer.unref();
}
refillLater(1000);
const sources = new Map<string, AnalyzedSource>();
/** Tasks being loaded or imported; a cancel message marks theirs (checked between chunks). */
const cancelledTasks = new Map<string, { cancelled: boolean }>();

function progress(taskId: string) {
  return (
    phase: 'start' | 'progress' | 'done' | 'failed',
    done: number,
    total: number,
    message?: string,
  ): void =>
    post({ type: 'progress', taskId, phase, done, total, ...(message === undefined ? {} : { message }) });
}

/** An error about a client's file: its kind of problem, its format, a byte offset; never its content. */
function fileFailure(error: unknown, name: string, what: string): ApiFailure {
  if (error instanceof FileReadError) {
    const code = error.problem === 'too-large' ? 'TooLarge' : 'Failed';
    return new ApiFailure(code, `${error.message}.`);
  }
  if (error instanceof ApiFailure) return error;
  const position = (error as { position?: unknown }).position;
  const at = typeof position === 'number' ? ` (at byte ${position})` : '';
  // Importer and trace-decoder messages name fields and offsets; the cap and the escaping keep a
  // message one printable line even if one slipped a piece of a file through.
  return new ApiFailure(
    'Failed',
    `${name} is not ${what}: ${printable((error as Error).message, 300)}${at}.`,
  );
}

/** An upload still arriving is read as its bytes reach the disk (upload-arrival.ts). */
function arrivalOption(input: WorkerFile): { arrival?: Arrival } {
  return input.kind === 'arriving' ? { arrival: arrivalOf(input.arrival, input.bytes) } : {};
}

async function load(
  sourceId: string,
  input: WorkerFile,
  taskId: string,
  isCancelled: () => boolean,
): Promise<LoadedSource> {
  const report = progress(taskId);
  const started = performance.now();
  const name = printable(input.name, 255);
  // Progress in bytes is the decoder's: a file is decoded straight from disk, one record at a time.
  report('start', 0, input.kind === 'bytes' ? input.data.byteLength : 0);
  let loaded;
  let file: (TraceBytes & { close(): void }) | null = null;
  // A large trace's analysis on another thread while it is decoded (analysis-follower.ts), if any.
  let follower = null as AnalysisFollower | null;
  try {
    let data: Uint8Array | TraceBytes;
    if (input.kind !== 'bytes') {
      // A trace still uploading is decoded once it has all arrived (decoding reads it from disk).
      if (input.kind === 'arriving')
        await untilArrived(arrivalOf(input.arrival, input.bytes), name, isCancelled);
      file = openTraceFile(input.path, { name, maxBytes: fileLimits.trace });
      data = file;
    } else data = input.data;
    loaded = await loadTrace(data, {
      onProgress: (p) => {
        if (isCancelled()) throw new FileReadError('cancelled', `loading ${name} was cancelled`);
        report('progress', p.bytesDone, p.bytesTotal, `${p.events} events`);
      },
      follower: {
        start: (events, device, expected) => {
          if (expected < followMinEvents) return false;
          follower = newFollower();
          follower?.start(events, device, expected);
          return follower !== null;
        },
        advance: (final) => follower?.advance(final),
      },
    });
  } catch (error) {
    follower?.close();
    const failure = fileFailure(error, name, 'a readable trace');
    report('failed', 0, 0, failure.message);
    throw failure;
  } finally {
    file?.close();
  }
  const source = AnalyzedSource.ofLoadedTrace(sourceId, name, loaded);
  await adoptAnalysisOf(follower, source, loaded.events, loaded.header.device);
  await analyzeUnlessCancelled(source, `loading ${name} was cancelled`, isCancelled, report);
  source.loadMs = performance.now() - started;
  sources.set(sourceId, source);
  report('done', loaded.fileBytes, loaded.fileBytes, `${loaded.events.length} events`);
  return { summary: source.summary() };
}

/**
 * Analyses a source just made, unless its task was cancelled meanwhile: a cancel that arrived after the
 * last chunk was read (during the importer's or decoder's last steps, or the analysis, which runs in one
 * go) still fails the task, so the source is never added and the page is told "cancelled". Before each
 * check the event loop takes one turn (setImmediate runs after pending port messages are delivered), so
 * a cancel message that came while this thread was busy is seen; the analysis can take seconds at
 * millions of events.
 */
async function analyzeUnlessCancelled(
  source: AnalyzedSource,
  message: string,
  isCancelled: () => boolean,
  report: ReturnType<typeof progress>,
): Promise<void> {
  const stop = async (): Promise<void> => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!isCancelled()) return;
    const failure = new ApiFailure('Failed', `${message}.`);
    report('failed', 0, 0, failure.message);
    throw failure;
  };
  await stop();
  source.analysis();
  await stop();
}

async function importDump(
  sourceId: string,
  input: WorkerFile,
  format: 'auto' | 'vma' | 'd3d12ma' | 'pytorch' | 'rmv',
  taskId: string,
  isCancelled: () => boolean,
): Promise<LoadedSource> {
  const report = progress(taskId);
  const started = performance.now();
  const name = printable(input.name, 255);
  let result;
  // The timeline's analysis on another thread while it is written (analysis-follower.ts), if any. Set in
  // the eventLog callback: the cast keeps TypeScript from narrowing it to null for good.
  let follower = null as AnalysisFollower | null;
  try {
    const bytes: ByteSource =
      input.kind === 'bytes'
        ? bytesSource(name, input.data)
        : await fileSource(input.path, {
            name,
            maxBytes: fileLimits.dump,
            isCancelled,
            ...arrivalOption(input),
          });
    report('start', 0, bytes.size ?? 0);
    // A PyTorch snapshot's entries and timeline in memory the main thread touches ahead of the import
    // (prefault.ts); other formats do not ask for it.
    const memory = new PrefaultedImportMemory(
      (request) => post({ type: 'prefault', request }),
      reserve ?? null,
    );
    result = await importSource(bytes, {
      ...(format === 'auto' ? {} : { format }),
      entryMemory: memory.entryMemory,
      eventLog: (options, device) => {
        const log = memory.eventLog(options);
        const expected = options.initialCapacity ?? 0;
        if (follower === null && expected >= followMinEvents) {
          follower = newFollower();
          follower?.follow(log, device, expected);
        }
        return log;
      },
      onProgress: (done, total, phase) => {
        if (isCancelled()) throw new FileReadError('cancelled', `importing ${name} was cancelled`);
        report('progress', done, total ?? 0, phase);
      },
    });
  } catch (error) {
    follower?.close();
    const failure =
      error instanceof ImportError
        ? new ApiFailure('Failed', printable(error.message, 400))
        : fileFailure(error, name, 'an importable dump');
    report('failed', 0, 0, failure.message);
    throw failure;
  }
  const events = traceEventsOf(result.log);
  const from = result.header.importedFrom;
  const source = new AnalyzedSource({
    sourceId,
    name: `${name} (${from.format} ${from.version})`,
    device: result.header.device,
    strategy: `imported: ${result.header.allocator.allocator}`,
    warnings: [...result.warnings],
    loadMs: 0,
    events: () => events,
  });
  await adoptFollowed(follower, source, events, result);
  await analyzeUnlessCancelled(source, `importing ${name} was cancelled`, isCancelled, report);
  source.loadMs = performance.now() - started;
  sources.set(sourceId, source);
  report('done', 1, 1, `${events.length} events`);
  return { summary: source.summary() };
}

/** A job on the analysis thread for a large import's timeline; null when it has none (analysed at the end). */
function newFollower(): AnalysisFollower | null {
  try {
    return new AnalysisFollower();
  } catch {
    return null;
  }
}

/**
 * Gives `source` the followed analysis of its events when the thread made one for this result's log and
 * device; otherwise (no thread, it failed, another log or other memory types) the source analyses them
 * itself (analyzeUnlessCancelled).
 */
async function adoptFollowed(
  follower: AnalysisFollower | null,
  source: AnalyzedSource,
  events: TraceEvents,
  result: ImportResult,
): Promise<void> {
  if (follower !== null && follower.log !== result.log) {
    // It followed no log, or another one than the result's (none of which the importers make).
    follower.close();
    return;
  }
  await adoptAnalysisOf(follower, source, events, result.header.device);
}

/**
 * Gives `source` (of `events`, on `device`) the analysis `follower` made of them, when it made one for
 * this device's memory types and heaps; otherwise the source analyses them itself (analyzeUnlessCancelled).
 */
async function adoptAnalysisOf(
  follower: AnalysisFollower | null,
  source: AnalyzedSource,
  events: TraceEvents,
  device: DeviceDescription,
): Promise<void> {
  if (follower === null) return;
  const parts = await follower.finish();
  if (parts === null) return;
  try {
    source.adoptAnalysis(TraceAnalysis.fromParts(events, device, parts));
  } catch {
    // Made for other memory types or heaps than the device has: analysed here instead.
  }
}

/** Replays a loaded source on another device and/or strategy; the replay becomes a source of its own. */
function replay(
  sourceId: string,
  newSourceId: string,
  target: DeviceDescription,
  strategy: PlacementStrategyName,
): ReplayedSource {
  const source = sources.get(sourceId);
  if (!source) throw notFound('source', sourceId);
  const started = performance.now();
  let events: TraceEvents | null = null;
  const report = replayRequests(source.events, {
    original: { device: source.device, strategy: source.strategy },
    target: createSimulatedDevice(target),
    strategy,
    onEvents: (e) => (events = e),
  });
  const replayed = events as TraceEvents | null;
  if (replayed === null) throw new ApiFailure('Failed', 'The replay recorded no events.');
  const analyzed = new AnalyzedSource({
    sourceId: newSourceId,
    name: `${source.name} replayed on ${target.name} (${strategy})`,
    device: target,
    strategy,
    warnings: [],
    loadMs: 0,
    events: () => replayed,
  });
  analyzed.analysis();
  analyzed.loadMs = performance.now() - started;
  sources.set(newSourceId, analyzed);
  return { report: replayReportDto(report), summary: analyzed.summary() };
}

function query(sourceId: string, method: SourceQuery, params: unknown): unknown {
  const source = sources.get(sourceId);
  if (!source) throw notFound('source', sourceId);
  switch (method) {
    case 'timeline':
      return source.timeline(params as never);
    case 'snapshot':
      return source.snapshot(params as never);
    case 'defrag':
      return source.defrag(params as never);
    case 'allocations':
      return source.allocations(params as never);
    case 'detail':
      return source.detail(params as never);
    case 'bands':
      return source.bands(params as never);
    case 'search':
      return source.search(params as never);
    case 'leaks':
      return source.leaks(params as never);
    case 'diff':
      return source.diff(params as never);
    case 'report':
      return source.report(params as 'json' | 'text');
    case 'reportObject':
      return source.reportObject();
  }
}

/** Live sources' growing event streams, by source id. */
const liveEvents = new Map<string, GrowingEvents>();

function liveOpen(m: Extract<ToTraceWorker, { type: 'liveOpen' }>): boolean {
  const events = new GrowingEvents();
  liveEvents.set(m.sourceId, events);
  sources.set(
    m.sourceId,
    new AnalyzedSource({
      sourceId: m.sourceId,
      name: m.name,
      device: m.device,
      strategy: m.strategy,
      warnings: m.warnings,
      loadMs: 0,
      events: () => events,
    }),
  );
  return true;
}

/**
 * Appends a live source's new events and extends its analysis by them (here, off main's thread). Returns
 * the summary to push to the UI (failures: the latest 100).
 */
function liveAppend(sourceId: string, slice: EventSlice): LiveSummary {
  const events = liveEvents.get(sourceId);
  const source = sources.get(sourceId);
  if (!events || !source) throw notFound('live source', sourceId);
  events.append(slice);
  const summary = source.analysis().summary;
  return { ...summary, failures: summary.failures.slice(-100) };
}

/** Runs a load or import with a cancel flag that a `cancel` message can set meanwhile. */
async function cancellable<T>(taskId: string, work: (isCancelled: () => boolean) => Promise<T>): Promise<T> {
  const flag = cancelledTasks.get(taskId) ?? { cancelled: false };
  cancelledTasks.set(taskId, flag);
  try {
    if (flag.cancelled) throw new ApiFailure('Failed', 'The task was cancelled before it started.');
    return await work(() => flag.cancelled);
  } finally {
    if (cancelledTasks.get(taskId) === flag) cancelledTasks.delete(taskId);
  }
}

async function handle(message: ToTraceWorker): Promise<unknown> {
  switch (message.type) {
    case 'load':
      return cancellable(message.taskId, (c) => load(message.sourceId, message.input, message.taskId, c));
    case 'import':
      return cancellable(message.taskId, (c) =>
        importDump(message.sourceId, message.input, message.format, message.taskId, c),
      );
    case 'cancel':
      return cancelTask(message.taskId);
    case 'query':
      return query(message.sourceId, message.method, message.params);
    case 'close':
      liveEvents.delete(message.sourceId);
      return sources.delete(message.sourceId);
    case 'liveOpen':
      return liveOpen(message);
    case 'liveAppend':
      return liveAppend(message.sourceId, message.slice);
    case 'replay':
      return replay(message.sourceId, message.newSourceId, message.target, message.strategy);
    case 'side': {
      const source = sources.get(message.sourceId);
      if (!source) throw notFound('source', message.sourceId);
      const side: SourceSide = {
        side: replaySideDto(recordedSide(source.events, source.device, source.strategy)),
        summary: source.summary(),
      };
      return side;
    }
  }
}

function cancelTask(taskId: string): boolean {
  const flag = cancelledTasks.get(taskId);
  if (!flag || flag.cancelled) return false;
  flag.cancelled = true;
  return true;
}

/** Handles one message and posts its result or failure. */
async function respond(message: ToTraceWorker): Promise<void> {
  const loading = message.type === 'load' || message.type === 'import';
  if (loading) loadsRunning++;
  try {
    post({ type: 'result', id: message.id, ok: true, value: await handle(message) });
  } catch (error) {
    const code = error instanceof ApiFailure ? error.code : 'Internal';
    const text = error instanceof Error ? error.message : String(error);
    post({
      type: 'result',
      id: message.id,
      ok: false,
      code,
      message: code === 'Internal' ? `The trace worker failed: ${text}` : text,
    });
  } finally {
    if (loading) {
      loadsRunning--;
      refillLater(1000);
    }
  }
}

// One message at a time, in order: a query never sees a half-loaded source. A cancel is answered at
// once (it must reach the load it stops, which holds the queue), and a queued load it names is marked
// too, so it stops at its first chunk. A load or import of an upload still arriving runs beside the
// queue: it waits for the page's chunks as long as the upload takes, and the loaded sources' queries are
// answered meanwhile. It touches no loaded source: its own is added, whole, when it ends.
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToTraceWorker) => {
  if (message.type === 'cancel') {
    post({ type: 'result', id: message.id, ok: true, value: cancelTask(message.taskId) });
    return;
  }
  if (message.type === 'load' || message.type === 'import') {
    cancelledTasks.set(message.taskId, { cancelled: false });
    if (message.input.kind === 'arriving') {
      void respond(message);
      return;
    }
  }
  queue = queue.then(() => respond(message));
});
