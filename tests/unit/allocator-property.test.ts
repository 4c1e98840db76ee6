// Property-based tests: random allocate/free/rename sequences on both strategies with validate() after
// every op, on small heaps so out-of-memory, block growth, dedicated blocks and block release all happen.
// Shrunk counterexamples are printed by fast-check as readable command lists.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  AllocationError,
  Allocator,
  copyMapped,
  type Allocation,
  type RelocationOptions,
  type MemoryLocation,
  type PlacementStrategyName,
} from '../../allocator/index.ts';
import { simulatedDevice, type ProfileName } from '../support/profiles.ts';
import { stamp, stampOf } from '../support/stamps.ts';

const MiB = 1024 * 1024;

type Op =
  | {
      readonly op: 'alloc';
      readonly size: number;
      readonly alignLog2: number;
      readonly linear: boolean;
      readonly location: MemoryLocation;
      readonly dedicated: boolean;
    }
  | { readonly op: 'free'; readonly pick: number }
  | { readonly op: 'rename'; readonly pick: number }
  /** Asks again for what one of the 16 most recently freed allocations asked for (tlsf's quick reuse). */
  | { readonly op: 'again'; readonly pick: number };

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 64 * 1024 }) },
  { weight: 3, arbitrary: fc.integer({ min: 64 * 1024, max: 3 * MiB }) },
  { weight: 1, arbitrary: fc.integer({ min: 3 * MiB, max: 20 * MiB }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('alloc' as const),
      size: sizeArb,
      alignLog2: fc.integer({ min: 0, max: 16 }),
      linear: fc.boolean(),
      location: fc.constantFrom<MemoryLocation>('GpuOnly', 'CpuToGpu', 'GpuToCpu', 'Unknown'),
      dedicated: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rename' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('again' as const), pick: fc.nat() }) },
);

/**
 * Each strategy's default block policy, the crate's sizing and release rules, or tlsf with relocation
 * before growth (its own default policy).
 */
type PolicyName = 'default' | 'crate' | 'relocate';
const cratePolicy = { growth: 0, sizesBy: 'hostVisible', spareEmptyBlocks: 0, dedicatedAbove: 1 } as const;

/** Relocation whose copy moves the bytes through the mappings (host-visible memory) and counts the moves. */
function countingRelocation(): RelocationOptions & { moves: number } {
  const relocation = {
    moves: 0,
    copy: (
      move: Parameters<RelocationOptions['copy']>[0],
      from: Allocation['block'],
      to: Allocation['block'],
    ) => {
      relocation.moves++;
      copyMapped(from, move.fromOffset, to, move.toOffset, move.size);
    },
  };
  return relocation;
}

function expectStamped(a: Allocation): void {
  const found = stampOf(a);
  if (found !== null) expect(found).toEqual([a.id, a.id]);
}

/** Moves made by relocation over every sequence run (the relocate runs must make some). */
let relocationMoves = 0;

function runSequence(
  profile: ProfileName,
  strategy: PlacementStrategyName,
  ops: readonly Op[],
  policy: PolicyName = 'default',
): number {
  // 48 MiB heaps with 4..16 MiB growing blocks: OOM, growth and dedicated blocks are all reachable.
  const relocation = policy === 'relocate' ? countingRelocation() : null;
  const allocator = new Allocator({
    relocation,
    device: simulatedDevice(profile, { heapSize: 48 * MiB }),
    strategy,
    ...(policy === 'crate' ? { blockPolicy: cratePolicy } : {}),
    allocationSizes: {
      deviceMemblockSize: 4 * MiB,
      deviceMaxMemblockSize: 16 * MiB,
      hostMemblockSize: 4 * MiB,
      hostMaxMemblockSize: 8 * MiB,
    },
    debugSettings: { logLeaksOnShutdown: false },
  });
  const live: Allocation[] = [];
  /** What the most recently freed allocations asked for, newest first. */
  const freed: Op[] = [];
  const asked = new Map<Allocation, Op>();
  let n = 0;
  for (const drawn of ops) {
    const op = drawn.op === 'again' && freed.length > 0 ? freed[drawn.pick % freed.length]! : drawn;
    if (op.op === 'alloc') {
      const before = allocator.stats();
      const movesBefore = relocation?.moves ?? 0;
      try {
        const a = allocator.allocate({
          name: `r${n}`,
          requirements: { size: op.size, alignment: 2 ** op.alignLog2, memoryTypeBits: 0xffffffff },
          location: op.location,
          linear: op.linear,
          scheme: op.dedicated
            ? { kind: op.linear ? 'dedicatedBuffer' : 'dedicatedImage' }
            : { kind: 'managed' },
        });
        expect(a.offset % 2 ** op.alignLog2).toBe(0);
        asked.set(a, op);
        // The bytes of every allocation survive the moves this request made.
        if (relocation !== null && relocation.moves > movesBefore) for (const b of live) expectStamped(b);
        live.push(a);
        stamp(a);
      } catch (error) {
        if (!(error instanceof AllocationError) || error.code !== 'OutOfMemory') throw error;
        // Nothing placed; the tlsf policy may have released empty spare blocks under the pressure.
        const after = allocator.stats();
        expect([after.allocationCount, after.allocatedBytes]).toEqual([
          before.allocationCount,
          before.allocatedBytes,
        ]);
        expect(after.committedBytes).toBeLessThanOrEqual(before.committedBytes);
        if (policy === 'crate') expect(after).toEqual(before);
      }
    } else if (live.length > 0) {
      const i = op.pick % live.length;
      if (op.op === 'free') {
        allocator.free(live[i]!);
        freed.unshift(asked.get(live[i]!)!);
        asked.delete(live[i]!);
        if (freed.length > 16) freed.pop();
        live[i] = live[live.length - 1]!;
        live.pop();
      } else if (op.op === 'rename') {
        allocator.rename(live[i]!, `renamed${n}`);
      }
    }
    allocator.validate();
    // No two live allocations in one block overlap.
    const byBlock = new Map<number, Allocation[]>();
    for (const a of live) byBlock.set(a.block.id, [...(byBlock.get(a.block.id) ?? []), a]);
    for (const list of byBlock.values()) {
      list.sort((x, y) => x.offset - y.offset);
      for (let k = 1; k < list.length; k++)
        expect(list[k]!.offset).toBeGreaterThanOrEqual(list[k - 1]!.offset + list[k - 1]!.size);
    }
    n++;
  }
  for (const a of live) expectStamped(a);
  for (const a of live) allocator.free(a);
  allocator.validate();
  expect(allocator.stats().allocationCount).toBe(0);
  relocationMoves += relocation?.moves ?? 0;
  return n;
}

// 4 policies × 2 profiles × runs × ops ≈ 480,000 allocator ops with validate() after each; with the
// hundreds-of-blocks runs below and the placement property tests the suite runs well over 1,000,000
// validated ops.
const RUNS = 150;
const MAX_OPS = 400;

describe.each<[ProfileName, PlacementStrategyName, PolicyName]>([
  ['lavapipe', 'tlsf', 'default'],
  ['lavapipe', 'tlsf', 'crate'],
  ['lavapipe', 'freelist', 'default'],
  ['h100', 'tlsf', 'default'],
  ['h100', 'tlsf', 'crate'],
  ['h100', 'freelist', 'default'],
  ['lavapipe', 'tlsf', 'relocate'],
  ['h100', 'tlsf', 'relocate'],
])('random sequences on %s with %s (%s block policy)', (profile, strategy, policy) => {
  test('every op keeps every invariant', () => {
    let total = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: MAX_OPS / 2, maxLength: MAX_OPS }), (ops) => {
        total += runSequence(profile, strategy, ops, policy);
      }),
      { numRuns: RUNS },
    );
    expect(total).toBeGreaterThan((RUNS * MAX_OPS) / 2 - 1);
    // Relocation did move allocations in these runs (else the relocate runs would prove nothing).
    if (policy === 'relocate') expect(relocationMoves).toBeGreaterThan(0);
  });
});

// Hundreds of blocks: 4 MiB blocks (no growth) and requests of 0.5..3 MiB, mostly allocations, so the
// block count climbs into the hundreds while frees empty and release blocks; validate() after every op.
const manyOpArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('alloc' as const),
      size: fc.integer({ min: MiB / 2, max: 3 * MiB }),
      alignLog2: fc.integer({ min: 0, max: 16 }),
      linear: fc.boolean(),
      location: fc.constantFrom<MemoryLocation>('GpuOnly', 'CpuToGpu'),
      dedicated: fc.constant(false),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
);

describe.each<[PlacementStrategyName, boolean]>([
  ['tlsf', false],
  ['freelist', false],
  ['tlsf', true],
])('hundreds of blocks with %s (relocation: %s)', (strategy, relocating) => {
  test('every op keeps every invariant while the block count passes 200', () => {
    let peakBlocks = 0;
    let moves = 0;
    fc.assert(
      fc.property(fc.array(manyOpArb, { minLength: 1500, maxLength: 1500 }), (ops) => {
        const relocation = relocating ? countingRelocation() : null;
        const allocator = new Allocator({
          device: simulatedDevice('h100'),
          relocation,
          strategy,
          allocationSizes: { deviceMemblockSize: 4 * MiB, hostMemblockSize: 4 * MiB },
          blockPolicy: { ...cratePolicy, spareEmptyBlocks: strategy === 'tlsf' ? 3 : 0 },
          debugSettings: { logLeaksOnShutdown: false },
        });
        const live: Allocation[] = [];
        for (const op of ops) {
          if (op.op === 'alloc') {
            live.push(
              allocator.allocate({
                name: 'r',
                requirements: { size: op.size, alignment: 2 ** op.alignLog2, memoryTypeBits: 0xffffffff },
                location: op.location,
                linear: op.linear,
              }),
            );
          } else if (op.op === 'free' && live.length > 0) {
            const i = op.pick % live.length;
            allocator.free(live[i]!);
            live[i] = live[live.length - 1]!;
            live.pop();
          }
          allocator.validate();
          peakBlocks = Math.max(peakBlocks, allocator.stats().blockCount);
        }
        moves += relocation?.moves ?? 0;
        allocator.destroy();
      }),
      { numRuns: 4 },
    );
    expect(peakBlocks).toBeGreaterThan(200);
    if (relocating) expect(moves).toBeGreaterThan(0);
  });
});
