// A map from device addresses to non-negative numbers (allocation ids, sizes, streams) for the importers'
// replays, which do millions of lookups, inserts and deletes: an open-addressing hash table over typed
// arrays (no entry objects, no boxed keys), about 4x faster than a Map keyed by addresses above 2^31
// (heap numbers). Addresses at or above 2^53 (bigints) are rare and kept in a Map beside it.
//
// Iteration (entries) is in insertion order, as a Map's: setting a key that is present keeps its place.

/** A device address: a number when it is a safe integer, a bigint above 2^53. */
export type Addr = number | bigint;

const EMPTY = 0;
const FULL = 1;
const DELETED = 2;

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
  /** FULL slots + DELETED slots (a probe ends only at an EMPTY one). */
  private used = 0;
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
      const s = state[i]!;
      if (s === EMPTY) return -1;
      if (s === FULL && keys[i] === a) return i;
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
    const i = this.find(a);
    if (i >= 0) {
      this.values[i] = value;
      return;
    }
    if ((this.used + 1) * 4 > this.state.length * 3) this.rehash();
    const state = this.state;
    const mask = this.mask;
    let j = hashAddr(a) & mask;
    while (state[j] === FULL) j = (j + 1) & mask;
    if (state[j] === EMPTY) this.used++;
    state[j] = FULL;
    this.keys[j] = a;
    this.values[j] = value;
    this.order[j] = this.nextOrder++;
    this.count++;
  }

  delete(a: Addr): boolean {
    if (typeof a !== 'number') return this.big.delete(a);
    const i = this.find(a);
    if (i < 0) return false;
    this.state[i] = DELETED;
    this.count--;
    return true;
  }

  /** Grows (or, with many deleted slots, only cleans) the table. */
  private rehash(): void {
    const { state, keys, values, order } = this;
    let n = this.state.length;
    if ((this.count + 1) * 2 > n) n *= 2;
    this.state = new Uint8Array(n);
    this.keys = new Float64Array(n);
    this.values = new Float64Array(n);
    this.order = new Float64Array(n);
    this.mask = n - 1;
    this.used = this.count;
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
