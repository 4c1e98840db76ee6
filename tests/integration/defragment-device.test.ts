// Defragmentation with the bytes on the real device (lavapipe), validation layer on: allocations filled
// with byte patterns, fragmented, defragmented in passes with each copy path (mapped copies, and
// vkCmdCopyBuffer between buffers bound at the source and destination ranges), then every byte of every
// live allocation is checked. Also: the addon's argument checks on copyBuffer / copyBuffers, overlapping
// slides (ordered pieces in one submission, or a temporary block), and relocation before growth with its
// copies batched into one submission per request.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  Allocator,
  isHostVisible,
  type Allocation,
  type DefragmentationAlgorithm,
  type MemoryLocation,
} from '../../allocator/index.ts';
import { BufferUsage, isCodedError, type DebugMessage, type MemoryHandle } from '../../native/index.ts';
import { openVulkanDevice, type VulkanDevice } from '../../native/vulkan-device.ts';
import {
  createDefragmentCopy,
  createRelocationCopy,
  type DefragmentCopyMode,
  newDefragmentCopyStats,
} from '../../native/defrag-copy.ts';
import { bytePattern, sameBytes } from '../support/vulkan-checks.ts';
import { addonBuilt, skipReason } from './native-support.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const messages: DebugMessage[] = [];
let device: VulkanDevice;

const errors = (): DebugMessage[] => messages.filter((m) => m.severity === 'error');

/** What calling `f` gave: "CODE: message" for the addon's coded errors, "no error" when it returned. */
function code(f: () => void): string {
  try {
    f();
  } catch (error) {
    return isCodedError(error) ? `${error.code}: ${error.message}` : String(error);
  }
  return 'no error';
}

function makeAllocator(): Allocator {
  return new Allocator({
    device,
    debugSettings: { logLeaksOnShutdown: false },
    allocationSizes: {
      deviceMemblockSize: 4 * MiB,
      deviceMaxMemblockSize: 4 * MiB,
      hostMemblockSize: 4 * MiB,
      hostMaxMemblockSize: 4 * MiB,
    },
  });
}

/** Reads or writes an allocation's bytes whether or not the allocator mapped its block (lavapipe: all host-visible). */
function bytesOf(a: Allocation): Uint8Array {
  const ctx = device.context;
  const memory = a.block.handle as MemoryHandle;
  ctx.invalidateMemory(memory, a.offset, a.size);
  return ctx.readMemory(memory, a.offset, a.size);
}
function fill(a: Allocation, bytes: Uint8Array): void {
  const ctx = device.context;
  const memory = a.block.handle as MemoryHandle;
  ctx.writeMemory(memory, a.offset, bytes);
  ctx.flushMemory(memory, a.offset, a.size);
}

/** Maps every block the allocator left unmapped, so the test can write and read them from the host. */
function mapAll(allocator: Allocator, mappedByTest: Set<unknown>): void {
  for (const a of allocator.liveAllocations()) {
    if (a.block.mapped === null && !mappedByTest.has(a.block.handle)) {
      device.context.mapMemory(a.block.handle as MemoryHandle);
      mappedByTest.add(a.block.handle);
    }
  }
}

/**
 * Allocates `count` allocations (buffers and movable images, 1-256 KiB, mixed alignments) in `location`,
 * frees two of every three (seeded), writes a distinct pattern into each survivor. Returns the survivors
 * with their patterns.
 */
function fragmentedState(
  allocator: Allocator,
  location: MemoryLocation,
  count: number,
  seed: number,
): Map<Allocation, Uint8Array> {
  let x = seed;
  const random = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const all: Allocation[] = [];
  for (let i = 0; i < count; i++) {
    const image = random() < 0.3;
    all.push(
      allocator.allocate({
        name: `a${i}`,
        requirements: {
          size: KiB + Math.floor(random() * 255 * KiB),
          alignment: image ? 4096 : [16, 256, 1024][i % 3]!,
          memoryTypeBits: 0xffffffff,
        },
        location,
        linear: !image,
        movable: true,
      }),
    );
  }
  const live = new Map<Allocation, Uint8Array>();
  for (const [i, a] of all.entries()) {
    if (random() < 2 / 3) allocator.free(a);
    else live.set(a, bytePattern(a.size, 1000 + i));
  }
  return live;
}

/** Blocks that hold at least one of the allocations. */
function blocksHolding(live: Map<Allocation, Uint8Array>): number {
  return new Set([...live.keys()].map((a) => a.block.id)).size;
}

function checkEveryByte(live: Map<Allocation, Uint8Array>): number {
  let bad = 0;
  for (const [a, pattern] of live) if (!sameBytes(bytesOf(a), pattern)) bad++;
  return bad;
}

describe.skipIf(!addonBuilt)(
  `defragmentation moves bytes on the real device (${addonBuilt ? 'addon built' : skipReason})`,
  () => {
    beforeAll(() => {
      device = openVulkanDevice(undefined, { validation: true, onMessage: (m) => messages.push(m) });
    });
    afterAll(() => {
      if (device !== undefined) device.close();
      expect(errors()).toEqual([]);
    });

    const cases: [DefragmentCopyMode, MemoryLocation, DefragmentationAlgorithm][] = [
      ['mapped', 'CpuToGpu', 'full'],
      ['transfer', 'CpuToGpu', 'full'],
      ['transfer', 'GpuOnly', 'fast'],
      ['auto', 'GpuOnly', 'full'],
    ];
    test.each(cases)(
      'copy %s, %s memory, %s plans in passes: every byte of every live allocation survives',
      (mode, location, algorithm) => {
        const allocator = makeAllocator();
        const mappedByTest = new Set<unknown>();
        const live = fragmentedState(allocator, location, 90, 0x2545f491 + mode.length);
        mapAll(allocator, mappedByTest);
        for (const [a, pattern] of live) fill(a, pattern);
        expect(checkEveryByte(live)).toBe(0);
        const blocksBefore = blocksHolding(live);
        const stats = newDefragmentCopyStats();
        const copy = createDefragmentCopy(device.context, mode, stats);
        let moves = 0;
        let bytes = 0;
        let slides = 0;
        for (let pass = 0; pass < 50; pass++) {
          const plan = allocator.planDefragmentation({ algorithm, maxMovesPerPass: 12 });
          if (plan.moves.length === 0) break;
          for (const m of plan.moves) if (m.fromBlock === m.toBlock) slides++;
          allocator.applyDefragmentation(plan, copy);
          allocator.validate();
          moves += plan.moves.length;
          bytes += plan.bytesMoved;
          // Blocks made during the passes (none expected) would need mapping too before reading.
          mapAll(allocator, mappedByTest);
          // Every byte after every pass, not only at the end.
          expect(checkEveryByte(live)).toBe(0);
        }
        expect(moves).toBeGreaterThan(0);
        expect(blocksHolding(live)).toBeLessThan(blocksBefore);
        expect(stats.bytes).toBe(bytes);
        // The path each mode promises was the one taken.
        // (auto: mapped when the allocator mapped the blocks; lavapipe's types are all host-visible, so it
        // maps every block, and only 'transfer' reaches vkCmdCopyBuffer there.)
        const mappedBlocks = [...live.keys()].every((a) => a.block.mapped !== null);
        const expectTransfer = mode === 'transfer' || (mode === 'auto' && !mappedBlocks);
        expect(stats.transferMoves).toBe(expectTransfer ? moves : 0);
        expect(stats.mappedMoves).toBe(expectTransfer ? 0 : moves);
        // One submission per move (a slide's pieces or a temporary block's two copies aside).
        if (expectTransfer) expect(stats.transferSubmits).toBeGreaterThanOrEqual(moves);
        if (algorithm === 'full') expect(slides).toBeGreaterThan(0);
        for (const a of live.keys()) allocator.free(a);
        allocator.destroy();
        expect(errors()).toEqual([]);
      },
    );

    test('slides of a few bytes under large allocations copy through a temporary block', () => {
      const allocator = makeAllocator();
      const make = (name: string, size: number): Allocation =>
        allocator.allocate({
          name,
          requirements: { size, alignment: 256, memoryTypeBits: 0xffffffff },
          location: 'CpuToGpu',
          linear: true,
        });
      // Two 256-byte allocations in front, then four of about 1 MiB filling the 4 MiB block behind them.
      const front = [make('front0', 256), make('front1', 256)];
      const big = [make('big0', MiB), make('big1', MiB), make('big2', MiB), make('big3', MiB - 512)];
      expect(new Set([...front, ...big].map((a) => a.block)).size).toBe(1);
      const live = new Map(big.map((a, i) => [a, bytePattern(a.size, 77 + i)] as const));
      for (const [a, pattern] of live) fill(a, pattern);
      for (const a of front) allocator.free(a);
      const plan = allocator.planDefragmentation({ algorithm: 'full' });
      // Every move slides an allocation down by less than its size: source and destination overlap.
      expect(plan.moves.length).toBeGreaterThan(0);
      for (const m of plan.moves) {
        expect(m.toBlock).toBe(m.fromBlock);
        expect(m.fromOffset - m.toOffset).toBeGreaterThan(0);
        expect(m.fromOffset - m.toOffset).toBeLessThan(m.size / 8);
      }
      const stats = newDefragmentCopyStats();
      allocator.applyDefragmentation(plan, createDefragmentCopy(device.context, 'transfer', stats));
      allocator.validate();
      expect(checkEveryByte(live)).toBe(0);
      // In pieces of the distance each move would be more than maxOrderedPieces commands and barriers; the
      // temporary block (one vkAllocateMemory per move, counted) takes two copies.
      expect(stats.transferSubmits).toBe(2 * plan.moves.length);
      expect(stats.tempBlocks).toBe(plan.moves.length);
      for (const a of big) allocator.free(a);
      allocator.destroy();
      expect(errors()).toEqual([]);
    });

    test('a slide by a quarter of the allocation copies in pieces of the distance, lowest first', () => {
      const allocator = makeAllocator();
      const make = (name: string, size: number): Allocation =>
        allocator.allocate({
          name,
          requirements: { size, alignment: 256, memoryTypeBits: 0xffffffff },
          location: 'CpuToGpu',
          linear: true,
        });
      const front = make('front', 64 * KiB);
      const mid = make('mid', 256 * KiB);
      expect([mid.block, mid.offset]).toEqual([front.block, 64 * KiB]);
      const pattern = bytePattern(mid.size, 91);
      fill(mid, pattern);
      allocator.free(front);
      const plan = allocator.planDefragmentation({ algorithm: 'full' });
      expect(plan.moves.map((m) => [m.allocationId, m.fromOffset, m.toOffset])).toEqual([
        [mid.id, 64 * KiB, 0],
      ]);
      const stats = newDefragmentCopyStats();
      allocator.applyDefragmentation(plan, createDefragmentCopy(device.context, 'transfer', stats));
      expect(mid.offset).toBe(0);
      expect(sameBytes(bytesOf(mid), pattern)).toBe(true);
      // 256 KiB moved 64 KiB down: four pieces, each reading what no earlier one wrote, with a barrier
      // between them, in one submission; no temporary block.
      expect(stats.transferSubmits).toBe(1);
      expect(stats.tempBlocks).toBe(0);
      allocator.free(mid);
      allocator.destroy();
      expect(errors()).toEqual([]);
    });

    test('relocation before growth over vkCmdCopyBuffer: one submission per request, every byte follows', () => {
      const stats = newDefragmentCopyStats();
      const relocation = createRelocationCopy(device.context, 'transfer', stats);
      const allocator = new Allocator({
        device,
        relocation: { ...relocation, maxMovedPerRequest: 2 },
        debugSettings: { logLeaksOnShutdown: false },
      });
      const make = (name: string, size: number): Allocation =>
        allocator.allocate({
          name,
          requirements: { size, alignment: 256, memoryTypeBits: 0xffffffff },
          location: 'GpuOnly',
          linear: true,
        });
      // The first block (128 MiB) filled with 2 MiB allocations, every other one (in address order) freed:
      // free holes of 2 MiB, none larger.
      const all = Array.from({ length: 64 }, (_, i) => make(`a${i}`, 2 * MiB));
      expect(new Set(all.map((a) => a.block)).size).toBe(1);
      all.sort((x, y) => x.offset - y.offset);
      const live = new Map<Allocation, Uint8Array>();
      for (const [i, a] of all.entries()) {
        if (i % 2 === 0) allocator.free(a);
        else live.set(a, bytePattern(a.size, 300 + i));
      }
      const mappedByTest = new Set<unknown>();
      mapAll(allocator, mappedByTest);
      for (const [a, pattern] of live) fill(a, pattern);
      // A 7 MiB request fits no hole: it is placed by moving allocations (at first two neighbours: 4 MiB
      // moved leaves 10 MiB free, one would leave 6), never by a new block.
      let relocating = 0;
      for (let r = 0; r < 4; r++) {
        const before = allocator.relocationMoveCount;
        const big = make(`big${r}`, 7 * MiB);
        const moved = allocator.relocationMoveCount - before;
        if (moved > 0) relocating++;
        // The first clears two neighbours; later ones find holes that the earlier moves left side by side.
        expect(moved).toBeGreaterThanOrEqual(r === 0 ? 2 : 1);
        mapAll(allocator, mappedByTest);
        expect(checkEveryByte(live)).toBe(0);
        const pattern = bytePattern(big.size, 900 + r);
        fill(big, pattern);
        live.set(big, pattern);
      }
      allocator.validate();
      expect(relocating).toBe(4);
      expect(stats.transferMoves).toBe(allocator.relocationMoveCount);
      expect(stats.mappedMoves).toBe(0);
      // The moves of one request in one submission, through one buffer over each block involved (the
      // moves stay in the one block here), and no vkAllocateMemory besides the allocator's blocks.
      expect(stats.transferSubmits).toBe(relocating);
      expect(stats.buffers).toBe(relocating);
      expect(stats.tempBlocks).toBe(0);
      expect(allocator.stats().blockCount).toBe(1);
      for (const a of live.keys()) allocator.free(a);
      allocator.destroy();
      expect(errors()).toEqual([]);
    });

    test('copyBuffers: one submission for several copies; unordered copies must not overlap', () => {
      const ctx = device.context;
      const type = ctx.info.types.find(isHostVisible)!.index;
      const memory = ctx.allocateMemory(type, 1 * MiB, { map: true });
      const buffer = ctx.createBuffer(1 * MiB, BufferUsage.TRANSFER_SRC | BufferUsage.TRANSFER_DST).handle;
      try {
        ctx.bindBufferMemory(buffer, memory, 0);
        const copy = (srcOffset: number, dstOffset: number, size: number) => ({
          src: buffer,
          srcOffset,
          dst: buffer,
          dstOffset,
          size,
        });
        const a = bytePattern(64 * KiB, 11);
        const b = bytePattern(64 * KiB, 12);
        ctx.writeMemory(memory, 0, a);
        ctx.writeMemory(memory, 64 * KiB, b);
        // Two copies in one submission: [0, 64 KiB) to 256 KiB, [64, 128 KiB) to 512 KiB.
        ctx.copyBuffers([copy(0, 256 * KiB, 64 * KiB), copy(64 * KiB, 512 * KiB, 64 * KiB)]);
        expect(sameBytes(ctx.readMemory(memory, 256 * KiB, 64 * KiB), a)).toBe(true);
        expect(sameBytes(ctx.readMemory(memory, 512 * KiB, 64 * KiB), b)).toBe(true);
        // Unordered, a destination over another copy's source or destination is refused.
        expect(
          code(() => ctx.copyBuffers([copy(0, 768 * KiB, 64 * KiB), copy(900 * KiB, 32 * KiB, 16)])),
        ).toMatch(/INVALID_ARGUMENT: source \[0, 65536\) and destination \[32768, 32784\) overlap/);
        expect(
          code(() => ctx.copyBuffers([copy(0, 768 * KiB, 64 * KiB), copy(256 * KiB, 800 * KiB, 64 * KiB)])),
        ).toMatch(
          /INVALID_ARGUMENT: destination \[819200, 884736\) and destination \[786432, 851968\) overlap/,
        );
        expect(code(() => ctx.copyBuffers([]))).toMatch(
          /INVALID_ARGUMENT: copyBuffers needs at least one copy/,
        );
        // Ordered, a slide down by 16 KiB in pieces of 16 KiB, lowest first: each piece reads bytes no
        // earlier piece wrote.
        ctx.copyBuffers(
          [0, 1, 2, 3].map((p) => copy(16 * KiB + p * 16 * KiB, p * 16 * KiB, 16 * KiB)),
          true,
        );
        const slid = new Uint8Array(64 * KiB);
        slid.set(a.subarray(16 * KiB), 0);
        slid.set(b.subarray(0, 16 * KiB), 48 * KiB);
        expect(sameBytes(ctx.readMemory(memory, 0, 64 * KiB), slid)).toBe(true);
      } finally {
        ctx.destroyBuffer(buffer);
        ctx.freeMemory(memory);
      }
      expect(errors()).toEqual([]);
    });

    test('copyBuffer refuses what Vulkan forbids, before the driver sees it', () => {
      const ctx = device.context;
      const type = ctx.info.types.find(isHostVisible)!.index;
      const memory = ctx.allocateMemory(type, 1 * MiB, { map: true });
      const src = ctx.createBuffer(64 * KiB, BufferUsage.TRANSFER_SRC).handle;
      const dst = ctx.createBuffer(64 * KiB, BufferUsage.TRANSFER_DST).handle;
      const storage = ctx.createBuffer(64 * KiB, BufferUsage.STORAGE_BUFFER).handle;
      try {
        expect(code(() => ctx.copyBuffer(src, 0, dst, 0, 16))).toMatch(
          /INVALID_STATE: the source buffer is not bound/,
        );
        ctx.bindBufferMemory(src, memory, 0);
        ctx.bindBufferMemory(dst, memory, 32 * KiB);
        ctx.bindBufferMemory(storage, memory, 512 * KiB);
        // Source [0, 64 KiB) and destination [32 KiB, 96 KiB) of one memory overlap.
        expect(code(() => ctx.copyBuffer(src, 0, dst, 0, 64 * KiB))).toMatch(/INVALID_ARGUMENT: .*overlap/);
        expect(code(() => ctx.copyBuffer(src, 60 * KiB, dst, 40 * KiB, 8 * KiB))).toMatch(
          /INVALID_ARGUMENT: the copy reads 8192 bytes at offset 61440 of a 65536-byte source buffer/,
        );
        expect(code(() => ctx.copyBuffer(src, 0, dst, 60 * KiB, 8 * KiB))).toMatch(
          /INVALID_ARGUMENT: the copy writes/,
        );
        expect(code(() => ctx.copyBuffer(storage, 0, dst, 40 * KiB, 16))).toMatch(/TRANSFER_SRC/);
        expect(code(() => ctx.copyBuffer(src, 0, storage, 0, 16))).toMatch(/TRANSFER_DST/);
        expect(code(() => ctx.copyBuffer(src, 0, dst, 40 * KiB, 0))).toMatch(/INVALID_ARGUMENT/);
        expect(code(() => ctx.copyBuffer(src, -1, dst, 40 * KiB, 16))).toMatch(/INVALID_ARGUMENT/);
        expect(code(() => ctx.copyBuffer(memory as never, 0, dst, 40 * KiB, 16))).toMatch(/INVALID_HANDLE/);
        // A valid copy after the refusals: source [0, 16 KiB) to destination [32 KiB + 40 KiB, ...).
        const pattern = bytePattern(16 * KiB, 5);
        ctx.writeMemory(memory, 0, pattern);
        ctx.copyBuffer(src, 0, dst, 40 * KiB, 16 * KiB);
        expect(sameBytes(ctx.readMemory(memory, 72 * KiB, 16 * KiB), pattern)).toBe(true);
      } finally {
        ctx.destroyBuffer(src);
        ctx.destroyBuffer(dst);
        ctx.destroyBuffer(storage);
        ctx.freeMemory(memory);
      }
      expect(errors()).toEqual([]);
    });
  },
);
