// Level-of-detail timeline: committed/allocated bytes per memory type, per heap and in total, over event
// index. Level 0 holds min/max/last per bucket of 2^baseLog2 events; level k+1 merges pairs of level k.
// A query for N output buckets over [start, end) covers each output bucket with the largest aligned stored
// buckets (O(log) per output bucket) plus at most 2 * 2^baseLog2 events replayed from per-event deltas at
// its ragged edges, so its cost does not grow with the trace.
//
// Semantics: for an output bucket of events [a, b), min/max are over the values after each event a..b-1,
// last is the value after event b-1.
import { grownFloat64 } from '../grown-float64.ts';
import type { SeriesLayout } from './replay.ts';

export type TimelineGroup = 'heap' | 'type';

export interface SeriesStats {
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly last: Float64Array;
}

export interface TimelineSeries {
  /** Heap or memory type index; -1 for the total. */
  readonly index: number;
  readonly committed: SeriesStats;
  readonly allocated: SeriesStats;
}

export interface TimelineQueryResult {
  readonly startIndex: number;
  readonly endIndex: number;
  /** Event index where each output bucket starts, plus endIndex at the end (length buckets + 1). */
  readonly boundaries: Float64Array;
  readonly series: readonly TimelineSeries[];
  readonly total: TimelineSeries;
  /** Stored buckets merged plus base-size runs of events replayed: the query's work. */
  readonly bucketsTouched: number;
}

/** One level of the pyramid (exported as part of TimelineParts). */
export interface Level {
  readonly bucketEvents: number;
  /** Buckets in use (the arrays may hold more: capacity grows by doubling). */
  count: number;
  /** [bucket * seriesCount + series] */
  cMin: Float64Array;
  cMax: Float64Array;
  cLast: Float64Array;
  aMin: Float64Array;
  aMax: Float64Array;
  aLast: Float64Array;
}

function newLevel(bucketEvents: number, capacity: number, seriesCount: number): Level {
  const n = Math.max(1, capacity) * seriesCount;
  return {
    bucketEvents,
    count: 0,
    cMin: new Float64Array(n).fill(Infinity),
    cMax: new Float64Array(n).fill(-Infinity),
    cLast: new Float64Array(n),
    aMin: new Float64Array(n).fill(Infinity),
    aMax: new Float64Array(n).fill(-Infinity),
    aLast: new Float64Array(n),
  };
}

/** Makes room for `count` buckets in a level (capacity doubles). */
function reserveLevel(level: Level, count: number, S: number): void {
  if (count * S <= level.cMin.length) return;
  const n = Math.max(count, (level.cMin.length / S) * 2) * S;
  level.cMin = grownFloat64(level.cMin, n, Infinity);
  level.cMax = grownFloat64(level.cMax, n, -Infinity);
  level.cLast = grownFloat64(level.cLast, n, 0);
  level.aMin = grownFloat64(level.aMin, n, Infinity);
  level.aMax = grownFloat64(level.aMax, n, -Infinity);
  level.aLast = grownFloat64(level.aLast, n, 0);
}

/**
 * A Timeline's data: typed arrays and numbers only, so that it can go to another thread (structured clone,
 * its buffers transferred). Made by `Timeline.toParts`, taken back by `Timeline.fromParts`.
 */
export interface TimelineParts {
  readonly baseLog2: number;
  /** Events recorded. */
  readonly recorded: number;
  readonly eventType: Int16Array;
  readonly dCommitted: Float64Array;
  readonly dAllocated: Float64Array;
  readonly levels: readonly Level[];
  readonly dirtyFrom: number;
}

/**
 * The timeline of a (possibly growing) event stream. The analysis pass feeds it once per event, in order
 * (`record`); the per-event deltas and the level-0 buckets are written at once, the upper levels are
 * brought up to date lazily from the first changed bucket on (before a query), so extending a live
 * recording by k events costs O(k + levels), not a rebuild.
 */
export class Timeline {
  private readonly layout: SeriesLayout;
  private readonly baseLog2: number;
  private readonly bucketMask: number;
  /** Events recorded so far. */
  private recorded = 0;
  /** Memory type each event changed (-1: none) and by how much (capacity grows by doubling). */
  private eventType: Int16Array;
  private dCommitted: Float64Array;
  private dAllocated: Float64Array;
  private readonly levels: Level[];
  /** First level-0 bucket whose parents are stale (Infinity: all levels are current). */
  private dirtyFrom = Infinity;
  // Scratch for queries: current values and accumulators per series.
  private readonly curC: Float64Array;
  private readonly curA: Float64Array;
  private readonly accCMin: Float64Array;
  private readonly accCMax: Float64Array;
  private readonly accAMin: Float64Array;
  private readonly accAMax: Float64Array;
  private touched = 0;
  /** cur* hold the values after events [0, curPos); -1 = unknown. */
  private curPos = -1;

  /** `expectedEvents` only sizes the first allocation; the timeline grows past it. */
  constructor(layout: SeriesLayout, expectedEvents: number, baseLog2: number) {
    this.layout = layout;
    this.baseLog2 = baseLog2;
    this.bucketMask = (1 << baseLog2) - 1;
    const cap = Math.max(64, expectedEvents);
    this.eventType = new Int16Array(cap).fill(-1);
    this.dCommitted = new Float64Array(cap);
    this.dAllocated = new Float64Array(cap);
    this.levels = [newLevel(1 << baseLog2, Math.ceil(cap / (1 << baseLog2)), layout.seriesCount)];
    const S = layout.seriesCount;
    this.curC = new Float64Array(S);
    this.curA = new Float64Array(S);
    this.accCMin = new Float64Array(S);
    this.accCMax = new Float64Array(S);
    this.accAMin = new Float64Array(S);
    this.accAMax = new Float64Array(S);
  }

  /** Events recorded (queries cover [0, eventCount)). */
  get eventCount(): number {
    return this.recorded;
  }

  /**
   * The timeline's data, its own arrays (not copies): transferring their buffers to another thread leaves
   * this timeline unusable. Its upper levels may be stale (they are brought up to date before a query).
   */
  toParts(): TimelineParts {
    return {
      baseLog2: this.baseLog2,
      recorded: this.recorded,
      eventType: this.eventType,
      dCommitted: this.dCommitted,
      dAllocated: this.dAllocated,
      levels: this.levels,
      dirtyFrom: this.dirtyFrom,
    };
  }

  /** A timeline over `parts` (toParts of one with the same layout), its arrays taken as they are. */
  static fromParts(layout: SeriesLayout, parts: TimelineParts): Timeline {
    const timeline = new Timeline(layout, 0, parts.baseLog2);
    timeline.recorded = parts.recorded;
    timeline.eventType = parts.eventType;
    timeline.dCommitted = parts.dCommitted;
    timeline.dAllocated = parts.dAllocated;
    timeline.levels.splice(0, timeline.levels.length, ...parts.levels);
    timeline.dirtyFrom = parts.dirtyFrom;
    return timeline;
  }

  private reserveEvents(n: number): void {
    if (n <= this.eventType.length) return;
    const cap = Math.max(n, this.eventType.length * 2);
    const t = new Int16Array(cap).fill(-1);
    t.set(this.eventType);
    this.eventType = t;
    this.dCommitted = grownFloat64(this.dCommitted, cap, 0);
    this.dAllocated = grownFloat64(this.dAllocated, cap, 0);
  }

  /** Records event i (= eventCount: events come in order), given the state right after it. */
  record(
    i: number,
    type: number,
    dCommitted: number,
    dAllocated: number,
    committed: Float64Array,
    allocated: Float64Array,
  ): void {
    if (i !== this.recorded)
      throw new Error(`timeline: event ${i} recorded out of order (expected ${this.recorded})`);
    this.reserveEvents(i + 1);
    this.recorded = i + 1;
    if (type >= 0 && type < this.layout.typeCount) {
      this.eventType[i] = type;
      this.dCommitted[i] = dCommitted;
      this.dAllocated[i] = dAllocated;
    }
    const S = this.layout.seriesCount;
    const q = i >> this.baseLog2;
    const b = this.levels[0]!;
    if (q < this.dirtyFrom) this.dirtyFrom = q;
    const o = q * S;
    if ((i & this.bucketMask) === 0) {
      reserveLevel(b, q + 1, S);
      b.count = q + 1;
      // First event of a bucket: every series starts its min/max/last at its value after this event.
      for (let s = 0; s < S; s++) {
        const k = o + s;
        b.cMin[k] = b.cMax[k] = b.cLast[k] = committed[s]!;
        b.aMin[k] = b.aMax[k] = b.aLast[k] = allocated[s]!;
      }
      return;
    }
    // Later events change at most three series (the type, its heap, the total); the others keep their value,
    // which is already folded in.
    if (type < 0 || type >= this.layout.typeCount) return;
    const l = this.layout;
    for (let n = 0; n < 3; n++) {
      const s = n === 0 ? type : n === 1 ? l.typeCount + l.typeHeap[type]! : l.totalSeries;
      const k = o + s;
      const c = committed[s]!;
      const a = allocated[s]!;
      if (c < b.cMin[k]!) b.cMin[k] = c;
      if (c > b.cMax[k]!) b.cMax[k] = c;
      b.cLast[k] = c;
      if (a < b.aMin[k]!) b.aMin[k] = a;
      if (a > b.aMax[k]!) b.aMax[k] = a;
      b.aLast[k] = a;
    }
  }

  /**
   * Brings the upper levels up to date: recomputes their buckets that cover changed level-0 buckets
   * (O(changed buckets)). Queries do it first when needed; a thread that analyses a stream as it is written
   * calls it after each batch, so that the one it hands the timeline to finds the levels current.
   */
  updateLevels(): void {
    if (this.dirtyFrom === Infinity) return;
    const S = this.layout.seriesCount;
    let from = this.dirtyFrom;
    let k = 1;
    while (this.levels[k - 1]!.count > 1) {
      const prev = this.levels[k - 1]!;
      let next = this.levels[k];
      if (!next) {
        // Room for half of the level below's capacity (that of the events expected): a level made while
        // the stream is short is not regrown each time it doubles.
        next = newLevel(prev.bucketEvents * 2, Math.ceil(prev.cMin.length / S / 2), S);
        this.levels.push(next);
      }
      from = Math.floor(from / 2);
      const count = Math.ceil(prev.count / 2);
      reserveLevel(next, count, S);
      next.count = count;
      for (let q = from; q < count; q++) {
        const l = 2 * q;
        const r = l + 1 < prev.count ? l + 1 : -1;
        for (let s = 0; s < S; s++) {
          const kk = q * S + s;
          const kl = l * S + s;
          if (r < 0) {
            next.cMin[kk] = prev.cMin[kl]!;
            next.cMax[kk] = prev.cMax[kl]!;
            next.cLast[kk] = prev.cLast[kl]!;
            next.aMin[kk] = prev.aMin[kl]!;
            next.aMax[kk] = prev.aMax[kl]!;
            next.aLast[kk] = prev.aLast[kl]!;
          } else {
            const kr = r * S + s;
            next.cMin[kk] = Math.min(prev.cMin[kl]!, prev.cMin[kr]!);
            next.cMax[kk] = Math.max(prev.cMax[kl]!, prev.cMax[kr]!);
            next.cLast[kk] = prev.cLast[kr]!;
            next.aMin[kk] = Math.min(prev.aMin[kl]!, prev.aMin[kr]!);
            next.aMax[kk] = Math.max(prev.aMax[kl]!, prev.aMax[kr]!);
            next.aLast[kk] = prev.aLast[kr]!;
          }
        }
      }
      k++;
    }
    // Levels above the top one in use (left from a smaller stream) cannot exist: streams only grow.
    this.dirtyFrom = Infinity;
  }

  /** Number of stored levels (level k buckets hold 2^(baseLog2 + k) events). */
  get levelCount(): number {
    this.updateLevels();
    return this.levels.length;
  }

  /** Bytes held by the pyramid and the per-event deltas. */
  get memoryBytes(): number {
    this.updateLevels();
    let n = this.eventType.byteLength + this.dCommitted.byteLength + this.dAllocated.byteLength;
    for (const l of this.levels) n += 6 * l.cMin.byteLength;
    return n;
  }

  private applyEvent(i: number): void {
    const t = this.eventType[i]!;
    if (t < 0) return;
    const l = this.layout;
    const dc = this.dCommitted[i]!;
    const da = this.dAllocated[i]!;
    const h = l.typeCount + l.typeHeap[t]!;
    const total = l.totalSeries;
    this.curC[t]! += dc;
    this.curC[h]! += dc;
    this.curC[total]! += dc;
    this.curA[t]! += da;
    this.curA[h]! += da;
    this.curA[total]! += da;
  }

  /** Sets cur* to the values after events [0, p). */
  private seek(p: number): void {
    const S = this.layout.seriesCount;
    const q = p >> this.baseLog2;
    const base = this.levels[0];
    if (q > 0 && base) {
      this.curC.set(base.cLast.subarray((q - 1) * S, q * S));
      this.curA.set(base.aLast.subarray((q - 1) * S, q * S));
    } else {
      this.curC.fill(0);
      this.curA.fill(0);
    }
    for (let i = q << this.baseLog2; i < p; i++) this.applyEvent(i);
    this.curPos = p;
    this.touched++;
  }

  /** Replays events [a, b) from cur*, folding every value into the accumulators. */
  private scan(a: number, b: number): void {
    const S = this.layout.seriesCount;
    for (let i = a; i < b; i++) {
      this.applyEvent(i);
      for (let s = 0; s < S; s++) {
        const c = this.curC[s]!;
        const v = this.curA[s]!;
        if (c < this.accCMin[s]!) this.accCMin[s] = c;
        if (c > this.accCMax[s]!) this.accCMax[s] = c;
        if (v < this.accAMin[s]!) this.accAMin[s] = v;
        if (v > this.accAMax[s]!) this.accAMax[s] = v;
      }
    }
    this.curPos = b;
    this.touched++;
  }

  private merge(level: Level, q: number): void {
    const S = this.layout.seriesCount;
    const o = q * S;
    for (let s = 0; s < S; s++) {
      const k = o + s;
      if (level.cMin[k]! < this.accCMin[s]!) this.accCMin[s] = level.cMin[k]!;
      if (level.cMax[k]! > this.accCMax[s]!) this.accCMax[s] = level.cMax[k]!;
      if (level.aMin[k]! < this.accAMin[s]!) this.accAMin[s] = level.aMin[k]!;
      if (level.aMax[k]! > this.accAMax[s]!) this.accAMax[s] = level.aMax[k]!;
    }
    this.curC.set(level.cLast.subarray(o, o + S));
    this.curA.set(level.aLast.subarray(o, o + S));
    this.curPos = (q + 1) * level.bucketEvents;
    this.touched++;
  }

  /** Folds events [a, b) (a < b) into the accumulators; afterwards cur* = the values after event b-1. */
  private aggregate(a: number, b: number): void {
    this.accCMin.fill(Infinity);
    this.accCMax.fill(-Infinity);
    this.accAMin.fill(Infinity);
    this.accAMax.fill(-Infinity);
    const B = 1 << this.baseLog2;
    const m0 = Math.ceil(a / B) * B;
    const m1 = Math.floor(b / B) * B;
    // Consecutive output buckets are contiguous: the previous bucket leaves cur* at a (no seek needed).
    if (this.curPos !== a) this.seek(a);
    if (m1 - m0 < B) {
      this.scan(a, b);
      return;
    }
    if (a < m0) this.scan(a, m0);
    let p = m0;
    while (p < m1) {
      let level = 0;
      while (
        level + 1 < this.levels.length &&
        p % (B * 2 ** (level + 1)) === 0 &&
        p + B * 2 ** (level + 1) <= m1
      )
        level++;
      const size = B * 2 ** level;
      this.merge(this.levels[level]!, p / size);
      p += size;
    }
    if (m1 < b) this.scan(m1, b);
  }

  /**
   * The slice edges `query` would use for the same range and slice count, without aggregating anything:
   * `buckets + 1` event indices (fewer slices when the range holds fewer events), the last one the range's
   * end. For a caller that needs only where slices start (a time index).
   */
  boundaries(startIndex: number, endIndex: number, buckets: number): Float64Array {
    const start = this.clampedStart(startIndex);
    const end = Math.max(start, Math.min(this.eventCount, Math.floor(endIndex)));
    const n = end - start;
    const nb = Math.max(0, Math.min(Math.floor(buckets), n));
    const boundaries = new Float64Array(nb + 1);
    for (let j = 0; j < nb; j++) boundaries[j] = bucketEdge(start, n, nb, j, this.baseLog2);
    boundaries[nb] = end;
    return boundaries;
  }

  /**
   * min/max/last of committed and allocated bytes for `buckets` slices of events [startIndex, endIndex)
   * (fewer when the range has fewer events), per heap or per memory type, plus the total. The slices are
   * equal, except that slices of at least `snapMinBaseBuckets` level-0 buckets have their inner edges on
   * level-0 bucket edges (see bucketEdge); `boundaries` says where each one starts.
   */
  query(startIndex: number, endIndex: number, buckets: number, groupBy: TimelineGroup): TimelineQueryResult {
    this.updateLevels();
    // The range clamped to the events recorded, cut into slices: nb slices, boundaries[nb] = the end.
    const boundaries = this.boundaries(startIndex, endIndex, buckets);
    const nb = boundaries.length - 1;
    const l = this.layout;
    const first = groupBy === 'type' ? 0 : l.typeCount;
    const count = groupBy === 'type' ? l.typeCount : l.heapCount;
    const make = (index: number): TimelineSeries => ({
      index,
      committed: { min: new Float64Array(nb), max: new Float64Array(nb), last: new Float64Array(nb) },
      allocated: { min: new Float64Array(nb), max: new Float64Array(nb), last: new Float64Array(nb) },
    });
    const series = Array.from({ length: count }, (_, k) => make(k));
    const total = make(-1);
    this.touched = 0;
    this.curPos = -1;
    const put = (out: TimelineSeries, s: number, j: number): void => {
      out.committed.min[j] = this.accCMin[s]!;
      out.committed.max[j] = this.accCMax[s]!;
      out.committed.last[j] = this.curC[s]!;
      out.allocated.min[j] = this.accAMin[s]!;
      out.allocated.max[j] = this.accAMax[s]!;
      out.allocated.last[j] = this.curA[s]!;
    };
    for (let j = 0; j < nb; j++) {
      this.aggregate(boundaries[j]!, boundaries[j + 1]!);
      for (let k = 0; k < count; k++) put(series[k]!, first + k, j);
      put(total, l.totalSeries, j);
    }
    // boundaries[0] is the clamped start only when there is a slice.
    const start = this.clampedStart(startIndex);
    const end = boundaries[nb]!;
    return { startIndex: start, endIndex: end, boundaries, series, total, bucketsTouched: this.touched };
  }

  /** A range's first event index as queries take it: whole, within [0, eventCount]. */
  private clampedStart(startIndex: number): number {
    return Math.max(0, Math.min(this.eventCount, Math.floor(startIndex)));
  }
}

/**
 * Slices of at least this many level-0 buckets have their inner edges moved to the nearest level-0 bucket
 * edge: by at most half a level-0 bucket, 1/8 of such a slice (an eighth of a pixel's width when a slice
 * is a pixel). Their aggregate is then made of stored buckets alone, no event replayed: a zoomed-out query
 * costs O(slices × levels) instead of replaying up to two level-0 buckets of events per slice (several
 * times dearer; the first such query in a thread, cold, took 20-50 ms at 1,400 slices of 667,000 events).
 */
export const snapMinBaseBuckets = 4;

/**
 * The first event of slice `j` when events [start, start + n) are cut into `buckets` slices (j = buckets:
 * the end), level-0 buckets holding 2^baseLog2 events. The one rule for slice edges: Timeline.boundaries
 * lists them, Timeline.query aggregates between those.
 */
function bucketEdge(start: number, n: number, buckets: number, j: number, baseLog2: number): number {
  const even = start + Math.floor((j * n) / buckets);
  const base = 2 ** baseLog2;
  if (j === 0 || j === buckets || n < snapMinBaseBuckets * base * buckets) return even;
  // Slices span >= 4 level-0 buckets and an edge moves by <= half of one: edges stay strictly increasing,
  // and the first and last inner ones stay inside (start, start + n).
  return Math.round(even / base) * base;
}
