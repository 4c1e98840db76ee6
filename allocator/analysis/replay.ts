// Replays trace events into allocator state: which allocations and blocks are live, and committed /
// allocated bytes per memory type, per heap and in total. Pure; used by every analysis in this folder.
//
// Series: one per memory type (index t), one per heap (typeCount + h) and the total (typeCount + heapCount).
// committed = bytes of live blocks (device memory); allocated = requested bytes of live allocations.
import type { DeviceDescription } from '../device.ts';
import { grownInt32 } from '../grown-int32.ts';
import { IdIndex } from '../id-index.ts';
import type { TraceEvents } from '../trace/events.ts';

export interface SeriesLayout {
  readonly typeCount: number;
  readonly heapCount: number;
  /** Heap of each memory type. */
  readonly typeHeap: readonly number[];
  /** typeCount + heapCount + 1. */
  readonly seriesCount: number;
  readonly totalSeries: number;
}

export function seriesLayout(device: DeviceDescription): SeriesLayout {
  const typeCount = device.types.length;
  const heapCount = device.heaps.length;
  return {
    typeCount,
    heapCount,
    typeHeap: device.types.map((t) => t.heapIndex),
    seriesCount: typeCount + heapCount + 1,
    totalSeries: typeCount + heapCount,
  };
}

// Event kinds as local constants (TraceEventKind is a const enum that isolated modules do not inline).
export const EV_ALLOCATE = 1;
export const EV_FREE = 2;
export const EV_FAILURE = 3;
export const EV_BLOCK_CREATE = 4;
export const EV_BLOCK_DESTROY = 5;
export const EV_RENAME = 6;
export const EV_BUDGET = 7;
export const EV_FRAME = 8;
export const EV_MARK = 9;
export const EV_MOVE = 10;

/** A compact copy of the state after `eventIndex` events (event indices instead of objects). */
export interface Checkpoint {
  readonly eventIndex: number;
  /** Allocate-event index of every live allocation, ascending (allocation order). */
  readonly allocations: Uint32Array;
  /** Pairs (position in `allocations`, name string id) for live allocations renamed since. */
  readonly renames: Uint32Array;
  /** Pairs (position in `allocations`, Move-event index) for live allocations moved since they were made. */
  readonly moves?: Uint32Array;
  /** BlockCreate-event index of every live block, ascending. */
  readonly blocks: Uint32Array;
  readonly committed: Float64Array;
  readonly allocated: Float64Array;
  readonly anomalies: number;
}

/**
 * The live allocations of a replay: id -> the index of its Allocate event, in allocation order. An id finds
 * its slot through an IdIndex (typed arrays: no hashing per event, which made a Map most of the replay's
 * time); slots form a doubly linked list in allocation order (an allocation added later has a later event
 * index, so it goes at the tail), so listing them in order costs O(live), as a checkpoint needs. Freed
 * slots are used again: the arrays hold the peak of live allocations, not every allocation.
 */
export class LiveAllocations {
  private readonly slotOf = new IdIndex();
  /** Per slot: the Allocate event index and the neighbours in allocation order (-1: none). */
  private eventAt = new Int32Array(256);
  private next = new Int32Array(256);
  private prev = new Int32Array(256);
  private head = -1;
  private tail = -1;
  /** Slots never used are [used, capacity); freed ones are in `spare` (a stack). */
  private used = 0;
  private spare: number[] = [];
  /** Live allocations. */
  size = 0;

  has(id: number): boolean {
    return this.slotOf.get(id) >= 0;
  }

  /** The Allocate event index of live allocation `id`, or -1. */
  get(id: number): number {
    const slot = this.slotOf.get(id);
    return slot < 0 ? -1 : this.eventAt[slot]!;
  }

  /** Adds `id` (not live) made by event `eventIndex`, later than every live one's. */
  add(id: number, eventIndex: number): void {
    const slot = this.spare.length > 0 ? this.spare.pop()! : this.newSlot();
    this.slotOf.set(id, slot);
    this.eventAt[slot] = eventIndex;
    this.next[slot] = -1;
    this.prev[slot] = this.tail;
    if (this.tail >= 0) this.next[this.tail] = slot;
    else this.head = slot;
    this.tail = slot;
    this.size++;
  }

  /** Removes live allocation `id`; answers its Allocate event index, or -1 when it was not live. */
  remove(id: number): number {
    const slot = this.slotOf.get(id);
    if (slot < 0) return -1;
    this.slotOf.delete(id);
    const before = this.prev[slot]!;
    const after = this.next[slot]!;
    if (before >= 0) this.next[before] = after;
    else this.head = after;
    if (after >= 0) this.prev[after] = before;
    else this.tail = before;
    this.spare.push(slot);
    this.size--;
    return this.eventAt[slot]!;
  }

  /** The Allocate event indices of the live allocations, ascending (allocation order). */
  eventIndices(): Uint32Array {
    const out = new Uint32Array(this.size);
    let k = 0;
    for (let slot = this.head; slot >= 0; slot = this.next[slot]!) out[k++] = this.eventAt[slot]!;
    return out;
  }

  private newSlot(): number {
    if (this.used === this.eventAt.length) {
      const n = this.used * 2;
      this.eventAt = grownInt32(this.eventAt, n);
      this.next = grownInt32(this.next, n);
      this.prev = grownInt32(this.prev, n);
    }
    return this.used++;
  }
}

/**
 * Mutable replay state. `apply(i)` applies event i; after it, `lastSeries`/`lastCommitted`/`lastAllocated`
 * tell which memory type it changed and by how much (the timeline records these per event).
 */
export class ReplayState {
  /** Allocation id -> index of its Allocate event, in allocation order. */
  readonly live = new LiveAllocations();
  /** Allocation id -> name string id, for live allocations renamed after they were made. */
  readonly renamed = new Map<number, number>();
  /** Allocation id -> index of its latest Move event, for live allocations defragmentation moved. */
  readonly moved = new Map<number, number>();
  /** Block id -> index of its BlockCreate event. */
  readonly blocks = new Map<number, number>();
  readonly committed: Float64Array;
  readonly allocated: Float64Array;
  /** Events that make no sense in sequence (free of an unknown id, ...); skipped. */
  anomalies = 0;
  /** Events applied so far: the state is the one after events [0, position). */
  position = 0;
  lastType = -1;
  lastCommitted = 0;
  lastAllocated = 0;
  private readonly events: TraceEvents;
  private readonly layout: SeriesLayout;

  constructor(events: TraceEvents, layout: SeriesLayout) {
    this.events = events;
    this.layout = layout;
    this.committed = new Float64Array(layout.seriesCount);
    this.allocated = new Float64Array(layout.seriesCount);
  }

  private add(values: Float64Array, type: number, bytes: number): void {
    const l = this.layout;
    if (type < 0 || type >= l.typeCount) return;
    values[type]! += bytes;
    values[l.typeCount + l.typeHeap[type]!]! += bytes;
    values[l.totalSeries]! += bytes;
  }

  apply(i: number): void {
    const c = this.events.columns;
    this.lastType = -1;
    this.lastCommitted = 0;
    this.lastAllocated = 0;
    this.position = i + 1;
    switch (c.kind[i]) {
      case EV_ALLOCATE: {
        const id = c.id[i]!;
        if (this.live.has(id)) {
          this.anomalies++;
          return;
        }
        this.live.add(id, i);
        const type = c.type[i]!;
        const size = c.size[i]!;
        this.add(this.allocated, type, size);
        this.lastType = type;
        this.lastAllocated = size;
        return;
      }
      case EV_FREE: {
        const id = c.id[i]!;
        const at = this.live.remove(id);
        if (at < 0) {
          this.anomalies++;
          return;
        }
        if (this.renamed.size > 0) this.renamed.delete(id);
        if (this.moved.size > 0) this.moved.delete(id);
        const type = c.type[at]!;
        const size = c.size[at]!;
        this.add(this.allocated, type, -size);
        this.lastType = type;
        this.lastAllocated = -size;
        return;
      }
      case EV_BLOCK_CREATE: {
        const id = c.id[i]!;
        if (this.blocks.has(id)) {
          this.anomalies++;
          return;
        }
        this.blocks.set(id, i);
        const type = c.type[i]!;
        const size = c.size[i]!;
        this.add(this.committed, type, size);
        this.lastType = type;
        this.lastCommitted = size;
        return;
      }
      case EV_BLOCK_DESTROY: {
        const id = c.id[i]!;
        const at = this.blocks.get(id);
        if (at === undefined) {
          this.anomalies++;
          return;
        }
        this.blocks.delete(id);
        const type = c.type[at]!;
        const size = c.size[at]!;
        this.add(this.committed, type, -size);
        this.lastType = type;
        this.lastCommitted = -size;
        return;
      }
      case EV_MOVE: {
        // Block and offset change; the bytes stay in the same memory type, so no series changes.
        const id = c.id[i]!;
        if (this.live.has(id)) this.moved.set(id, i);
        else this.anomalies++;
        return;
      }
      case EV_RENAME: {
        const id = c.id[i]!;
        if (this.live.has(id)) this.renamed.set(id, c.name[i]!);
        else this.anomalies++;
        return;
      }
      default:
        return;
    }
  }

  /** Applies events [position, end). */
  advanceTo(end: number): void {
    for (let i = this.position; i < end; i++) this.apply(i);
    this.position = Math.max(this.position, end);
  }

  checkpoint(): Checkpoint {
    const allocations = this.live.eventIndices();
    const position = new Map<number, number>();
    const renames = new Uint32Array(this.renamed.size * 2);
    const moves = new Uint32Array(this.moved.size * 2);
    if (this.renamed.size > 0 || this.moved.size > 0)
      allocations.forEach((eventIndex, k) => position.set(eventIndex, k));
    if (this.moved.size > 0) {
      let r = 0;
      for (const [id, at] of this.moved) {
        moves[r++] = position.get(this.live.get(id))!;
        moves[r++] = at;
      }
    }
    if (this.renamed.size > 0) {
      let r = 0;
      for (const [id, nameId] of this.renamed) {
        renames[r++] = position.get(this.live.get(id))!;
        renames[r++] = nameId;
      }
    }
    return {
      eventIndex: this.position,
      allocations,
      renames,
      moves,
      blocks: Uint32Array.from(this.blocks.values()),
      committed: this.committed.slice(),
      allocated: this.allocated.slice(),
      anomalies: this.anomalies,
    };
  }

  static fromCheckpoint(events: TraceEvents, layout: SeriesLayout, cp: Checkpoint): ReplayState {
    const s = new ReplayState(events, layout);
    const ids = events.columns.id;
    for (const at of cp.allocations) s.live.add(ids[at]!, at);
    for (let r = 0; r < cp.renames.length; r += 2)
      s.renamed.set(ids[cp.allocations[cp.renames[r]!]!]!, cp.renames[r + 1]!);
    const moves = cp.moves ?? new Uint32Array(0);
    for (let r = 0; r < moves.length; r += 2) s.moved.set(ids[cp.allocations[moves[r]!]!]!, moves[r + 1]!);
    for (const at of cp.blocks) s.blocks.set(ids[at]!, at);
    s.committed.set(cp.committed);
    s.allocated.set(cp.allocated);
    s.anomalies = cp.anomalies;
    s.position = cp.eventIndex;
    return s;
  }
}
