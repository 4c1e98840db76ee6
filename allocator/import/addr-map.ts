// A map from device addresses to non-negative numbers (allocation ids, sizes, streams) for the importers'
// replays, which do millions of lookups, inserts and deletes: an open-addressing hash table over typed
// arrays (no entry objects, no boxed keys), about 4x faster than a Map keyed by addresses above 2^31
// (heap numbers). Addresses at or above 2^53 (bigints) are rare and kept in a Map beside it.
//
// Iteration (entries) is in insertion order, as a Map's: setting a key that is present keeps its place.
//
// Linear probing with backward-shift deletion: a delete moves the entries after it in its probe run back
// into the hole, so there are no tombstones and a probe ends at the first empty slot. The replays delete
// as often as they insert and look up many absent addresses (a free_completed after its free_requested,
// an alloc's check for a previous allocation), which tombstones made walk long runs.

/** A device address: a number when it is a safe integer, a bigint above 2^53. */
export type Addr = number | bigint;

const EMPTY = 0;
const FULL = 1;

/** Hash of a safe-integer address: both 32-bit halves mixed (addresses are multiples of 512 and more). */
function hashAddr(a: number): number {
  const lo = a >>> 0;
  const hi = (a - lo) / 0x100000000;
  let h = Math.imul(lo ^ (lo >>> 15), 0x2c1b3c6d) ^ Math.imul(hi, 0x297a2d39);
  h = Math.imul(h ^ (h >>> 12), 0x85ebca6b);
  return (h ^ (h >>> 15)) >>> 0;
}

export class AddrMap {
  private state: Uint8Array;
  private keys: Float64Array;
  private values: Float64Array;
  /** Insertion number of each key (for entries() in insertion order). */
  private order: Float64Array;
  private mask: number;
  /** FULL slots; the table grows past half full. */
  private count = 0;
  private nextOrder = 0;
  private readonly big = new Map<bigint, { value: number; order: number }>();

  constructor(capacity = 64) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.state = new Uint8Array(n);
    this.keys = new Float64Array(n);
    this.values = new Float64Array(n);
    this.order = new Float64Array(n);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count + this.big.size;
  }

  /** The slot holding `a`, or -1. */
  private find(a: number): number {
    const state = this.state;
    const keys = this.keys;
    const mask = this.mask;
    for (let i = hashAddr(a) & mask; ; i = (i + 1) & mask) {
      if (state[i] === EMPTY) return -1;
      if (keys[i] === a) return i;
    }
  }

  has(a: Addr): boolean {
    return typeof a === 'number' ? this.find(a) >= 0 : this.big.has(a);
  }

  /** The value at `a`, or -1 when absent (values are never negative). */
  get(a: Addr): number {
    if (typeof a !== 'number') return this.big.get(a)?.value ?? -1;
    const i = this.find(a);
    return i < 0 ? -1 : this.values[i]!;
  }

  /** `value` must be a non-negative number. */
  set(a: Addr, value: number): void {
    if (typeof a !== 'number') {
      const known = this.big.get(a);
      if (known !== undefined) known.value = value;
      else this.big.set(a, { value, order: this.nextOrder++ });
      return;
    }
    this.put(a, value, true);
  }

  /**
   * Sets `a` to `value` (non-negative) when `a` is absent and answers true; leaves a present `a` as it is
   * and answers false (one probe where has() then set() take two).
   */
  setIfAbsent(a: Addr, value: number): boolean {
    if (typeof a !== 'number') {
      if (this.big.has(a)) return false;
      this.big.set(a, { value, order: this.nextOrder++ });
      return true;
    }
    return this.put(a, value, false);
  }

  /**
   * One walk of `a`'s probe run: a present `a` gets `value` when `replace` (answers false), an absent one is
   * inserted at the run's end, last in the insertion order (answers true). The table grows first when an
   * insert could pass half full, so it may grow one insert early when `a` turns out present.
   */
  private put(a: number, value: number, replace: boolean): boolean {
    if ((this.count + 1) * 2 > this.state.length) this.rehash();
    const { state, keys, mask } = this;
    let j = hashAddr(a) & mask;
    for (; state[j] === FULL; j = (j + 1) & mask) {
      if (keys[j] !== a) continue;
      if (replace) this.values[j] = value;
      return false;
    }
    state[j] = FULL;
    keys[j] = a;
    this.values[j] = value;
    this.order[j] = this.nextOrder++;
    this.count++;
    return true;
  }

  delete(a: Addr): boolean {
    if (typeof a !== 'number') return this.big.delete(a);
    const slot = this.find(a);
    if (slot < 0) return false;
    this.removeAt(slot);
    return true;
  }

  /** The value at `a`, removing it; -1 when absent. One probe where get() then delete() take two. */
  take(a: Addr): number {
    if (typeof a !== 'number') {
      const known = this.big.get(a);
      if (known === undefined) return -1;
      this.big.delete(a);
      return known.value;
    }
    const slot = this.find(a);
    if (slot < 0) return -1;
    const value = this.values[slot]!;
    this.removeAt(slot);
    return value;
  }

  /** Empties a FULL slot. */
  private removeAt(slot: number): void {
    let hole = slot;
    // Backward shift: each later entry of the run whose home slot is not cyclically in (hole, j] could
    // have been placed at the hole, so it moves there and its old slot becomes the hole.
    const { state, keys, values, order, mask } = this;
    for (let j = (hole + 1) & mask; state[j] === FULL; j = (j + 1) & mask) {
      const home = hashAddr(keys[j]!) & mask;
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      keys[hole] = keys[j]!;
      values[hole] = values[j]!;
      order[hole] = order[j]!;
      hole = j;
    }
    state[hole] = EMPTY;
    this.count--;
  }

  /** Doubles the table. */
  private rehash(): void {
    const { state, keys, values, order } = this;
    const n = this.state.length * 2;
    this.state = new Uint8Array(n);
    this.keys = new Float64Array(n);
    this.values = new Float64Array(n);
    this.order = new Float64Array(n);
    this.mask = n - 1;
    for (let i = 0; i < state.length; i++) {
      if (state[i] !== FULL) continue;
      let j = hashAddr(keys[i]!) & this.mask;
      while (this.state[j] === FULL) j = (j + 1) & this.mask;
      this.state[j] = FULL;
      this.keys[j] = keys[i]!;
      this.values[j] = values[i]!;
      this.order[j] = order[i]!;
    }
  }

  /**
   * [address, value] pairs in insertion order (a copy: the map may be changed while going through it);
   * with `where`, only those whose address it accepts (tested before anything is copied or sorted).
   */
  entries(where?: (a: Addr) => boolean): [Addr, number][] {
    const out: [Addr, number, number][] = [];
    for (let i = 0; i < this.state.length; i++)
      if (this.state[i] === FULL && (where === undefined || where(this.keys[i]!)))
        out.push([this.keys[i]!, this.values[i]!, this.order[i]!]);
    for (const [a, v] of this.big) if (where === undefined || where(a)) out.push([a, v.value, v.order]);
    out.sort((x, y) => x[2] - y[2]);
    return out.map(([a, v]) => [a, v]);
  }
}
