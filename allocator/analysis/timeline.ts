// Level-of-detail timeline: committed/allocated bytes per memory type, per heap and in total, over event
// index. Level 0 holds min/max/last per bucket of 2^baseLog2 events; level k+1 merges pairs of level k.
// A query for N output buckets over [start, end) covers each output bucket with the largest aligned stored
// buckets (O(log) per output bucket) plus at most 2 * 2^baseLog2 events replayed from per-event deltas at
// its ragged edges, so its cost does not grow with the trace.
//
// Semantics: for an output bucket of events [a, b), min/max are over the values after each event a..b-1,
// last is the value after event b-1.
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

interface Level {
  readonly bucketEvents: number;
  readonly count: number;
  /** [bucket * seriesCount + series] */
  readonly cMin: Float64Array;
  readonly cMax: Float64Array;
  readonly cLast: Float64Array;
  readonly aMin: Float64Array;
  readonly aMax: Float64Array;
  readonly aLast: Float64Array;
}

function newLevel(bucketEvents: number, count: number, seriesCount: number): Level {
  const n = count * seriesCount;
  return {
    bucketEvents,
    count,
    cMin: new Float64Array(n).fill(Infinity),
    cMax: new Float64Array(n).fill(-Infinity),
    cLast: new Float64Array(n),
    aMin: new Float64Array(n).fill(Infinity),
    aMax: new Float64Array(n).fill(-Infinity),
    aLast: new Float64Array(n),
  };
}

/** Fed once per event, in order, by the analysis pass. */
export class TimelineBuilder {
  private readonly layout: SeriesLayout;
  private readonly baseLog2: number;
  private readonly eventCount: number;
  /** Memory type each event changed (-1: none) and by how much. */
  readonly eventType: Int16Array;
  readonly dCommitted: Float64Array;
  readonly dAllocated: Float64Array;
  private readonly base: Level;
  private readonly bucketMask: number;

  constructor(layout: SeriesLayout, eventCount: number, baseLog2: number) {
    this.layout = layout;
    this.baseLog2 = baseLog2;
    this.eventCount = eventCount;
    this.eventType = new Int16Array(eventCount).fill(-1);
    this.dCommitted = new Float64Array(eventCount);
    this.dAllocated = new Float64Array(eventCount);
    this.bucketMask = (1 << baseLog2) - 1;
    this.base = newLevel(1 << baseLog2, Math.ceil(eventCount / (1 << baseLog2)), layout.seriesCount);
  }

  /** Records event i, given the state right after it. */
  record(
    i: number,
    type: number,
    dCommitted: number,
    dAllocated: number,
    committed: Float64Array,
    allocated: Float64Array,
  ): void {
    if (type >= 0 && type < this.layout.typeCount) {
      this.eventType[i] = type;
      this.dCommitted[i] = dCommitted;
      this.dAllocated[i] = dAllocated;
    }
    const S = this.layout.seriesCount;
    const o = (i >> this.baseLog2) * S;
    const b = this.base;
    if ((i & this.bucketMask) === 0) {
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

  finish(): Timeline {
    const S = this.layout.seriesCount;
    const levels: Level[] = [this.base];
    let prev = this.base;
    while (prev.count > 1) {
      const next = newLevel(prev.bucketEvents * 2, Math.ceil(prev.count / 2), S);
      for (let q = 0; q < next.count; q++) {
        const l = 2 * q;
        const r = l + 1 < prev.count ? l + 1 : -1;
        for (let s = 0; s < S; s++) {
          const k = q * S + s;
          const kl = l * S + s;
          if (r < 0) {
            next.cMin[k] = prev.cMin[kl]!;
            next.cMax[k] = prev.cMax[kl]!;
            next.cLast[k] = prev.cLast[kl]!;
            next.aMin[k] = prev.aMin[kl]!;
            next.aMax[k] = prev.aMax[kl]!;
            next.aLast[k] = prev.aLast[kl]!;
          } else {
            const kr = r * S + s;
            next.cMin[k] = Math.min(prev.cMin[kl]!, prev.cMin[kr]!);
            next.cMax[k] = Math.max(prev.cMax[kl]!, prev.cMax[kr]!);
            next.cLast[k] = prev.cLast[kr]!;
            next.aMin[k] = Math.min(prev.aMin[kl]!, prev.aMin[kr]!);
            next.aMax[k] = Math.max(prev.aMax[kl]!, prev.aMax[kr]!);
            next.aLast[k] = prev.aLast[kr]!;
          }
        }
      }
      levels.push(next);
      prev = next;
    }
    return new Timeline(
      this.layout,
      this.eventCount,
      this.baseLog2,
      levels,
      this.eventType,
      this.dCommitted,
      this.dAllocated,
    );
  }
}

export class Timeline {
  readonly eventCount: number;
  private readonly layout: SeriesLayout;
  private readonly baseLog2: number;
  private readonly levels: readonly Level[];
  private readonly eventType: Int16Array;
  private readonly dCommitted: Float64Array;
  private readonly dAllocated: Float64Array;
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

  constructor(
    layout: SeriesLayout,
    eventCount: number,
    baseLog2: number,
    levels: readonly Level[],
    eventType: Int16Array,
    dCommitted: Float64Array,
    dAllocated: Float64Array,
  ) {
    this.layout = layout;
    this.eventCount = eventCount;
    this.baseLog2 = baseLog2;
    this.levels = levels;
    this.eventType = eventType;
    this.dCommitted = dCommitted;
    this.dAllocated = dAllocated;
    const S = layout.seriesCount;
    this.curC = new Float64Array(S);
    this.curA = new Float64Array(S);
    this.accCMin = new Float64Array(S);
    this.accCMax = new Float64Array(S);
    this.accAMin = new Float64Array(S);
    this.accAMax = new Float64Array(S);
  }

  /** Number of stored levels (level k buckets hold 2^(baseLog2 + k) events). */
  get levelCount(): number {
    return this.levels.length;
  }

  /** Bytes held by the pyramid and the per-event deltas. */
  get memoryBytes(): number {
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
   * min/max/last of committed and allocated bytes for `buckets` equal slices of events [startIndex, endIndex)
   * (fewer when the range has fewer events), per heap or per memory type, plus the total.
   */
  query(startIndex: number, endIndex: number, buckets: number, groupBy: TimelineGroup): TimelineQueryResult {
    const start = Math.max(0, Math.min(this.eventCount, Math.floor(startIndex)));
    const end = Math.max(start, Math.min(this.eventCount, Math.floor(endIndex)));
    const n = end - start;
    const nb = Math.max(0, Math.min(Math.floor(buckets), n));
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
    const boundaries = new Float64Array(nb + 1);
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
      const a = start + Math.floor((j * n) / nb);
      const b = start + Math.floor(((j + 1) * n) / nb);
      boundaries[j] = a;
      this.aggregate(a, b);
      for (let k = 0; k < count; k++) put(series[k]!, first + k, j);
      put(total, l.totalSeries, j);
    }
    boundaries[nb] = end;
    return { startIndex: start, endIndex: end, boundaries, series, total, bucketsTouched: this.touched };
  }
}
