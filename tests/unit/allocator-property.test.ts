// Property-based tests: random allocate/free/rename sequences on both strategies with validate() after
// every op, on small heaps so out-of-memory, block growth, dedicated blocks and block release all happen.
// Shrunk counterexamples are printed by fast-check as readable command lists.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  AllocationError,
  Allocator,
  type Allocation,
  type MemoryLocation,
  type PlacementStrategyName,
} from '../../allocator/index.ts';
import { simulatedDevice, type ProfileName } from '../support/profiles.ts';

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
  | { readonly op: 'rename'; readonly pick: number };

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
);

function runSequence(profile: ProfileName, strategy: PlacementStrategyName, ops: readonly Op[]): number {
  // 48 MiB heaps with 4..16 MiB growing blocks: OOM, growth and dedicated blocks are all reachable.
  const allocator = new Allocator({
    device: simulatedDevice(profile, { heapSize: 48 * MiB }),
    strategy,
    allocationSizes: {
      deviceMemblockSize: 4 * MiB,
      deviceMaxMemblockSize: 16 * MiB,
      hostMemblockSize: 4 * MiB,
      hostMaxMemblockSize: 8 * MiB,
    },
    debugSettings: { logLeaksOnShutdown: false },
  });
  const live: Allocation[] = [];
  let n = 0;
  for (const op of ops) {
    if (op.op === 'alloc') {
      const before = allocator.stats();
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
        live.push(a);
      } catch (error) {
        if (!(error instanceof AllocationError) || error.code !== 'OutOfMemory') throw error;
        expect(allocator.stats()).toEqual(before);
      }
    } else if (live.length > 0) {
      const i = op.pick % live.length;
      if (op.op === 'free') {
        allocator.free(live[i]!);
        live[i] = live[live.length - 1]!;
        live.pop();
      } else {
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
  for (const a of live) allocator.free(a);
  allocator.validate();
  expect(allocator.stats().allocationCount).toBe(0);
  return n;
}

// 2 strategies × 2 profiles × runs × ops ≈ 240,000 allocator ops with validate() after each; together with
// the placement property tests the suite runs well over 1,000,000 validated ops.
const RUNS = 150;
const MAX_OPS = 400;

describe.each<[ProfileName, PlacementStrategyName]>([
  ['lavapipe', 'tlsf'],
  ['lavapipe', 'freelist'],
  ['h100', 'tlsf'],
  ['h100', 'freelist'],
])('random sequences on %s with %s', (profile, strategy) => {
  test('every op keeps every invariant', () => {
    let total = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: MAX_OPS / 2, maxLength: MAX_OPS }), (ops) => {
        total += runSequence(profile, strategy, ops);
      }),
      { numRuns: RUNS },
    );
    expect(total).toBeGreaterThan((RUNS * MAX_OPS) / 2 - 1);
  });
});
