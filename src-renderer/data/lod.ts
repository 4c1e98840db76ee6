// Level-of-detail pyramid over an indexed event stream, so a zoomed-out timeline never touches every
// event. Level 0 holds, for each chunk of `lodChunk` events, the maximum bytes after any event of the
// chunk, per series: every memory type, every heap and the total, for committed and allocated bytes.
// Level L merges 2^L level-0 chunks. A query picks the level whose chunk is at least one bucket wide and
// returns one bucket per chunk (chunk-aligned), so it reads at most ~2 × buckets entries.
import type { TraceIndex } from './trace-index.ts';

/** Events per level-0 chunk. */
export const lodChunk = 8;

export class LodPyramid {
  readonly typeCount: number;
  readonly heapCount: number;
  /** Series per side: types, then heaps, then the total. */
  readonly series: number;
  /** Values per entry: committed series, then allocated series. */
  readonly stride: number;
  /** levels[L]: complete entries of level L, stride values each. */
  private levels: Float64Array[] = [];
  private level0 = new Float64Array(0);
  private level0Count = 0;
  /** Events folded into complete level-0 chunks. */
  private built = 0;
  private readonly cType: Float64Array;
  private readonly aType: Float64Array;

  constructor(private readonly index: TraceIndex) {
    this.typeCount = index.typeCount;
    this.heapCount = index.device.heaps.length;
    this.series = this.typeCount + this.heapCount + 1;
    this.stride = this.series * 2;
    this.cType = new Float64Array(this.typeCount);
    this.aType = new Float64Array(this.typeCount);
  }

  slotOfType(t: number): number {
    return t;
  }
  slotOfHeap(h: number): number {
    return this.typeCount + h;
  }
  get totalSlot(): number {
    return this.typeCount + this.heapCount;
  }

  /** Writes every series' current value (from per-type bytes) as a max into `out` at `at`. */
  private foldInto(out: Float64Array, at: number, c: Float64Array, a: Float64Array): void {
    const T = this.typeCount;
    const S = this.series;
    let ct = 0;
    let atot = 0;
    for (let h = 0; h < this.heapCount; h++) {
      // Heaps are summed below from their types; reset the scratch slots first.
      scratch[h] = 0;
      scratch[this.heapCount + h] = 0;
    }
    for (let t = 0; t < T; t++) {
      const cv = c[t] ?? 0;
      const av = a[t] ?? 0;
      ct += cv;
      atot += av;
      if (cv > (out[at + t] ?? 0)) out[at + t] = cv;
      if (av > (out[at + S + t] ?? 0)) out[at + S + t] = av;
      const h = this.index.typeToHeap[t] ?? 0;
      scratch[h] = (scratch[h] ?? 0) + cv;
      scratch[this.heapCount + h] = (scratch[this.heapCount + h] ?? 0) + av;
    }
    for (let h = 0; h < this.heapCount; h++) {
      const s = T + h;
      if ((scratch[h] ?? 0) > (out[at + s] ?? 0)) out[at + s] = scratch[h] ?? 0;
      if ((scratch[this.heapCount + h] ?? 0) > (out[at + S + s] ?? 0))
        out[at + S + s] = scratch[this.heapCount + h] ?? 0;
    }
    const s = this.totalSlot;
    if (ct > (out[at + s] ?? 0)) out[at + s] = ct;
    if (atot > (out[at + S + s] ?? 0)) out[at + S + s] = atot;
  }

  /** Folds events indexed since the last call into level 0 and rebuilds the upper levels if it grew. */
  update(): void {
    const n = this.index.length;
    const complete = Math.floor(n / lodChunk);
    if (complete <= this.level0Count) return;
    if (complete * this.stride > this.level0.length) {
      const next = new Float64Array(Math.max(complete, this.level0Count * 2, 64) * this.stride);
      next.set(this.level0.subarray(0, this.level0Count * this.stride));
      this.level0 = next;
    }
    if (scratch.length < this.heapCount * 2) scratch = new Float64Array(this.heapCount * 2);
    const out = this.level0;
    this.index.replay(this.built, complete * lodChunk, this.cType, this.aType, (i) => {
      this.foldInto(out, Math.floor(i / lodChunk) * this.stride, this.cType, this.aType);
    });
    this.level0Count = complete;
    this.built = complete * lodChunk;
    this.levels = [this.level0.subarray(0, complete * this.stride)];
    for (let L = 1; ; L++) {
      const below = this.levels[L - 1] as Float64Array;
      const count = Math.floor(below.length / this.stride / 2);
      if (count < 1) break;
      const lvl = new Float64Array(count * this.stride);
      for (let j = 0; j < count; j++) {
        const x = 2 * j * this.stride;
        const y = x + this.stride;
        for (let k = 0; k < this.stride; k++)
          lvl[j * this.stride + k] = Math.max(below[x + k] ?? 0, below[y + k] ?? 0);
      }
      this.levels.push(lvl);
    }
  }

  /**
   * Zoomed in: per-bucket maxima by replaying [firstEvent[0], firstEvent[count]) once (after a checkpoint
   * replay to the start). Returns count entries of `stride` values.
   */
  replayBuckets(firstEvent: Float64Array, count: number): Float64Array {
    if (scratch.length < this.heapCount * 2) scratch = new Float64Array(this.heapCount * 2);
    const out = new Float64Array(count * this.stride);
    if (count === 0) return out;
    const c = new Float64Array(this.typeCount);
    const a = new Float64Array(this.typeCount);
    const start = firstEvent[0] ?? 0;
    this.index.bytesAt(start, c, a);
    let b = 0;
    this.index.replay(start, firstEvent[count] ?? start, c, a, (i) => {
      while (b < count - 1 && (firstEvent[b + 1] ?? 0) <= i) b++;
      this.foldInto(out, b * this.stride, c, a);
    });
    return out;
  }

  /** The level whose chunk (lodChunk << L events) is at least `span` events. */
  levelFor(span: number): number {
    let L = 0;
    while (lodChunk << L < span && L < 40) L++;
    return L;
  }

  /**
   * Maxima of chunk j of level L (events [j·c, (j+1)·c), c = lodChunk << L) into out[at..at+stride).
   * Chunks past the complete part are computed from level 0 plus a replay of the tail events.
   */
  chunkMax(L: number, j: number, out: Float64Array, at: number): void {
    const lvl = this.levels[L];
    if (lvl && (j + 1) * this.stride <= lvl.length) {
      out.set(lvl.subarray(j * this.stride, (j + 1) * this.stride), at);
      return;
    }
    for (let k = 0; k < this.stride; k++) out[at + k] = 0;
    const per = 1 << L;
    const first0 = j * per;
    const end0 = Math.min((j + 1) * per, this.level0Count);
    for (let q = first0; q < end0; q++) {
      for (let k = 0; k < this.stride; k++) {
        const v = this.level0[q * this.stride + k] ?? 0;
        if (v > (out[at + k] ?? 0)) out[at + k] = v;
      }
    }
    // Events past the last complete level-0 chunk.
    const fromEvent = Math.max(this.built, first0 * lodChunk);
    const toEvent = Math.min(this.index.length, (j + 1) * per * lodChunk);
    if (toEvent > fromEvent) {
      const c = new Float64Array(this.typeCount);
      const a = new Float64Array(this.typeCount);
      this.index.bytesAt(fromEvent, c, a);
      this.index.replay(fromEvent, toEvent, c, a, () => this.foldInto(out, at, c, a));
    }
  }
}

/** Scratch per-heap sums (committed, then allocated), shared: the pyramid is single-threaded. */
let scratch = new Float64Array(16);
