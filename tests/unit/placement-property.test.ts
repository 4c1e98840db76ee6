// Property tests of both placement strategies: random allocate/free sequences with validate() after
// every operation and an independent shadow model of the live chunks (no overlap, aligned data inside
// the block, no linear/non-linear page sharing, -1 leaves the state unchanged and is never returned when
// some free range surely fits). Sequences are lists of readable op strings, so a failure prints the
// shrunk case, e.g. { header: "block 4096 gran 1024 back default", ops: ["a 100 @16 L", "a 50 @1 N", "f 0"] }:
//   "a SIZE @ALIGN L|N" allocates (L = linear, N = non-linear), "f K" frees the (K mod live)-th live chunk,
//   "r K" asks again for the size, alignment and kind of the (K mod 16)-th most recently freed chunk;
//   "back X" is TLSF's threshold for placing large requests at the end of a free range (freelist ignores it),
//   "ring R" the park ring of the "tlsf quick reuse" runs (a pool freed through freeOwned, as the allocator
//   frees, so that freed chunks of <= 64 KiB are parked and taken back by "r" requests).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createSubAllocator, TlsfSubAllocator } from '../../allocator/placement/index.ts';
import type { SubAllocationKind, SubAllocator } from '../../allocator/placement/index.ts';
import type { PlacementStrategyName } from '../../allocator/types.ts';

interface Live {
  readonly handle: number;
  readonly offset: number;
  readonly size: number;
  readonly alignment: number;
  readonly kind: SubAllocationKind;
  readonly owner: number;
  /** The last step at which chunks() reported this chunk. */
  seen: number;
}

/** TLSF freed the allocator's way (freeOwned), which parks small chunks for quick reuse. */
class ParkingTlsf extends TlsfSubAllocator<number> {
  override free(chunk: number): void {
    this.pool.freeOwned(chunk, this.pool.owner(chunk));
  }
  get quickReuses(): number {
    return this.pool.quickReuses;
  }
}

/** Placements the quick reuse runs made from parked chunks (they must make some, else they prove nothing). */
let quickReuses = 0;

/** The strategies under test: the two placement strategies, and tlsf with quick reuse. */
type Variant = PlacementStrategyName | 'tlsf quick reuse';

function page(v: number, g: number): number {
  return Math.floor(v / g);
}

/** Runs one sequence; throws (failing the property) on the first broken rule. */
/** Throws (failing the property) with the step that broke a rule. Callers test first: this runs ~1M times. */
function fail(where: number, what: string): never {
  throw new Error(`step ${where}: ${what}`);
}

/** Runs one sequence; throws on the first broken rule. */
function runSequence(strategy: Variant, header: string, ops: readonly string[]): void {
  const [, blockText, , granText, , backText, , ringText] = header.split(' ');
  if (backText === undefined) throw new Error(`Malformed case header "${header}".`);
  const blockSize = Number(blockText);
  const gran = Number(granText);
  // "back default" keeps TLSF's own threshold for placing large requests at the end of a free range.
  const back = backText === 'default' ? {} : { backPlacementMin: Number(backText) };
  const sa: SubAllocator<number> =
    strategy === 'tlsf quick reuse'
      ? new ParkingTlsf(blockSize, { ...back, parkRingSize: Number(ringText ?? 4096) })
      : strategy === 'tlsf' && backText !== 'default'
        ? new TlsfSubAllocator<number>(blockSize, back)
        : createSubAllocator<number>(strategy, blockSize);
  /** The most recently freed chunks' requests, newest first (for "r"). */
  const freed: string[] = [];
  const live: Live[] = [];
  const byOwner = new Map<number, Live>();
  let nextOwner = 1;
  for (let step = 0; step < ops.length; step++) {
    let op = ops[step];
    if (op.startsWith('r ')) {
      if (freed.length === 0) continue;
      op = freed[Number(op.slice(2)) % freed.length];
    }
    const f = op.split(' ');
    const where = step; // formatted only on failure
    if (f[0] === 'f') {
      if (live.length === 0) continue;
      const k = Number(f[1]) % live.length;
      const victim = live[k];
      live[k] = live[live.length - 1];
      live.pop();
      byOwner.delete(victim.owner);
      if (sa.owner(victim.handle) !== victim.owner) fail(where, `owner of ${victim.handle} changed`);
      sa.free(victim.handle);
      freed.unshift(`a ${victim.size} @${victim.alignment} ${victim.kind === 0 ? 'L' : 'N'}`);
      if (freed.length > 16) freed.pop();
    } else {
      const size = Number(f[1]);
      const alignment = Number(f[2].slice(1));
      const kind: SubAllocationKind = f[3] === 'L' ? 0 : 1;
      const freeBefore = sa.freeRanges();
      const allocatedBefore = sa.allocatedBytes;
      const owner = nextOwner++;
      const h = sa.allocate(size, alignment, kind, gran, owner);
      if (h < 0) {
        if (h !== -1) fail(where, `allocate returned ${h}`);
        if (JSON.stringify(sa.freeRanges()) !== JSON.stringify(freeBefore)) {
          fail(where, 'a failed allocate changed the free ranges');
        }
        if (sa.allocatedBytes !== allocatedBefore) fail(where, 'a failed allocate changed allocatedBytes');
        // A free range this long fits whatever its neighbours and start are.
        const sure = size + Math.max(alignment, gran) - 1 + (gran > 1 ? gran - 1 : 0);
        let longest = 0;
        for (const r of freeBefore) longest = Math.max(longest, r[1]);
        if (longest >= sure) fail(where, `-1 although a free range of ${longest} bytes surely fits`);
      } else {
        const offset = sa.offsetOf(h);
        if (offset % alignment !== 0) fail(where, `data offset ${offset} is not aligned to ${alignment}`);
        if (!(offset >= 0 && offset + size <= blockSize))
          fail(where, `[${offset}, +${size}) is outside the block`);
        for (const o of live) {
          if (o.handle === h) fail(where, `handle ${h} is already live`);
          const disjoint = offset + size <= o.offset || o.offset + o.size <= offset;
          if (!disjoint) fail(where, `[${offset}, +${size}) overlaps [${o.offset}, +${o.size})`);
          if (gran > 1 && o.kind !== kind) {
            const shared =
              o.offset < offset
                ? page(o.offset + o.size - 1, gran) === page(offset, gran)
                : page(offset + size - 1, gran) === page(o.offset, gran);
            if (shared) fail(where, `[${offset}, +${size}) shares a page with [${o.offset}, +${o.size})`);
          }
        }
        const entry: Live = { handle: h, offset, size, alignment, kind, owner, seen: -1 };
        live.push(entry);
        byOwner.set(owner, entry);
      }
    }
    sa.validate(gran);
    // The chunk list agrees with the shadow model.
    const chunks = sa.chunks();
    if (!(chunks.length === live.length))
      fail(where, `${chunks.length} chunks, the model has ${live.length}`);
    let lastOffset = -1;
    for (const c of chunks) {
      const m = byOwner.get(c.owner);
      const same =
        m !== undefined &&
        m.seen !== step &&
        c.chunk === m.handle &&
        c.offset === m.offset &&
        c.size === m.size &&
        c.kind === m.kind &&
        c.offset > lastOffset;
      if (!same) fail(where, `chunks() reports ${JSON.stringify(c)}, the model has ${JSON.stringify(m)}`);
      m.seen = step;
      lastOffset = c.offset;
    }
  }
  if (sa instanceof ParkingTlsf) quickReuses += sa.quickReuses;
  // Free everything: one free range again.
  for (const o of live) sa.free(o.handle);
  sa.validate(gran);
  expect(sa.freeRanges()).toEqual([[0, blockSize]]);
}

const kindArb = fc.constantFrom('L', 'N');
const pow2 = (max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max }).map((e) => 2 ** e);

/** Small blocks: frequent OOM, fragmentation, merges and granularity conflicts. */
const smallCase = fc.record({
  header: fc
    .tuple(
      fc.constantFrom(4096, 16384, 65536, 1 << 20, 1000, 12345),
      fc.constantFrom(1, 1, 64, 1024, 4096),
      fc.constantFrom('default', '64', '2000', 'Infinity'),
      fc.constantFrom(0, 1, 3, 64),
    )
    .map(([b, g, back, ring]) => `block ${b} gran ${g} back ${back} ring ${ring}`),
  ops: fc.array(
    fc
      .oneof(
        { weight: 5, arbitrary: fc.tuple(fc.integer({ min: 1, max: 300 }), pow2(8), kindArb) },
        { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 20000 }), pow2(12), kindArb) },
        { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 1 << 19 }), pow2(17), kindArb) },
        { weight: 5, arbitrary: fc.nat(1000) },
        { weight: 3, arbitrary: fc.nat(1000).map((k) => `r ${k}`) },
      )
      .map((x) =>
        typeof x === 'string' ? x : typeof x === 'number' ? `f ${x}` : `a ${x[0]} @${x[1]} ${x[2]}`,
      ),
    { minLength: 1, maxLength: 1600, size: 'max' },
  ),
});

/** Huge blocks (up to 2^53 - 1): classes above 2^32, float-exact offsets. */
const hugeCase = fc.record({
  header: fc
    .tuple(
      fc.constantFrom(2 ** 52, 2 ** 52 + 12345, Number.MAX_SAFE_INTEGER, 2 ** 40),
      fc.constantFrom(1, 1024, 2 ** 30),
      fc.constantFrom('default', '1', 'Infinity'),
    )
    .map(([b, g, back]) => `block ${b} gran ${g} back ${back}`),
  ops: fc.array(
    fc
      .oneof(
        { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 2 ** 50 }), pow2(45), kindArb) },
        { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 2 ** 36 }), pow2(20), kindArb) },
        { weight: 3, arbitrary: fc.nat(1000) },
      )
      .map((x) => (typeof x === 'number' ? `f ${x}` : `a ${x[0]} @${x[1]} ${x[2]}`)),
    { minLength: 1, maxLength: 600, size: 'max' },
  ),
});

const strategies: Variant[] = ['tlsf', 'freelist', 'tlsf quick reuse'];

describe.each(strategies)('%s placement under random sequences', (strategy) => {
  test('small blocks: validate() after every op, shadow model holds (>= 400k ops over the runs)', () => {
    let ops = 0;
    // Batches of runs until 400k generated ops: a fixed op count whatever the drawn sequence lengths.
    while (ops < 400_000) {
      fc.assert(
        fc.property(smallCase, ({ header, ops: seq }) => {
          ops += seq.length;
          runSequence(strategy, header, seq);
        }),
        { numRuns: 50 },
      );
    }
    expect(ops).toBeGreaterThanOrEqual(400_000);
    if (strategy === 'tlsf quick reuse') expect(quickReuses).toBeGreaterThan(1000);
  });

  test('huge blocks near 2^53: validate() after every op, shadow model holds', () => {
    fc.assert(
      fc.property(hugeCase, ({ header, ops: seq }) => runSequence(strategy, header, seq)),
      { numRuns: 60 },
    );
  });
});
