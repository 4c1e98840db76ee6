// Defragmentation: plans (full / fast, budgets, memory types, pinned and dedicated allocations), applying
// them (handles follow, blocks freed, bytes kept, validate() holds), move events in the event log, the
// trace and the analysis replay, and random workloads with random passes in between (fast-check).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  Allocator,
  AllocationError,
  EventLog,
  type Allocation,
  type DefragmentationAlgorithm,
  type MemoryLocation,
  type PlacementStrategyName,
} from '../../allocator/index.ts';
import { replayTo } from '../../allocator/analysis/index.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { simulatedDevice, type ProfileName } from '../support/profiles.ts';
import { testHeader } from '../support/trace-fixtures.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vramscope-defrag-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeAllocator(
  strategy: PlacementStrategyName = 'tlsf',
  profile: ProfileName = 'lavapipe',
  events?: EventLog,
): Allocator {
  const allocator = new Allocator({
    device: simulatedDevice(profile, { heapSize: 256 * MiB }),
    strategy,
    allocationSizes: {
      deviceMemblockSize: 4 * MiB,
      deviceMaxMemblockSize: 4 * MiB,
      hostMemblockSize: 4 * MiB,
      hostMaxMemblockSize: 4 * MiB,
    },
    debugSettings: { logLeaksOnShutdown: false },
    events,
  });
  if (events) events.setDecisionSource((id) => allocator.decision(id));
  return allocator;
}

function alloc(
  allocator: Allocator,
  name: string,
  size: number,
  options: { linear?: boolean; location?: MemoryLocation; alignment?: number; movable?: boolean } = {},
): Allocation {
  return allocator.allocate({
    name,
    requirements: { size, alignment: options.alignment ?? 256, memoryTypeBits: 0xffffffff },
    location: options.location ?? 'CpuToGpu',
    linear: options.linear ?? true,
    movable: options.movable,
  });
}

/** Pseudo-random bytes; an allocation's pattern is a window into them that depends on its id. */
const noise = (() => {
  const out = new Uint8Array(2 * MiB);
  let x = 0x12345678;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
})();

/** A byte pattern unique to the allocation id (sizes up to 1 MiB). */
function pattern(id: number, size: number): Uint8Array {
  const start = (id * 4099) % MiB;
  return noise.subarray(start, start + size);
}

function fill(a: Allocation): void {
  a.mapped?.write(0, pattern(a.id, a.size));
}

function expectBytesKept(a: Allocation): void {
  const m = a.mapped;
  if (m === null) return;
  const got = Buffer.from(m.read(0, a.size));
  const want = Buffer.from(pattern(a.id, a.size));
  let bad = -1;
  if (!got.equals(want)) for (let i = 0; i < a.size && bad < 0; i++) if (got[i] !== want[i]) bad = i;
  expect(bad, `allocation ${a.id} (${a.name}) byte ${bad} after defragmentation`).toBe(-1);
}

/**
 * Empty general blocks a memory type keeps when `emptied` of its blocks empty while others stay in use
 * (none were empty before): blockPolicy.spareEmptyBlocks (0 = the crate's rule: release them all).
 */
function keptEmpty(allocator: Allocator, emptied: number): number {
  return Math.min(emptied, allocator.blockPolicy.spareEmptyBlocks);
}

/** Fills 8 blocks of 4 MiB with 64 KiB allocations, then frees 3 of every 4: 8 blocks a quarter full. */
function fragmented(strategy: PlacementStrategyName = 'tlsf', events?: EventLog) {
  const allocator = makeAllocator(strategy, 'lavapipe', events);
  const all: Allocation[] = [];
  for (let i = 0; i < 8 * 64; i++) all.push(alloc(allocator, `a${i}`, 64 * KiB - 512));
  const live: Allocation[] = [];
  all.forEach((a, i) => {
    if (i % 4 === 0) live.push(a);
    else allocator.free(a);
  });
  for (const a of live) fill(a);
  return { allocator, live };
}

describe.each<PlacementStrategyName>(['tlsf', 'freelist'])(
  'defragmentation with %s placement',
  (strategy) => {
    test('a full plan changes nothing until applied, then compacts to the blocks the bytes need', () => {
      const { allocator, live } = fragmented(strategy);
      const before = allocator.stats();
      const where = live.map((a) => [a.block.id, a.offset]);
      const plan = allocator.planDefragmentation({ algorithm: 'full' });
      expect(allocator.stats()).toEqual(before);
      expect(live.map((a) => [a.block.id, a.offset])).toEqual(where);
      expect(plan.blocksBefore).toBe(before.blockCount);
      expect(plan.moves.length).toBeGreaterThan(0);
      expect(plan.bytesMoved).toBe(plan.moves.reduce((n, m) => n + m.size, 0));
      expect(plan.fragmentationBefore).toBeGreaterThan(0.5);
      expect(plan.fragmentationAfter).toBeLessThan(0.05);
      // 128 allocations of 63.5 KiB = 7.9 MiB: two 4 MiB blocks.
      expect(plan.blocksAfter).toBe(2);
      expect(plan.emptiedBlocks.length).toBe(before.blockCount - 2);

      const freed = allocator.applyDefragmentation(plan);
      allocator.validate();
      // Every block the plan emptied is gone except the empty ones the block policy keeps per memory type.
      expect(freed.length).toBe(plan.emptiedBlocks.length - keptEmpty(allocator, plan.emptiedBlocks.length));
      expect(allocator.stats().blockCount).toBe(
        plan.blocksAfter + keptEmpty(allocator, plan.emptiedBlocks.length),
      );
      for (const m of plan.moves) {
        const a = live.find((x) => x.id === m.allocationId)!;
        expect([a.block.id, a.offset]).toEqual([m.toBlock, m.toOffset]);
      }
      for (const a of live) expectBytesKept(a);
      // Handles stay valid: free works and the space is reusable.
      for (const a of live.slice(0, 10)) allocator.free(a);
      allocator.validate();
    });

    test('fast empties the emptiest blocks whole, into holes of fuller blocks', () => {
      const allocator = makeAllocator(strategy);
      const all: Allocation[] = [];
      for (let i = 0; i < 3 * 64; i++) all.push(alloc(allocator, `a${i}`, 64 * KiB - 512));
      // Block 0 loses half, block 1 keeps a quarter, block 2 keeps 4 allocations.
      all.forEach((a, i) => {
        const block = Math.floor(i / 64);
        const keep = block === 0 ? i % 2 === 0 : block === 1 ? i % 4 === 0 : i % 16 === 0;
        if (!keep) allocator.free(a);
      });
      const live = allocator.liveAllocations();
      for (const a of live) fill(a);
      const plan = allocator.planDefragmentation({ algorithm: 'fast' });
      const emptiest = allocator
        .blocks()
        .filter((b) => !b.dedicated)
        .sort((x, y) => x.allocatedBytes - y.allocatedBytes)[0]!;
      expect(plan.emptiedBlocks).toContain(emptiest.id);
      // fast moves allocations out of emptied blocks only, never within a block.
      for (const m of plan.moves) {
        expect(plan.emptiedBlocks).toContain(m.fromBlock);
        expect(m.toBlock).not.toBe(m.fromBlock);
      }
      allocator.applyDefragmentation(plan);
      allocator.validate();
      for (const a of live) expectBytesKept(a);
      expect(allocator.stats().blockCount).toBe(
        plan.blocksAfter + keptEmpty(allocator, plan.emptiedBlocks.length),
      );
      expect(plan.blocksAfter).toBeLessThan(3);
    });

    test('not movable and dedicated allocations stay; memoryTypes limits the plan', () => {
      const { allocator, live } = fragmented(strategy);
      const pinned = live[live.length - 1]!;
      allocator.setMovable(pinned, false);
      const born = alloc(allocator, 'born pinned', 1000, { movable: false });
      const dedicated = allocator.allocate({
        name: 'dedicated',
        requirements: { size: 64 * KiB, alignment: 256, memoryTypeBits: 0xffffffff },
        location: 'CpuToGpu',
        linear: true,
        scheme: { kind: 'dedicatedBuffer' },
      });
      expect(allocator.isMovable(pinned)).toBe(false);
      expect(allocator.isMovable(dedicated)).toBe(false);
      const plan = allocator.planDefragmentation();
      const moved = new Set(plan.moves.map((m) => m.allocationId));
      expect(moved.has(pinned.id)).toBe(false);
      expect(moved.has(born.id)).toBe(false);
      expect(moved.has(dedicated.id)).toBe(false);
      expect(plan.emptiedBlocks).not.toContain(pinned.block.id);
      const at = [pinned.block.id, pinned.offset, dedicated.block.id];
      allocator.applyDefragmentation(plan);
      allocator.validate();
      expect([pinned.block.id, pinned.offset, dedicated.block.id]).toEqual(at);

      const type = live[0]!.memoryTypeIndex;
      expect(allocator.planDefragmentation({ memoryTypes: [type + 1] }).moves).toEqual([]);
    });

    test('budgets cut a plan into passes; every pass applies and validates', () => {
      const { allocator, live } = fragmented(strategy);
      let passes = 0;
      for (;;) {
        const plan = allocator.planDefragmentation({ maxMovesPerPass: 7, maxBytesPerPass: 400 * KiB });
        expect(plan.moves.length).toBeLessThanOrEqual(7);
        expect(plan.bytesMoved).toBeLessThanOrEqual(400 * KiB);
        if (plan.moves.length === 0) break;
        allocator.applyDefragmentation(plan);
        allocator.validate();
        passes++;
        expect(passes).toBeLessThan(100);
      }
      expect(passes).toBeGreaterThan(1);
      for (const a of live) expectBytesKept(a);
      // The bytes need two blocks; emptied blocks beyond the policy's spares are gone.
      expect(allocator.stats().blockCount).toBeLessThanOrEqual(2 + keptEmpty(allocator, 6));
    });

    test('a plan made before a change is refused and changes nothing', () => {
      const { allocator, live } = fragmented(strategy);
      const plan = allocator.planDefragmentation();
      allocator.free(live[0]!);
      const before = allocator.stats();
      expect(() => allocator.applyDefragmentation(plan)).toThrow(AllocationError);
      expect(allocator.stats()).toEqual(before);
      allocator.validate();
    });
  },
);

test('granularity: linear and non-linear allocations never share a page after moves (h100 profile)', () => {
  const allocator = makeAllocator('tlsf', 'h100');
  const all: Allocation[] = [];
  for (let i = 0; i < 400; i++)
    all.push(
      alloc(allocator, `a${i}`, 3000 + ((i * 7919) % 20000), { linear: i % 3 !== 0, location: 'GpuOnly' }),
    );
  all.forEach((a, i) => {
    if (i % 3 !== 1) allocator.free(a);
  });
  const plan = allocator.planDefragmentation();
  expect(plan.moves.length).toBeGreaterThan(0);
  allocator.applyDefragmentation(plan);
  allocator.validate(); // checks the granularity rule chunk by chunk
});

test('bad options are rejected with clear errors', () => {
  const allocator = makeAllocator();
  expect(() => allocator.planDefragmentation({ algorithm: 'balanced' as DefragmentationAlgorithm })).toThrow(
    /unknown defragmentation algorithm/,
  );
  expect(() => allocator.planDefragmentation({ maxBytesPerPass: -1 })).toThrow(/maxBytesPerPass/);
  expect(() => allocator.planDefragmentation({ memoryTypes: [1.5] })).toThrow(/memoryTypes/);
});

test('moves are events: the trace round-trips them and the replay sees the new places', () => {
  const log = new EventLog();
  const { allocator } = fragmented('tlsf', log);
  const start = log.length;
  const plan = allocator.planDefragmentation();
  const freed = allocator.applyDefragmentation(plan);
  const kinds = Array.from(log.columns.kind.subarray(start, log.length));
  expect(kinds.filter((k) => k === 10).length).toBe(plan.moves.length);
  expect(kinds.filter((k) => k === 5).length).toBe(freed.length);
  const file = path.join(dir, 'defrag.vrt');
  const writer = new TraceWriter(file, log, {
    header: testHeader({ device: allocator.device.description }),
    flushIntervalMs: 0,
  });
  writer.close();
  const loaded = loadTraceSync(file);
  expect(loaded.warnings).toEqual([]);
  expect(loaded.events.length).toBe(log.length);
  const snapshot = replayTo(loaded.events, allocator.device.description, loaded.events.length);
  const fromTrace = snapshot.allocations.map((a) => [a.id, a.block, a.offset]).sort((x, y) => x[0]! - y[0]!);
  const fromAllocator = allocator.liveAllocations().map((a) => [a.id, a.block.id, a.offset]);
  expect(fromTrace).toEqual(fromAllocator);
  expect(snapshot.blocks.map((b) => b.id).sort()).toEqual(
    allocator
      .blocks()
      .map((b) => b.id)
      .sort(),
  );
});

// ---- Random workloads with random passes in between ---------------------------------------------------

type Op =
  | {
      readonly op: 'alloc';
      readonly size: number;
      readonly alignLog2: number;
      readonly linear: boolean;
      readonly host: boolean;
      readonly pinned: boolean;
    }
  | { readonly op: 'free'; readonly pick: number }
  | {
      readonly op: 'defrag';
      readonly algorithm: DefragmentationAlgorithm;
      readonly maxMoves: number;
      readonly maxBytes: number;
    };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('alloc' as const),
      size: fc.oneof(fc.integer({ min: 1, max: 16 * KiB }), fc.integer({ min: 16 * KiB, max: 300 * KiB })),
      alignLog2: fc.integer({ min: 0, max: 14 }),
      linear: fc.boolean(),
      host: fc.boolean(),
      pinned: fc.integer({ min: 0, max: 15 }).map((x) => x === 0),
    }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('defrag' as const),
      algorithm: fc.constantFrom<DefragmentationAlgorithm>('fast', 'full'),
      maxMoves: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 20 })),
      maxBytes: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 2 * MiB })),
    }),
  },
);

describe.each<[ProfileName, PlacementStrategyName]>([
  ['lavapipe', 'tlsf'],
  ['lavapipe', 'freelist'],
  ['h100', 'tlsf'],
  ['h100', 'freelist'],
])('random workloads with defragmentation passes on %s with %s', (profile, strategy) => {
  test('every pass keeps every invariant, every byte and every planned place', () => {
    let totalMoves = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 40, maxLength: 160 }), (ops) => {
        const allocator = makeAllocator(strategy, profile);
        const live: Allocation[] = [];
        let n = 0;
        for (const op of ops) {
          if (op.op === 'alloc') {
            const a = alloc(allocator, `r${n++}`, op.size, {
              alignment: 2 ** op.alignLog2,
              linear: op.linear,
              location: op.host ? 'CpuToGpu' : 'GpuOnly',
              movable: !op.pinned,
            });
            fill(a);
            live.push(a);
          } else if (op.op === 'free') {
            if (live.length === 0) continue;
            const i = op.pick % live.length;
            allocator.free(live[i]!);
            live[i] = live[live.length - 1]!;
            live.pop();
          } else {
            const before = allocator.stats();
            const plan = allocator.planDefragmentation({
              algorithm: op.algorithm,
              maxMovesPerPass: op.maxMoves,
              maxBytesPerPass: op.maxBytes,
            });
            expect(plan.moves.length).toBeLessThanOrEqual(op.maxMoves);
            expect(plan.bytesMoved).toBeLessThanOrEqual(op.maxBytes);
            allocator.applyDefragmentation(plan);
            totalMoves += plan.moves.length;
            allocator.validate();
            const after = allocator.stats();
            expect(after.allocationCount).toBe(before.allocationCount);
            expect(after.allocatedBytes).toBe(before.allocatedBytes);
            expect(after.blockCount).toBeLessThanOrEqual(before.blockCount);
            const byId = new Map(live.map((a) => [a.id, a]));
            for (const m of plan.moves) {
              const a = byId.get(m.allocationId)!;
              expect(allocator.isMovable(a)).toBe(true);
              expect(a.offset % m.alignment).toBe(0);
            }
            for (const a of live) expectBytesKept(a);
          }
          allocator.validate();
        }
      }),
      { numRuns: 25 },
    );
    // The workloads do reach plans with moves (else this test would prove nothing).
    expect(totalMoves).toBeGreaterThan(25);
  });
});
