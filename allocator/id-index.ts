// Ids (allocation and block ids of a trace) -> small non-negative integers (event indices, ordinals,
// slots). Small ids are slots of an Int32Array indexed by id (value + 1; 0 = absent): the allocator and the
// importers number ids 1, 2, 3, ..., and a Map's set, get and delete per event were most of the time of the
// passes that keep such an index (the import's end-state replay, the analysis replay, the allocation table
// of an analysed source). Other ids go to a Map: negative, fractional and 2^24 or more, and ids far above
// what the index has held (the slots grow only to DENSE_SLACK times the ids ever set, at least MIN_DENSE),
// so that a few live ids with large numbers (a replay restored from a checkpoint late in a long trace) cost
// a few Map entries, not megabytes of slots.
import { grownInt32 } from './grown-int32.ts';

/** Ids below this may be slots (at most 64 MiB of them). */
const DENSE_IDS = 1 << 24;
/** Slots the index may always grow to (16 KiB). */
const MIN_DENSE = 1 << 12;
/** ... and beyond that, to this many times the number of ids ever set. */
const DENSE_SLACK = 4;

function isSlotCandidate(id: number): boolean {
  return id >= 0 && id < DENSE_IDS && Number.isInteger(id);
}

export class IdIndex {
  private slots = new Int32Array(1024);
  private readonly sparse = new Map<number, number>();
  /** set() calls so far: the slots grow to DENSE_SLACK times this. */
  private sets = 0;

  /** Sets `id`'s value: an integer in [0, 2^31 - 2]. */
  set(id: number, value: number): void {
    this.sets++;
    if (isSlotCandidate(id) && (id < this.slots.length || this.growTo(id))) {
      // An id kept in the Map while the slots were shorter moves to its slot.
      if (this.sparse.size > 0) this.sparse.delete(id);
      this.slots[id] = value + 1;
    } else this.sparse.set(id, value);
  }

  /** `id`'s value, or -1 when it has none. */
  get(id: number): number {
    if (isSlotCandidate(id) && id < this.slots.length) {
      const v = this.slots[id]!;
      if (v !== 0) return v - 1;
    }
    return this.sparse.size > 0 ? (this.sparse.get(id) ?? -1) : -1;
  }

  /** Removes `id`; whether it had a value. */
  delete(id: number): boolean {
    if (isSlotCandidate(id) && id < this.slots.length && this.slots[id] !== 0) {
      this.slots[id] = 0;
      return true;
    }
    return this.sparse.size > 0 && this.sparse.delete(id);
  }

  /** How many ids the slots could hold now (for tests and diagnostics). */
  get slotCapacity(): number {
    return this.slots.length;
  }

  /** Each value (ids kept in slots in id order, then the others in insertion order). */
  forEachValue(visit: (value: number) => void): void {
    const slots = this.slots;
    for (let id = 0; id < slots.length; id++) if (slots[id] !== 0) visit(slots[id]! - 1);
    for (const v of this.sparse.values()) visit(v);
  }

  /** Grows the slots to hold `id` when the rule above allows it; whether they do now. */
  private growTo(id: number): boolean {
    if (id >= Math.max(MIN_DENSE, DENSE_SLACK * this.sets)) return false;
    let n = this.slots.length;
    while (n <= id) n *= 2;
    this.slots = grownInt32(this.slots, Math.min(n, DENSE_IDS));
    return true;
  }
}
