// Individual allocations over time, as PyTorch's memory_viz draws them: which allocations are alive in an
// event window, the largest first up to a detail limit, with their lifetimes so a view can stack them; the
// bytes of the ones left out as one "rest" series; and search by address or stack-frame text.
//
// Lifetimes are in event-index space: an allocation allocated by event a and freed by event f is alive in
// the states after events a .. f-1, drawn over the event axis [a, f) (the timeline draws event i over
// [i, i + 1)). One never freed is alive up to the end: to = the analysed event count.
import type { TraceEvents } from '../trace/events.ts';
import { EV_ALLOCATE, EV_FREE } from './replay.ts';
import { grownFloat64 } from '../grown-float64.ts';
import { lowerBound } from './sorted.ts';
import { foldStack } from './stack-frames.ts';

/**
 * Per-allocation index over an event stream, in allocation order (ordinal): the allocate and free event of
 * each. Extended by the new events of a growing stream (O(new events)).
 */
export class AllocationLifetimes {
  readonly events: TraceEvents;
  /** Allocations indexed (ordinals 0 .. count - 1). */
  count = 0;
  /** Allocate event index by ordinal (ascending). */
  allocEvent = new Float64Array(1024);
  /** Free event index by ordinal; -1 while never freed. */
  freeEvent = new Float64Array(1024);
  /** Events indexed so far. */
  private scanned = 0;
  /**
   * Per run of 2^RUN_LOG2 ordinals: the latest free event among them (Infinity when one is never freed),
   * so a window query skips runs that all ended before it; recomputed when the run changed (dirty).
   */
  private runEnd = new Float64Array(64);
  private runDirty = new Uint8Array(64);
  private readonly ordinalOfId = new Map<number, number>();

  constructor(events: TraceEvents) {
    this.events = events;
  }

  /** Indexes events [scanned, eventCount). */
  extend(eventCount: number): void {
    const c = this.events.columns;
    for (let i = this.scanned; i < eventCount; i++) {
      const kind = c.kind[i]!;
      if (kind === EV_ALLOCATE) {
        if (this.count === this.allocEvent.length) {
          this.allocEvent = grownFloat64(this.allocEvent, this.allocEvent.length * 2);
          this.freeEvent = grownFloat64(this.freeEvent, this.freeEvent.length * 2);
        }
        this.markRun(this.count);
        this.ordinalOfId.set(c.id[i]!, this.count);
        this.allocEvent[this.count] = i;
        this.freeEvent[this.count] = -1;
        this.count++;
      } else if (kind === EV_FREE) {
        const o = this.ordinalOfId.get(c.id[i]!);
        if (o !== undefined && this.freeEvent[o] === -1) {
          this.freeEvent[o] = i;
          this.markRun(o);
        }
      }
    }
    if (eventCount > this.scanned) this.scanned = eventCount;
  }

  private markRun(o: number): void {
    const r = o >> RUN_LOG2;
    if (r >= this.runDirty.length) {
      const dirty = new Uint8Array(Math.max(r + 1, this.runDirty.length * 2));
      dirty.set(this.runDirty);
      this.runDirty = dirty;
      const end = new Float64Array(dirty.length);
      end.set(this.runEnd);
      this.runEnd = end;
    }
    this.runDirty[r] = 1;
  }

  /** The first ordinal at or after `o` (within [o, prefix)) that may be alive after event `start`. */
  private skipEnded(o: number, prefix: number, start: number): number {
    while (o < prefix && (o & RUN_MASK) === 0) {
      const r = o >> RUN_LOG2;
      if (this.runDirty[r] === 1) {
        let end = -1;
        const stop = Math.min(this.count, o + RUN_MASK + 1);
        for (let k = o; k < stop; k++) {
          const f = this.freeEvent[k]!;
          const e = f < 0 ? Infinity : f;
          if (e > end) end = e;
        }
        this.runEnd[r] = end;
        this.runDirty[r] = 0;
      }
      if (this.runEnd[r]! > start) return o;
      o += RUN_MASK + 1;
    }
    return o;
  }

  /** The newest allocation with this id (ids may be reused after a free). */
  ordinalOf(id: number): number | undefined {
    return this.ordinalOfId.get(id);
  }

  /** Allocations whose allocate event is before `end` (a prefix of the ordinals). */
  private allocatedBefore(end: number): number {
    return lowerBound(this.allocEvent, this.count, end);
  }

  /** End of an ordinal's lifetime on the event axis: its free event, or `eventCount` while never freed. */
  aliveTo(o: number, eventCount: number): number {
    const f = this.freeEvent[o]!;
    return f < 0 || f > eventCount ? eventCount : f;
  }

  /**
   * The allocations alive anywhere in events [start, end) (of the first `eventCount` events), the largest
   * `limit` of them individually and the others summed into the rest series (see AllocationBands).
   */
  bands(query: BandsQuery, eventCount: number): AllocationBands {
    this.extend(eventCount);
    const start = Math.max(0, Math.min(eventCount, Math.floor(query.start)));
    const end = Math.max(start, Math.min(eventCount, Math.ceil(query.end)));
    const limit = Math.max(0, Math.floor(query.limit));
    const c = this.events.columns;
    const prefix = this.allocatedBefore(end);
    // Min-heap of the `limit` largest so far: root = the smallest kept (ties: the later allocation is
    // "smaller", so equal sizes keep the earlier one).
    const heap = new Int32Array(Math.min(limit, prefix));
    let heapSize = 0;
    const sizeOf = (o: number): number => c.size[this.allocEvent[o]!]!;
    const less = (x: number, y: number): boolean => {
      const sx = sizeOf(x);
      const sy = sizeOf(y);
      return sx < sy || (sx === sy && x > y);
    };
    const siftDown = (k: number): void => {
      for (;;) {
        const l = 2 * k + 1;
        if (l >= heapSize) return;
        const r = l + 1;
        const m = r < heapSize && less(heap[r]!, heap[l]!) ? r : l;
        if (!less(heap[m]!, heap[k]!)) return;
        const t = heap[k]!;
        heap[k] = heap[m]!;
        heap[m] = t;
        k = m;
      }
    };
    let alive = 0;
    for (let o = this.skipEnded(0, prefix, start); o < prefix; o = this.skipEnded(o + 1, prefix, start)) {
      if (this.aliveTo(o, eventCount) <= start) continue;
      alive++;
      if (heapSize < heap.length) {
        // Sift up.
        let k = heapSize++;
        heap[k] = o;
        while (k > 0) {
          const p = (k - 1) >> 1;
          if (!less(heap[k]!, heap[p]!)) break;
          const t = heap[k]!;
          heap[k] = heap[p]!;
          heap[p] = t;
          k = p;
        }
      } else if (heap.length > 0 && less(heap[0]!, o)) {
        heap[0] = o;
        siftDown(0);
      }
    }
    const chosen = Array.from(heap.subarray(0, heapSize)).sort((x, y) => sizeOf(y) - sizeOf(x) || x - y);
    const shown = new Set(chosen);
    const n = chosen.length;
    const out = {
      id: new Float64Array(n),
      size: new Float64Array(n),
      from: new Float64Array(n),
      to: new Float64Array(n),
      block: new Float64Array(n),
      offset: new Float64Array(n),
    };
    chosen.forEach((o, k) => {
      const i = this.allocEvent[o]!;
      out.id[k] = c.id[i]!;
      out.size[k] = c.size[i]!;
      out.from[k] = i;
      out.to[k] = this.aliveTo(o, eventCount);
      out.block[k] = c.block[i]!;
      out.offset[k] = c.offset[i]!;
    });
    // The rest: bytes of the allocations alive but not shown, after each event of the window, as a delta
    // per event, then the maximum per output bucket (so a short burst of small allocations never vanishes
    // when zoomed out; the bands are drawn over the whole bucket they touch, the same way).
    const span = end - start;
    const nb = Math.max(0, Math.min(Math.floor(query.buckets), span));
    const delta = new Float64Array(span + 1);
    let initial = 0;
    for (let o = this.skipEnded(0, prefix, start); o < prefix; o = this.skipEnded(o + 1, prefix, start)) {
      const to = this.aliveTo(o, eventCount);
      if (to <= start || shown.has(o)) continue;
      const from = this.allocEvent[o]!;
      const size = c.size[from]!;
      if (from < start) initial += size;
      else delta[from - start]! += size;
      if (to < end) delta[to - start]! -= size;
    }
    const restBoundaries = new Float64Array(nb + 1);
    const restMax = new Float64Array(nb);
    let v = initial;
    let e = 0;
    for (let j = 0; j < nb; j++) {
      const a = Math.floor((j * span) / nb);
      const b = Math.floor(((j + 1) * span) / nb);
      restBoundaries[j] = start + a;
      let m = 0;
      for (e = a; e < b; e++) {
        v += delta[e]!;
        if (v > m) m = v;
      }
      restMax[j] = m;
    }
    restBoundaries[nb] = end;
    return { start, end, alive, ...out, restBoundaries, restMax };
  }

  /**
   * Allocations (of the first `eventCount` events) matching a search, in allocation order: by address
   * (inside [offset, offset + size) of its block, or of any block when the query names none) and/or by
   * text (case-insensitive, in the stack as recorded, in its frames as shown — "file:line function" — or
   * in the name). Both given: both must match. Returns the total and the first `limit` ordinals.
   */
  search(query: AllocationSearch, eventCount: number): { total: number; ordinals: number[] } {
    this.extend(eventCount);
    const c = this.events.columns;
    const strings = this.events.strings;
    const prefix = this.allocatedBefore(eventCount);
    const needle = query.text?.trim().toLowerCase() ?? '';
    // Per string id: 1 matches, 2 does not, 0 not looked at yet (a stack is folded once per search).
    const seen = needle === '' ? null : new Uint8Array(strings.length);
    const textMatches = (id: number): boolean => {
      if (seen === null) return true;
      const s = seen[id];
      if (s !== undefined && s !== 0) return s === 1;
      const text = strings[id] ?? '';
      let hit = text.toLowerCase().includes(needle);
      if (!hit && text.includes('\n')) {
        const folded = foldStack(text);
        hit = folded !== null && folded.all.some((f) => f.toLowerCase().includes(needle));
      }
      if (id < seen.length) seen[id] = hit ? 1 : 2;
      return hit;
    };
    const ordinals: number[] = [];
    let total = 0;
    const addr = query.address ?? null;
    for (let o = 0; o < prefix; o++) {
      const i = this.allocEvent[o]!;
      if (addr !== null) {
        if (addr.block !== null && c.block[i] !== addr.block) continue;
        const off = c.offset[i]!;
        if (addr.offset < off || addr.offset >= off + Math.max(1, c.size[i]!)) continue;
      }
      if (needle !== '' && !textMatches(c.stack[i]!) && !textMatches(c.name[i]!)) continue;
      total++;
      if (ordinals.length < query.limit) ordinals.push(o);
    }
    return { total, ordinals };
  }
}

export interface BandsQuery {
  /** Event window [start, end). */
  readonly start: number;
  readonly end: number;
  /** Allocations drawn individually at most (the detail control). */
  readonly limit: number;
  /** Buckets of the rest series (usually the plot's width in pixels over the window). */
  readonly buckets: number;
}

/**
 * The allocations alive in a window: `alive` in all, the largest `limit` as bands (largest first; ties: the
 * earlier allocation first), each with its id, requested size (bytes), lifetime [from, to) on the event
 * axis, block id and offset in the block (bytes). Every other allocation alive in the window is in the
 * rest: restMax[j] = the most bytes they held together after any event of bucket j, which covers events
 * [restBoundaries[j], restBoundaries[j + 1]).
 */
export interface AllocationBands {
  readonly start: number;
  readonly end: number;
  readonly alive: number;
  readonly id: Float64Array;
  readonly size: Float64Array;
  readonly from: Float64Array;
  readonly to: Float64Array;
  readonly block: Float64Array;
  readonly offset: Float64Array;
  readonly restBoundaries: Float64Array;
  readonly restMax: Float64Array;
}

/** An address: bytes from the start of a block (null: any block). */
export interface AddressQuery {
  readonly block: number | null;
  readonly offset: number;
}

export interface AllocationSearch {
  readonly address?: AddressQuery | null;
  readonly text?: string;
  readonly limit: number;
}

/** Ordinals per run of the skip index (AllocationLifetimes.runEnd). */
const RUN_LOG2 = 8;
const RUN_MASK = (1 << RUN_LOG2) - 1;

const NUMBER = '(0x[0-9a-f]+|\\d+)';
const BLOCK_OFFSET = new RegExp(`^(?:block\\s*|b)?${NUMBER}\\s*(?:\\+|:)\\s*${NUMBER}$`, 'i');
const PLAIN = new RegExp(`^${NUMBER}$`, 'i');

function parseNumber(text: string): number | null {
  const v = text.toLowerCase().startsWith('0x') ? Number.parseInt(text.slice(2), 16) : Number(text);
  return Number.isSafeInteger(v) ? v : null;
}

/**
 * Reads an address as typed in a search box: "block 3 + 0x1000", "3:4096", "b3+0x1000" (block id and byte
 * offset, decimal or hex), or a bare offset "0x1000" (in any block). Null when it is none of these or a
 * number is above 2^53.
 */
export function parseAddressQuery(text: string): AddressQuery | null {
  const t = text.trim();
  const m = BLOCK_OFFSET.exec(t);
  if (m) {
    const block = parseNumber(m[1]!);
    const offset = parseNumber(m[2]!);
    return block === null || offset === null ? null : { block, offset };
  }
  const p = PLAIN.exec(t);
  if (p) {
    const offset = parseNumber(p[1]!);
    return offset === null ? null : { block: null, offset };
  }
  return null;
}
