// TLSF placement: a two-level segregated fit index over the free ranges of one or more segments (memory
// blocks), O(1) per operation whatever the number of segments.
//
// A TlsfPool manages any number of segments, each the byte range [0, size) of one block; the allocator
// keeps one pool per memory type, so one search covers every block of the type. TlsfSubAllocator is a
// pool of one segment (the SubAllocator contract); TlsfSegment is the SubAllocator view of one segment.
//
// Every range of a segment — used or free — is a chunk record in pooled typed arrays (struct of arrays,
// indexed by slot, shared by all segments). A segment's chunks form an address-ordered doubly linked
// "physical" list (never linked to another segment's), so free() merges with both neighbours in O(1). Free chunks also sit in a per-class doubly linked list; a class is
// (fl, sl): fl = floor(log2(size)) - SL_LOG2 (+ a linear class 0 for sizes < SL_COUNT), sl = the next
// SL_LOG2 bits of the size. Bitmaps of non-empty classes make "first non-empty class >= c" two clz32s.
//
// Invariants (checked by validateSegment() and validateIndex()):
// - each segment's physical chunks tile its [0, size) in address order; no two adjacent free chunks;
// - a used chunk's region is [regionOffset, dataOffset + size): padding of fewer than MIN_PAD_SPLIT bytes,
//   then data (data always ends at the region end, so the requested size is region size − padding); its
//   data offset is a multiple of its alignment;
// - a linear and a non-linear chunk never share a granularity page (compared on data ranges);
// - every free chunk is in exactly the list of classOf(its size), and a bitmap bit is set iff its list
//   is non-empty.
//
// Sizes and offsets are bytes, JS numbers < 2^53: they live in Float64Arrays and are never truncated
// to 32 bits. Handles are 31-bit integers: slot | (generation << 24); a generation bump on every free()
// makes stale handles (double free, use after free) detectable even after the slot is reused.
import { InternalError } from '../errors.ts';
import { checkPlacementRequest, isSmallPlacementRequest, placementAtMayFit } from './request-check.ts';
import type { ChunkInfo, SubAllocationKind, SubAllocator } from './sub-allocator.ts';

/** Segments per pool (segment ids are 16-bit). */
const MAX_SEGMENTS = 65535;

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

/**
 * `cls` of a free chunk in no class list yet (freeSlot sets it before filing the chunk), and place()'s class
 * of "no tail". The cls of used and dead records is never read.
 */
const UNLISTED = -1;

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
  /** Chunks freeOwned() parks for quick reuse at most at once (default PARK_RING_SIZE; 0: none). */
  readonly parkRingSize?: number;
}

/**
 * Record slots (and owner-table entries) are added a quarter of the capacity at a time, at least this many.
 * The slots stay allocated (a slot a chunk no longer needs is reused), so the growth step is what a pool
 * holds unused at its peak: by a half, the owner array (then one entry per slot) held 8 × 2,053 slot
 * references for 1,449 records on gen-workload seed 3's peak.
 */
const SLOT_GROWTH_MIN = 16;

/** Chunks tried in the request's own class before the good-fit classes. */
const OWN_CLASS_SCAN = 4;
/** Chunks tried in good-fit classes (>= request size) before jumping to a class that surely fits. */
const GOOD_FIT_SCAN = 4;

/**
 * Quick reuse ("fastbins"): freeOwned() parks a freed chunk whose data is at most PARK_MAX_SIZE bytes instead
 * of merging it: it keeps its record and place, listed under the class of its data size, and the next
 * allocate() of exactly that size, kind and a dividing alignment takes it back without a search, a split or
 * a merge. Parked bytes count as free; a parked chunk is merged (unparked) when PARK_RING_SIZE later chunks
 * have been parked, when a search misses (so allocate() stays exact), and before anything that walks the
 * chunks to place (allocateIn, allocateAt, removeSegment). Reads (freeRanges, largestFreeRange) show the
 * free ranges as merged without changing anything. free() never parks: only the allocator's freeOwned()
 * does, whose chunks were all placed with the pool's one granularity (a parked chunk is reused without a
 * page test; relocation's reservation, placed with granularity 1, is freed with free()).
 * Why these sizes: docs/allocator.md, "Quick reuse".
 */
const PARK_MAX_SIZE = 64 * 1024;
/** Chunks parked at most at once by default (a ring: the oldest is merged when another is parked). */
const PARK_RING_SIZE = 4096;
/** Parked chunks looked at per request before giving up on quick reuse (they share a class, not a size). */
const PARK_SCAN = 4;
/** `cls` of a parked chunk (a used chunk's cls is otherwise never read). */
const PARKED = -2;

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
  return classOfLarge(size);
}

/** tlsfClassOf for sizes >= 2^31 (apart: tlsfClassOf is inlined on every hot path, sizes this large are rare). */
function classOfLarge(size: number): number {
  const shift = log2Floor(size) - SL_LOG2;
  return shift * SL_COUNT + Math.floor(size / POW2[shift]);
}

/** Classes that parked chunks can be listed under: those of data sizes 1..PARK_MAX_SIZE. */
const PARK_CLASSES = tlsfClassOf(PARK_MAX_SIZE) + 1;

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

/**
 * `value` rounded up to a multiple of the power of two `alignment`. Bytes < 2^53: dividing by a power of two
 * is exact, so is the product. (Float math rather than an int32 fast path: as fast on this hot path, and
 * small enough that V8 inlines fitOffset's helpers within its bytecode budget.)
 */
function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/** Are byte offsets a and b (>= 0, < 2^53) on the same `page` (a power of two)? Exact, as alignUp. */
function samePage(a: number, b: number, page: number): boolean {
  return Math.floor(a / page) === Math.floor(b / page);
}

export class TlsfPool<T> {
  private freeTotal = 0;

  // Chunk records, one slot each (struct of arrays, views of one buffer; grown by a quarter:
  // SLOT_GROWTH_MIN). RECORD_BYTES (52) of typed arrays per slot; owners sit in the dense owner table (one
  // reference per used chunk, below). The requested size and data offset are derived (see the invariants).
  private capacity = 0;
  private regOff = new Float64Array(0);
  private regSize = new Float64Array(0);
  /** Bytes of alignment padding at the front of a used chunk's region (< MIN_PAD_SPLIT). */
  private pad = new Uint8Array(0);
  /** log2 of a used chunk's alignment (checked by validate). */
  private alignLog2 = new Uint8Array(0);
  private physPrev = new Int32Array(0);
  private physNext = new Int32Array(0);
  private freePrev = new Int32Array(0);
  private freeNext = new Int32Array(0);
  private cls = new Int16Array(0);
  private seg = new Uint16Array(0);
  private state = new Uint8Array(0);
  private gen = new Uint8Array(0);
  /**
   * Owner table: the owner of the used chunk in slot c is owners[ownerIndex[c]] (ownerIndex[c] is -1 when
   * the slot holds no used chunk). Dense: one entry per used chunk, not per record (free and parked
   * chunks, about two thirds of the records at a live peak, hold none), so the JS heap holds 8 bytes per
   * live allocation plus the growth step instead of 8 per record (gen-workload seed 3 on the H100
   * profile: 2,219 record slots for 565 live allocations).
   */
  private ownerIndex = new Int32Array(0);
  private owners: (T | undefined)[] = [];
  /** Stack of free owner-table entries; entries >= ownersUsed have never been handed out. */
  private ownerStack = new Int32Array(0);
  private ownerTop = 0;
  private ownersUsed = 0;
  /** Stack of reusable slots; slots >= `used` have never been handed out. */
  private slotStack = new Int32Array(0);
  private slotTop = 0;
  private used = 0;

  // Segments (ids reused after removeSegment): first record, size, used bytes, live chunks.
  private segCapacity = 0;
  private segHead = new Int32Array(0);
  private segSize = new Float64Array(0);
  private segAllocated = new Float64Array(0);
  private segLive = new Int32Array(0);
  private segBackMin = new Float64Array(0);
  private segFreeIds: number[] = [];
  private segUsed = 0;
  private liveSegments = 0;

  // Class index: list heads, second-level bitmaps, first-level bitmap in two 32-bit words.
  private readonly heads = new Int32Array(CLASS_COUNT).fill(-1);
  private readonly slMask = new Int32Array(FL_COUNT);
  /** First-level bitmap: bit fl of word fl >> 5 (JS shifts take the count mod 32, so `1 << fl` is its bit). */
  private readonly flMask = new Int32Array(2);

  /** Bytes: requests at least this large go to the end of their free range (undefined: per segment). */
  private readonly backMin: number | undefined;

  // Quick reuse (see PARK_MAX_SIZE). A parked chunk keeps its used state (so that neighbours are placed
  // around it as before), has cls PARKED, sits in the list of parkHeads[class of its data size] through
  // freePrev / freeNext (unused by used chunks) and in parkRing at position parkPos[c].
  private readonly parkHeads = new Int32Array(PARK_CLASSES).fill(-1);
  private readonly parkRing: Int32Array<ArrayBuffer>;
  /** Bytes: freeOwned() parks chunks whose data is at most this long (0 with no ring). */
  private readonly parkMax: number;
  /** Ring position of a parked chunk (a ring entry whose chunk is no longer parked there is stale). */
  private parkPos = new Int32Array(0);
  /** The ring position the next parked chunk takes (its occupant, if still parked, is merged first). */
  private parkNext = 0;
  private parkedCount = 0;
  private reuses = 0;

  /**
   * Segment of the chunk the last successful allocate / allocateIn / allocateAt placed, so that its caller
   * needs no checked handle lookup right after placing it.
   */
  private lastSegment = -1;
  /** Handle of the chunk the last placement made while it is live (-1 after any free()): see setOwner. */
  private lastHandle = -1;
  /** Owner-table entry of the chunk `lastHandle` names (setOwner's fast path writes it without a lookup). */
  private lastEntry = 0;

  constructor(options: TlsfOptions = {}) {
    this.backMin = options.backPlacementMin;
    const ring = options.parkRingSize ?? PARK_RING_SIZE;
    if (!Number.isSafeInteger(ring) || ring < 0 || ring > MAX_SLOTS) {
      throw new InternalError(`TLSF park ring size must be an integer in [0, ${MAX_SLOTS}], got ${ring}.`);
    }
    this.parkRing = new Int32Array(ring).fill(-1);
    this.parkMax = ring > 0 ? PARK_MAX_SIZE : 0;
    this.grow(16);
    this.growSegments(4);
  }

  /** Free bytes of all segments. */
  get freeBytes(): number {
    return this.freeTotal;
  }

  /** Chunks parked for quick reuse now (their bytes count as free). */
  get parkedChunks(): number {
    return this.parkedCount;
  }

  /** Placements so far that took back a parked chunk (quick reuse) instead of searching. */
  get quickReuses(): number {
    return this.reuses;
  }

  /** Segments alive. */
  get segmentCount(): number {
    return this.liveSegments;
  }

  /** Adds a segment of `size` bytes, all free; returns its id (ids of removed segments are reused). */
  addSegment(size: number): number {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new InternalError(`TLSF segment size must be a positive safe integer of bytes, got ${size}.`);
    }
    let s: number;
    if (this.segFreeIds.length > 0) s = this.segFreeIds.pop()!;
    else {
      if (this.segUsed === MAX_SEGMENTS)
        throw new InternalError(`TLSF pool holds ${MAX_SEGMENTS} segments already.`);
      if (this.segUsed === this.segCapacity) this.growSegments(this.segCapacity * 2);
      s = this.segUsed++;
    }
    const c = this.takeSlot();
    this.regOff[c] = 0;
    this.regSize[c] = size;
    this.physPrev[c] = -1;
    this.physNext[c] = -1;
    this.seg[c] = s;
    this.state[c] = STATE_FREE;
    this.insertFree(c);
    this.segHead[s] = c;
    this.segSize[s] = size;
    this.segAllocated[s] = 0;
    this.segLive[s] = 0;
    this.segBackMin[s] = this.backMin ?? Math.max(size / BACK_DIVISOR, BACK_FLOOR);
    this.freeTotal += size;
    this.liveSegments++;
    return s;
  }

  /** Removes an empty segment (no live chunk); its id may be handed out again. */
  removeSegment(s: number): void {
    this.checkSegment(s);
    if (this.segLive[s] !== 0) {
      throw new InternalError(
        `TLSF segment ${s} still holds ${this.segLive[s]} chunks; it cannot be removed.`,
      );
    }
    this.unparkAll();
    const c = this.segHead[s];
    this.removeFree(c);
    this.state[c] = STATE_DEAD;
    this.slotStack[this.slotTop++] = c;
    this.freeTotal -= this.segSize[s];
    this.segHead[s] = -1;
    this.segSize[s] = 0;
    this.segFreeIds.push(s);
    this.liveSegments--;
  }

  segmentSize(s: number): number {
    this.checkSegment(s);
    return this.segSize[s];
  }

  /** Bytes in used regions of segment `s`, padding included. */
  segmentAllocated(s: number): number {
    return this.segAllocated[s];
  }

  /** Live chunks in segment `s`. */
  segmentChunkCount(s: number): number {
    return this.segLive[s];
  }

  /** The segment of the chunk the last successful allocate(), allocateIn() or allocateAt() placed. */
  get placedSegment(): number {
    return this.lastSegment;
  }

  /** The segment a live chunk handle belongs to. */
  segmentOf(chunk: number): number {
    return this.seg[this.liveSlot(chunk, 'find the segment of')];
  }

  /**
   * Places `size` bytes aligned to `alignment` in any segment; returns a chunk handle (>= 0) or -1 when
   * no free range of any segment can hold them (exact: a range that fits is always found). A -1 leaves
   * the pool exactly as it was. See SubAllocator.allocate for the arguments.
   */
  allocate(size: number, alignment: number, kind: SubAllocationKind, granularity: number, owner: T): number {
    // The full check only for what the short test does not accept: keeps this function small for V8's inliner.
    if (!isSmallPlacementRequest(size, alignment, kind, granularity))
      checkPlacementRequest(size, alignment, kind, granularity);
    if (size > this.freeTotal) return -1;
    // A split needs up to two new records (padding + tail); refuse rather than overflow the slot space.
    if (this.slotTop < 2 && this.used + 2 > MAX_SLOTS) return -1;
    const own = tlsfClassOf(size);
    // 0. Quick reuse: a parked chunk of exactly this size (see PARK_MAX_SIZE).
    if (own < PARK_CLASSES && this.parkHeads[own] >= 0) {
      const p = this.takeParked(own, size, alignment, kind, owner);
      if (p >= 0) return p;
    }
    const heads = this.heads;
    const freeNext = this.freeNext;

    // Steps 1 and 2 are one loop, so that fitOffset and findClass have one call site each (V8 inlines each
    // call site separately, within one bytecode budget per optimized function).
    // 1. The request's own class: its chunks straddle `size`; the first of OWN_CLASS_SCAN that fits wins
    //    (near-exact fit). Chunks smaller than the request are skipped without working out an offset.
    // 2. Good fit: the smallest non-empty classes above the request's own, whose chunks are all >= size
    //    (tlsfClassAtLeast(size) is `own` or `own + 1`, and step 1 has looked at `own`); alignment or
    //    granularity may still make a chunk too small, so GOOD_FIT_SCAN chunks in all are tried.
    const regSize = this.regSize;
    let k = own;
    let c = heads[own];
    let budget = OWN_CLASS_SCAN;
    let o = -1;
    for (;;) {
      if (c >= 0 && budget > 0) {
        budget--;
        if (regSize[c] >= size) {
          o = this.fitOffset(c, size, alignment, kind, granularity);
          if (o >= 0) break;
        }
        c = freeNext[c];
        continue;
      }
      // The class is done: leaving the own class starts step 2's budget; step 2 stops when it is spent.
      if (k === own) budget = GOOD_FIT_SCAN;
      else if (budget === 0) break;
      k = this.findClass(k + 1);
      if (k < 0) break;
      c = heads[k];
    }
    if (o < 0) return this.allocateSureOrExhaustive(own, size, alignment, kind, granularity, owner);
    return this.take(c, o, size, alignment, kind, granularity, owner);
  }

  /**
   * allocate()'s steps 3 and 4, apart so that the common path stays small enough for V8 to inline its
   * helpers (`own` is the request's own class).
   */
  private allocateSureOrExhaustive(
    own: number,
    size: number,
    alignment: number,
    kind: SubAllocationKind,
    granularity: number,
    owner: T,
  ): number {
    const heads = this.heads;
    const freeNext = this.freeNext;
    let c: number;
    let k: number;
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

    // 4. Before "does not fit": every class from the request's own up holds chunks that may fit
    //    depending on their address (all classes >= sure are empty here). Scanning them all makes the
    //    answer exact; it runs only when no sure-fit range exists, i.e. just before a new block.
    k = this.findClass(own);
    while (k >= 0) {
      for (c = heads[k]; c >= 0; c = freeNext[c]) {
        if (this.regSize[c] >= size) {
          const o = this.fitOffset(c, size, alignment, kind, granularity);
          if (o >= 0) return this.take(c, o, size, alignment, kind, granularity, owner);
        }
      }
      k = this.findClass(k + 1);
    }
    // Exact: parked chunks merged with their free neighbours may make a range that fits.
    if (this.parkedCount > 0) {
      this.unparkAll();
      return this.allocate(size, alignment, kind, granularity, owner);
    }
    return -1;
  }

  /**
   * Quick reuse: the first of PARK_SCAN parked chunks of class `own` whose data is exactly `size` bytes of
   * `kind` at an offset aligned to `alignment` becomes used again in place (its neighbours were placed
   * around it as a used chunk of that kind, so the granularity rule holds); returns its handle, or -1.
   */
  private takeParked(own: number, size: number, alignment: number, kind: number, owner: T): number {
    // Alignments >= 2^31 never reuse a parked chunk (no real request has one).
    if (alignment >= TWO_POW_31) return -1;
    const log2 = 31 - Math.clz32(alignment);
    const regSize = this.regSize;
    const pad = this.pad;
    let c = this.parkHeads[own];
    for (let n = 0; c >= 0 && n < PARK_SCAN; n++, c = this.freeNext[c]) {
      if (
        regSize[c] - pad[c] === size &&
        this.state[c] === STATE_USED + kind &&
        // Aligned: to the chunk's former alignment, a multiple of this one, or else tested (exact, as alignUp).
        (log2 <= this.alignLog2[c] || alignUp(this.regOff[c] + pad[c], alignment) === this.regOff[c] + pad[c])
      ) {
        this.unlinkParked(c, own);
        this.reuses++;
        this.cls[c] = UNLISTED;
        const region = regSize[c];
        const g = this.seg[c];
        this.alignLog2[c] = log2;
        this.setNewOwner(c, owner);
        this.segAllocated[g] += region;
        this.segLive[g]++;
        this.freeTotal -= region;
        this.lastSegment = g;
        const handle = c | (this.gen[c] << SLOT_BITS);
        this.lastHandle = handle;
        return handle;
      }
    }
    return -1;
  }

  /** Parks the used chunk in slot `c`, just freed (its bytes already counted free), in the ring's next place. */
  private park(c: number): void {
    const at = this.parkNext;
    const old = this.parkRing[at];
    if (old >= 0 && this.cls[old] === PARKED && this.parkPos[old] === at) this.unpark(old);
    this.parkRing[at] = c;
    this.parkPos[c] = at;
    this.parkNext = at + 1 === this.parkRing.length ? 0 : at + 1;
    const k = tlsfClassOf(this.regSize[c] - this.pad[c]);
    this.cls[c] = PARKED;
    const h = this.parkHeads[k];
    this.freePrev[c] = -1;
    this.freeNext[c] = h;
    if (h >= 0) this.freePrev[h] = c;
    this.parkHeads[k] = c;
    this.parkedCount++;
  }

  /** Removes parked chunk `c` from the list of class `k` (the class of its data size). */
  private unlinkParked(c: number, k: number): void {
    const p = this.freePrev[c];
    const n = this.freeNext[c];
    if (n >= 0) this.freePrev[n] = p;
    if (p >= 0) this.freeNext[p] = n;
    else this.parkHeads[k] = n;
    this.parkedCount--;
  }

  /** Turns parked chunk `c` into a free range, merged with its free neighbours. */
  private unpark(c: number): void {
    this.unlinkParked(c, tlsfClassOf(this.regSize[c] - this.pad[c]));
    // No longer PARKED, whether `c` stays the free record or is merged away (a dead slot must not look parked).
    this.cls[c] = UNLISTED;
    this.mergeFree(c);
  }

  /** Merges every parked chunk (before anything that needs the free ranges merged). */
  private unparkAll(): void {
    if (this.parkedCount === 0) return;
    const ring = this.parkRing;
    for (let at = 0; at < ring.length; at++) {
      const c = ring[at];
      if (c >= 0 && this.cls[c] === PARKED && this.parkPos[c] === at) this.unpark(c);
      ring[at] = -1;
    }
  }

  /**
   * As allocate(), restricted to segment `s`: the first free range in address order that fits (exact;
   * O(chunks of the segment), for callers that must choose the block themselves).
   */
  allocateIn(
    s: number,
    size: number,
    alignment: number,
    kind: SubAllocationKind,
    granularity: number,
    owner: T,
  ): number {
    checkPlacementRequest(size, alignment, kind, granularity);
    this.checkSegment(s);
    if (this.slotTop < 2 && this.used + 2 > MAX_SLOTS) return -1;
    if (size > this.segSize[s] - this.segAllocated[s]) return -1;
    this.unparkAll();
    for (let c = this.segHead[s]; c >= 0; c = this.physNext[c]) {
      if (this.state[c] !== STATE_FREE || this.regSize[c] < size) continue;
      const o = this.fitOffset(c, size, alignment, kind, granularity);
      if (o >= 0) return this.take(c, o, size, alignment, kind, granularity, owner);
    }
    return -1;
  }

  /**
   * Places `size` bytes with their data at exactly `offset` of segment `s` (see SubAllocator.allocateAt;
   * defragmentation picks the offsets). Walks the segment's chunks: moves are rare, O(chunks) is fine. A
   * -1 leaves the pool exactly as it was.
   */
  allocateAt(
    s: number,
    offset: number,
    size: number,
    alignment: number,
    kind: SubAllocationKind,
    granularity: number,
    owner: T,
  ): number {
    checkPlacementRequest(size, alignment, kind, granularity);
    this.checkSegment(s);
    if (!placementAtMayFit(offset, size, alignment, this.segSize[s]!, this.segAllocated[s]!)) return -1;
    if (this.slotTop < 2 && this.used + 2 > MAX_SLOTS) return -1;
    this.unparkAll();
    // The chunk holding `offset`: it must be free and hold all of [offset, offset + size).
    let c = this.segHead[s];
    while (c >= 0 && this.regOff[c] + this.regSize[c] <= offset) c = this.physNext[c];
    if (c < 0 || this.state[c] !== STATE_FREE) return -1;
    if (offset + size > this.regOff[c] + this.regSize[c]) return -1;
    if (granularity > 1) {
      // A free chunk's neighbours are used (free ranges are merged); the data of `p` ends at its region end.
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
        samePage(offset + size - 1, this.dataStart(n), granularity)
      ) {
        return -1;
      }
    }
    return this.place(c, offset, size, alignment, kind, owner);
  }

  free(chunk: number): void {
    const c = this.liveSlot(chunk, 'free');
    this.releaseUsed(c);
    this.mergeFree(c);
  }

  /**
   * free() for a caller that keeps the owner it placed `chunk` with (the allocator's allocation objects):
   * the slot holding exactly that owner is the whole check (a freed slot holds none; a reused one another),
   * which is cheaper than the handle's five tests. Throws InternalError like free() otherwise.
   */
  freeOwned(chunk: number, owner: T): void {
    const c = chunk & SLOT_MASK;
    const k = this.ownerIndex[c]!;
    if (k < 0 || this.owners[k] !== owner || owner === undefined) notLiveChunk(chunk, 'free');
    this.releaseUsedEntry(c, k);
    if (this.regSize[c] - this.pad[c] <= this.parkMax) this.park(c);
    else this.mergeFree(c);
  }

  /** Counts the live used chunk in slot `c` free and ends its handle (the record stays as it is). */
  private releaseUsed(c: number): void {
    this.releaseUsedEntry(c, this.ownerIndex[c]!);
  }

  /** releaseUsed() of slot `c` whose owner entry `k` the caller has read. */
  private releaseUsedEntry(c: number, k: number): void {
    this.lastHandle = -1;
    const s = this.regSize[c];
    const g = this.seg[c];
    this.segAllocated[g] -= s;
    this.segLive[g]--;
    this.freeTotal += s;
    this.owners[k] = undefined;
    this.ownerStack[this.ownerTop++] = k;
    this.ownerIndex[c] = -1;
    this.gen[c] = (this.gen[c] + 1) & GEN_MASK;
  }

  /** Turns the released (or parked) chunk in slot `c` into a free range merged with its free neighbours. */
  private mergeFree(c: number): void {
    const s = this.regSize[c];

    // Merge by growing a free neighbour in place: when it keeps its class, its list position and the bitmaps
    // need no update at all (on workload-a's mix of sizes most grown ranges change class). One fileFree()
    // call site for all cases (V8 inlines per call site, within one budget per optimized function).
    const state = this.state;
    const prev = this.physPrev[c];
    const next = this.physNext[c];
    const prevFree = prev >= 0 && state[prev] === STATE_FREE;
    const nextFree = next >= 0 && state[next] === STATE_FREE;
    /** The record that holds the merged free range. */
    let f = c;
    if (prevFree) {
      if (nextFree) this.absorbNext(prev, next);
      f = prev;
    } else if (nextFree) {
      this.regOff[next] = this.regOff[c];
      f = next;
    }
    let merged = s;
    if (f === c) {
      state[c] = STATE_FREE;
      this.cls[c] = UNLISTED;
    } else {
      merged += this.regSize[f];
      this.release(c);
    }
    this.fileFree(f, merged);
  }

  /**
   * freeSlot()'s rare case (both neighbours free: 2.5 % of workload-a's frees): free chunk `prev` takes the
   * bytes of the free chunk `next` after it, still filed under its old class (fileFree refiles it).
   */
  private absorbNext(prev: number, next: number): void {
    this.regSize[prev] += this.regSize[next];
    this.removeFree(next);
    this.release(next);
  }

  offsetOf(chunk: number): number {
    const c = this.liveSlot(chunk, 'read the offset of');
    return this.regOff[c] + this.pad[c];
  }

  owner(chunk: number): T {
    return this.owners[this.ownerIndex[this.liveSlot(chunk, 'read the owner of')]!] as T;
  }

  setOwner(chunk: number, owner: T): void {
    // The chunk just placed (the allocator names its owner right after placing it) needs no handle check.
    if (chunk === this.lastHandle) this.owners[this.lastEntry] = owner;
    else this.owners[this.ownerIndex[this.liveSlot(chunk, 'set the owner of')]!] = owner;
  }

  /** Live chunks of segment `s` in address order. */
  chunks(s: number): ChunkInfo<T>[] {
    this.checkSegment(s);
    const out: ChunkInfo<T>[] = [];
    for (let c = this.segHead[s]; c >= 0; c = this.physNext[c]) {
      const st = this.state[c];
      if (st < STATE_USED || this.cls[c] === PARKED) continue;
      out.push({
        chunk: c | (this.gen[c] << SLOT_BITS),
        regionOffset: this.regOff[c],
        regionSize: this.regSize[c],
        offset: this.regOff[c] + this.pad[c],
        size: this.regSize[c] - this.pad[c],
        alignment: POW2[this.alignLog2[c]],
        kind: (st - STATE_USED) as SubAllocationKind,
        owner: this.owners[this.ownerIndex[c]!] as T,
      });
    }
    return out;
  }

  /**
   * Free ranges of segment `s` in address order, as [offset, size] pairs in bytes, as they are once merged:
   * parked chunks count as free and adjacent free or parked chunks as one range (nothing is changed).
   */
  freeRanges(s: number): Array<readonly [number, number]> {
    this.checkSegment(s);
    const out: Array<readonly [number, number]> = [];
    let start = -1;
    let bytes = 0;
    for (let c = this.segHead[s]; c >= 0; c = this.physNext[c]) {
      if (this.state[c] === STATE_FREE || this.cls[c] === PARKED) {
        if (start < 0) {
          start = this.regOff[c];
          bytes = 0;
        }
        bytes += this.regSize[c];
      } else if (start >= 0) {
        out.push([start, bytes]);
        start = -1;
      }
    }
    if (start >= 0) out.push([start, bytes]);
    return out;
  }

  /** Bytes of the largest free range of segment `s`, merged as in freeRanges() (walks its chunks). */
  largestFreeRange(s: number): number {
    let best = 0;
    for (const [, bytes] of this.freeRanges(s)) if (bytes > best) best = bytes;
    return best;
  }

  /**
   * Bytes of the largest free range of all segments, merged as in freeRanges(): O(1) in the segment count
   * while no chunk is parked, else a walk of every segment.
   */
  largestFreeRangeOverall(): number {
    if (this.parkedCount > 0) {
      let best = 0;
      for (let s = 0; s < this.segUsed; s++) {
        if (this.segHead[s] >= 0) best = Math.max(best, this.largestFreeRange(s));
      }
      return best;
    }
    const top = this.topClass();
    if (top < 0) return 0;
    let best = 0;
    for (let c = this.heads[top]; c >= 0; c = this.freeNext[c]) {
      if (this.regSize[c] > best) best = this.regSize[c];
    }
    return best;
  }

  private fail(what: string): never {
    throw new InternalError(`TLSF sub-allocator invariant broken: ${what}.`);
  }

  /** Checks the invariants of segment `s`'s chunks; throws InternalError naming the first broken one. */
  validateSegment(s: number, granularity: number): void {
    this.checkSegment(s);
    const size = this.segSize[s];
    let expect = 0;
    let prev = -1;
    let allocated = 0;
    let live = 0;
    let records = 0;
    let lastUsed = -1;
    for (let c = this.segHead[s]; c >= 0; c = this.physNext[c]) {
      if (++records > this.used) this.fail('the physical chunk list has a cycle');
      const st = this.state[c];
      if (st === STATE_DEAD) this.fail(`dead slot ${c} is linked in the physical chunk list`);
      if (this.seg[c] !== s) this.fail(`chunk ${c} of segment ${this.seg[c]} is linked in segment ${s}`);
      if (this.physPrev[c] !== prev) this.fail(`chunk ${c} has a wrong previous-neighbour link`);
      const off = this.regOff[c];
      const sz = this.regSize[c];
      if (off !== expect)
        this.fail(`chunk ${c} starts at ${off}, expected ${expect} (chunks out of order or overlapping)`);
      if (!(sz > 0) || !Number.isSafeInteger(sz)) this.fail(`chunk ${c} has size ${sz}`);
      expect = off + sz;
      if (expect > size) this.fail(`chunk ${c} ends at ${expect}, beyond the block size ${size}`);
      if (st === STATE_FREE) {
        if (prev >= 0 && this.state[prev] === STATE_FREE)
          this.fail(`free chunks ${prev} and ${c} are adjacent (unmerged)`);
        if (this.cls[c] !== tlsfClassOf(sz))
          this.fail(`free chunk ${c} of ${sz} bytes is filed under class ${this.cls[c]}`);
      } else {
        // A parked chunk is checked as the used chunk it was (its neighbours were placed around it), but its
        // bytes count free.
        const parked = this.cls[c] === PARKED;
        const p = this.pad[c];
        const data = off + p;
        const req = sz - p;
        const al = POW2[this.alignLog2[c]];
        if (p >= MIN_PAD_SPLIT)
          this.fail(`chunk ${c} keeps ${p} bytes of padding that should have been a free range`);
        if (!(req > 0)) this.fail(`chunk ${c} data [${data}, +${req}) is not the tail of its region`);
        if (data % al !== 0) this.fail(`chunk ${c} data offset ${data} is not aligned to ${al}`);
        if (lastUsed >= 0 && granularity > 1 && this.state[lastUsed] !== st) {
          const lastEnd = this.regOff[lastUsed] + this.regSize[lastUsed] - 1;
          if (samePage(lastEnd, data, granularity)) {
            this.fail(
              `chunks ${lastUsed} and ${c} of different kinds share a ${granularity}-byte granularity page`,
            );
          }
        }
        lastUsed = c;
        if (!parked) {
          allocated += sz;
          live++;
        }
      }
      prev = c;
    }
    if (expect !== size) this.fail(`chunks cover [0, ${expect}) instead of [0, ${size})`);
    if (allocated !== this.segAllocated[s])
      this.fail(`allocatedBytes is ${this.segAllocated[s]}, chunks hold ${allocated}`);
    if (live !== this.segLive[s]) this.fail(`chunkCount is ${this.segLive[s]}, ${live} chunks are live`);
  }

  /**
   * Checks what all segments share: the class index (every list entry is a free chunk of that class,
   * lists well linked, bitmaps agree), the free byte counter and the record count.
   */
  validateIndex(): void {
    /** 1 for each owner-table entry a live chunk holds. */
    const ownerEntries = new Uint8Array(this.ownersUsed);
    let liveChunks = 0;
    let records = 0;
    let freeCount = 0;
    let freeBytes = 0;
    let parked = 0;
    let segments = 0;
    for (let s = 0; s < this.segUsed; s++) {
      if (this.segHead[s] < 0) continue;
      segments++;
      for (let c = this.segHead[s]; c >= 0; c = this.physNext[c]) {
        if (++records > this.used) this.fail('the physical chunk lists have a cycle');
        const live = this.state[c] !== STATE_FREE && this.cls[c] !== PARKED;
        const k = this.ownerIndex[c]!;
        if (live) {
          if (!(k >= 0 && k < this.ownersUsed)) this.fail(`live chunk ${c} has owner entry ${k}`);
          if (ownerEntries[k]) this.fail(`owner entry ${k} is shared by two live chunks`);
          ownerEntries[k] = 1;
          liveChunks++;
        } else if (k !== -1) {
          this.fail(`chunk ${c}, free or parked, still has owner entry ${k}`);
        }
        if (this.state[c] === STATE_FREE) {
          freeCount++;
          freeBytes += this.regSize[c];
        } else if (this.cls[c] === PARKED) {
          parked++;
          freeBytes += this.regSize[c];
        }
      }
    }
    if (liveChunks + this.ownerTop !== this.ownersUsed)
      this.fail(`${liveChunks} live chunks + ${this.ownerTop} free owner entries != ${this.ownersUsed}`);
    for (let t = 0; t < this.ownerTop; t++) {
      const k = this.ownerStack[t]!;
      if (ownerEntries[k] || this.owners[k] !== undefined)
        this.fail(`owner entry ${k} is both free and in use`);
    }
    this.validateParked(parked);
    if (segments !== this.liveSegments)
      this.fail(`${segments} segments linked, ${this.liveSegments} counted`);
    if (segments + this.segFreeIds.length !== this.segUsed)
      this.fail(`${segments} segments + ${this.segFreeIds.length} free ids != ${this.segUsed}`);
    if (freeBytes !== this.freeTotal)
      this.fail(`free byte counter is ${this.freeTotal}, free chunks hold ${freeBytes}`);
    if (records + this.slotTop !== this.used)
      this.fail(`${records} records + ${this.slotTop} pooled slots != ${this.used}`);
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
          this.fail(`bitmap bit of class ${base + sl} disagrees with its list`);
        let p = -1;
        for (let c = h; c >= 0; c = this.freeNext[c]) {
          if (++listed > freeCount)
            this.fail(`class lists hold more entries than the ${freeCount} free chunks`);
          if (this.state[c] !== STATE_FREE)
            this.fail(`class ${base + sl} lists chunk ${c}, which is not free`);
          if (this.cls[c] !== base + sl)
            this.fail(`chunk ${c} is listed under class ${base + sl} but records ${this.cls[c]}`);
          if (this.freePrev[c] !== p) this.fail(`chunk ${c} has a wrong free-list back link`);
          p = c;
        }
      }
      if (mask !== 0) {
        if (fl < 32) flLo |= 1 << fl;
        else flHi |= 1 << (fl - 32);
      }
    }
    if (listed !== freeCount) this.fail(`class lists hold ${listed} entries, ${freeCount} chunks are free`);
    if (flLo !== this.flMask[0] || flHi !== this.flMask[1])
      this.fail('first-level bitmap disagrees with the second-level bitmaps');
  }

  /**
   * Checks quick reuse's structures against the `linked` parked chunks found in the physical lists: every
   * list entry is a parked used chunk of that class (its data size's), lists well linked, and each parked
   * chunk's ring place holds it.
   */
  private validateParked(linked: number): void {
    if (this.parkedCount !== linked) this.fail(`${linked} parked chunks linked, ${this.parkedCount} counted`);
    let listed = 0;
    for (let k = 0; k < PARK_CLASSES; k++) {
      let p = -1;
      for (let c = this.parkHeads[k]; c >= 0; c = this.freeNext[c]) {
        if (++listed > linked) this.fail(`parked lists hold more entries than the ${linked} parked chunks`);
        if (this.cls[c] !== PARKED || this.state[c] < STATE_USED)
          this.fail(`parked list ${k} holds chunk ${c}, which is not parked`);
        if (tlsfClassOf(this.regSize[c] - this.pad[c]) !== k)
          this.fail(`parked chunk ${c} is listed under class ${k}, not its data size's`);
        if (this.regSize[c] - this.pad[c] > PARK_MAX_SIZE) this.fail(`parked chunk ${c} is too large`);
        if (this.freePrev[c] !== p) this.fail(`parked chunk ${c} has a wrong back link`);
        // Its ring place holds it (so two parked chunks never share a place, and eviction finds each one).
        if (this.parkRing[this.parkPos[c]] !== c) this.fail(`parked chunk ${c} is not at its ring place`);
        p = c;
      }
    }
    if (listed !== linked) this.fail(`parked lists hold ${listed} entries, ${linked} chunks are parked`);
  }

  // ---- internals -------------------------------------------------------------------------------

  private checkSegment(s: number): void {
    if (!(s >= 0 && s < this.segUsed && this.segHead[s] >= 0)) {
      throw new InternalError(`TLSF segment ${s} does not exist.`);
    }
  }

  /** Byte offset where the data of used chunk `n` starts. */
  private dataStart(n: number): number {
    return this.regOff[n] + this.pad[n];
  }

  /** Where `size` bytes would start in free chunk `c`, or -1 when they do not fit there. */
  private fitOffset(c: number, size: number, alignment: number, kind: number, granularity: number): number {
    const start = this.regOff[c];
    let o = alignment > 1 ? alignUp(start, alignment) : start;
    // With alignment >= granularity, `o` starts a page, so the previous neighbour (ending before it) cannot
    // share that page: no need to look (99 % of workload-a's requests on lavapipe's 64-byte granularity).
    if (granularity > alignment) o = this.pastPreviousPage(c, o, kind, granularity);
    const dataEnd = o + size;
    if (dataEnd > start + this.regSize[c]) return -1;
    if (granularity > 1) {
      // A free chunk's neighbours are used (free ranges are merged): the next one must not share the data's
      // last page unless it is of the same kind.
      const n = this.physNext[c];
      if (
        n >= 0 &&
        this.state[n] !== STATE_USED + kind &&
        samePage(dataEnd - 1, this.dataStart(n), granularity)
      ) {
        return -1;
      }
    }
    return o;
  }

  /**
   * fitOffset()'s step for granularity > alignment (apart: rare, and fitOffset is inlined into allocate()):
   * `o`, or `o` moved up to the next page when the previous neighbour of free chunk `c` is of the other kind
   * and its data ends on o's page (the data of a used chunk ends at its region end).
   */
  private pastPreviousPage(c: number, o: number, kind: number, granularity: number): number {
    const p = this.physPrev[c];
    if (
      p >= 0 &&
      this.state[p] !== STATE_USED + kind &&
      samePage(this.regOff[p] + this.regSize[p] - 1, o, granularity)
    ) {
      return alignUp(o, granularity);
    }
    return o;
  }

  /**
   * Where a large request (at least its segment's segBackMin bytes) goes in free chunk `c`, given `o`, its
   * front offset that fits: the highest aligned offset that still ends inside the chunk, unless that end
   * shares a page with a next neighbour of the other kind. Moving up never creates a conflict with the
   * previous neighbour.
   */
  private backOffset(
    c: number,
    o: number,
    size: number,
    alignment: number,
    kind: number,
    granularity: number,
  ): number {
    const end = this.regOff[c] + this.regSize[c];
    const b = Math.floor((end - size) / alignment) * alignment;
    if (b <= o) return o;
    if (granularity > 1) {
      const n = this.physNext[c];
      if (
        n >= 0 &&
        this.state[n] !== STATE_USED + kind &&
        samePage(b + size - 1, this.dataStart(n), granularity)
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
    // Most requests are below the segment's back-placement size: no call to backOffset().
    const at =
      size < this.segBackMin[this.seg[c]] ? o : this.backOffset(c, o, size, alignment, kind, granularity);
    return this.place(c, at, size, alignment, kind, owner);
  }

  /** Turns free chunk `c` into a used chunk whose data is [o, o + size); returns its handle. */
  private place(c: number, o: number, size: number, alignment: number, kind: number, owner: T): number {
    const start = this.regOff[c];
    const end = start + this.regSize[c];
    const dataEnd = o + size;
    const tail = end - dataEnd;
    const g = this.seg[c];
    let u: number;
    let regionStart = start;
    if (o - start >= MIN_PAD_SPLIT) {
      u = this.splitPadding(c, o, dataEnd, tail);
      regionStart = o;
    } else {
      // With a tail, the data (with its small padding) gets a new record in front and `c` stays free as the
      // tail, refiled only when its class changes (fileFree's rule, written out so that removeFree and
      // insertFreeAt have one call site each here); without one, `c` becomes the data.
      const k = tail > 0 ? tlsfClassOf(tail) : UNLISTED;
      const refile = k !== this.cls[c];
      if (refile) this.removeFree(c);
      if (tail > 0) {
        u = this.takeSlot();
        this.linkBefore(c, u);
        this.regOff[c] = dataEnd;
        this.regSize[c] = tail;
        if (refile) this.insertFreeAt(c, k);
      } else {
        u = c;
      }
    }
    const region = dataEnd - regionStart;
    this.regOff[u] = regionStart;
    this.regSize[u] = region;
    this.pad[u] = o - regionStart;
    // Alignments below 2^31 (all but absurd ones) in one instruction; log2Floor stays out of place()'s inlining budget.
    this.alignLog2[u] = alignment < TWO_POW_31 ? 31 - Math.clz32(alignment) : log2Floor(alignment);
    // seg[u] is g already: u is c, or linkBefore/linkAfter gave it c's segment.
    this.state[u] = STATE_USED + kind;
    // The owner-table entry (setNewOwner by hand: place() is at V8's inlining budget).
    const k = this.ownerTop > 0 ? this.ownerStack[--this.ownerTop]! : this.newOwnerEntry();
    this.owners[k] = owner;
    this.ownerIndex[u] = k;
    this.lastEntry = k;
    this.segAllocated[g] += region;
    this.segLive[g]++;
    this.freeTotal -= region;
    this.lastSegment = g;
    const handle = u | (this.gen[u] << SLOT_BITS);
    this.lastHandle = handle;
    return handle;
  }

  /**
   * place()'s rare case (1–2 % of workload-a's placements), apart to keep place() small for V8's inliner:
   * free chunk `c` stays free as the padding in front of `o`; the data gets a new record after it (returned,
   * not yet filled in), the `tail` bytes from `dataEnd` (bytes) another, free.
   */
  private splitPadding(c: number, o: number, dataEnd: number, tail: number): number {
    const u = this.takeSlot();
    this.linkAfter(c, u);
    if (tail > 0) {
      const t = this.takeSlot();
      this.linkAfter(u, t);
      this.regOff[t] = dataEnd;
      this.regSize[t] = tail;
      this.state[t] = STATE_FREE;
      this.insertFree(t);
    }
    this.fileFree(c, o - this.regOff[c]);
    return u;
  }

  /**
   * Sets the size of free chunk `c` and files it under its class: moved to another class list only when
   * its class changes; `cls[c]` UNLISTED (a chunk just freed) is in no list yet.
   */
  private fileFree(c: number, size: number): void {
    this.regSize[c] = size;
    const k = tlsfClassOf(size);
    const old = this.cls[c];
    if (k !== old) {
      if (old !== UNLISTED) this.removeFree(c);
      this.insertFreeAt(c, k);
    }
  }

  /** Inserts record `n` right before `c` in the physical list. */
  private linkBefore(c: number, n: number): void {
    const before = this.physPrev[c];
    this.physNext[n] = c;
    this.physPrev[n] = before;
    this.physPrev[c] = n;
    this.seg[n] = this.seg[c];
    if (before >= 0) this.physNext[before] = n;
    else this.segHead[this.seg[c]] = n;
  }

  /** Unlinks record `c` from the physical list and returns its slot to the pool. */
  private release(c: number): void {
    const before = this.physPrev[c];
    const after = this.physNext[c];
    if (before >= 0) this.physNext[before] = after;
    else this.segHead[this.seg[c]] = after;
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
    this.seg[n] = this.seg[c];
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
    this.flMask[fl >> 5] |= 1 << fl;
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
    if (m === 0) this.flMask[fl >> 5] &= ~(1 << fl);
  }

  /**
   * The first non-empty class >= k, or -1. One exit and the trailing-zero counts written out (x & -x keeps
   * the lowest set bit): called on most allocations, where a small helper was left as a call by V8.
   */
  private findClass(k: number): number {
    if (k >= CLASS_COUNT) return -1;
    let fl = k >> SL_LOG2;
    let sm = this.slMask[fl] & (-1 << (k & (SL_COUNT - 1)));
    if (sm === 0) {
      // No class >= k in k's first-level class: the lowest non-empty first-level class above it.
      // fl + 1 <= FL_COUNT = 49, so its word is 0 or 1; a miss in word 0 goes on to all of word 1.
      fl++;
      let w = fl >> 5;
      let m = this.flMask[w] & (-1 << fl);
      if (m === 0 && w === 0) {
        w = 1;
        m = this.flMask[1];
      }
      if (m === 0) return -1;
      fl = (w << 5) + 31 - Math.clz32(m & -m);
      sm = this.slMask[fl];
    }
    return (fl << SL_LOG2) + 31 - Math.clz32(sm & -sm);
  }

  /** The highest non-empty class, or -1. */
  private topClass(): number {
    let fl: number;
    if (this.flMask[1] !== 0) fl = 63 - Math.clz32(this.flMask[1]);
    else if (this.flMask[0] !== 0) fl = 31 - Math.clz32(this.flMask[0]);
    else return -1;
    return (fl << SL_LOG2) + 31 - Math.clz32(this.slMask[fl]);
  }

  /** The slot of a live used chunk, or throws naming the operation. */
  private liveSlot(chunk: number, op: string): number {
    const c = chunk & SLOT_MASK;
    // `(chunk | 0) === chunk` and `chunk >= 0`: an integer in [0, 2^31) (NaN, fractions and larger values fail).
    if (
      (chunk | 0) !== chunk ||
      chunk < 0 ||
      c >= this.used ||
      this.state[c] < STATE_USED ||
      chunk >>> SLOT_BITS !== this.gen[c]
    ) {
      notLiveChunk(chunk, op);
    }
    return c;
  }

  /** Gives the chunk just made used in slot `c` an owner-table entry holding `owner`. */
  private setNewOwner(c: number, owner: T): void {
    const k = this.ownerTop > 0 ? this.ownerStack[--this.ownerTop]! : this.newOwnerEntry();
    this.owners[k] = owner;
    this.ownerIndex[c] = k;
    this.lastEntry = k;
  }

  /** An owner-table entry never handed out, growing the table by a quarter when it is full (apart: rare). */
  private newOwnerEntry(): number {
    const capacity = this.owners.length;
    if (this.ownersUsed === capacity) {
      const grown = capacity + Math.max(SLOT_GROWTH_MIN, capacity >> 2);
      const owners = new Array<T | undefined>(grown).fill(undefined);
      for (let k = 0; k < capacity; k++) owners[k] = this.owners[k];
      this.owners = owners;
      const stack = new Int32Array(grown);
      stack.set(this.ownerStack);
      this.ownerStack = stack;
    }
    return this.ownersUsed++;
  }

  /** A free record slot: a released one when there is one (the common case), else a new one. */
  private takeSlot(): number {
    return this.slotTop > 0 ? this.slotStack[--this.slotTop] : this.newSlot();
  }

  /** takeSlot() with no released slot to reuse (apart: keeps takeSlot small for V8's inliner). */
  private newSlot(): number {
    if (this.used === this.capacity) {
      this.grow(Math.min(MAX_SLOTS, this.capacity + Math.max(SLOT_GROWTH_MIN, this.capacity >> 2)));
    }
    return this.used++;
  }

  private grow(capacity: number): void {
    // The record arrays are views of one ArrayBuffer, largest elements first (so every view is aligned):
    // one buffer object per growth instead of 14 (about 88 bytes of JS heap each, and one ArrayBuffer
    // extension each for the scavenger to sweep).
    const views = new ViewCarver(capacity, RECORD_BYTES);
    this.regOff = views.f64(this.regOff);
    this.regSize = views.f64(this.regSize);
    this.physPrev = views.i32(this.physPrev);
    this.physNext = views.i32(this.physNext);
    this.ownerIndex = views.i32(this.ownerIndex, -1);
    this.freePrev = views.i32(this.freePrev);
    this.freeNext = views.i32(this.freeNext);
    this.slotStack = views.i32(this.slotStack);
    this.parkPos = views.i32(this.parkPos);
    this.cls = views.i16(this.cls);
    this.seg = views.u16(this.seg);
    this.pad = views.u8(this.pad);
    this.alignLog2 = views.u8(this.alignLog2);
    this.state = views.u8(this.state);
    this.gen = views.u8(this.gen);
    views.done();
    this.capacity = capacity;
  }

  private growSegments(capacity: number): void {
    const views = new ViewCarver(capacity, SEGMENT_BYTES);
    this.segSize = views.f64(this.segSize);
    this.segAllocated = views.f64(this.segAllocated);
    this.segBackMin = views.f64(this.segBackMin);
    this.segHead = views.i32(this.segHead, -1);
    this.segLive = views.i32(this.segLive);
    views.done();
    this.segCapacity = capacity;
  }
}

/** Bytes of typed arrays per chunk record slot: 2 Float64, 7 Int32, 1 Int16, 1 Uint16, 4 Uint8 (TlsfPool.grow). */
const RECORD_BYTES = 2 * 8 + 7 * 4 + 2 + 2 + 4;
/** Bytes of typed arrays per segment slot: 3 Float64, 2 Int32 (TlsfPool.growSegments). */
const SEGMENT_BYTES = 3 * 8 + 2 * 4;

/**
 * Carves typed arrays of `count` elements each out of one ArrayBuffer of `count * bytesPerSlot` bytes, in
 * the order asked; each copies the old array of that name into its front. Asked largest elements first,
 * every view starts at a multiple of its element size (count * 8 is a multiple of 4, 2 and 1, and so on).
 */
class ViewCarver {
  private readonly buffer: ArrayBuffer;
  private at = 0;
  constructor(
    private readonly count: number,
    bytesPerSlot: number,
  ) {
    this.buffer = new ArrayBuffer(count * bytesPerSlot);
  }
  private advance(bytesPerElement: number): number {
    const at = this.at;
    this.at += bytesPerElement * this.count;
    return at;
  }
  f64(old: Float64Array): Float64Array<ArrayBuffer> {
    const view = new Float64Array(this.buffer, this.advance(8), this.count);
    view.set(old);
    return view;
  }
  /** `fill`: the value of the new elements past the old ones (0 otherwise). */
  i32(old: Int32Array, fill = 0): Int32Array<ArrayBuffer> {
    const view = new Int32Array(this.buffer, this.advance(4), this.count);
    view.set(old);
    if (fill !== 0) view.fill(fill, old.length);
    return view;
  }
  i16(old: Int16Array): Int16Array<ArrayBuffer> {
    const view = new Int16Array(this.buffer, this.advance(2), this.count);
    view.set(old);
    return view;
  }
  u16(old: Uint16Array): Uint16Array<ArrayBuffer> {
    const view = new Uint16Array(this.buffer, this.advance(2), this.count);
    view.set(old);
    return view;
  }
  u8(old: Uint8Array): Uint8Array<ArrayBuffer> {
    const view = new Uint8Array(this.buffer, this.advance(1), this.count);
    view.set(old);
    return view;
  }
  /** Checks that the views took the whole buffer (the slot sizes above match the views asked). */
  done(): void {
    if (this.at !== this.buffer.byteLength) {
      throw new InternalError(`TLSF record views took ${this.at} of ${this.buffer.byteLength} bytes.`);
    }
  }
}

/** One segment of a pool behind the SubAllocator contract (the allocator's view of one block). */
export class TlsfSegment<T> implements SubAllocator<T> {
  constructor(
    readonly pool: TlsfPool<T>,
    readonly segment: number,
  ) {}
  get size(): number {
    return this.pool.segmentSize(this.segment);
  }
  get allocatedBytes(): number {
    return this.pool.segmentAllocated(this.segment);
  }
  get chunkCount(): number {
    return this.pool.segmentChunkCount(this.segment);
  }
  allocate(size: number, alignment: number, kind: SubAllocationKind, granularity: number, owner: T): number {
    return this.pool.allocateIn(this.segment, size, alignment, kind, granularity, owner);
  }
  allocateAt(
    offset: number,
    size: number,
    alignment: number,
    kind: SubAllocationKind,
    granularity: number,
    owner: T,
  ): number {
    return this.pool.allocateAt(this.segment, offset, size, alignment, kind, granularity, owner);
  }
  free(chunk: number): void {
    this.own(chunk, 'free');
    this.pool.free(chunk);
  }
  offsetOf(chunk: number): number {
    return this.pool.offsetOf(this.own(chunk, 'read the offset of'));
  }
  owner(chunk: number): T {
    return this.pool.owner(this.own(chunk, 'read the owner of'));
  }
  setOwner(chunk: number, owner: T): void {
    this.pool.setOwner(this.own(chunk, 'set the owner of'), owner);
  }
  chunks(): ChunkInfo<T>[] {
    return this.pool.chunks(this.segment);
  }
  freeRanges(): Array<readonly [number, number]> {
    return this.pool.freeRanges(this.segment);
  }
  largestFreeRange(): number {
    return this.pool.largestFreeRange(this.segment);
  }
  /** This segment's chunks only; the pool's shared index is checked by pool.validateIndex(). */
  validate(granularity: number): void {
    this.pool.validateSegment(this.segment, granularity);
  }
  private own(chunk: number, op: string): number {
    if (this.pool.segmentOf(chunk) !== this.segment) {
      throw new InternalError(`Cannot ${op} chunk ${chunk}: it belongs to another block.`);
    }
    return chunk;
  }
}

/** A TLSF sub-allocator of one block: a pool of one segment. */
export class TlsfSubAllocator<T> implements SubAllocator<T> {
  readonly size: number;
  /** The pool of its one segment (0); protected for views that free through freeOwned (tests of quick reuse). */
  protected readonly pool: TlsfPool<T>;
  constructor(size: number, options: TlsfOptions = {}) {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new InternalError(
        `TLSF sub-allocator size must be a positive safe integer of bytes, got ${size}.`,
      );
    }
    this.size = size;
    this.pool = new TlsfPool<T>(options);
    this.pool.addSegment(size);
  }
  get allocatedBytes(): number {
    return this.pool.segmentAllocated(0);
  }
  get chunkCount(): number {
    return this.pool.segmentChunkCount(0);
  }
  allocate(size: number, alignment: number, kind: SubAllocationKind, granularity: number, owner: T): number {
    return this.pool.allocate(size, alignment, kind, granularity, owner);
  }
  allocateAt(
    offset: number,
    size: number,
    alignment: number,
    kind: SubAllocationKind,
    granularity: number,
    owner: T,
  ): number {
    return this.pool.allocateAt(0, offset, size, alignment, kind, granularity, owner);
  }
  free(chunk: number): void {
    this.pool.free(chunk);
  }
  offsetOf(chunk: number): number {
    return this.pool.offsetOf(chunk);
  }
  owner(chunk: number): T {
    return this.pool.owner(chunk);
  }
  setOwner(chunk: number, owner: T): void {
    this.pool.setOwner(chunk, owner);
  }
  chunks(): ChunkInfo<T>[] {
    return this.pool.chunks(0);
  }
  freeRanges(): Array<readonly [number, number]> {
    return this.pool.freeRanges(0);
  }
  largestFreeRange(): number {
    return this.pool.largestFreeRangeOverall();
  }
  validate(granularity: number): void {
    this.pool.validateSegment(0, granularity);
    this.pool.validateIndex();
  }
}

/** liveSlot()'s error, built here rather than in every caller's inlined copy of liveSlot. */
function notLiveChunk(chunk: number, op: string): never {
  throw new InternalError(`Cannot ${op} chunk ${chunk}: it is not a live chunk of this block.`);
}

export function createTlsfSubAllocator<T>(size: number, options?: TlsfOptions): SubAllocator<T> {
  return new TlsfSubAllocator<T>(size, options);
}
