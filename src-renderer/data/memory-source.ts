// An InspectorSource over an in-memory event stream (an EventLog or a decoded trace), answering every
// query from a TraceIndex. Used for traces decoded in the renderer and by tests; the API client is the
// other source. Live growth: call `refresh()` after the log grew and listeners hear about it.
import { memoryHeapFlagNames } from '../../allocator/index.ts';
import type { DeviceDescription } from '../../allocator/index.ts';
import { LodPyramid, lodChunk } from './lod.ts';
import { TraceIndex } from './trace-index.ts';
import type { TraceData } from './trace-index.ts';
import type {
  AllocationDetail,
  AllocationPage,
  AllocationQuery,
  AllocationRecord,
  BlockSnapshot,
  InspectorSource,
  LeakGroup,
  LeakReport,
  LoadProgress,
  LeakGroupBy,
  RunInfo,
  BlockAllocation,
  ByteRange,
  ScenarioInfo,
  Snapshot,
  SnapshotDiff,
  SourceListener,
  TimelineBuckets,
  TimelineMarker,
  TimelineQuery,
  TraceOverview,
} from './source.ts';

export interface MemorySourceOptions {
  readonly title: string;
  readonly device: DeviceDescription;
  readonly data: TraceData;
  /** Decodes dropped trace bytes into a new trace; absent: loading files is not supported here. */
  readonly decode?: (
    name: string,
    bytes: Uint8Array,
  ) =>
    { device: DeviceDescription; data: TraceData } | Promise<{ device: DeviceDescription; data: TraceData }>;
  readonly live?: boolean;
}

/** Marker kinds in order of importance: when thinning, the more important one wins a pixel. */
const markerRank: Record<TimelineMarker['kind'], number> = { failure: 3, leak: 2, mark: 1, frame: 0 };

export class MemorySource implements InspectorSource {
  private index: TraceIndex;
  private lod: LodPyramid;
  private title: string;
  private live: boolean;
  private readonly listeners = new Set<SourceListener>();

  constructor(private readonly options: MemorySourceOptions) {
    this.index = new TraceIndex(options.device, options.data);
    this.lod = new LodPyramid(this.index);
    this.title = options.title;
    this.live = options.live ?? false;
  }

  /** The event stream grew (live run): index the new events and tell listeners. */
  refresh(live = this.live): void {
    this.index.extend();
    this.live = live;
    const overview = this.buildOverview();
    for (const l of this.listeners) l.traceChanged?.(overview);
  }

  private buildOverview(): TraceOverview {
    const ix = this.index;
    const device = ix.device;
    let liveCount = 0;
    let liveBytes = 0;
    for (const a of ix.allocations) {
      if (a.freedAt === null) {
        liveCount++;
        liveBytes += a.size;
      }
    }
    const committedByHeap = new Float64Array(device.heaps.length);
    for (let t = 0; t < ix.typeCount; t++) {
      const h = ix.typeToHeap[t] ?? 0;
      committedByHeap[h] = (committedByHeap[h] ?? 0) + (ix.committed[t] ?? 0);
    }
    return {
      title: this.title,
      device,
      eventCount: ix.length,
      durationMs: ix.length === 0 ? 0 : ix.timeOf(ix.length - 1) - ix.timeOf(0),
      allocationCount: ix.allocations.length,
      freeCount: ix.freeCount,
      failureCount: ix.failureCount,
      blockCount: ix.blocks.length,
      peakCommittedBytes: ix.peakCommitted,
      peakCommittedAt: ix.peakCommittedAt,
      peakAllocatedBytes: ix.peakAllocated,
      peakAllocatedAt: ix.peakAllocatedAt,
      liveAllocationsAtEnd: liveCount,
      liveBytesAtEnd: liveBytes,
      heaps: device.heaps.map((h) => ({
        index: h.index,
        size: h.size,
        flags: h.flags,
        budget: Number.isNaN(ix.budget[h.index] ?? Number.NaN) ? null : (ix.budget[h.index] ?? null),
        usage: Number.isNaN(ix.usage[h.index] ?? Number.NaN) ? null : (ix.usage[h.index] ?? null),
        peakCommittedBytes: ix.peakCommittedByHeap[h.index] ?? 0,
        committedBytesAtEnd: committedByHeap[h.index] ?? 0,
      })),
      types: device.types.map((t) => ({
        index: t.index,
        propertyFlags: t.propertyFlags,
        heapIndex: t.heapIndex,
        peakCommittedBytes: ix.peakCommittedByType[t.index] ?? 0,
        peakAllocatedBytes: ix.peakAllocatedByType[t.index] ?? 0,
        allocationCount: ix.allocationCountByType[t.index] ?? 0,
      })),
      live: this.live,
    };
  }

  overview(): Promise<TraceOverview | null> {
    return Promise.resolve(this.buildOverview());
  }

  timeline(query: TimelineQuery): Promise<TimelineBuckets> {
    return Promise.resolve(this.timelineSync(query));
  }

  /**
   * Max per bucket of each group's bytes. Zoomed out (a bucket spans ≥ lodChunk events) the answer comes
   * from the level-of-detail pyramid, one chunk-aligned bucket per chunk; zoomed in, from one replay pass
   * over [start, end) after a checkpoint.
   */
  timelineSync(query: TimelineQuery): TimelineBuckets {
    const ix = this.index;
    const start = clampInt(query.start, 0, ix.length);
    const end = clampInt(query.end, start, ix.length);
    const n = end - start;
    const wanted = Math.max(1, Math.floor(query.buckets));
    this.lod.update();
    const lod = this.lod;
    let count: number;
    let firstEvent: Float64Array;
    let entries: Float64Array;
    if (n / wanted >= lodChunk) {
      const L = lod.levelFor(n / wanted);
      const c = lodChunk << L;
      const first = Math.floor(start / c);
      const last = Math.ceil(end / c);
      count = last - first;
      firstEvent = new Float64Array(count + 1);
      entries = new Float64Array(count * lod.stride);
      for (let k = 0; k < count; k++) {
        firstEvent[k] = (first + k) * c;
        lod.chunkMax(L, first + k, entries, k * lod.stride);
      }
      firstEvent[count] = Math.min(last * c, ix.length);
    } else {
      count = Math.min(wanted, n);
      const span = count === 0 ? 1 : n / count;
      firstEvent = new Float64Array(count + 1);
      for (let k = 0; k <= count; k++) firstEvent[k] = k === count ? end : start + Math.floor(k * span);
      entries = lod.replayBuckets(firstEvent, count);
    }
    const device = ix.device;
    const byHeap = query.groupBy === 'heap';
    const slots = byHeap
      ? device.heaps.map((h) => lod.slotOfHeap(h.index))
      : device.types.map((t) => lod.slotOfType(t.index));
    const groups = byHeap
      ? device.heaps.map((h) => `heap ${h.index}${heapSuffix(h.flags)}`)
      : device.types.map((t) => `type ${t.index} (heap ${t.heapIndex})`);
    const committed = slots.map(() => new Float64Array(count));
    const allocated = slots.map(() => new Float64Array(count));
    const committedTotal = new Float64Array(count);
    const allocatedTotal = new Float64Array(count);
    const time = new Float64Array(count);
    const S = lod.series;
    for (let k = 0; k < count; k++) {
      const at = k * lod.stride;
      for (let g = 0; g < slots.length; g++) {
        const slot = slots[g] ?? 0;
        (committed[g] as Float64Array)[k] = entries[at + slot] ?? 0;
        (allocated[g] as Float64Array)[k] = entries[at + S + slot] ?? 0;
      }
      committedTotal[k] = entries[at + lod.totalSlot] ?? 0;
      allocatedTotal[k] = entries[at + S + lod.totalSlot] ?? 0;
      time[k] = ix.timeOf(firstEvent[k] ?? 0);
    }
    return {
      start,
      end,
      firstEvent,
      count,
      groups,
      committed,
      allocated,
      committedTotal,
      allocatedTotal,
      time,
      markers: this.markersIn(start, end, wanted),
    };
  }

  /** Leak markers (allocate events of allocations never freed), by event index; rebuilt when the trace grows. */
  private leakMarkers: TimelineMarker[] | null = null;
  private leakMarkersAt = -1;

  private leaksByIndex(): TimelineMarker[] {
    const ix = this.index;
    if (this.leakMarkers && this.leakMarkersAt === ix.length) return this.leakMarkers;
    const out: TimelineMarker[] = [];
    for (const a of ix.allocations)
      if (a.freedAt === null) out.push({ index: a.allocatedAt, kind: 'leak', label: `leak: ${a.name}` });
    this.leakMarkers = out;
    this.leakMarkersAt = ix.length;
    return out;
  }

  /**
   * Markers in [start, end): frames, marks and failures, plus leaks once the trace is complete. When there
   * are more than two per bucket, each bucket keeps its most important one (failure > leak > mark > frame).
   * Both lists are sorted by index, so this is one merge pass.
   */
  private markersIn(start: number, end: number, buckets: number): TimelineMarker[] {
    const a = this.index.markers;
    const b = this.live ? [] : this.leaksByIndex();
    let i = lowerBound(a, start);
    let j = lowerBound(b, start);
    const i0 = i;
    const j0 = j;
    const iEnd = lowerBound(a, end);
    const jEnd = lowerBound(b, end);
    const thin = iEnd - i0 + (jEnd - j0) > buckets * 2;
    const span = (end - start) / Math.max(1, buckets);
    const out: TimelineMarker[] = [];
    let bucket = -1;
    while (i < iEnd || j < jEnd) {
      const m = (
        j >= jEnd || (i < iEnd && (a[i]?.index ?? 0) <= (b[j]?.index ?? 0)) ? a[i++] : b[j++]
      ) as TimelineMarker;
      if (!thin) {
        out.push(m);
        continue;
      }
      const k = Math.floor((m.index - start) / span);
      if (k !== bucket) {
        out.push(m);
        bucket = k;
      } else if (markerRank[m.kind] > markerRank[(out[out.length - 1] as TimelineMarker).kind]) {
        out[out.length - 1] = m;
      }
    }
    return out;
  }

  snapshot(at: number): Promise<Snapshot> {
    return Promise.resolve(this.snapshotSync(at));
  }

  snapshotSync(atIn: number): Snapshot {
    const ix = this.index;
    const at = clampInt(atIn, 0, ix.length);
    const byBlock = new Map<number, AllocationRecord[]>();
    let allocatedBytes = 0;
    for (const a of ix.allocations) {
      if (a.allocatedAt >= at) break; // records are in event order
      if (!ix.isAlive(a, at)) continue;
      allocatedBytes += a.size;
      let list = byBlock.get(a.blockId);
      if (!list) byBlock.set(a.blockId, (list = []));
      list.push(a);
    }
    const blocks: BlockSnapshot[] = [];
    let committedBytes = 0;
    for (const b of ix.blocks) {
      if (b.createdAt >= at) break;
      if (!ix.isBlockAlive(b, at)) continue;
      committedBytes += b.size;
      const allocs = (byBlock.get(b.id) ?? []).sort((x, y) => x.offset - y.offset);
      blocks.push(blockSnapshot(b, allocs));
    }
    return { at, blocks, committedBytes, allocatedBytes };
  }

  allocations(query: AllocationQuery): Promise<AllocationPage> {
    return Promise.resolve(this.allocationsSync(query));
  }

  allocationsSync(query: AllocationQuery): AllocationPage {
    const ix = this.index;
    const needle = query.name.trim().toLowerCase();
    const rows = ix.allocations.filter(
      (a) =>
        (needle === '' || a.name.toLowerCase().includes(needle)) &&
        (query.memoryTypeIndex === null || a.memoryTypeIndex === query.memoryTypeIndex) &&
        (query.location === null || a.location === query.location) &&
        (query.minSize === null || a.size >= query.minSize) &&
        (query.maxSize === null || a.size <= query.maxSize) &&
        (query.liveAt === null || ix.isAlive(a, query.liveAt)),
    );
    const dir = query.descending ? -1 : 1;
    const key = query.sort;
    if (key !== 'id' || query.descending) {
      rows.sort((x, y) => {
        const c = compareBy(key, x, y);
        return c !== 0 ? c * dir : (x.id - y.id) * dir;
      });
    }
    const offset = clampInt(query.offset, 0, rows.length);
    const page = rows.slice(offset, offset + Math.max(0, query.limit));
    // As the API does: rows alive at the queried index carry no free index (it lies in their future).
    const liveAt = query.liveAt;
    return {
      total: rows.length,
      offset,
      rows: liveAt === null ? page : page.map((r) => (r.freedAt === null ? r : { ...r, freedAt: null })),
    };
  }

  allocation(id: number): Promise<AllocationDetail | null> {
    const rec = this.index.allocationById(id);
    if (!rec) return Promise.resolve(null);
    return Promise.resolve({
      allocation: rec,
      decision: this.options.data.decisions[rec.decisionId] ?? null,
      stack: rec.origin,
    });
  }

  leaks(at: number, groupBy: LeakGroupBy): Promise<LeakReport> {
    return Promise.resolve(this.leaksSync(at, groupBy));
  }

  /** Allocations alive at `at`, grouped by origin, name or memory type; biggest groups first. */
  leaksSync(atIn: number, groupBy: LeakGroupBy = 'origin'): LeakReport {
    const ix = this.index;
    const at = clampInt(atIn, 0, ix.length);
    const groups = new Map<string, { key: string; count: number; bytes: number; ids: number[] }>();
    let count = 0;
    let bytes = 0;
    for (const a of ix.allocations) {
      if (a.allocatedAt >= at) break;
      if (!ix.isAlive(a, at)) continue;
      const key =
        groupBy === 'origin'
          ? (a.origin ?? '(no origin)')
          : groupBy === 'name'
            ? a.name
            : `type ${a.memoryTypeIndex}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { key, count: 0, bytes: 0, ids: [] }));
      g.count++;
      g.bytes += a.size;
      if (g.ids.length < 100) g.ids.push(a.id);
      count++;
      bytes += a.size;
    }
    const list: LeakGroup[] = [...groups.values()]
      .map((g) => ({ key: g.key, count: g.count, bytes: g.bytes, allocationIds: g.ids }))
      .sort((x, y) => y.bytes - x.bytes || (x.key < y.key ? -1 : 1));
    return { at, count, bytes, groups: list };
  }

  diff(from: number, to: number, limit = 200): Promise<SnapshotDiff> {
    const ix = this.index;
    const a = clampInt(from, 0, ix.length);
    const b = clampInt(to, 0, ix.length);
    const appeared = { count: 0, bytes: 0, rows: [] as AllocationRecord[] };
    const disappeared = { count: 0, bytes: 0, rows: [] as AllocationRecord[] };
    for (const r of ix.allocations) {
      const inA = ix.isAlive(r, a);
      const inB = ix.isAlive(r, b);
      const side = inB && !inA ? appeared : inA && !inB ? disappeared : null;
      if (!side) continue;
      side.count++;
      side.bytes += r.size;
      if (side.rows.length < limit) side.rows.push(r);
    }
    return Promise.resolve({ from: a, to: b, appeared, disappeared });
  }

  async loadTrace(
    name: string,
    bytes: Uint8Array,
    onProgress?: (p: LoadProgress) => void,
  ): Promise<TraceOverview> {
    const decode = this.options.decode;
    if (!decode)
      throw new Error(`Cannot open "${name}": this inspector has no trace decoder; open it through the app.`);
    onProgress?.({ loaded: 0, total: bytes.length });
    const decoded = await decode(name, bytes);
    onProgress?.({ loaded: bytes.length, total: bytes.length });
    this.index = new TraceIndex(decoded.device, decoded.data);
    this.lod = new LodPyramid(this.index);
    this.title = name;
    this.live = false;
    const overview = this.buildOverview();
    for (const l of this.listeners) l.traceChanged?.(overview);
    return overview;
  }

  scenarios(): Promise<readonly ScenarioInfo[]> {
    return Promise.resolve([]);
  }

  runScenario(name: string): Promise<RunInfo> {
    return Promise.reject(
      new Error(`Cannot run scenario "${name}": scenarios run in the app, not in a static trace.`),
    );
  }

  control(action: 'pause' | 'step' | 'resume' | 'cancel'): Promise<RunInfo> {
    return Promise.reject(new Error(`Cannot ${action}: no scenario is running.`));
  }

  subscribe(listener: SourceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** First position in a list sorted by index whose index is ≥ `at`. */
function lowerBound(list: readonly TimelineMarker[], at: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid]?.index ?? 0) < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function heapSuffix(flags: number): string {
  const names = memoryHeapFlagNames(flags);
  return names.length === 0 ? '' : ` (${names.join('|')})`;
}

function clampInt(v: number, lo: number, hi: number): number {
  if (!Number.isFinite(v)) return lo;
  return Math.max(lo, Math.min(hi, Math.floor(v)));
}

function compareBy(key: AllocationQuery['sort'], x: AllocationRecord, y: AllocationRecord): number {
  switch (key) {
    case 'id':
      return x.id - y.id;
    case 'name':
      return x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
    case 'size':
      return x.size - y.size;
    case 'offset':
      return x.offset - y.offset;
    case 'memoryType':
      return x.memoryTypeIndex - y.memoryTypeIndex;
    case 'allocatedAt':
      return x.allocatedAt - y.allocatedAt;
  }
}

/**
 * A block's allocations and free ranges. Without the allocator's free list, a gap in front of an
 * allocation that is smaller than its alignment is taken as alignment padding; every other gap is free.
 */
export function blockSnapshot(
  b: { id: number; memoryTypeIndex: number; heapIndex: number; size: number; dedicated: boolean },
  allocs: readonly AllocationRecord[],
): BlockSnapshot {
  let allocatedBytes = 0;
  let cursor = 0;
  const freeRanges: ByteRange[] = [];
  const allocations: BlockAllocation[] = [];
  for (const a of allocs) {
    allocatedBytes += a.size;
    allocations.push({ id: a.id, name: a.name, offset: a.offset, size: a.size, kind: a.kind });
    const gap = a.offset - cursor;
    if (gap > 0 && gap >= a.alignment) freeRanges.push({ offset: cursor, size: gap });
    cursor = Math.max(cursor, a.offset + a.size);
  }
  if (b.size > cursor) freeRanges.push({ offset: cursor, size: b.size - cursor });
  return {
    id: b.id,
    memoryTypeIndex: b.memoryTypeIndex,
    heapIndex: b.heapIndex,
    size: b.size,
    dedicated: b.dedicated,
    allocations,
    allocatedBytes,
    freeRanges,
  };
}
