// The InspectorSource over the API contract (src-main/api/contract.ts): every view query becomes one or a
// few typed requests on the source the UI shows (a loaded trace or a live session's recording).
//
// The timeline: the API buckets by wall time, the views think in event indices. A coarse time index (one
// whole-source query at `timeIndexBuckets` buckets, kept per source) maps an event range to the time range
// to ask for; each answer carries the first event index of every bucket, which is all the views need.
import { maxAllocationBands, maxTimelineBuckets, uploadChunksInFlight } from '../../src-main/api/contract.ts';
import type {
  ApiClient,
  CaptureInfo,
  FileSource,
  LocalFileGrant,
  RequestParams,
  RequestResult,
} from '../../src-main/api/contract.ts';
import type {
  AllocationBandsData,
  AllocationSearchQuery,
  AllocationSearchResult,
  BandsQuery,
  AllocationDetail,
  FirstTimelineView,
  AllocationPage,
  AllocationQuery,
  AllocationRecord,
  InspectorSource,
  LeakGroupBy,
  LeakReport,
  LoadProgress,
  PickedFile,
  PrimedTimeline,
  RunConfig,
  RunInfo,
  ScenarioInfo,
  ScenarioParamValue,
  Snapshot,
  SnapshotDiff,
  SourceListener,
  TimelineBuckets,
  TimelineMarker,
  TimelineQuery,
  TraceOverview,
} from './source.ts';
import { loadMarks, markLoad } from './load-marks.ts';

const timeIndexBuckets = maxTimelineBuckets;

/** What an open stopped by the user fails with (the page shows it as the load error). */
function cancelledError(name: string): Error {
  return new Error(`Opening ${name} was cancelled.`);
}
/** Files up to this size go to the server in one message (loadTrace bytes); larger ones are uploaded. */
const INLINE_FILE_BYTES = 8 * 1024 * 1024;

type Row = RequestResult<'listAllocations'>['rows'][number];
type SeriesSummary = RequestResult<'getReport'>['summary']['heaps'][number];

interface TimeIndex {
  readonly eventCount: number;
  readonly startTime: number;
  readonly endTime: number;
  readonly bucketStart: readonly number[];
  readonly bucketFirstEvent: readonly number[];
}

type Summary = RequestResult<'getReport'>['summary'];
type Device = TraceOverview['device'];

/** The overview the views show, from the engine's summary of the source (getReport or analysisChanged). */
function overviewOf(
  title: string,
  device: Device,
  s: Summary,
  durationMs: number,
  live: boolean,
  leaks: { readonly count: number; readonly bytes: number },
  warnings: readonly string[] = [],
): TraceOverview {
  const heap = (i: number): SeriesSummary | undefined => s.heaps.find((h) => h.index === i);
  const type = (i: number): SeriesSummary | undefined => s.types.find((t) => t.index === i);
  const budget = (i: number) => s.budgets.find((b) => b.heapIndex === i);
  return {
    title,
    device,
    eventCount: s.eventCount,
    durationMs,
    allocationCount: s.counts.allocations,
    freeCount: s.counts.frees,
    failureCount: s.counts.failures,
    blockCount: s.counts.blocksCreated,
    peakCommittedBytes: s.total.peakCommitted.bytes,
    // The summary names the event that reached the peak; the cursor goes right after it.
    peakCommittedAt: s.total.peakCommitted.eventIndex + 1,
    peakAllocatedBytes: s.total.peakAllocated.bytes,
    peakAllocatedAt: s.total.peakAllocated.eventIndex + 1,
    liveAllocationsAtEnd: leaks.count,
    liveBytesAtEnd: leaks.bytes,
    retriedAllocations: s.retriedAllocations,
    heaps: device.heaps.map((h) => ({
      index: h.index,
      size: h.size,
      flags: h.flags,
      budget: budget(h.index)?.budget ?? null,
      usage: budget(h.index)?.usage ?? null,
      peakCommittedBytes: heap(h.index)?.peakCommitted.bytes ?? 0,
      committedBytesAtEnd: heap(h.index)?.final.committed ?? 0,
    })),
    types: device.types.map((t) => ({
      index: t.index,
      propertyFlags: t.propertyFlags,
      heapIndex: t.heapIndex,
      peakCommittedBytes: type(t.index)?.peakCommitted.bytes ?? 0,
      peakAllocatedBytes: type(t.index)?.peakAllocated.bytes ?? 0,
      allocationCount: type(t.index)?.allocationCount ?? 0,
    })),
    live,
    warnings,
  };
}

/** File names the importer reads: VMA / D3D12MA JSON dumps, PyTorch memory snapshots and RMV traces. */
export function isForeignDump(name: string): boolean {
  return /\.(json|pickle|pkl|rmv)$/i.test(name);
}

export function rowToRecord(r: Row): AllocationRecord {
  return {
    id: r.id,
    name: r.name,
    memoryTypeIndex: r.memoryTypeIndex,
    heapIndex: r.heapIndex,
    location: r.location,
    kind: r.kind,
    blockId: r.blockId,
    offset: r.offset,
    size: r.size,
    alignment: r.alignment,
    allocatedAt: r.allocatedAt,
    freedAt: r.freedAt,
    origin: r.origin,
    decisionId: r.decisionId,
    usedRetry: r.usedRetry,
    budgetRefusal: r.budgetRefusal,
    driverTypeBits: r.driverTypeBits,
    address: r.address,
    stream: r.stream,
  };
}

/** Event index → wall time through the time index: the bucket's start, interpolated by events. */
export function eventToTime(ix: TimeIndex, e: number): number {
  if (e <= 0) return ix.startTime;
  if (e >= ix.eventCount) return ix.endTime;
  const first = ix.bucketFirstEvent;
  let lo = 0;
  let hi = first.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((first[mid] ?? 0) <= e) lo = mid;
    else hi = mid - 1;
  }
  const e0 = first[lo] ?? 0;
  const e1 = first[lo + 1] ?? ix.eventCount;
  const t0 = ix.bucketStart[lo] ?? ix.startTime;
  const t1 = ix.bucketStart[lo + 1] ?? ix.endTime;
  return e1 > e0 ? t0 + ((t1 - t0) * (e - e0)) / (e1 - e0) : t0;
}

/** The contract's bucket count and marker cap for a timeline query (one bucket per plot pixel). */
function timelineResolution(q: TimelineQuery): {
  buckets: number;
  groupBy: TimelineQuery['groupBy'];
  maxMarkers: number;
} {
  return {
    buckets: Math.max(1, Math.min(maxTimelineBuckets, Math.floor(q.buckets))),
    groupBy: q.groupBy,
    maxMarkers: Math.max(0, Math.min(10_000, Math.floor(q.buckets) * 2)),
  };
}

/** A queryTimeline answer as the views draw it (event ranges, typed arrays, the total beside the groups). */
function timelineBucketsOf(q: TimelineQuery, r: RequestResult<'queryTimeline'>): TimelineBuckets {
  const count = r.buckets;
  const firstEvent = new Float64Array(count + 1);
  for (let b = 0; b < count; b++) firstEvent[b] = r.bucketFirstEvent[b] ?? q.end;
  firstEvent[count] = Math.max(firstEvent[count - 1] ?? q.end, q.end);
  // The answer may carry the total (key -1) beside the groups: it is the exact per-bucket maximum of
  // the sum, not a band to stack.
  const groups = r.series.filter((s) => s.key >= 0);
  const total = r.series.find((s) => s.key < 0);
  const committed = groups.map((s) => Float64Array.from(s.committedMax));
  const allocated = groups.map((s) => Float64Array.from(s.allocatedMax));
  const committedTotal = new Float64Array(count);
  const allocatedTotal = new Float64Array(count);
  if (total) {
    committedTotal.set(total.committedMax.slice(0, count));
    allocatedTotal.set(total.allocatedMax.slice(0, count));
  } else {
    // Without it, the sum of the groups' maxima bounds the total from above.
    for (let g = 0; g < committed.length; g++) {
      for (let b = 0; b < count; b++) {
        committedTotal[b] = (committedTotal[b] ?? 0) + (committed[g]?.[b] ?? 0);
        allocatedTotal[b] = (allocatedTotal[b] ?? 0) + (allocated[g]?.[b] ?? 0);
      }
    }
  }
  const markers: TimelineMarker[] = r.markers.map((m) => ({
    index: m.eventIndex,
    kind: m.kind,
    label: m.label,
  }));
  return {
    start: q.start,
    end: q.end,
    count,
    firstEvent,
    groups: groups.map((s) => s.label),
    committed,
    allocated,
    committedTotal,
    allocatedTotal,
    time: Float64Array.from(r.bucketStart),
    markers,
    budgets: r.budgets.map((b) => ({
      heapIndex: b.heapIndex,
      label: b.label,
      points: b.points.map((p) => ({ index: p.eventIndex, budget: p.budget })),
    })),
  };
}

export class ApiSource implements InspectorSource {
  private sourceId: string | null = null;
  private sessionId: string | null = null;
  /** The config the current session was opened with (JSON), null for the default. */
  private sessionConfigKey: string | null = null;
  private run: RunInfo | null = null;
  private timeIndex: Promise<TimeIndex> | null = null;
  private readonly listeners = new Set<SourceListener>();
  private liveTimer: ReturnType<typeof setTimeout> | null = null;
  private liveEventCount = 0;
  /** The last overview built, kept to apply pushed summaries to (device, title, per-type rows). */
  private lastOverview: TraceOverview | null = null;
  /** When the shown source is a capture's device: that capture (kept current by captureState). */
  private capture: CaptureInfo | null = null;
  /** The first timeline asked for with the overview of a file just opened (takePrimedTimeline). */
  private primed: (PrimedTimeline & { readonly sourceId: string }) | null = null;

  /**
   * @param openInPlace the Electron app's open-by-path (PreloadBridge.grantLocalFile): a dropped or picked
   * file that main can read where it is gets a fileId and is opened without a copy; absent (web mode), or
   * when it answers null or a refusal, the file is sent (inline or uploaded).
   * @param firstTimelineView where the timeline will draw a file about to open (its plot's width and
   * grouping; null when unknown): its first totals are then asked for with the overview.
   */
  constructor(
    private readonly api: ApiClient,
    private readonly openInPlace?: (file: PickedFile) => Promise<LocalFileGrant | null>,
    private readonly firstTimelineView?: () => FirstTimelineView | null,
  ) {
    api.on('runState', (info) => {
      if (info.sessionId !== this.sessionId) return;
      this.run = info;
      for (const l of this.listeners) l.runStatus?.(info);
      if (info.state !== 'running') this.scheduleLiveRefresh(0);
    });
    api.on('captureState', (info) => {
      if (this.capture?.captureId !== info.captureId) return;
      const wasLive = this.capture.state === 'running';
      this.capture = info;
      // The program ended: one last refresh (final numbers, leak markers, the title without "live").
      if (wasLive && info.state !== 'running') this.scheduleLiveRefresh(0);
    });
    api.on('sessionEvents', (batch) => {
      if (batch.sessionId !== this.sessionId) return;
      this.liveEventCount = batch.start + batch.count;
    });
    // A live source's analysis grew: main pushes its summary (no polling); the overview follows it at once
    // and the timeline's time index is rebuilt on the next timeline query.
    api.on('analysisChanged', ({ sourceId, summary }) => {
      const last = this.lastOverview;
      if (sourceId !== this.sourceId || !last) return;
      this.timeIndex = null;
      const live =
        this.run?.state === 'running' || this.run?.state === 'paused' || this.capture?.state === 'running';
      const overview = overviewOf(last.title, last.device, summary, summary.durationMs, live, {
        count: summary.liveAllocations,
        bytes: summary.total.final.allocated,
      });
      this.lastOverview = overview;
      for (const l of this.listeners) l.traceChanged?.(overview);
    });
  }

  /**
   * Shows another source the server holds (a capture's device, a trace): the views then query it, and a
   * live one grows through analysisChanged. Resolves with its overview.
   */
  async showSource(sourceId: string): Promise<TraceOverview | null> {
    this.sessionId = null;
    this.run = null;
    this.setSource(sourceId);
    return this.overview();
  }

  /** Shows an already loaded source (a trace main opened, or the newest one) when there is one. */
  async attach(sourceId?: string): Promise<void> {
    const state = await this.api.request('getState', {});
    const id = sourceId ?? state.traces.at(-1)?.sourceId ?? state.sessions.at(-1)?.sourceId ?? null;
    this.setSource(id);
    const session = state.sessions.find((s) => s.sourceId === id);
    if (session) {
      this.sessionId = session.sessionId;
      this.run = session.run;
    }
  }

  /** Sample traces the server offers (assets/traces), to open by fileId. */
  async samples(): Promise<{ name: string; fileId: string; bytes: number }[]> {
    return (await this.api.request('getState', {})).sampleTraces;
  }

  private setSource(id: string | null): void {
    this.sourceId = id;
    this.capture = null;
    this.timeIndex = null;
    this.primed = null;
    // Tells main what the UI shows (the app menu's Export Report uses it); not essential to the UI.
    if (id) void this.api.request('setActiveSource', { sourceId: id }).catch(() => undefined);
  }

  private scheduleLiveRefresh(delay: number): void {
    if (this.liveTimer !== null) {
      if (delay > 0) return;
      clearTimeout(this.liveTimer);
    }
    this.liveTimer = setTimeout(() => {
      this.liveTimer = null;
      this.timeIndex = null;
      this.overview().then(
        (o) => {
          if (o) for (const l of this.listeners) l.traceChanged?.(o);
        },
        (e: unknown) => {
          const message = `Could not refresh the live session: ${e instanceof Error ? e.message : String(e)}`;
          for (const l of this.listeners) l.error?.(message);
        },
      );
    }, delay);
  }

  /** The source's time index, asked for once (callers meanwhile share the request; a failure is not kept). */
  private ensureTimeIndex(): Promise<TimeIndex> {
    if (this.timeIndex) return this.timeIndex;
    const sourceId = this.requireSource();
    const index = this.api
      .request('queryTimeline', {
        sourceId,
        buckets: timeIndexBuckets,
        groupBy: 'total',
        maxMarkers: 0,
        boundariesOnly: true,
      })
      .then((r): TimeIndex => ({
        eventCount: r.eventCount,
        startTime: r.startTime,
        endTime: r.endTime,
        bucketStart: r.bucketStart,
        bucketFirstEvent: r.bucketFirstEvent,
      }));
    this.timeIndex = index;
    index.catch(() => {
      if (this.timeIndex === index) this.timeIndex = null;
    });
    return index;
  }

  private requireSource(): string {
    if (!this.sourceId) throw new Error('Nothing is loaded: open a trace or run a scenario first.');
    return this.sourceId;
  }

  /**
   * The overview from the server's own report of the source (`exportReport` as JSON: the numbers
   * `vramscope report --json` prints). The report and the state are asked for at once (the server answers
   * them in order, without a round trip between); the time index is asked for by the first timeline query
   * that needs it, and the leak markers after the timeline's first draw (leakMarkers).
   */
  overview(): Promise<TraceOverview | null> {
    return this.overviewOf(null);
  }

  /**
   * overview(); after a file was opened (`primeEventCount`: its events), also the timeline's first totals
   * right behind the report, where firstTimelineView says where they will be drawn (takePrimedTimeline).
   */
  private async overviewOf(primeEventCount: number | null): Promise<TraceOverview | null> {
    const sourceId = this.sourceId;
    if (!sourceId) return null;
    const reportAnswer = this.api.request('getReport', { sourceId });
    // Awaited below, unless the source turns out to be gone (then its failure is no news).
    reportAnswer.catch(() => undefined);
    if (primeEventCount !== null && primeEventCount > 0) {
      this.primeTimeline(sourceId, primeEventCount);
      // Behind the first totals: the time index the next timeline query (a zoom, a pan) needs.
      this.ensureTimeIndex().catch(() => undefined);
    }
    const state = await this.api.request('getState', {});
    const trace = state.traces.find((t) => t.sourceId === sourceId);
    const session = state.sessions.find((s) => s.sourceId === sourceId);
    let device = trace?.device ?? session?.device;
    let captureTitle: string | null = null;
    if (!device) {
      // A capture's device (issue 10): the capture lists it.
      const captures = await this.api.request('listCaptures', {});
      const capture = captures.captures.find((c) => c.tracks.some((t) => t.sourceId === sourceId)) ?? null;
      const track = capture?.tracks.find((t) => t.sourceId === sourceId);
      if (!capture || !track) return null;
      this.capture = capture;
      device = track.device;
      captureTitle = `capture: ${capture.command.join(' ')}${capture.tracks.length > 1 ? ` (device ${track.index})` : ''}`;
    }
    const live =
      session?.run?.state === 'running' ||
      session?.run?.state === 'paused' ||
      (captureTitle !== null && this.capture?.state === 'running');
    const report = await reportAnswer;
    const title =
      trace?.name ?? captureTitle ?? `live: ${session?.run?.scenario ?? session?.sessionId ?? sourceId}`;
    const overview = overviewOf(
      title,
      device,
      report.summary,
      report.summary.durationMs,
      live,
      report.leaks,
      trace?.warnings ?? [],
    );
    this.lastOverview = overview;
    return overview;
  }

  async leakMarkers(): Promise<readonly TimelineMarker[]> {
    const sourceId = this.sourceId;
    if (!sourceId || this.lastOverview?.live !== false) return [];
    return this.loadLeakMarkers(sourceId);
  }

  /** Allocations alive at the end: a leak marker at each allocate event (at most 2,000). */
  private async loadLeakMarkers(sourceId: string): Promise<TimelineMarker[]> {
    const r = await this.api.request('listAllocations', {
      sourceId,
      filter: { status: 'live' },
      sort: { key: 'allocatedAt', dir: 'asc' },
      limit: 2_000,
    });
    return r.rows.map((row) => ({ index: row.allocatedAt, kind: 'leak', label: `leak: ${row.name}` }));
  }

  async timeline(q: TimelineQuery): Promise<TimelineBuckets> {
    const sourceId = this.requireSource();
    const ix = await this.ensureTimeIndex();
    const r = await this.api.request('queryTimeline', {
      sourceId,
      startTime: eventToTime(ix, q.start),
      endTime: Math.max(eventToTime(ix, q.start), eventToTime(ix, q.end)),
      ...timelineResolution(q),
    });
    return timelineBucketsOf(q, r);
  }

  /**
   * Asks for the whole trace's totals where the timeline will draw them (firstTimelineView), for
   * takePrimedTimeline. The same request timeline() makes for the whole range, less its time bounds: the
   * time index maps events [0, eventCount) to the whole time range, which is also what no bounds mean.
   */
  private primeTimeline(sourceId: string, eventCount: number): void {
    const view = this.firstTimelineView?.() ?? null;
    if (!view) return;
    const query: TimelineQuery = {
      start: 0,
      end: eventCount,
      buckets: Math.max(1, Math.floor(view.plotWidth)),
      groupBy: view.groupBy,
    };
    const answer = this.api
      .request('queryTimeline', { sourceId, ...timelineResolution(query) })
      .then((r) => timelineBucketsOf(query, r));
    // Taken and awaited by the timeline, or never: a failure untaken is no news (its own query follows).
    answer.catch(() => undefined);
    this.primed = { sourceId, query, answer };
  }

  takePrimedTimeline(): PrimedTimeline | null {
    const primed = this.primed;
    this.primed = null;
    return primed && primed.sourceId === this.sourceId
      ? { query: primed.query, answer: primed.answer }
      : null;
  }

  async snapshot(at: number): Promise<Snapshot> {
    const r = await this.api.request('snapshotAt', { sourceId: this.requireSource(), eventIndex: at });
    return {
      at: r.eventIndex,
      blocks: r.blocks,
      committedBytes: r.committedBytes,
      allocatedBytes: r.allocatedBytes,
    };
  }

  defragmentPlan(at: number, algorithm: 'full' | 'fast'): Promise<RequestResult<'defragmentPlan'>> {
    return this.api.request('defragmentPlan', { sourceId: this.requireSource(), eventIndex: at, algorithm });
  }

  async allocations(q: AllocationQuery): Promise<AllocationPage> {
    const filter: NonNullable<RequestParams<'listAllocations'>['filter']> = {
      status: q.liveAt === null ? 'all' : 'live',
      ...(q.name.trim() !== '' ? { nameContains: q.name.trim() } : {}),
      ...(q.memoryTypeIndex !== null ? { memoryTypeIndex: q.memoryTypeIndex } : {}),
      ...(q.location !== null ? { location: q.location } : {}),
      ...(q.minSize !== null ? { minSize: q.minSize } : {}),
      ...(q.maxSize !== null ? { maxSize: q.maxSize } : {}),
    };
    const r = await this.api.request('listAllocations', {
      sourceId: this.requireSource(),
      ...(q.liveAt === null ? {} : { eventIndex: q.liveAt }),
      filter,
      sort: { key: q.sort, dir: q.descending ? 'desc' : 'asc' },
      offset: q.offset,
      limit: Math.max(1, Math.min(5_000, q.limit)),
    });
    return { total: r.total, offset: q.offset, rows: r.rows.map(rowToRecord) };
  }

  async allocation(id: number): Promise<AllocationDetail | null> {
    const r = await this.api.request('allocationDetail', {
      sourceId: this.requireSource(),
      allocationId: id,
    });
    return {
      allocation: rowToRecord(r.allocation),
      // The contract's decision record is MemoryTypeDecision (src-main/api/contract-shapes.ts proves it).
      decision: r.decision,
      stack: r.stack,
      ...(r.blockDetails ? { blockDetails: r.blockDetails } : {}),
    };
  }

  async bands(q: BandsQuery): Promise<AllocationBandsData> {
    const r = await this.api.request('allocationBands', {
      sourceId: this.requireSource(),
      startIndex: Math.max(0, Math.floor(q.start)),
      endIndex: Math.max(0, Math.ceil(q.end)),
      limit: Math.max(1, Math.min(maxAllocationBands, Math.floor(q.limit))),
      buckets: Math.max(1, Math.min(maxTimelineBuckets, Math.floor(q.buckets))),
    });
    return {
      start: r.startIndex,
      end: r.endIndex,
      alive: r.alive,
      id: r.id,
      size: r.size,
      from: r.from,
      to: r.to,
      block: r.block,
      offset: r.offset,
      restBoundaries: r.restBoundaries,
      restMax: r.restMax,
    };
  }

  async searchAllocations(q: AllocationSearchQuery): Promise<AllocationSearchResult> {
    const address = q.address.trim();
    const text = q.text.trim();
    const r = await this.api.request('searchAllocations', {
      sourceId: this.requireSource(),
      ...(address === '' ? {} : { address }),
      ...(text === '' ? {} : { text }),
      limit: Math.max(1, Math.min(1_000, Math.floor(q.limit))),
    });
    return { total: r.total, rows: r.rows.map(rowToRecord) };
  }

  async leaks(at: number, groupBy: LeakGroupBy): Promise<LeakReport> {
    const r = await this.api.request('leaks', { sourceId: this.requireSource(), eventIndex: at, groupBy });
    return { at: r.eventIndex, count: r.count, bytes: r.bytes, groups: r.groups };
  }

  async diff(from: number, to: number): Promise<SnapshotDiff> {
    const empty = { count: 0, bytes: 0, rows: [] };
    if (from === to) return { from, to, appeared: empty, disappeared: empty };
    const [a, b] = from < to ? [from, to] : [to, from];
    const r = await this.api.request('diff', {
      sourceId: this.requireSource(),
      fromIndex: a,
      toIndex: b,
      limit: 200,
    });
    const allocated = {
      count: r.allocated.count,
      bytes: r.allocated.bytes,
      rows: r.allocated.rows.map(rowToRecord),
    };
    const freed = { count: r.freed.count, bytes: r.freed.bytes, rows: r.freed.rows.map(rowToRecord) };
    // Going backwards in time swaps what appeared and what disappeared.
    return from < to
      ? { from, to, appeared: allocated, disappeared: freed }
      : { from, to, appeared: freed, disappeared: allocated };
  }

  async loadTrace(
    name: string,
    bytes: Uint8Array,
    onProgress?: (p: LoadProgress) => void,
  ): Promise<TraceOverview> {
    return this.openSource(name, { kind: 'bytes', name, data: new Uint8Array(bytes) }, onProgress);
  }

  /**
   * loadTrace or importFile (by the file name) of bytes or an upload, with the server's progress. Aborting
   * `signal` cancels the server's task wherever it is (reading, importing, decoding, analysing: cancelTask)
   * and the open fails with "Opening NAME was cancelled."; a trace that finished loading just as the
   * abort came is closed again.
   */
  private async openSource(
    name: string,
    source: FileSource,
    onProgress?: (p: LoadProgress) => void,
    signal?: AbortSignal,
  ): Promise<TraceOverview> {
    const taskId = `load-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
    const off = this.api.on('progress', (p) => {
      if (p.taskId === taskId && p.unit === 'bytes')
        onProgress?.({ loaded: p.done, total: p.total, phase: 'reading' });
    });
    const cancelTask = (): void => {
      this.api.request('cancelTask', { taskId }).catch(() => undefined);
    };
    signal?.addEventListener('abort', cancelTask, { once: true });
    try {
      if (signal?.aborted) throw cancelledError(name);
      // Foreign dumps (VMA / D3D12MA JSON, PyTorch snapshots) go through the importer, traces load as is.
      let summary;
      try {
        summary = isForeignDump(name)
          ? await this.api.request('importFile', { source, taskId })
          : await this.api.request('loadTrace', { source, taskId });
      } catch (error) {
        throw signal?.aborted ? cancelledError(name) : error;
      }
      if (signal?.aborted) {
        await this.api.request('closeTrace', { sourceId: summary.sourceId }).catch(() => undefined);
        throw cancelledError(name);
      }
      markLoad(loadMarks.imported);
      this.sessionId = null;
      this.setSource(summary.sourceId);
      const overview = await this.overviewOf(summary.eventCount);
      if (!overview) throw new Error(`"${name}" loaded but its source vanished.`);
      markLoad(loadMarks.overview);
      return overview;
    } finally {
      signal?.removeEventListener('abort', cancelTask);
      off();
    }
  }

  /**
   * A file of any size: small ones go inline (one message), larger ones are uploaded in chunks
   * (uploadChunked) and the server opens the granted file from disk. Aborting `signal` cancels the upload
   * (and says so).
   */
  async loadFile(
    file: PickedFile,
    onProgress?: (p: LoadProgress) => void,
    signal?: AbortSignal,
  ): Promise<TraceOverview> {
    markLoad(loadMarks.started);
    const inPlace = this.openInPlace ? await this.openInPlace(file).catch(() => null) : null;
    if (inPlace?.ok) {
      // Main reads the file where it is: nothing to upload, so the progress is the server's reading.
      return this.openSource(file.name, { kind: 'file', fileId: inPlace.fileId }, onProgress, signal);
    }
    if (file.size <= INLINE_FILE_BYTES) {
      const data = new Uint8Array(await file.slice(0, file.size).arrayBuffer());
      return this.openSource(file.name, { kind: 'bytes', name: file.name, data }, onProgress, signal);
    }
    // Foreign dumps are parsed while they arrive (their importers stream); traces are read whole before
    // they are decoded, so they are uploaded first (the server's memory does not follow the upload).
    if (isForeignDump(file.name)) return this.uploadAndOpen(file, onProgress, signal);
    const { uploadId, fileId } = await this.uploadChunked(file, onProgress, signal);
    try {
      return await this.openSource(file.name, { kind: 'file', fileId }, onProgress, signal);
    } catch (error) {
      // Opened, the server deletes the upload itself; failed, it keeps it for another try, which this
      // page does not offer: drop it now rather than when it times out.
      await this.api.request('cancelUpload', { uploadId }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Uploads a file and has the server import it at the same time (importFile of {kind: 'arriving'}): the
   * first timeline comes about max(upload, import) after the pick instead of their sum. The progress is
   * the upload's until its last chunk is acknowledged, then the import's. An abort cancels the upload,
   * which stops the import; a failed import stops the upload; either way the upload is dropped.
   */
  private async uploadAndOpen(
    file: PickedFile,
    onProgress?: (p: LoadProgress) => void,
    signal?: AbortSignal,
  ): Promise<TraceOverview> {
    const { uploadId, chunkBytes } = await this.api.request('beginUpload', {
      name: file.name,
      bytes: file.size,
    });
    let uploading = true;
    const opened = this.openSource(
      file.name,
      { kind: 'arriving', uploadId },
      (p) => {
        if (!uploading) onProgress?.(p);
      },
      signal,
    ).then(
      (overview) => ({ ok: true as const, overview }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    // The import may end before the last byte is sent (it failed, or the file has trailing bytes): the
    // upload stops then.
    const importEnded = new AbortController();
    void opened.then(() => importEnded.abort());
    const drop = (): Promise<unknown> =>
      this.api.request('cancelUpload', { uploadId }).catch(() => undefined);
    try {
      await this.sendChunks(file, uploadId, chunkBytes, onProgress, signal, importEnded.signal);
    } catch (error) {
      // Dropping the upload stops the import unless it is done: bytes refused because the server had just
      // imported the whole file (and dropped the upload) are no failure. An import that failed first says
      // why in its own words.
      const endedFirst = importEnded.signal.aborted;
      await drop();
      const result = await opened;
      if (signal?.aborted) throw error;
      if (result.ok) return result.overview;
      throw endedFirst ? result.error : error;
    }
    uploading = false;
    const result = await opened;
    if (result.ok) return result.overview;
    await drop();
    throw result.error;
  }

  /**
   * Uploads a file in chunks of the contract's size (beginUpload / uploadChunk / finishUpload); the server
   * grants it a fileId. Any failure or abort cancels the upload.
   */
  private async uploadChunked(
    file: PickedFile,
    onProgress?: (p: LoadProgress) => void,
    signal?: AbortSignal,
  ): Promise<{ uploadId: string; fileId: string }> {
    const { uploadId, chunkBytes } = await this.api.request('beginUpload', {
      name: file.name,
      bytes: file.size,
    });
    try {
      await this.sendChunks(file, uploadId, chunkBytes, onProgress, signal);
      const { fileId } = await this.api.request('finishUpload', { uploadId });
      return { uploadId, fileId };
    } catch (error) {
      await this.api.request('cancelUpload', { uploadId }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Sends a file's bytes (chunks, at most uploadChunksInFlight in flight; or one PUT where the transport
   * takes one) with the upload's progress. Throws when `signal` aborts or bytes are refused; returns early
   * once `stopped` aborts.
   */
  private async sendChunks(
    file: PickedFile,
    uploadId: string,
    chunkBytes: number,
    onProgress: ((p: LoadProgress) => void) | undefined,
    signal: AbortSignal | undefined,
    stopped?: AbortSignal,
  ): Promise<void> {
    const cancelled = (): Error => cancelledError(file.name);
    if (this.api.uploadBody && typeof Blob !== 'undefined' && file instanceof Blob) {
      await this.putFile(this.api.uploadBody.bind(this.api), file, uploadId, onProgress, signal, stopped);
      return;
    }
    // Up to uploadChunksInFlight chunks in flight: reading and encoding the next chunk overlaps the server
    // writing the last one. Both transports hand requests to the server in order and the server writes
    // an upload's chunks in the order they arrive (it refuses any other), so order is kept.
    const inFlight: Promise<unknown>[] = [];
    let acknowledged = 0;
    for (let offset = 0; offset < file.size && !stopped?.aborted;) {
      if (signal?.aborted) throw cancelled();
      const end = Math.min(file.size, offset + chunkBytes);
      const bytes = end - offset;
      const sent = this.sendChunk(uploadId, offset, file.slice(offset, end)).then(() => {
        acknowledged += bytes;
        onProgress?.({ loaded: acknowledged, total: file.size, phase: 'uploading' });
      });
      sent.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
      inFlight.push(sent);
      if (inFlight.length >= uploadChunksInFlight) await inFlight.shift();
      offset = end;
    }
    await Promise.all(inFlight);
    if (signal?.aborted) throw cancelled();
    markLoad(loadMarks.uploaded);
  }

  /**
   * Web mode: a real File goes as one PUT body (uploadBody), which the browser streams from the file
   * (never into this page); aborting `signal` aborts the PUT. The File itself, not a slice of it: Chromium
   * sends a File's bytes from its file, a slice's through its blob machinery (measured on the 152 MB
   * snapshot: about 0.5 s of Chromium CPU against 0.8 s for the same bytes as slices). Progress follows the
   * bytes sent. `stopped` ends the PUT without a failure (nothing more needs sending).
   */
  private async putFile(
    put: NonNullable<ApiClient['uploadBody']>,
    file: Blob & PickedFile,
    uploadId: string,
    onProgress: ((p: LoadProgress) => void) | undefined,
    signal: AbortSignal | undefined,
    stopped: AbortSignal | undefined,
  ): Promise<void> {
    if (signal?.aborted) throw cancelledError(file.name);
    if (stopped?.aborted) return;
    // Sent is not yet written on the server: the count the server acknowledges comes with the answer.
    const sending = (bytes: number): void =>
      onProgress?.({ loaded: Math.min(file.size, bytes), total: file.size, phase: 'uploading' });
    const ended = new AbortController();
    const end = (): void => ended.abort();
    signal?.addEventListener('abort', end, { once: true });
    stopped?.addEventListener('abort', end, { once: true });
    try {
      await put(uploadId, 0, file, ended.signal, sending);
    } catch (error) {
      if (signal?.aborted) throw cancelledError(file.name);
      if (stopped?.aborted) return;
      throw error;
    } finally {
      signal?.removeEventListener('abort', end);
      stopped?.removeEventListener('abort', end);
    }
    onProgress?.({ loaded: file.size, total: file.size, phase: 'uploading' });
    markLoad(loadMarks.uploaded);
  }

  /** One uploadChunk of the bytes read here (the IPC transport structured-clones them). */
  private async sendChunk(
    uploadId: string,
    offset: number,
    part: ReturnType<PickedFile['slice']>,
  ): Promise<RequestResult<'uploadChunk'>> {
    const data = new Uint8Array(await part.arrayBuffer());
    return this.api.request('uploadChunk', { uploadId, offset, data });
  }

  /** Opens a file the server granted (the samples in assets/traces) by its fileId. */
  async loadTraceFile(fileId: string): Promise<TraceOverview> {
    const summary = await this.api.request('loadTrace', { source: { kind: 'file', fileId } });
    this.sessionId = null;
    this.setSource(summary.sourceId);
    const overview = await this.overviewOf(summary.eventCount);
    if (!overview) throw new Error(`"${summary.name}" loaded but its source vanished.`);
    for (const l of this.listeners) l.traceChanged?.(overview);
    return overview;
  }

  /**
   * Uploads a file (a workload for replay-workload) and answers the fileId the server granted it: in one
   * message when small, else in chunks.
   */
  async uploadFile(name: string, bytes: Uint8Array): Promise<string> {
    if (bytes.byteLength > INLINE_FILE_BYTES) {
      const file: PickedFile = {
        name,
        size: bytes.byteLength,
        slice: (start, end) => ({ arrayBuffer: async () => bytes.slice(start, end).buffer }),
      };
      return (await this.uploadChunked(file)).fileId;
    }
    const { fileId } = await this.api.request('uploadFile', { source: { kind: 'bytes', name, data: bytes } });
    return fileId;
  }

  /** The shown source's text report (the server never writes it: the page downloads it). */
  async exportReport(): Promise<{ fileName: string; content: string }> {
    if (!this.sourceId) throw new Error('Open a trace or run a scenario first.');
    const { fileName, content } = await this.api.request('exportReport', {
      sourceId: this.sourceId,
      format: 'text',
    });
    return { fileName, content };
  }

  async scenarios(): Promise<readonly ScenarioInfo[]> {
    return (await this.api.request('listScenarios', {})).scenarios;
  }

  /**
   * Runs on the current session; opens one first when there is none or when `config` differs from the one
   * it was opened with (the default device, or the first profile when there is no real device, without a
   * config).
   */
  async runScenario(
    id: string,
    params: Record<string, ScenarioParamValue>,
    config?: RunConfig,
  ): Promise<RunInfo> {
    const configKey = config === undefined ? null : JSON.stringify(config);
    // Another device, strategy or block size than the current session's: the run needs a new session.
    if (this.sessionId && configKey !== this.sessionConfigKey) this.sessionId = null;
    if (!this.sessionId) {
      let session: RequestResult<'openSession'>;
      try {
        session = await this.api.request('openSession', config ?? {});
        this.sessionConfigKey = configKey;
      } catch (e) {
        if (config !== undefined) throw e;
        const devices = await this.api.request('listDevices', {});
        const profile = devices.profiles[0];
        if (!profile) throw e;
        session = await this.api.request('openSession', { device: { kind: 'profile', name: profile.name } });
        this.sessionConfigKey = null;
      }
      this.sessionId = session.sessionId;
      this.setSource(session.sourceId);
    } else {
      this.setSource(this.sessionId);
    }
    this.liveEventCount = 0;
    const info = await this.api.request('runScenario', { sessionId: this.sessionId, scenario: id, params });
    // A short run may have finished (its runState event already arrived) before this answer: keep the newest.
    if (this.run?.runId !== info.runId) this.run = info;
    const newest = this.run;
    for (const l of this.listeners) l.runStatus?.(newest);
    this.scheduleLiveRefresh(0);
    return newest;
  }

  async control(action: 'pause' | 'step' | 'resume' | 'cancel'): Promise<RunInfo> {
    const runId = this.run?.runId;
    if (!runId) throw new Error(`Cannot ${action}: no scenario is running.`);
    const name =
      action === 'pause'
        ? 'pauseRun'
        : action === 'step'
          ? 'stepRun'
          : action === 'resume'
            ? 'resumeRun'
            : 'cancelRun';
    const info = await this.api.request(name, { runId });
    // An end the runState events reported meanwhile (finished, cancelled, failed) stays the newest state.
    const ended = this.run?.runId === info.runId && !['running', 'paused'].includes(this.run.state);
    if (!ended) this.run = info;
    const newest = this.run ?? info;
    for (const l of this.listeners) l.runStatus?.(newest);
    this.scheduleLiveRefresh(0);
    return newest;
  }

  subscribe(listener: SourceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events seen in the live session's batches (for progress while the overview catches up). */
  get liveEvents(): number {
    return this.liveEventCount;
  }
}
