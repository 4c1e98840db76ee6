// Ids (allocation and block ids of a trace) -> small non-negative integers (event indices, ordinals).
// Ids below DENSE_IDS are slots of an Int32Array that grows to the largest id seen (value + 1; 0 = absent):
// the allocator and the importers number ids 1, 2, 3, ..., and a Map's set, get and delete per event were
// most of the time of the passes that keep such an index (the import's end-state replay, the allocation
// table of an analysed source). Other ids (negative, fractional, 2^24 and more) go to a Map.

/** Ids below this are kept in a typed array indexed by id (at most 64 MiB of slots). */
const DENSE_IDS = 1 << 24;

function isDense(id: number): boolean {
  return id >= 0 && id < DENSE_IDS && Number.isInteger(id);
}

export class IdIndex {
  private slots = new Int32Array(1024);
  private readonly sparse = new Map<number, number>();

  /** Sets `id`'s value: an integer in [0, 2^31 - 2]. */
  set(id: number, value: number): void {
    if (isDense(id)) {
      if (id >= this.slots.length) {
        let n = this.slots.length;
        while (n <= id) n *= 2;
        const grown = new Int32Array(Math.min(n, DENSE_IDS));
        grown.set(this.slots);
        this.slots = grown;
      }
      this.slots[id] = value + 1;
    } else this.sparse.set(id, value);
  }

  /** `id`'s value, or -1 when it has none. */
  get(id: number): number {
    if (isDense(id)) return id < this.slots.length ? this.slots[id]! - 1 : -1;
    return this.sparse.get(id) ?? -1;
  }

  /** Removes `id`; whether it had a value. */
  delete(id: number): boolean {
    if (isDense(id)) {
      if (id >= this.slots.length || this.slots[id] === 0) return false;
      this.slots[id] = 0;
      return true;
    }
    return this.sparse.delete(id);
  }

  /** Each value (dense ids in id order, then the others in insertion order). */
  forEachValue(visit: (value: number) => void): void {
    const slots = this.slots;
    for (let id = 0; id < slots.length; id++) if (slots[id] !== 0) visit(slots[id]! - 1);
    for (const v of this.sparse.values()) visit(v);
  }
}
