// Deterministic tests of both placement strategies (tlsf, freelist) behind the SubAllocator contract:
// alignment, bufferImageGranularity in both directions, merging, exact fit, failed allocations leaving
// the state unchanged, stale handles, huge sizes, and validate() catching corruption.
import { describe, expect, test } from 'vitest';
import { AllocationError } from '../../allocator/errors.ts';
import {
  createFreeListSubAllocator,
  createSubAllocator,
  createTlsfSubAllocator,
  FreeListSubAllocator,
  TlsfSubAllocator,
} from '../../allocator/placement/index.ts';
import type { SubAllocationKind, SubAllocator } from '../../allocator/placement/index.ts';
import {
  TlsfPool,
  TlsfSegment,
  tlsfClassAtLeast,
  tlsfClassLowerBound,
  tlsfClassOf,
} from '../../allocator/placement/tlsf.ts';
import type { PlacementStrategyName } from '../../allocator/types.ts';
import { isPowerOfTwo } from '../../allocator/placement/request-check.ts';

const L = 0; // AllocationKind.Linear
const N = 1; // AllocationKind.NonLinear
const strategies: PlacementStrategyName[] = ['tlsf', 'freelist'];

function snapshot<T>(sa: SubAllocator<T>): unknown {
  return {
    chunks: sa.chunks(),
    free: sa.freeRanges(),
    allocated: sa.allocatedBytes,
    count: sa.chunkCount,
    largest: sa.largestFreeRange(),
  };
}

function expectInternal(fn: () => unknown): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AllocationError);
  expect((caught as AllocationError).code).toBe('Internal');
}

describe.each(strategies)('%s placement', (strategy) => {
  // TLSF with its back placement of large requests off, so that both strategies place at the front of a
  // free range and the offsets below hold for both (back placement has its own tests).
  const make = (size: number): SubAllocator<string> =>
    strategy === 'tlsf'
      ? new TlsfSubAllocator<string>(size, { backPlacementMin: Infinity })
      : createSubAllocator<string>(strategy, size);

  test('a fresh block is one free range and no chunks', () => {
    const sa = make(1 << 20);
    expect(sa.size).toBe(1 << 20);
    expect(sa.freeRanges()).toEqual([[0, 1 << 20]]);
    expect(sa.chunks()).toEqual([]);
    expect(sa.allocatedBytes).toBe(0);
    expect(sa.chunkCount).toBe(0);
    expect(sa.largestFreeRange()).toBe(1 << 20);
    sa.validate(1024);
  });

  test('data offsets are aligned and small padding stays inside the chunk region', () => {
    const sa = make(1 << 20);
    const a = sa.allocate(100, 1, L, 1, 'a');
    const b = sa.allocate(64, 256, L, 1, 'b');
    expect(sa.offsetOf(a)).toBe(0);
    expect(sa.offsetOf(b)).toBe(256);
    const info = sa.chunks().find((c) => c.chunk === b);
    // 156 bytes of padding: below the TLSF split threshold, so both strategies attach it to the region.
    expect(info).toMatchObject({
      regionOffset: 100,
      regionSize: 220,
      offset: 256,
      size: 64,
      kind: L,
      owner: 'b',
    });
    expect(sa.allocatedBytes).toBe(100 + 220);
    expect(sa.freeRanges()).toEqual([[320, (1 << 20) - 320]]);
    sa.validate(1);
  });

  test('a linear resource after a non-linear one moves to the next granularity page', () => {
    const sa = make(1 << 16);
    const img = sa.allocate(100, 1, N, 1024, 'img');
    const buf = sa.allocate(100, 16, L, 1024, 'buf');
    const buf2 = sa.allocate(100, 16, L, 1024, 'buf2');
    expect(sa.offsetOf(img)).toBe(0);
    expect(sa.offsetOf(buf)).toBe(1024);
    // Same kind as its neighbour: no page rule.
    expect(sa.offsetOf(buf2)).toBe(1136);
    sa.validate(1024);
    // Without a granularity constraint the same sequence packs tightly.
    const tight = make(1 << 16);
    tight.allocate(100, 1, N, 1, 'img');
    expect(tight.offsetOf(tight.allocate(100, 16, L, 1, 'buf'))).toBe(112);
  });

  test('a chunk whose end would share a page with a next neighbour of the other kind is skipped', () => {
    const sa = make(8192);
    const n1 = sa.allocate(1536, 1, N, 1024, 'n1');
    const n2 = sa.allocate(512, 1, N, 1024, 'n2');
    expect(sa.offsetOf(n2)).toBe(1536);
    sa.free(n1); // free [0, 1536) before a non-linear chunk that starts mid-page
    // 1100 linear bytes at 0 would end on page 1024, where n2 starts: placed after n2 instead.
    const big = sa.allocate(1100, 1, L, 1024, 'big');
    expect(sa.offsetOf(big)).toBe(2048);
    // 1024 linear bytes end on page 0: they fit in front.
    const small = sa.allocate(1024, 1, L, 1024, 'small');
    expect(sa.offsetOf(small)).toBe(0);
    sa.validate(1024);
  });

  test('free merges with both neighbours in any order', () => {
    for (const order of [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ]) {
      const sa = make(4096);
      const h = [
        sa.allocate(1000, 1, L, 1, 'a'),
        sa.allocate(1000, 1, L, 1, 'b'),
        sa.allocate(1000, 1, L, 1, 'c'),
      ];
      for (const i of order) {
        sa.free(h[i]);
        sa.validate(1);
      }
      expect(sa.freeRanges()).toEqual([[0, 4096]]);
      expect(sa.allocatedBytes).toBe(0);
      expect(sa.chunkCount).toBe(0);
    }
  });

  test('freeing the middle chunk leaves a hole that an exact-size request fills', () => {
    const sa = make(4096);
    const a = sa.allocate(256, 256, L, 1, 'a');
    const b = sa.allocate(256, 256, L, 1, 'b');
    const c = sa.allocate(256, 256, L, 1, 'c');
    sa.free(b);
    expect(sa.freeRanges()).toEqual([
      [256, 256],
      [768, 4096 - 768],
    ]);
    const d = sa.allocate(256, 256, L, 1, 'd');
    expect(sa.offsetOf(d)).toBe(256);
    expect(sa.freeRanges()).toEqual([[768, 4096 - 768]]);
    expect(sa.chunks().map((x) => x.owner)).toEqual(['a', 'd', 'c']);
    expect(sa.offsetOf(a)).toBe(0);
    expect(sa.offsetOf(c)).toBe(512);
    sa.validate(1);
  });

  test('an allocation of the whole block is an exact fit', () => {
    const sa = make(1 << 20);
    const h = sa.allocate(1 << 20, 1 << 20, N, 1024, 'all');
    expect(h).toBeGreaterThanOrEqual(0);
    expect(sa.offsetOf(h)).toBe(0);
    expect(sa.freeRanges()).toEqual([]);
    expect(sa.largestFreeRange()).toBe(0);
    expect(sa.allocatedBytes).toBe(1 << 20);
    sa.validate(1024);
    expect(sa.allocate(1, 1, N, 1, 'more')).toBe(-1);
    sa.free(h);
    expect(sa.freeRanges()).toEqual([[0, 1 << 20]]);
    sa.validate(1024);
  });

  test('a request that does not fit returns -1 and leaves the state exactly as it was', () => {
    const sa = make(65536);
    const hs: number[] = [];
    for (let i = 0; i < 16; i++) hs.push(sa.allocate(4096, 4096, i % 2 === 0 ? N : L, 1, `x${i}`));
    // Eight 4 KiB holes at odd multiples of 4 KiB between non-linear chunks, 32 KiB free in total.
    for (let i = 1; i < 16; i += 2) sa.free(hs[i]);
    sa.validate(1);
    const before = snapshot(sa);
    expect(sa.allocate(8192, 1, L, 1, 'too big for any hole')).toBe(-1);
    expect(sa.allocate(40000, 1, L, 1, 'more than is free')).toBe(-1);
    expect(sa.allocate(4096, 8192, L, 1, 'no hole is 8 KiB aligned')).toBe(-1);
    expect(sa.allocate(4000, 1, L, 8192, 'every hole starts on a non-linear page')).toBe(-1);
    expect(snapshot(sa)).toEqual(before);
    sa.validate(1);
    // A request that does fit still works afterwards: it takes one of the holes.
    expect(sa.offsetOf(sa.allocate(4096, 4096, L, 1, 'fits')) % 8192).toBe(4096);
  });

  test('double free, unknown and stale handles throw Internal', () => {
    const sa = make(65536);
    const a = sa.allocate(100, 1, L, 1, 'a');
    const b = sa.allocate(100, 1, L, 1, 'b');
    sa.free(a);
    expectInternal(() => sa.free(a));
    expectInternal(() => sa.offsetOf(a));
    expectInternal(() => sa.owner(a));
    expectInternal(() => sa.setOwner(a, 'x'));
    expectInternal(() => sa.free(123456));
    expectInternal(() => sa.free(-1));
    expectInternal(() => sa.free(0.5));
    // Reuse the freed space (and, for TLSF, the freed record): the old handle stays dead.
    const c = sa.allocate(100, 1, L, 1, 'c');
    expect(sa.offsetOf(c)).toBe(0);
    expectInternal(() => sa.free(a === c ? -2 : a));
    sa.free(b);
    sa.free(c);
    expectInternal(() => sa.free(b));
    sa.validate(1);
    expect(sa.freeRanges()).toEqual([[0, 65536]]);
  });

  test('owners are stored with the chunk and can be replaced', () => {
    const sa = make(65536);
    const a = sa.allocate(10, 1, L, 1, 'first');
    expect(sa.owner(a)).toBe('first');
    sa.setOwner(a, 'second');
    expect(sa.owner(a)).toBe('second');
    expect(sa.chunks()[0].owner).toBe('second');
  });

  test('huge blocks near 2^52 bytes place with exact offsets', () => {
    const size = 2 ** 52 + 2 ** 40 + 12345;
    const sa = make(size);
    const a = sa.allocate(2 ** 51 + 3, 1, L, 1, 'a');
    const b = sa.allocate(2 ** 40, 2 ** 40, N, 2 ** 20, 'b');
    const c = sa.allocate(7, 2 ** 45, L, 2 ** 20, 'c');
    expect(sa.offsetOf(a)).toBe(0);
    expect(sa.offsetOf(b)).toBe(2 ** 51 + 2 ** 40);
    expect(sa.offsetOf(c)).toBe(2 ** 51 + 2 ** 45);
    sa.validate(2 ** 20);
    expect(sa.allocate(2 ** 52, 1, L, 1, 'too big')).toBe(-1);
    sa.free(a);
    const d = sa.allocate(2 ** 51, 2 ** 51, L, 1, 'd');
    expect(sa.offsetOf(d)).toBe(0);
    sa.validate(2 ** 20);
    sa.free(b);
    sa.free(c);
    sa.free(d);
    expect(sa.freeRanges()).toEqual([[0, size]]);
    sa.validate(2 ** 20);
  });

  test('the largest safe block size works', () => {
    const size = Number.MAX_SAFE_INTEGER;
    const sa = make(size);
    const a = sa.allocate(size - 1, 1, L, 1, 'a');
    expect(sa.offsetOf(a)).toBe(0);
    expect(sa.freeRanges()).toEqual([[size - 1, 1]]);
    const b = sa.allocate(1, 1, N, 1, 'b');
    expect(sa.offsetOf(b)).toBe(size - 1);
    sa.validate(1);
    sa.free(a);
    sa.free(b);
    expect(sa.freeRanges()).toEqual([[0, size]]);
    sa.validate(1);
  });

  test('a malformed request is a bug of the caller: Internal, and nothing changes', () => {
    const sa = make(65536);
    sa.allocate(100, 1, L, 1, 'a');
    const before = snapshot(sa);
    expectInternal(() => sa.allocate(0, 1, L, 1, 'zero'));
    expectInternal(() => sa.allocate(1.5, 1, L, 1, 'fraction'));
    expectInternal(() => sa.allocate(2 ** 53, 1, L, 1, 'unsafe'));
    expectInternal(() => sa.allocate(16, 3, L, 1, 'alignment 3'));
    expectInternal(() => sa.allocate(16, 0, L, 1, 'alignment 0'));
    expectInternal(() => sa.allocate(16, 2 ** 40 + 2 ** 20, L, 1, 'alignment not a power of two'));
    expectInternal(() => sa.allocate(16, 1, L, 1000, 'granularity 1000'));
    expectInternal(() => sa.allocate(16, 1, 2 as SubAllocationKind, 1, 'dedicated kind'));
    expect(snapshot(sa)).toEqual(before);
    // A valid request with a huge alignment: only offset 0 qualifies, and it is taken.
    expect(sa.allocate(16, 2 ** 52, L, 2 ** 52, 'huge alignment')).toBe(-1);
  });

  test('a size that is not a positive safe integer is refused at construction', () => {
    expectInternal(() => make(0));
    expectInternal(() => make(2 ** 53));
    expectInternal(() => make(1.5));
  });

  test('allocateAt places data at exactly the offset asked, or refuses and changes nothing', () => {
    const sa = make(1 << 20);
    expect(sa.offsetOf(sa.allocate(4096, 256, L, 1, 'a'))).toBe(0);
    // Alignment comes from the request, not the offset: 65536 is also a multiple of 4096.
    const b = sa.allocateAt(65536, 1000, 256, N, 1, 'b');
    expect(b).toBeGreaterThanOrEqual(0);
    expect(sa.offsetOf(b)).toBe(65536);
    expect(sa.chunks().map((c) => [c.owner, c.offset, c.size, c.alignment])).toEqual([
      ['a', 0, 4096, 256],
      ['b', 65536, 1000, 256],
    ]);
    sa.validate(1);
    const before = snapshot(sa);
    expect(sa.allocateAt(100, 16, 1, L, 1, 'inside a')).toBe(-1);
    expect(sa.allocateAt(65536 - 8, 16, 1, L, 1, 'overlaps b')).toBe(-1);
    expect(sa.allocateAt(8192 + 16, 64, 256, L, 1, 'misaligned')).toBe(-1);
    expect(sa.allocateAt((1 << 20) - 8, 16, 1, L, 1, 'past the end')).toBe(-1);
    // b is non-linear: a linear chunk on b's 4 KiB page is refused (granularity), one page later is not.
    expect(sa.allocateAt(65536 + 2048, 256, 256, L, 4096, 'same page as b')).toBe(-1);
    expect(snapshot(sa)).toEqual(before);
    const c = sa.allocateAt(65536 + 4096, 256, 4096, L, 4096, 'next page');
    expect(sa.offsetOf(c)).toBe(65536 + 4096);
    expect(sa.chunks().find((x) => x.owner === 'next page')!.alignment).toBe(4096);
    sa.validate(4096);
    // Freed, the range takes an allocation at its start again (defragmentation's put-back).
    sa.free(b);
    expect(sa.offsetOf(sa.allocateAt(65536, 1000, 256, N, 1, 'back'))).toBe(65536);
    sa.validate(1);
  });
});

test('isPowerOfTwo is exact over the safe integers', () => {
  for (let k = 0; k <= 53; k++) {
    expect(isPowerOfTwo(2 ** k)).toBe(true);
    if (k >= 2) expect(isPowerOfTwo(2 ** k - 1)).toBe(false);
    if (k >= 1 && k <= 52) expect(isPowerOfTwo(2 ** k + 1)).toBe(false);
    if (k <= 51) expect(isPowerOfTwo(3 * 2 ** k)).toBe(false);
  }
  for (const v of [0, -1, -4, 0.5, 1.5, NaN, Infinity, 2 ** 54, Number.MAX_SAFE_INTEGER]) {
    expect(isPowerOfTwo(v)).toBe(false);
  }
});

test('createSubAllocator builds the named strategy and refuses others', () => {
  expect(createSubAllocator<string>('tlsf', 4096)).toBeInstanceOf(TlsfSubAllocator);
  expect(createSubAllocator<string>('freelist', 4096)).toBeInstanceOf(FreeListSubAllocator);
  expectInternal(() => createSubAllocator<string>('best' as PlacementStrategyName, 4096));
});

describe('validate() catches broken invariants', () => {
  test('tlsf: a corrupted chunk size, a stale bitmap, a misaligned offset', () => {
    const sa = new TlsfSubAllocator<string>(65536);
    const a = sa.allocate(100, 64, L, 1, 'a');
    sa.allocate(100, 64, N, 1, 'b');
    sa.validate(1);
    // The records live in the sub-allocator's one-segment pool.
    const inner = (sa as unknown as { pool: unknown }).pool as {
      regSize: Float64Array;
      slMask: Int32Array;
      pad: Uint8Array;
    };
    inner.regSize[a] += 1;
    expect(() => sa.validate(1)).toThrow(/invariant broken: chunk \d+ /);
    inner.regSize[a] -= 1;
    sa.validate(1);
    const saved = Int32Array.from(inner.slMask);
    inner.slMask.fill(0);
    expect(() => sa.validate(1)).toThrow(/bitmap/);
    inner.slMask.set(saved);
    inner.pad[a] += 1;
    expect(() => sa.validate(1)).toThrow(/not the tail of its region|not aligned/);
    inner.pad[a] -= 1;
    sa.validate(1);
    // With a page rule the neighbours (linear then non-linear on page 0) are in conflict.
    expect(() => sa.validate(4096)).toThrow(/granularity page/);
  });

  test('freelist: a corrupted chunk, free set and counter', () => {
    const sa = new FreeListSubAllocator<string>(65536);
    const a = sa.allocate(100, 64, L, 1, 'a');
    sa.allocate(100, 64, N, 1, 'b');
    sa.validate(1);
    expect(() => sa.validate(4096)).toThrow(/granularity page/);
    const inner = sa as unknown as {
      map: Map<number, { size: number }>;
      freeIds: Set<number>;
      allocated: number;
    };
    inner.map.get(a)!.size += 1;
    expect(() => sa.validate(1)).toThrow(/invariant broken: chunk 2 /);
    inner.map.get(a)!.size -= 1;
    inner.freeIds.add(a);
    expect(() => sa.validate(1)).toThrow(/in the free set/);
    inner.freeIds.delete(a);
    inner.allocated += 1;
    expect(() => sa.validate(1)).toThrow(/allocatedBytes/);
  });
});

describe('freelist: gpu-allocator 0.28 behaviour', () => {
  test('chunk ids: the initial chunk is 1, new chunks count from 2, an exact fit converts in place', () => {
    const sa = createFreeListSubAllocator<string>(4096);
    expect(sa.allocate(1000, 1, L, 1, 'a')).toBe(2);
    expect(sa.allocate(1000, 1, L, 1, 'b')).toBe(3);
    // The rest of the block is still free chunk 1: an exact-size request takes it whole.
    expect(sa.allocate(4096 - 2000, 1, L, 1, 'c')).toBe(1);
    expect(sa.freeRanges()).toEqual([]);
  });

  test('best fit: the smallest fitting free chunk wins, ties to the first visited', () => {
    const sa = createFreeListSubAllocator<string>(1 << 16);
    const hs: number[] = [];
    // Holes of 3000, 1000, 2000, 1000 bytes, separated by 16-byte chunks.
    for (const s of [3000, 16, 1000, 16, 2000, 16, 1000, 16]) hs.push(sa.allocate(s, 1, L, 1, String(s)));
    for (const i of [0, 2, 4, 6]) sa.free(hs[i]);
    expect(sa.freeRanges().slice(0, 4)).toEqual([
      [0, 3000],
      [3016, 1000],
      [4032, 2000],
      [6048, 1000],
    ]);
    // 900 bytes fit in both 1000-byte holes; the one freed first (insertion order) is visited first.
    expect(sa.offsetOf(sa.allocate(900, 1, L, 1, 'x'))).toBe(3016);
    expect(sa.offsetOf(sa.allocate(900, 1, L, 1, 'y'))).toBe(6048);
    expect(sa.offsetOf(sa.allocate(1500, 1, L, 1, 'z'))).toBe(4032);
    sa.validate(1);
  });

  test('alignment padding is wasted inside the chunk until it is freed', () => {
    const sa = createFreeListSubAllocator<string>(1 << 20);
    sa.allocate(16, 1, L, 1, 'a');
    const b = sa.allocate(4096, 65536, L, 1, 'b');
    expect(sa.chunks()[1]).toMatchObject({ regionOffset: 16, regionSize: 65536 - 16 + 4096, offset: 65536 });
    expect(sa.allocatedBytes).toBe(16 + 65536 - 16 + 4096);
    sa.free(b);
    expect(sa.freeRanges()).toEqual([[16, (1 << 20) - 16]]);
  });

  test('the early size check compares against all unallocated bytes, like the crate', () => {
    const sa = createFreeListSubAllocator<string>(4096);
    sa.allocate(2048, 1, L, 1, 'a');
    expect(sa.allocate(2049, 1, L, 1, 'b')).toBe(-1);
    expect(sa.allocate(2048, 1, L, 1, 'c')).toBe(1);
  });
});

describe('tlsf specifics', () => {
  test('large alignment padding goes back to the free index', () => {
    const sa = createTlsfSubAllocator<string>(1 << 20);
    sa.allocate(16, 1, L, 1, 'a');
    const b = sa.allocate(4096, 65536, L, 1, 'b');
    expect(sa.chunks()[1]).toMatchObject({ regionOffset: 65536, regionSize: 4096, offset: 65536 });
    expect(sa.allocatedBytes).toBe(16 + 4096);
    expect(sa.freeRanges()).toEqual([
      [16, 65536 - 16],
      [69632, (1 << 20) - 69632],
    ]);
    // The padding range is usable.
    const c = sa.allocate(60000, 16, L, 1, 'c');
    expect(sa.offsetOf(c)).toBe(16);
    sa.free(b);
    sa.validate(1);
  });

  test('class mapping: lower bounds are monotonic, every size lies in its class, classAtLeast rounds up', () => {
    const sizes: number[] = [];
    for (let e = 0; e < 53; e++) {
      const p = 2 ** e;
      for (const d of [-1, 0, 1, 3, p / 3, p / 2]) {
        const s = Math.floor(p + d);
        if (s >= 1 && s <= Number.MAX_SAFE_INTEGER) sizes.push(s);
      }
    }
    sizes.push(Number.MAX_SAFE_INTEGER, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1);
    sizes.sort((a, b) => a - b);
    let last = -1;
    for (const s of sizes) {
      const c = tlsfClassOf(s);
      expect(c).toBeGreaterThanOrEqual(last);
      last = c;
      expect(tlsfClassLowerBound(c)).toBeLessThanOrEqual(s);
      expect(tlsfClassLowerBound(c + 1)).toBeGreaterThan(s);
      const up = tlsfClassAtLeast(s);
      expect(tlsfClassLowerBound(up)).toBeGreaterThanOrEqual(s);
      // ...and it is the smallest such class.
      if (up > 0) expect(tlsfClassLowerBound(up - 1)).toBeLessThan(s);
      // The size's own class or the next (TlsfPool.allocate's good-fit step starts at the next).
      expect([c, c + 1]).toContain(up);
    }
    // Exact class of a value above 2^32 computed with BigInt arithmetic.
    const s = 2 ** 47 + 2 ** 42 * 5 + 12345;
    const flog = BigInt(s).toString(2).length - 1;
    const expected = (flog - 5) * 32 + Number(BigInt(s) >> BigInt(flog - 5));
    expect(tlsfClassOf(s)).toBe(expected);
  });

  test('large requests go to the end of their free range, small ones to the front', () => {
    const size = 256 * 1024 * 1024; // back placement from size / 64 = 4 MiB up
    const sa = createTlsfSubAllocator<string>(size);
    const small = sa.allocate(100, 16, L, 1024, 'small');
    const big = sa.allocate(8 * 1024 * 1024 + 5, 65536, N, 1024, 'big');
    const mid = sa.allocate(3 * 1024 * 1024, 256, L, 1024, 'mid');
    expect(sa.offsetOf(small)).toBe(0);
    // The highest 64 KiB-aligned offset where 8 MiB + 5 bytes still fit.
    const bigAt = size - 8 * 1024 * 1024 - 65536;
    expect(sa.offsetOf(big)).toBe(bigAt);
    expect(sa.offsetOf(mid)).toBe(256);
    expect(sa.freeRanges()).toEqual([
      [256 + 3 * 1024 * 1024, bigAt - (256 + 3 * 1024 * 1024)],
      [bigAt + 8 * 1024 * 1024 + 5, 65536 - 5],
    ]);
    sa.validate(1024);
    sa.free(big);
    sa.free(small);
    sa.free(mid);
    expect(sa.freeRanges()).toEqual([[0, size]]);
    // Off: the same request goes to the front.
    const front = new TlsfSubAllocator<string>(size, { backPlacementMin: Infinity });
    expect(front.offsetOf(front.allocate(8 * 1024 * 1024 + 5, 65536, N, 1024, 'big'))).toBe(0);
  });

  test('huge blocks with back placement keep exact offsets near 2^52', () => {
    const size = 2 ** 52 + 2 ** 40 + 12345;
    const sa = createTlsfSubAllocator<string>(size);
    const a = sa.allocate(2 ** 51 + 3, 1, L, 1, 'a');
    expect(sa.offsetOf(a)).toBe(size - (2 ** 51 + 3));
    const b = sa.allocate(2 ** 47, 2 ** 40, N, 2 ** 20, 'b');
    expect(sa.offsetOf(b)).toBe(Math.floor((size - (2 ** 51 + 3) - 2 ** 47) / 2 ** 40) * 2 ** 40);
    sa.validate(2 ** 20);
    sa.free(a);
    sa.free(b);
    expect(sa.freeRanges()).toEqual([[0, size]]);
  });

  test('a stale handle is refused after its record is reused', () => {
    const sa = createTlsfSubAllocator<string>(1 << 20);
    const a = sa.allocate(1000, 1, L, 1, 'a');
    sa.free(a);
    const b = sa.allocate(1000, 1, L, 1, 'b');
    expect(b).not.toBe(a);
    expectInternal(() => sa.free(a));
    expect(sa.owner(b)).toBe('b');
  });
});

describe('tlsf pool over several segments', () => {
  test('the fallback search is exact: a fitting range behind 100 that fail on alignment is found', () => {
    // Period 0: a free range of 4352 bytes at offset 0 (fits 4096 bytes aligned to 4096). Periods
    // 1..100: free ranges of 4352 bytes at 8192k + 512, where the aligned start leaves only 768 bytes.
    // The fitting range is freed first, so it is last in its class list; no range is a sure fit.
    const sa = new TlsfSubAllocator<string>(8192 * 101, { backPlacementMin: Infinity });
    const fitting = sa.allocate(4352, 1, L, 1, 'fit');
    sa.allocate(3840, 1, L, 1, 'rest0');
    const misfits: number[] = [];
    for (let k = 1; k <= 100; k++) {
      sa.allocate(512, 1, L, 1, `u${k}`);
      misfits.push(sa.allocate(4352, 1, L, 1, `f${k}`));
      sa.allocate(3328, 1, L, 1, `v${k}`);
    }
    expect(sa.freeRanges()).toEqual([]);
    sa.free(fitting);
    for (const m of misfits) sa.free(m);
    const placed = sa.allocate(4096, 4096, L, 1, 'probe');
    expect(placed).toBeGreaterThanOrEqual(0);
    expect(sa.offsetOf(placed)).toBe(0);
    sa.validate(1);
  });

  test('one search covers every segment; segments come and go; handles are checked per segment', () => {
    const pool = new TlsfPool<string>({ backPlacementMin: Infinity });
    const segments = [1, 2, 3].map(() => pool.addSegment(1 << 20));
    const views = segments.map((s) => new TlsfSegment(pool, s));
    // Fill the first two segments to within 1 KiB: a 4 KiB request can only go to the third.
    for (const v of views.slice(0, 2)) v.allocate((1 << 20) - 1024, 1, L, 1, 'fill');
    const probe = pool.allocate(4096, 256, N, 1, 'probe');
    expect(pool.segmentOf(probe)).toBe(segments[2]);
    expect(views[2]!.chunks().map((c) => c.owner)).toEqual(['probe']);
    expect(pool.largestFreeRangeOverall()).toBe((1 << 20) - 4096);
    for (const v of views) v.validate(1);
    pool.validateIndex();
    // A handle is refused by another segment's view; a segment with chunks cannot be removed.
    expectInternal(() => views[0]!.free(probe));
    expectInternal(() => pool.removeSegment(segments[2]!));
    views[2]!.free(probe);
    pool.removeSegment(segments[2]!);
    expect(pool.segmentCount).toBe(2);
    expectInternal(() => pool.freeRanges(segments[2]!));
    pool.validateIndex();
    // Nothing fits now (exact answer), and the failure changes nothing; a new segment takes its id.
    expect(pool.allocate(4096, 1, L, 1, 'none')).toBe(-1);
    expect(pool.addSegment(8192)).toBe(segments[2]);
    expect(pool.allocate(4096, 1, L, 1, 'again')).toBeGreaterThanOrEqual(0);
    pool.validateIndex();
  });

  test('freeOwned frees only the chunk holding that owner; setOwner skips its handle check only on the chunk just placed', () => {
    const pool = new TlsfPool<{ name: string }>({ backPlacementMin: Infinity });
    pool.addSegment(1 << 20);
    const a = { name: 'a' };
    const b = { name: 'b' };
    const ha = pool.allocate(4096, 256, L, 1, a);
    const hb = pool.allocate(4096, 256, L, 1, b);
    expectInternal(() => pool.freeOwned(ha, b)); // another owner's slot
    expectInternal(() => pool.freeOwned(ha + 12345, a)); // a slot that holds nothing
    pool.freeOwned(ha, a);
    expectInternal(() => pool.freeOwned(ha, a)); // double free
    expectInternal(() => pool.free(ha));
    // The slot is reused by the next placement: the old owner does not free the new chunk.
    const hc = pool.allocate(4096, 256, L, 1, b);
    expect(hc & 0xffffff).toBe(ha & 0xffffff);
    expectInternal(() => pool.freeOwned(hc, a));
    // setOwner on the chunk just placed needs no check; after a free(), a stale handle is refused again.
    pool.setOwner(hc, a);
    expect(pool.owner(hc)).toBe(a);
    pool.free(hc);
    expectInternal(() => pool.setOwner(hc, b));
    expectInternal(() => pool.setOwner(ha, b));
    pool.setOwner(hb, a);
    expect(pool.owner(hb)).toBe(a);
    pool.freeOwned(hb, a);
    expect(pool.segmentChunkCount(0)).toBe(0);
    pool.validateSegment(0, 1);
    pool.validateIndex();
    // The owner table is dense (entries reused apart from slots): a freed slot whose entry now holds a live
    // owner placed elsewhere does not free that owner's chunk.
    const hd = pool.allocate(8192, 256, L, 1, a);
    const he = pool.allocate(8192, 256, L, 1, b);
    pool.freeOwned(hd, a);
    const hf = pool.allocate(65536 * 2, 256, L, 1, a); // another slot, likely a's old entry
    expect(hf & 0xffffff).not.toBe(hd & 0xffffff);
    expectInternal(() => pool.freeOwned(hd, a));
    expect(pool.owner(hf)).toBe(a);
    expect(pool.owner(he)).toBe(b);
    pool.validateIndex();
  });

  test('allocateAt places in the segment it is given, whatever the others hold', () => {
    const pool = new TlsfPool<string>({ backPlacementMin: Infinity });
    const [s0, s1] = [pool.addSegment(1 << 20), pool.addSegment(1 << 20)];
    const v0 = new TlsfSegment(pool, s0!);
    const v1 = new TlsfSegment(pool, s1!);
    v0.allocate(8192, 1, L, 1, 'in s0');
    const h = v1.allocateAt(8192 + 512, 4096, 512, N, 1, 'in s1');
    expect(pool.segmentOf(h)).toBe(s1);
    expect(v1.chunks().map((c) => [c.owner, c.offset, c.alignment])).toEqual([['in s1', 8192 + 512, 512]]);
    expect(pool.allocateAt(s0!, 4096, 16, 1, L, 1, 'inside s0 chunk')).toBe(-1);
    expect(pool.allocateAt(s0!, 8192, 16, 1, L, 1, 'after it')).toBeGreaterThanOrEqual(0);
    // The next neighbour's page: a linear chunk ending on the page where the non-linear data starts.
    expect(pool.allocateAt(s1!, 8192, 256, 256, L, 4096, 'before in s1')).toBe(-1);
    expect(pool.allocateAt(s1!, 4096, 256, 256, L, 4096, 'a page earlier')).toBeGreaterThanOrEqual(0);
    pool.validateSegment(s0!, 1);
    pool.validateSegment(s1!, 1);
    pool.validateIndex();
  });
});

describe('TLSF quick reuse (parked chunks)', () => {
  const KiB = 1024;

  test('a freed small chunk is parked in place and taken back by a request of its size, kind and a dividing alignment', () => {
    const pool = new TlsfPool<string>({ backPlacementMin: Infinity });
    const s = pool.addSegment(1 << 20);
    const keep = 'keep';
    const a = 'a';
    pool.allocate(4 * KiB, 4 * KiB, L, 1, keep);
    const ha = pool.allocate(4 * KiB, 4 * KiB, L, 1, a);
    expect(pool.offsetOf(ha)).toBe(4 * KiB);
    pool.freeOwned(ha, a);
    // Parked: free in every count and read as merged with the free range after it, but not merged.
    expect([pool.segmentAllocated(s), pool.segmentChunkCount(s), pool.freeBytes]).toEqual([
      4 * KiB,
      1,
      (1 << 20) - 4 * KiB,
    ]);
    expect(pool.freeRanges(s)).toEqual([[4 * KiB, (1 << 20) - 4 * KiB]]);
    expect(pool.largestFreeRange(s)).toBe((1 << 20) - 4 * KiB);
    expect(pool.chunks(s).map((c) => c.owner)).toEqual([keep]);
    pool.validateSegment(s, 1);
    pool.validateIndex();
    // Not taken by a request that differs in alignment (4 KiB is not a multiple of 8 KiB), kind or size:
    // those go to the free range after it.
    const place = (size: number, alignment: number, kind: SubAllocationKind, owner: string): number =>
      pool.offsetOf(pool.allocate(size, alignment, kind, 1, owner));
    expect(place(4 * KiB, 8 * KiB, L, 'aligned wider')).toBe(8 * KiB);
    expect(place(4 * KiB, 4 * KiB, N, 'other kind')).toBe(12 * KiB);
    expect(place(4 * KiB - 16, 16, L, 'other size')).toBe(16 * KiB);
    // Taken back in place by its size and kind with a smaller alignment, which the chunk then records.
    const again = pool.allocate(4 * KiB, 1 * KiB, L, 1, 'again');
    expect(again & 0xffffff).toBe(ha & 0xffffff);
    expect(again).not.toBe(ha); // a new handle: the old one stays dead
    expectInternal(() => pool.free(ha));
    expect(pool.chunks(s).find((c) => c.owner === 'again')).toMatchObject({
      offset: 4 * KiB,
      alignment: KiB,
    });
    pool.validateSegment(s, 1);
    pool.validateIndex();
  });

  test('free() never parks; freeOwned() parks only data up to 64 KiB', () => {
    const pool = new TlsfPool<string>({ backPlacementMin: Infinity });
    const s = pool.addSegment(1 << 20);
    const h = pool.allocate(4 * KiB, 1, L, 1, 'x');
    pool.free(h);
    // Merged at once: a smaller request takes the front of the one free range.
    expect(pool.offsetOf(pool.allocate(KiB, 1, L, 1, 'front'))).toBe(0);
    const big = pool.allocate(64 * KiB + 1, 1, L, 1, 'big');
    pool.freeOwned(big, 'big');
    expect(pool.offsetOf(pool.allocate(KiB, 1, L, 1, 'into the big range'))).toBe(KiB);
    const small = pool.allocate(64 * KiB, 1, L, 1, 'small');
    const at = pool.offsetOf(small);
    pool.freeOwned(small, 'small');
    expect(pool.offsetOf(pool.allocate(KiB, 1, L, 1, 'not into the parked one'))).toBe(at + 64 * KiB);
    pool.validateSegment(s, 1);
    pool.validateIndex();
  });

  test('parked chunks are merged when the ring turns over, before a miss, allocateAt and removeSegment', () => {
    const pool = new TlsfPool<string>({ backPlacementMin: Infinity, parkRingSize: 3 });
    const s = pool.addSegment(80 * KiB);
    const owners = Array.from({ length: 16 }, (_, i) => `c${i}`);
    const handles = owners.map((o) => pool.allocate(4 * KiB, 1, L, 1, o));
    const offsetOf = (owner: string): number => pool.chunks(s).find((c) => c.owner === owner)!.offset;
    // Park c0, c2, c4 (used neighbours between them): a 1 KiB request goes to the free tail, not into them.
    for (const i of [0, 2, 4]) pool.freeOwned(handles[i]!, owners[i]!);
    pool.free(pool.allocate(KiB, 1, L, 1, 'tail'));
    expect(pool.freeRanges(s)).toEqual([
      [0, 4 * KiB],
      [8 * KiB, 4 * KiB],
      [16 * KiB, 4 * KiB],
      [64 * KiB, 16 * KiB],
    ]);
    // Parking c6 turns the ring over: c0, the oldest, becomes a free range, where the 1 KiB request now fits
    // best (smallest class); c2 and c4 stay parked.
    pool.freeOwned(handles[6]!, owners[6]!);
    pool.allocate(KiB, 1, L, 1, 'small');
    expect(offsetOf('small')).toBe(0);
    pool.validateSegment(s, 1);
    pool.validateIndex();
    // Exact: with c1..c15 freed (parked or merged) and the tail taken, 60 KiB fits only once the parked
    // chunks are merged, which the miss does before answering.
    for (let i = 1; i < 16; i++) if (i % 2 === 1 || i > 6) pool.freeOwned(handles[i]!, owners[i]!);
    pool.allocate(16 * KiB, 1, L, 1, 'tail taken');
    expect(offsetOf('tail taken')).toBe(64 * KiB);
    const wide = pool.allocate(60 * KiB, 1, L, 1, 'wide');
    expect(wide).toBeGreaterThanOrEqual(0);
    expect(offsetOf('wide')).toBe(KiB);
    pool.validateSegment(s, 1);
    pool.validateIndex();
    // allocateAt over a parked chunk: free 'wide' (too large to park), park 'small' and place a chunk of
    // another size and kind at exactly its offset.
    pool.freeOwned(wide, 'wide');
    const small = pool.chunks(s).find((c) => c.owner === 'small')!;
    pool.freeOwned(small.chunk, 'small');
    expect(pool.allocateAt(s, 0, 2 * KiB, 1, N, 1, 'at')).toBeGreaterThanOrEqual(0);
    pool.validateSegment(s, 1);
    pool.validateIndex();
    // removeSegment of a segment whose only chunks left are parked.
    const s2 = pool.addSegment(16 * KiB);
    const h2 = new TlsfSegment(pool, s2).allocate(4 * KiB, 1, L, 1, 'in s2');
    expect(pool.segmentOf(h2)).toBe(s2);
    pool.freeOwned(h2, 'in s2');
    expect(pool.segmentChunkCount(s2)).toBe(0);
    pool.removeSegment(s2);
    pool.validateIndex();
  });

  test('a ring of size 0 turns quick reuse off; other sizes are refused', () => {
    const pool = new TlsfPool<string>({ backPlacementMin: Infinity, parkRingSize: 0 });
    pool.addSegment(1 << 20);
    const h = pool.allocate(4 * KiB, 1, L, 1, 'x');
    pool.freeOwned(h, 'x');
    expect(pool.offsetOf(pool.allocate(KiB, 1, L, 1, 'front'))).toBe(0);
    pool.validateIndex();
    for (const bad of [-1, 1.5, Number.NaN])
      expectInternal(() => new TlsfPool<string>({ parkRingSize: bad }));
  });
});
