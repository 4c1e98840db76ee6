// What the inspector's views need from a trace or a live session, as one small async interface, implemented
// over the API contract (api-source.ts: web socket or Electron IPC). Every number comes from the one
// analysis engine (allocator/analysis) running in main.
//
// Units: every size and offset is bytes (a safe integer); every time is milliseconds since the session
// started; a "cursor" is an event index in [0, eventCount]: the state at cursor c is the state after the
// first c events were applied (c = 0: nothing happened yet, c = eventCount: the end of the trace).
import type { DeviceDescription, MemoryLocation, MemoryTypeDecision } from '../../allocator/index.ts';
import type { AllocationBands } from '../../allocator/analysis/allocation-bands.ts';
import type { RunInfo, ScenarioMeta as ScenarioInfo } from '../../src-main/api/contract.ts';
import type { RequestParams, RequestResult } from '../../src-main/api/contract.ts';

/** A defragmentation plan at an event index, from the one engine (allocator/analysis) in main. */
export type DefragPreview = RequestResult<'defragmentPlan'>;

/** How an allocation sits in its block (allocator's AllocationKind, by name). */
export type AllocationKindName = 'linear' | 'nonLinear' | 'dedicated';

export interface HeapSummary {
  readonly index: number;
  /** Bytes. */
  readonly size: number;
  readonly flags: number;
  /** Last budget sample (bytes) in the trace, null when the driver reported none. */
  readonly budget: number | null;
  /** Last usage sample (bytes), null when none. */
  readonly usage: number | null;
  /** Peak of the sum of live block bytes in this heap. */
  readonly peakCommittedBytes: number;
  /** Block bytes in this heap at the end of the trace. */
  readonly committedBytesAtEnd: number;
}

export interface MemoryTypeSummary {
  readonly index: number;
  readonly propertyFlags: number;
  readonly heapIndex: number;
  readonly peakCommittedBytes: number;
  readonly peakAllocatedBytes: number;
  /** Allocate events of this memory type. */
  readonly allocationCount: number;
}

export interface TraceOverview {
  /** Where the data comes from: a file name, "live: <scenario>", ... */
  readonly title: string;
  readonly device: DeviceDescription;
  readonly eventCount: number;
  /** Milliseconds from the first to the last event. */
  readonly durationMs: number;
  readonly allocationCount: number;
  readonly freeCount: number;
  readonly failureCount: number;
  readonly blockCount: number;
  readonly peakCommittedBytes: number;
  /** Event index (cursor) right after the event that reached the committed peak. */
  readonly peakCommittedAt: number;
  /** Peak of the sum of live requested bytes. */
  readonly peakAllocatedBytes: number;
  readonly peakAllocatedAt: number;
  readonly liveAllocationsAtEnd: number;
  readonly liveBytesAtEnd: number;
  /** Allocations that needed the decision's allocation-time retry type. */
  readonly retriedAllocations: number;
  readonly heaps: readonly HeapSummary[];
  readonly types: readonly MemoryTypeSummary[];
  /** true while a live session is still appending events. */
  readonly live: boolean;
  /**
   * What the loader said about the file (a torn or incomplete trace, events dropped, an import's
   * fix-ups), one sentence each, in the words `vramscope report` / `vramscope import` print.
   */
  readonly warnings?: readonly string[];
}

export type TimelineGroupBy = 'heap' | 'type';

export interface TimelineQuery {
  /** First event index (inclusive) of the range shown. */
  readonly start: number;
  /** Last event index (exclusive). */
  readonly end: number;
  /** Number of buckets wanted: the pixel width of the plot. The answer may hold fewer. */
  readonly buckets: number;
  readonly groupBy: TimelineGroupBy;
}

/** Where the next trace's first timeline will be drawn: its plot's width (CSS px) and its grouping. */
export interface FirstTimelineView {
  readonly plotWidth: number;
  readonly groupBy: TimelineGroupBy;
}

/** A timeline query sent ahead of the view that will draw it (see takePrimedTimeline), and its answer. */
export interface PrimedTimeline {
  readonly query: TimelineQuery;
  readonly answer: Promise<TimelineBuckets>;
}

export type MarkerKind = 'frame' | 'mark' | 'failure' | 'leak' | 'budget' | 'defrag';

/** A heap's budget line: each point's budget (bytes) holds from its event index on. */
export interface TimelineBudget {
  readonly heapIndex: number;
  readonly label: string;
  readonly points: readonly { readonly index: number; readonly budget: number }[];
}

export interface TimelineMarker {
  /** Event index of the event (the cursor after it is index + 1). */
  readonly index: number;
  readonly kind: MarkerKind;
  readonly label: string;
}

/**
 * Level-of-detail answer: bucket b covers events [firstEvent[b], firstEvent[b + 1]). Buckets may cover
 * different numbers of events (the API buckets by wall time). For each group (heap or memory type) the
 * maximum committed and allocated bytes inside the bucket, so peaks never vanish when zoomed out.
 */
export interface TimelineBuckets {
  readonly start: number;
  readonly end: number;
  readonly count: number;
  /** count + 1 event indices, non-decreasing; firstEvent[count] is the end of the last bucket. */
  readonly firstEvent: Float64Array;
  /** One label per group, e.g. "heap 0 (DEVICE_LOCAL)" or "type 1". */
  readonly groups: readonly string[];
  /** committed[g][b]: max block bytes of group g in bucket b. */
  readonly committed: readonly Float64Array[];
  /** allocated[g][b]: max requested bytes of group g in bucket b. */
  readonly allocated: readonly Float64Array[];
  /** Max over the bucket of the sum over groups (stacked totals). */
  readonly committedTotal: Float64Array;
  readonly allocatedTotal: Float64Array;
  /** Wall time (ms) at the start of each bucket. */
  readonly time: Float64Array;
  /** Markers inside [start, end), thinned to at most a few per pixel. */
  readonly markers: readonly TimelineMarker[];
  /** Budget lines of the heaps that report budgets (none for traces without budget samples). */
  readonly budgets?: readonly TimelineBudget[];
}

/** The bucket holding event index `e` (binary search over firstEvent), clamped to [0, count - 1]. */
export function bucketOfEvent(b: TimelineBuckets, e: number): number {
  let lo = 0;
  let hi = b.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((b.firstEvent[mid] ?? 0) <= e) lo = mid;
    else hi = mid - 1;
  }
  return Math.max(0, lo);
}

export interface AllocationRecord {
  readonly id: number;
  readonly name: string;
  readonly memoryTypeIndex: number;
  readonly heapIndex: number;
  readonly location: MemoryLocation;
  readonly kind: AllocationKindName;
  readonly blockId: number;
  /** Bytes from the block start (after alignment). */
  readonly offset: number;
  /** Requested bytes. */
  readonly size: number;
  readonly alignment: number;
  /** Event index of the allocate event. */
  readonly allocatedAt: number;
  /** Event index of the free event; null when never freed. */
  readonly freedAt: number | null;
  /** Where it was asked for (file:line, tags), when recorded. */
  readonly origin: string | null;
  readonly decisionId: number;
  /** true when the decision's allocation-time retry type was needed (the first choice failed). */
  readonly usedRetry: boolean;
  /**
   * When that retry was the budget's doing (budget mode strict): the heap, its budget and the usage the
   * refused block would have made, bytes. Absent or null otherwise.
   */
  readonly budgetRefusal?: {
    readonly heapIndex: number;
    readonly budget: number;
    readonly usage: number;
  } | null;
  /**
   * The driver's memoryTypeBits of the bound resource (resources real, or a captured application): size and
   * alignment are then the driver's too. Absent or null otherwise.
   */
  readonly driverTypeBits?: number | null;
  /**
   * Imported dumps: the device address in the source program and the stream it was made on (PyTorch's
   * CUDA address and stream). Absent or null when the trace does not record them.
   */
  readonly address?: number | null;
  readonly stream?: number | null;
}

/** An allocation as the block map needs it. */
export interface BlockAllocation {
  readonly id: number;
  readonly name: string;
  /** Bytes from the block start where the caller's data starts. */
  readonly offset: number;
  readonly size: number;
  readonly kind: AllocationKindName;
}

export interface ByteRange {
  readonly offset: number;
  readonly size: number;
}

export interface BlockSnapshot {
  readonly id: number;
  readonly memoryTypeIndex: number;
  readonly heapIndex: number;
  /** Bytes. */
  readonly size: number;
  readonly dedicated: boolean;
  /** Sorted by offset. */
  readonly allocations: readonly BlockAllocation[];
  readonly allocatedBytes: number;
  /**
   * Free ranges (usable by the allocator), sorted by offset. Bytes neither allocated nor free are
   * alignment padding.
   */
  readonly freeRanges: readonly ByteRange[];
}

/** 1 - largest free range / total free bytes: 0 when the free space is one range (or none). */
export function fragmentation(block: Pick<BlockSnapshot, 'freeRanges'>): number {
  let total = 0;
  let largest = 0;
  for (const r of block.freeRanges) {
    total += r.size;
    if (r.size > largest) largest = r.size;
  }
  return total === 0 ? 0 : 1 - largest / total;
}

export interface Snapshot {
  readonly at: number;
  readonly blocks: readonly BlockSnapshot[];
  readonly committedBytes: number;
  readonly allocatedBytes: number;
}

/** The API contract's sort keys. */
export type AllocationSortKey = 'id' | 'name' | 'size' | 'offset' | 'memoryType' | 'allocatedAt';

export interface AllocationQuery {
  /** Substring of the name, case-insensitive; empty: any. */
  readonly name: string;
  /** Memory type index, or null: any. */
  readonly memoryTypeIndex: number | null;
  readonly location: MemoryLocation | null;
  /** Bytes, inclusive; null: no bound. */
  readonly minSize: number | null;
  readonly maxSize: number | null;
  /** Only allocations alive at this cursor; null: every allocation of the trace. */
  readonly liveAt: number | null;
  readonly sort: AllocationSortKey;
  readonly descending: boolean;
  readonly offset: number;
  readonly limit: number;
}

export interface AllocationPage {
  /** Rows matching the filter in total. */
  readonly total: number;
  readonly offset: number;
  readonly rows: readonly AllocationRecord[];
}

export interface AllocationDetail {
  readonly allocation: AllocationRecord;
  readonly decision: MemoryTypeDecision | null;
  /** The full stack when recorded (may be longer than the origin). */
  readonly stack: string | null;
  /** A captured resource: its block's vkAllocateMemory pNext details in words (priority, export, …). */
  readonly blockDetails?: string;
}

export type LeakGroupBy = 'origin' | 'name' | 'type';

export interface LeakGroup {
  /** The origin (file:line), the allocation name or "type N", by the grouping asked for. */
  readonly key: string;
  readonly count: number;
  readonly bytes: number;
  /** Oldest first; at most 100. */
  readonly allocationIds: readonly number[];
}

export interface LeakReport {
  readonly at: number;
  readonly count: number;
  readonly bytes: number;
  readonly groups: readonly LeakGroup[];
}

export interface DiffSide {
  readonly count: number;
  readonly bytes: number;
  /** The first rows (the count is always complete). */
  readonly rows: readonly AllocationRecord[];
}

export interface SnapshotDiff {
  readonly from: number;
  readonly to: number;
  /** Allocated in (from, to] and alive at `to`. */
  readonly appeared: DiffSide;
  /** Alive at `from` and freed by `to`. */
  readonly disappeared: DiffSide;
}

/** Scenario metadata and run state are the API contract's own types. */
export type { ScenarioMeta as ScenarioInfo, ScenarioParam, RunInfo } from '../../src-main/api/contract.ts';
export type ScenarioParamValue = number | string | boolean;

export interface LoadProgress {
  /** Bytes read so far and in total (total 0 when unknown). */
  readonly loaded: number;
  readonly total: number;
  /** What is happening: "uploading" (bytes to the server) or "reading" (the server parses); absent: reading. */
  readonly phase?: 'uploading' | 'reading';
}

/** What loadFile needs of a dropped or picked File (structural, so tests can pass a Blob with a name). */
export interface PickedFile {
  readonly name: string;
  readonly size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/** Individual allocations over an event window (the timeline's allocations mode; issue 11). */
export interface BandsQuery {
  /** Event window [start, end). */
  readonly start: number;
  readonly end: number;
  /** Allocations drawn individually at most (the detail control). */
  readonly limit: number;
  /** Buckets of the rest series (the plot's pixels over the window). */
  readonly buckets: number;
}

/**
 * The engine's answer (allocator/analysis/allocation-bands.ts): the `limit` largest allocations alive in
 * [start, end), largest first, each with id, requested bytes, lifetime [from, to) in event indices, block id
 * and offset (bytes); the others alive in the window summed per bucket in restMax (the most bytes after any
 * event of [restBoundaries[j], restBoundaries[j + 1])).
 */
export type AllocationBandsData = AllocationBands;

export interface AllocationSearchQuery {
  /** "block 3 + 0x1000", "3:4096" or a bare offset; empty: any. */
  readonly address: string;
  /** Substring of a stack frame or the name, case-insensitive; empty: any. */
  readonly text: string;
  readonly limit: number;
}

export interface AllocationSearchResult {
  /** Matches in all (rows holds the first `limit`), in allocation order. */
  readonly total: number;
  readonly rows: readonly AllocationRecord[];
}

/** Events a source pushes: the trace grew (live runs), the run state changed. */
export interface SourceListener {
  traceChanged?(overview: TraceOverview): void;
  runStatus?(status: RunInfo | null): void;
  /** Something the source did on its own (a live refresh) failed: one sentence. */
  error?(message: string): void;
}

/** The session a run needs (the API's openSession params: device, strategy, allocationSizes). */
export type RunConfig = RequestParams<'openSession'>;

export interface InspectorSource {
  overview(): Promise<TraceOverview | null>;
  timeline(query: TimelineQuery): Promise<TimelineBuckets>;
  /**
   * The first timeline of a file just opened: the whole trace at the plot's expected resolution, asked
   * for with the trace's overview, so that the first frame does not wait for the timeline to mount and
   * ask. Handed out once (then null); null too when none was asked for. The timeline uses it only where
   * it serves its view (lodWindow).
   */
  takePrimedTimeline?(): PrimedTimeline | null;
  snapshot(at: number): Promise<Snapshot>;
  /** What defragmenting the state at `at` would do; absent when the source cannot plan. */
  defragmentPlan?(at: number, algorithm: 'full' | 'fast'): Promise<DefragPreview>;
  allocations(query: AllocationQuery): Promise<AllocationPage>;
  allocation(id: number): Promise<AllocationDetail | null>;
  leaks(at: number, groupBy: LeakGroupBy): Promise<LeakReport>;
  diff(from: number, to: number): Promise<SnapshotDiff>;
  /** Loads a trace from bytes (drag-and-drop, file picker). Throws an Error with one clear sentence. */
  loadTrace(name: string, bytes: Uint8Array, onProgress?: (p: LoadProgress) => void): Promise<TraceOverview>;
  /**
   * Loads a dropped or picked file of any size without reading it whole into the page: in chunks to the
   * server (which parses it from disk). Aborting the signal cancels the upload. Absent: loadTrace with the
   * file's bytes.
   */
  loadFile?(
    file: PickedFile,
    onProgress?: (p: LoadProgress) => void,
    signal?: AbortSignal,
  ): Promise<TraceOverview>;
  scenarios(): Promise<readonly ScenarioInfo[]>;
  /**
   * Starts a run (a live session); the trace then grows through traceChanged. `config` (device, strategy,
   * allocation sizes) opens a new session when it differs from the current one's; absent: the default.
   */
  runScenario(id: string, params: Record<string, ScenarioParamValue>, config?: RunConfig): Promise<RunInfo>;
  control(action: 'pause' | 'step' | 'resume' | 'cancel'): Promise<RunInfo>;
  subscribe(listener: SourceListener): () => void;
  /**
   * Allocations alive at the end of the shown source: a "leak" marker at each one's allocate event (at most
   * 2,000; none while a run or capture is live). The timeline asks for them after its first draw, so the
   * query (a sort of the live allocations: hundreds of ms at a million events) never delays it. Absent:
   * no leak markers.
   */
  leakMarkers?(): Promise<readonly TimelineMarker[]>;
  /** The allocations mode's bands (absent: the source cannot draw individual allocations). */
  bands?(query: BandsQuery): Promise<AllocationBandsData>;
  /** Allocations by address and/or stack-frame text (engine-side). */
  searchAllocations?(query: AllocationSearchQuery): Promise<AllocationSearchResult>;
  /** Traces the server offers by fileId (its samples); absent when the source has none. */
  samples?(): Promise<{ name: string; fileId: string; bytes: number }[]>;
  /** Opens a file the server granted (a sample, an upload) by its fileId. */
  loadTraceFile?(fileId: string): Promise<TraceOverview>;
  /** Stores a file on the server for a scenario's "file" parameter; resolves with its fileId. */
  uploadFile?(name: string, bytes: Uint8Array): Promise<string>;
  /** Shows another source the server holds (a capture's device) by its sourceId; resolves with its overview. */
  showSource?(sourceId: string): Promise<TraceOverview | null>;
  /** The report of the shown source as text, with a safe file name to save it under. */
  exportReport?(): Promise<{ fileName: string; content: string }>;
}

export const defaultAllocationQuery: AllocationQuery = {
  name: '',
  memoryTypeIndex: null,
  location: null,
  minSize: null,
  maxSize: null,
  liveAt: null,
  sort: 'id',
  descending: false,
  offset: 0,
  limit: 200,
};
