// TLSF placement: a two-level segregated fit index over the free ranges of one block, O(1) per operation.
//
// Every range of [0, size) — used or free — is a chunk record in pooled typed arrays (struct of arrays,
// indexed by slot). Chunks form an address-ordered doubly linked "physical" list, so free() merges with
// both neighbours in O(1). Free chunks also sit in a per-class doubly linked list; a class is
// (fl, sl): fl = floor(log2(size)) - SL_LOG2 (+ a linear class 0 for sizes < SL_COUNT), sl = the next
// SL_LOG2 bits of the size. Bitmaps of non-empty classes make "first non-empty class >= c" two clz32s.
//
// Invariants (checked by validate()):
// - physical chunks tile [0, size) in address order; no two adjacent free chunks;
// - a used chunk's region is [regionOffset, dataOffset + size): optional alignment padding, then data
//   (data always ends at the region end); its data offset is a multiple of its alignment;
// - a linear and a non-linear chunk never share a granularity page (compared on data ranges);
// - every free chunk is in exactly the list of classOf(its size), and a bitmap bit is set iff its list
//   is non-empty.
//
// Sizes and offsets are bytes, JS numbers < 2^53: they live in Float64Arrays and are never truncated
// to 32 bits. Handles are 31-bit integers: slot | (generation << 24); a generation bump on every free()
// makes stale handles (double free, use after free) detectable even after the slot is reused.
import { InternalError } from '../errors.ts';
import { checkPlacementRequest } from './request-check.ts';
import type { ChunkInfo, SubAllocationKind, SubAllocator } from './sub-allocator.ts';

/** Second-level subdivisions per power of two: 2^5 = 32 (worst-case internal class spread ~3 %). */
const SL_LOG2 = 5;
const SL_COUNT = 1 << SL_LOG2;
/** First-level classes: sizes < 2^53 give floor(log2) <= 52, so fl <= 52 - SL_LOG2 + 1 = 48. */
const FL_COUNT = 53 - SL_LOG2 + 1;
const CLASS_COUNT = FL_COUNT * SL_COUNT;

const SLOT_BITS = 24;
/** Slots per sub-allocator (16 Mi records; far more than a block can use in practice). */
const MAX_SLOTS = 1 << SLOT_BITS;
const SLOT_MASK = MAX_SLOTS - 1;
/** Generations wrap at 128 so that handles stay below 2^31 (small integers in V8). */
const GEN_MASK = 0x7f;

const STATE_DEAD = 0;
const STATE_FREE = 1;
/** A used chunk's state is STATE_USED + kind (Linear = 0, NonLinear = 1). */
const STATE_USED = 2;

/**
 * Alignment padding below this many bytes is attached to the chunk's region (wasted until freed);
 * larger padding goes back to the free index as a free range of its own.
 */
const MIN_PAD_SPLIT = 256;
/**
 * By default requests of at least max(blockSize / BACK_DIVISOR, BACK_FLOOR) bytes go to the END of the
 * chosen free range (small ones to its front): large, long-lived resources and small churn then fragment
 * each other less. On workload-a with gpu-allocator's newest-block-first policy this needs 6 instead of
 * 7 device blocks of 256 MiB (scripts/bench-placement.ts).
 */
const BACK_DIVISOR = 64;
const BACK_FLOOR = 1024 * 1024;

export interface TlsfOptions {
  /** Bytes: requests at least this large are placed at the end of their free range (Infinity: never). */
  readonly backPlacementMin?: number;
}

/** Chunks tried in the request's own class before the good-fit classes. */
const OWN_CLASS_SCAN = 4;
/** Chunks tried in good-fit classes (>= request size) before jumping to a class that surely fits. */
const GOOD_FIT_SCAN = 4;
/** Chunks tried in the last-resort scan of the classes between the request and the sure-fit class. */
const FALLBACK_SCAN = 64;

const TWO_POW_31 = 2147483648;
const TWO_POW_32 = 4294967296;

/** 2^k for k in [0, 53]. */
const POW2 = new Float64Array(54);
for (let k = 0; k < 54; k++) POW2[k] = 2 ** k;

/** floor(log2(v)) for an integer 1 <= v < 2^53, exact (no float log). */
function log2Floor(v: number): number {
  if (v < TWO_POW_31) return 31 - Math.clz32(v);
  const hi = Math.floor(v / TWO_POW_32);
  return hi === 0 ? 31 : 63 - Math.clz32(hi);
}

/** The class a free chunk of `size` bytes (1 <= size < 2^53) is filed under. */
export function tlsfClassOf(size: number): number {
  if (size < TWO_POW_31) {
    if (size < SL_COUNT) return size;
    // shift = floor(log2(size)) - SL_LOG2; size >>> shift is in [SL_COUNT, 2 * SL_COUNT).
    const shift = 31 - SL_LOG2 - Math.clz32(size);
    return shift * SL_COUNT + (size >>> shift);
  }
  const shift = log2Floor(size) - SL_LOG2;
  return shift * SL_COUNT + Math.floor(size / POW2[shift]);
}

/** The smallest class whose chunks are all >= `size` bytes (may be CLASS_COUNT: no such class). */
export function tlsfClassAtLeast(size: number): number {
  if (size < SL_COUNT) return size;
  if (size >= 9007199254740992) return CLASS_COUNT;
  const shift = (size < TWO_POW_31 ? 31 - Math.clz32(size) : log2Floor(size)) - SL_LOG2;
  const up = size + POW2[shift] - 1;
  return up >= 9007199254740992 ? CLASS_COUNT : tlsfClassOf(up);
}

/** Bytes: lower bound of the sizes filed under class `c`. */
export function tlsfClassLowerBound(c: number): number {
  if (c < 2 * SL_COUNT) return c;
  const shift = Math.floor(c / SL_COUNT) - 1;
  return (c - shift * SL_COUNT) * POW2[shift];
}

/** `value` rounded up to a multiple of the power of two `alignment`; int32 fast path below 2^30. */
function alignUp(value: number, alignment: number): number {
  if (value < 1073741824 && alignment <= 1073741824) return ((value + alignment - 1) & -alignment) >>> 0;
  return Math.ceil(value / alignment) * alignment;
}

/** Are byte offsets a and b (>= 0) on the same `page` (a power of two)? int32 fast path below 2^31. */
function samePage(a: number, b: number, page: number): boolean {
  if ((a | 0) === a && (b | 0) === b && page <= 1073741824) return ((a ^ b) & -page) === 0;
  return Math.floor(a / page) === Math.floor(b / page);
}

export class TlsfSubAllocator<T> implements SubAllocator<T> {
  readonly size: number;
  private allocated = 0;
  private freeTotal: number;
  private liveChunks = 0;

  // Chunk records, one slot each (struct of arrays; grown by doubling).
  private capacity = 0;
  private regOff = new Float64Array(0);
  private regSize = new Float64Array(0);
  private dataOff = new Float64Array(0);
  private reqSize = new Float64Array(0);
  private align = new Float64Array(0);
  private physPrev = new Int32Array(0);
  private physNext = new Int32Array(0);
  private freePrev = new Int32Array(0);
  private freeNext = new Int32Array(0);
  private cls = new Int32Array(0);
  private state = new Uint8Array(0);
  private gen = new Uint8Array(0);
  private owners: (T | undefined)[] = [];
  /** Stack of reusable slots; slots >= `used` have never been handed out. */
  private slotStack = new Int32Array(0);
  private slotTop = 0;
  private used = 0;

  // Class index: list heads, second-level bitmaps, first-level bitmap in two 32-bit words.
  private readonly heads = new Int32Array(CLASS_COUNT).fill(-1);
  private readonly slMask = new Int32Array(FL_COUNT);
  private flLo = 0;
  private flHi = 0;

  /** Bytes: requests at least this large are placed at the end of their free range. */
  private readonly backMin: number;
  /** The record at offset 0. */
  private head: number;

  constructor(size: number, options: TlsfOptions = {}) {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new InternalError(
        `TLSF sub-allocator size must be a positive safe integer of bytes, got ${size}.`,
      );
    }
    this.size = size;
    this.freeTotal = size;
    this.backMin = options.backPlacementMin ?? Math.max(size / BACK_DIVISOR, BACK_FLOOR);
    this.grow(64);
    const c = this.takeSlot();
    this.regOff[c] = 0;
    this.regSize[c] = size;
    this.physPrev[c] = -1;
    this.physNext[c] = -1;
    this.state[c] = STATE_FREE;
    this.insertFree(c);
    this.head = c;
  }

  get allocatedBytes(): number {
    return this.allocated;
  }

  get chunkCount(): number {
    return this.liveChunks;
  }

  allocate(size: number, alignment: number, kind: SubAllocationKind, granularity: number, owner: T): number {
    checkPlacementRequest(size, alignment, kind, granularity);
    if (size > this.freeTotal) return -1;
    // A split needs up to two new records (padding + tail); refuse rather than overflow the slot space.
    if (this.slotTop < 2 && this.used + 2 > MAX_SLOTS) return -1;
    const own = tlsfClassOf(size);
    const heads = this.heads;
    const freeNext = this.freeNext;

    // 1. The request's own class: its chunks straddle `size`, first one that fits wins (near-exact fit).
    let c = heads[own];
    for (let n = 0; c >= 0 && n < OWN_CLASS_SCAN; n++) {
      const o = this.fitOffset(c, size, alignment, kind, granularity);
      if (o >= 0) return this.take(c, o, size, alignment, kind, granularity, owner);
      c = freeNext[c];
    }

    // 2. Good fit: the smallest non-empty classes whose chunks are all >= size; alignment or
    //    granularity may still make a chunk too small, so try a few.
    const good = tlsfClassAtLeast(size);
    let k = this.findClass(good > own ? good : own + 1);
    for (let n = 0; k >= 0 && n < GOOD_FIT_SCAN;) {
      c = heads[k];
      for (; c >= 0 && n < GOOD_FIT_SCAN; n++) {
        const o = this.fitOffset(c, size, alignment, kind, granularity);
        if (o >= 0) return this.take(c, o, size, alignment, kind, granularity, owner);
        c = freeNext[c];
      }
      k = this.findClass(k + 1);
    }

    // 3. Sure fit: any chunk of a class >= size + worst padding (alignment, then a granularity page on
    //    each side) fits whatever its neighbours are.
    let worst = size;
    const pad = alignment > granularity ? alignment : granularity;
    if (pad > 1) worst += pad - 1;
    if (granularity > 1) worst += granularity - 1;
    const sure = tlsfClassAtLeast(worst);
    if (sure < CLASS_COUNT) {
      k = this.findClass(sure);
      if (k >= 0) {
        c = heads[k];
        const o = this.fitOffset(c, size, alignment, kind, granularity);
        if (o >= 0) return this.take(c, o, size, alignment, kind, granularity, owner);
        throw new InternalError(`TLSF chunk ${c} of a sure-fit class did not fit ${size} bytes.`);
      }
    }

    // 4. Last resort before "does not fit": the classes between the request and the sure-fit class
    //    hold chunks that may fit depending on their address; scan a bounded number of them.
    const end = sure < CLASS_COUNT ? sure : CLASS_COUNT;
    k = this.findClass(own);
    for (let n = 0; k >= 0 && k < end && n < FALLBACK_SCAN;) {
      c = heads[k];
      for (; c >= 0 && n < FALLBACK_SCAN; n++) {
        if (this.regSize[c] >= size) {
          const o = this.fitOffset(c, size, alignment, kind, granularity);
          if (o >= 0) return this.take(c, o, size, alignment, kind, granularity, owner);
        }
        c = freeNext[c];
      }
      k = this.findClass(k + 1);
    }
    return -1;
  }

  allocateAt(
    offset: number,
    size: number,
    alignment: number,
    kind: SubAllocationKind,
    granularity: number,
    owner: T,
  ): number {
    checkPlacementRequest(size, alignment, kind, granularity);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % alignment !== 0) return -1;
    if (offset + size > this.size || size > this.freeTotal) return -1;
    if (this.slotTop < 2 && this.used + 2 > MAX_SLOTS) return -1;
    // The free chunk holding `offset` (a walk of the physical list: defragmentation moves are rare).
    let c = this.head;
    while (c >= 0 && this.regOff[c] + this.regSize[c] <= offset) c = this.physNext[c];
    if (c < 0 || this.state[c] !== STATE_FREE) return -1;
    if (offset + size > this.regOff[c] + this.regSize[c]) return -1;
    if (granularity > 1) {
      const p = this.physPrev[c];
      if (
        p >= 0 &&
        this.state[p] !== STATE_USED + kind &&
        samePage(this.regOff[p] + this.regSize[p] - 1, offset, granularity)
      ) {
        return -1;
      }
      const n = this.physNext[c];
      if (
        n >= 0 &&
        this.state[n] !== STATE_USED + kind &&
        samePage(offset + size - 1, this.dataOff[n], granularity)
      )
        return -1;
    }
    return this.place(c, offset, size, alignment, kind, owner);
  }

  free(chunk: number): void {
    const c = this.liveSlot(chunk, 'free');
    const s = this.regSize[c];
    this.allocated -= s;
    this.freeTotal += s;
    this.liveChunks--;
    this.owners[c] = undefined;
    this.gen[c] = (this.gen[c] + 1) & GEN_MASK;

    // Merge by growing a free neighbour in place: a large free range usually keeps its class, and
    // then its list position and the bitmaps need no update at all.
    const prev = this.physPrev[c];
    const next = this.physNext[c];
    const nextFree = next >= 0 && this.state[next] === STATE_FREE;
    if (prev >= 0 && this.state[prev] === STATE_FREE) {
      let merged = this.regSize[prev] + s;
      if (nextFree) {
        merged += this.regSize[next];
        this.removeFree(next);
        this.release(next);
      }
      this.release(c);
      this.resizeFree(prev, merged);
    } else if (nextFree) {
      this.regOff[next] = this.regOff[c];
      this.release(c);
      this.resizeFree(next, this.regSize[next] + s);
    } else {
      this.state[c] = STATE_FREE;
      this.insertFree(c);
    }
  }

  offsetOf(chunk: number): number {
    return this.dataOff[this.liveSlot(chunk, 'read the offset of')];
  }

  owner(chunk: number): T {
    return this.owners[this.liveSlot(chunk, 'read the owner of')] as T;
  }

  setOwner(chunk: number, owner: T): void {
    this.owners[this.liveSlot(chunk, 'set the owner of')] = owner;
  }

  chunks(): ChunkInfo<T>[] {
    const out: ChunkInfo<T>[] = [];
    for (let c = this.head; c >= 0; c = this.physNext[c]) {
      const st = this.state[c];
      if (st < STATE_USED) continue;
      out.push({
        chunk: c | (this.gen[c] << SLOT_BITS),
        regionOffset: this.regOff[c],
        regionSize: this.regSize[c],
        offset: this.dataOff[c],
        size: this.reqSize[c],
        alignment: this.align[c],
        kind: (st - STATE_USED) as SubAllocationKind,
        owner: this.owners[c] as T,
      });
    }
    return out;
  }

  freeRanges(): Array<readonly [number, number]> {
    const out: Array<readonly [number, number]> = [];
    for (let c = this.head; c >= 0; c = this.physNext[c]) {
      if (this.state[c] === STATE_FREE) out.push([this.regOff[c], this.regSize[c]]);
    }
    return out;
  }

  largestFreeRange(): number {
    const top = this.topClass();
    if (top < 0) return 0;
    let best = 0;
    for (let c = this.heads[top]; c >= 0; c = this.freeNext[c]) {
      if (this.regSize[c] > best) best = this.regSize[c];
    }
    return best;
  }

  validate(granularity: number): void {
    const fail = (what: string): never => {
      throw new InternalError(`TLSF sub-allocator invariant broken: ${what}.`);
    };
    let expect = 0;
    let prev = -1;
    let allocated = 0;
    let freeBytes = 0;
    let live = 0;
    let freeCount = 0;
    let records = 0;
    let lastUsed = -1;
    for (let c = this.head; c >= 0; c = this.physNext[c]) {
      if (++records > this.used) fail('the physical chunk list has a cycle');
      const st = this.state[c];
      if (st === STATE_DEAD) fail(`dead slot ${c} is linked in the physical chunk list`);
      if (this.physPrev[c] !== prev) fail(`chunk ${c} has a wrong previous-neighbour link`);
      const off = this.regOff[c];
      const sz = this.regSize[c];
      if (off !== expect)
        fail(`chunk ${c} starts at ${off}, expected ${expect} (chunks out of order or overlapping)`);
      if (!(sz > 0) || !Number.isSafeInteger(sz)) fail(`chunk ${c} has size ${sz}`);
      expect = off + sz;
      if (expect > this.size) fail(`chunk ${c} ends at ${expect}, beyond the block size ${this.size}`);
      if (st === STATE_FREE) {
        if (prev >= 0 && this.state[prev] === STATE_FREE)
          fail(`free chunks ${prev} and ${c} are adjacent (unmerged)`);
        if (this.cls[c] !== tlsfClassOf(sz))
          fail(`free chunk ${c} of ${sz} bytes is filed under class ${this.cls[c]}`);
        freeBytes += sz;
        freeCount++;
      } else {
        const data = this.dataOff[c];
        const req = this.reqSize[c];
        const al = this.align[c];
        if (data < off || data + req !== off + sz)
          fail(`chunk ${c} data [${data}, +${req}) is not the tail of its region`);
        if (!(req > 0)) fail(`chunk ${c} has requested size ${req}`);
        if (data % al !== 0) fail(`chunk ${c} data offset ${data} is not aligned to ${al}`);
        if (data - off >= MIN_PAD_SPLIT) {
          fail(`chunk ${c} keeps ${data - off} bytes of padding that should have been a free range`);
        }
        if (lastUsed >= 0 && granularity > 1 && this.state[lastUsed] !== st) {
          const lastEnd = this.dataOff[lastUsed] + this.reqSize[lastUsed] - 1;
          if (samePage(lastEnd, data, granularity)) {
            fail(
              `chunks ${lastUsed} and ${c} of different kinds share a ${granularity}-byte granularity page`,
            );
          }
        }
        lastUsed = c;
        allocated += sz;
        live++;
      }
      prev = c;
    }
    if (expect !== this.size) fail(`chunks cover [0, ${expect}) instead of [0, ${this.size})`);
    if (allocated !== this.allocated) fail(`allocatedBytes is ${this.allocated}, chunks hold ${allocated}`);
    if (allocated + freeBytes !== this.size)
      fail(`allocated ${allocated} + free ${freeBytes} != size ${this.size}`);
    if (freeBytes !== this.freeTotal)
      fail(`free byte counter is ${this.freeTotal}, free chunks hold ${freeBytes}`);
    if (live !== this.liveChunks) fail(`chunkCount is ${this.liveChunks}, ${live} chunks are live`);
    if (records + this.slotTop !== this.used)
      fail(`${records} records + ${this.slotTop} pooled slots != ${this.used}`);

    // The index: every list entry is a free chunk of that class, lists are well linked, bitmaps agree.
    let listed = 0;
    let flLo = 0;
    let flHi = 0;
    const heads = this.heads;
    for (let fl = 0; fl < FL_COUNT; fl++) {
      const mask = this.slMask[fl];
      const base = fl << SL_LOG2;
      for (let sl = 0; sl < SL_COUNT; sl++) {
        const h = heads[base + sl];
        if (h >= 0 !== ((mask >>> sl) & 1) > 0)
          fail(`bitmap bit of class ${base + sl} disagrees with its list`);
        let p = -1;
        for (let c = h; c >= 0; c = this.freeNext[c]) {
          if (++listed > freeCount) fail(`class lists hold more entries than the ${freeCount} free chunks`);
          if (this.state[c] !== STATE_FREE) fail(`class ${base + sl} lists chunk ${c}, which is not free`);
          if (this.cls[c] !== base + sl)
            fail(`chunk ${c} is listed under class ${base + sl} but records ${this.cls[c]}`);
          if (this.freePrev[c] !== p) fail(`chunk ${c} has a wrong free-list back link`);
          p = c;
        }
      }
      if (mask !== 0) {
        if (fl < 32) flLo |= 1 << fl;
        else flHi |= 1 << (fl - 32);
      }
    }
    if (listed !== freeCount) fail(`class lists hold ${listed} entries, ${freeCount} chunks are free`);
    if (flLo !== this.flLo || flHi !== this.flHi)
      fail('first-level bitmap disagrees with the second-level bitmaps');
  }

  // ---- internals -------------------------------------------------------------------------------

  /** Where `size` bytes would start in free chunk `c`, or -1 when they do not fit there. */
  private fitOffset(c: number, size: number, alignment: number, kind: number, granularity: number): number {
    const start = this.regOff[c];
    let o = alignment > 1 ? alignUp(start, alignment) : start;
    if (granularity > 1) {
      const p = this.physPrev[c];
      // A free chunk's neighbours are used (free ranges are merged); the data of `p` ends at its region end.
      if (p >= 0 && this.state[p] !== STATE_USED + kind) {
        if (samePage(this.regOff[p] + this.regSize[p] - 1, o, granularity)) o = alignUp(o, granularity);
      }
      if (o + size > start + this.regSize[c]) return -1;
      const n = this.physNext[c];
      if (
        n >= 0 &&
        this.state[n] !== STATE_USED + kind &&
        samePage(o + size - 1, this.dataOff[n], granularity)
      ) {
        return -1;
      }
      return o;
    }
    return o + size > start + this.regSize[c] ? -1 : o;
  }

  /**
   * Where a large request goes in free chunk `c`, given `o`, its front offset that fits: the highest
   * aligned offset that still ends inside the chunk, unless that end shares a page with a next neighbour
   * of the other kind. Moving up never creates a conflict with the previous neighbour.
   */
  private backOffset(
    c: number,
    o: number,
    size: number,
    alignment: number,
    kind: number,
    granularity: number,
  ): number {
    if (size < this.backMin) return o;
    const end = this.regOff[c] + this.regSize[c];
    const b = Math.floor((end - size) / alignment) * alignment;
    if (b <= o) return o;
    if (granularity > 1) {
      const n = this.physNext[c];
      if (
        n >= 0 &&
        this.state[n] !== STATE_USED + kind &&
        samePage(b + size - 1, this.dataOff[n], granularity)
      ) {
        return o;
      }
    }
    return b;
  }

  /** Places the request in free chunk `c`, where `o` is its front offset that fits; returns the handle. */
  private take(
    c: number,
    o: number,
    size: number,
    alignment: number,
    kind: number,
    granularity: number,
    owner: T,
  ): number {
    return this.place(
      c,
      this.backOffset(c, o, size, alignment, kind, granularity),
      size,
      alignment,
      kind,
      owner,
    );
  }

  /** Turns free chunk `c` into a used chunk whose data is [o, o + size); returns its handle. */
  private place(c: number, o: number, size: number, alignment: number, kind: number, owner: T): number {
    const start = this.regOff[c];
    const end = start + this.regSize[c];
    const dataEnd = o + size;
    const tail = end - dataEnd;
    let u: number;
    let regionStart = start;
    if (o - start >= MIN_PAD_SPLIT) {
      // `c` stays free as the padding in front; the data gets a new record after it, the tail another.
      u = this.takeSlot();
      this.linkAfter(c, u);
      regionStart = o;
      if (tail > 0) {
        const t = this.takeSlot();
        this.linkAfter(u, t);
        this.regOff[t] = dataEnd;
        this.regSize[t] = tail;
        this.state[t] = STATE_FREE;
        this.insertFree(t);
      }
      this.resizeFree(c, o - start);
    } else if (tail > 0) {
      // The data (with its small padding) gets a new record in front; `c` stays free as the tail.
      u = this.takeSlot();
      this.linkBefore(c, u);
      this.regOff[c] = dataEnd;
      this.resizeFree(c, tail);
    } else {
      this.removeFree(c);
      u = c;
    }
    const region = dataEnd - regionStart;
    this.regOff[u] = regionStart;
    this.regSize[u] = region;
    this.dataOff[u] = o;
    this.reqSize[u] = size;
    this.align[u] = alignment;
    this.state[u] = STATE_USED + kind;
    this.owners[u] = owner;
    this.allocated += region;
    this.freeTotal -= region;
    this.liveChunks++;
    return u | (this.gen[u] << SLOT_BITS);
  }

  /** Sets the size of free chunk `c`, moving it to another class list only when its class changes. */
  private resizeFree(c: number, size: number): void {
    this.regSize[c] = size;
    const k = tlsfClassOf(size);
    if (k !== this.cls[c]) {
      this.removeFree(c);
      this.insertFreeAt(c, k);
    }
  }

  /** Inserts record `n` right before `c` in the physical list. */
  private linkBefore(c: number, n: number): void {
    const before = this.physPrev[c];
    this.physNext[n] = c;
    this.physPrev[n] = before;
    this.physPrev[c] = n;
    if (before >= 0) this.physNext[before] = n;
    else this.head = n;
  }

  /** Unlinks record `c` from the physical list and returns its slot to the pool. */
  private release(c: number): void {
    const before = this.physPrev[c];
    const after = this.physNext[c];
    if (before >= 0) this.physNext[before] = after;
    else this.head = after;
    if (after >= 0) this.physPrev[after] = before;
    this.state[c] = STATE_DEAD;
    this.slotStack[this.slotTop++] = c;
  }

  /** Inserts record `n` right after `c` in the physical list. */
  private linkAfter(c: number, n: number): void {
    const after = this.physNext[c];
    this.physPrev[n] = c;
    this.physNext[n] = after;
    this.physNext[c] = n;
    if (after >= 0) this.physPrev[after] = n;
  }

  private insertFree(c: number): void {
    this.insertFreeAt(c, tlsfClassOf(this.regSize[c]));
  }

  /** Files free chunk `c` under class `k` (its class). */
  private insertFreeAt(c: number, k: number): void {
    this.cls[c] = k;
    const h = this.heads[k];
    this.freePrev[c] = -1;
    this.freeNext[c] = h;
    if (h >= 0) this.freePrev[h] = c;
    this.heads[k] = c;
    const fl = k >> SL_LOG2;
    this.slMask[fl] |= 1 << (k & (SL_COUNT - 1));
    if (fl < 32) this.flLo |= 1 << fl;
    else this.flHi |= 1 << (fl - 32);
  }

  private removeFree(c: number): void {
    const k = this.cls[c];
    const p = this.freePrev[c];
    const n = this.freeNext[c];
    if (n >= 0) this.freePrev[n] = p;
    if (p >= 0) {
      this.freeNext[p] = n;
      return;
    }
    this.heads[k] = n;
    if (n >= 0) return;
    const fl = k >> SL_LOG2;
    const m = this.slMask[fl] & ~(1 << (k & (SL_COUNT - 1)));
    this.slMask[fl] = m;
    if (m === 0) {
      if (fl < 32) this.flLo &= ~(1 << fl);
      else this.flHi &= ~(1 << (fl - 32));
    }
  }

  /** The first non-empty class >= k, or -1. */
  private findClass(k: number): number {
    if (k >= CLASS_COUNT) return -1;
    let fl = k >> SL_LOG2;
    const sm = this.slMask[fl] & (-1 << (k & (SL_COUNT - 1)));
    if (sm !== 0) return (fl << SL_LOG2) + ctz(sm);
    fl++;
    let fm: number;
    if (fl < 32) {
      fm = this.flLo & (-1 << fl);
      if (fm !== 0) {
        fl = ctz(fm);
        return (fl << SL_LOG2) + ctz(this.slMask[fl]);
      }
      fm = this.flHi;
    } else {
      fm = this.flHi & (-1 << (fl - 32));
    }
    if (fm === 0) return -1;
    fl = 32 + ctz(fm);
    return (fl << SL_LOG2) + ctz(this.slMask[fl]);
  }

  /** The highest non-empty class, or -1. */
  private topClass(): number {
    let fl: number;
    if (this.flHi !== 0) fl = 63 - Math.clz32(this.flHi);
    else if (this.flLo !== 0) fl = 31 - Math.clz32(this.flLo);
    else return -1;
    return (fl << SL_LOG2) + 31 - Math.clz32(this.slMask[fl]);
  }

  /** The slot of a live used chunk, or throws naming the operation. */
  private liveSlot(chunk: number, op: string): number {
    const c = chunk & SLOT_MASK;
    if (
      !(chunk >= 0 && chunk < 2147483648 && chunk === Math.floor(chunk)) ||
      c >= this.used ||
      this.state[c] < STATE_USED ||
      chunk >>> SLOT_BITS !== this.gen[c]
    ) {
      throw new InternalError(`Cannot ${op} chunk ${chunk}: it is not a live chunk of this block.`);
    }
    return c;
  }

  private takeSlot(): number {
    if (this.slotTop > 0) return this.slotStack[--this.slotTop];
    if (this.used === this.capacity) this.grow(this.capacity * 2);
    return this.used++;
  }

  private grow(capacity: number): void {
    const f64 = (a: Float64Array): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array): Uint8Array<ArrayBuffer> => {
      const b = new Uint8Array(capacity);
      b.set(a);
      return b;
    };
    this.regOff = f64(this.regOff);
    this.regSize = f64(this.regSize);
    this.dataOff = f64(this.dataOff);
    this.reqSize = f64(this.reqSize);
    this.align = f64(this.align);
    this.physPrev = i32(this.physPrev);
    this.physNext = i32(this.physNext);
    this.freePrev = i32(this.freePrev);
    this.freeNext = i32(this.freeNext);
    this.cls = i32(this.cls);
    this.state = u8(this.state);
    this.gen = u8(this.gen);
    this.slotStack = i32(this.slotStack);
    this.capacity = capacity;
  }
}

/** Count of trailing zero bits of a non-zero 32-bit integer. */
function ctz(v: number): number {
  return 31 - Math.clz32(v & -v);
}

export function createTlsfSubAllocator<T>(size: number, options?: TlsfOptions): SubAllocator<T> {
  return new TlsfSubAllocator<T>(size, options);
}
