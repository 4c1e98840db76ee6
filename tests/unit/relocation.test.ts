// Relocation before growth (AllocatorCreateDesc.relocation): the window search on its own, then the
// allocator: a fragmentation miss moves the cheapest window's allocations instead of creating a block,
// the bytes follow (copied through the mappings by the test's copy callback), move events reach the
// event log and the trace, pinned allocations and the move limit are honoured, a window whose victims fit
// nowhere is undone, and bad options are refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  AllocationError,
  Allocator,
  copyMapped,
  EventLog,
  relocatingBlockPolicy,
  cpuRelocatingBlockPolicy,
  TraceEventKind,
  type Allocation,
  type DefragmentationMove,
  type RelocationOptions,
} from '../../allocator/index.ts';
import { replayTo } from '../../allocator/analysis/index.ts';
import { findRelocationWindows, type RelocationWindow } from '../../allocator/relocate.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { simulatedDevice } from '../support/profiles.ts';
import { stamp, stampOf } from '../support/stamps.ts';
import { testHeader } from '../support/trace-fixtures.ts';

const MiB = 1024 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-relocation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('findRelocationWindows', () => {
  // Chunks of 1 MiB blocks laid out as [offset, size] with 1 MiB holes between them, all linear.
  const chunk = (offset: number, size: number) => ({ regionOffset: offset, offset, size, kind: 0 });
  const request = { size: 3 * MiB, alignment: 1, kind: 0, granularity: 1, maxMovedBytes: 3 * MiB };

  test('picks the window that moves the fewest bytes, cheapest first', () => {
    // 0-2 MiB used (2 MiB), hole, 3-4 used (1 MiB), hole, 5-7 used (2 MiB), 7-8 free.
    const chunks = [chunk(0, 2 * MiB), chunk(3 * MiB, MiB), chunk(5 * MiB, 2 * MiB)];
    const out: RelocationWindow[] = [];
    findRelocationWindows(0, 8 * MiB, chunks, () => true, request, 4, out);
    expect(out[0]).toEqual({
      block: 0,
      first: 1,
      end: 2,
      movedBytes: MiB,
      rangeStart: 2 * MiB,
      rangeEnd: 5 * MiB,
      offset: 2 * MiB,
    });
    // Then the 2 MiB windows: the last chunk (freeing 4..8) and the first (0..3).
    expect(out.slice(1).map((w) => [w.first, w.end, w.movedBytes])).toEqual([
      [0, 1, 2 * MiB],
      [2, 3, 2 * MiB],
    ]);
  });

  test('never crosses a chunk that must stay, and keeps within the move limit', () => {
    const chunks = [chunk(0, 2 * MiB), chunk(3 * MiB, MiB), chunk(5 * MiB, 2 * MiB)];
    const out: RelocationWindow[] = [];
    findRelocationWindows(0, 8 * MiB, chunks, (i) => i !== 1, request, 4, out);
    expect(out.map((w) => [w.first, w.end])).toEqual([
      [0, 1],
      [2, 3],
    ]);
    const limited: RelocationWindow[] = [];
    findRelocationWindows(0, 8 * MiB, chunks, () => true, { ...request, maxMovedBytes: MiB }, 4, limited);
    expect(limited.map((w) => w.movedBytes)).toEqual([MiB]);
  });

  test('honours alignment and bufferImageGranularity against the chunks that stay', () => {
    const page = 64 * 1024;
    // A non-linear chunk ends at 100 KiB; a linear request right after it must start on the next page.
    const chunks = [
      { regionOffset: 0, offset: 0, size: 100 * 1024, kind: 1 },
      { regionOffset: 100 * 1024, offset: 100 * 1024, size: 50 * 1024, kind: 0 },
    ];
    const out: RelocationWindow[] = [];
    findRelocationWindows(
      0,
      MiB,
      chunks,
      () => true,
      { size: 850 * 1024, alignment: 256, kind: 0, granularity: page, maxMovedBytes: MiB },
      4,
      out,
    );
    expect(out[0]!.first).toBe(1);
    expect(out[0]!.offset).toBe(2 * page);
  });
});

/** [id, block, offset] of every live allocation, as the event log written as a trace and replayed says. */
function tracedState(log: EventLog, allocator: Allocator, name: string): number[][] {
  const file = path.join(dir, name);
  new TraceWriter(file, log, {
    header: testHeader({ device: allocator.device.description }),
    flushIntervalMs: 0,
  }).close();
  const loaded = loadTraceSync(file);
  expect(loaded.warnings).toEqual([]);
  const snapshot = replayTo(loaded.events, allocator.device.description, loaded.events.length);
  return snapshot.allocations.map((a) => [a.id, a.block, a.offset]).sort((x, y) => x[0]! - y[0]!);
}

/** A host-visible (lavapipe) allocator with relocation whose copy moves the bytes and records the moves. */
function relocatingAllocator(options: Partial<RelocationOptions> = {}, events?: EventLog) {
  const moves: DefragmentationMove[] = [];
  const allocator = new Allocator({
    device: simulatedDevice('lavapipe'),
    relocation: {
      copy: (move, from, to) => {
        moves.push(move);
        copyMapped(from, move.fromOffset, to, move.toOffset, move.size);
      },
      ...options,
    },
    events: events ?? null,
    debugSettings: { logLeaksOnShutdown: false },
  });
  return { allocator, moves };
}

function allocate(allocator: Allocator, name: string, size: number): Allocation {
  return allocator.allocate({
    name,
    requirements: { size, alignment: 256, memoryTypeBits: 0xffffffff },
    location: 'GpuOnly',
    linear: true,
  });
}

function stamped(a: Allocation): boolean {
  const found = stampOf(a);
  return found !== null && found[0] === a.id && found[1] === a.id;
}

/**
 * One 128 MiB block (relocatingBlockPolicy's first block) filled with `count` allocations of `size` bytes,
 * then every other one (in address order) freed: free bytes in holes of `size`, none larger.
 */
function fragment(allocator: Allocator, size: number, count: number): Allocation[] {
  const all: Allocation[] = [];
  for (let i = 0; i < count; i++) all.push(allocate(allocator, `a${i}`, size));
  expect(allocator.stats().blockCount).toBe(1);
  all.sort((x, y) => x.offset - y.offset);
  const kept = all.filter((_, i) => i % 2 === 1);
  for (const [i, a] of all.entries()) if (i % 2 === 0) allocator.free(a);
  for (const a of kept) stamp(a);
  return kept;
}

describe('relocation before growth', () => {
  test('a fragmentation miss moves one allocation instead of creating a block; bytes and handles follow', () => {
    const { allocator, moves } = relocatingAllocator();
    const kept = fragment(allocator, 2 * MiB, 64);
    const where = new Map(kept.map((a) => [a.id, a.offset]));
    const big = allocate(allocator, 'big', 4 * MiB);
    expect(allocator.stats().blockCount).toBe(1);
    expect(moves).toHaveLength(1);
    expect(allocator.relocationMoveCount).toBe(1);
    expect(allocator.relocationMovedBytes).toBe(2 * MiB);
    const moved = kept.find((a) => a.id === moves[0]!.allocationId)!;
    expect(moves[0]!.fromOffset).toBe(where.get(moved.id));
    expect(moved.offset).toBe(moves[0]!.toOffset);
    expect(moved.offset).not.toBe(where.get(moved.id));
    // The new allocation took the moved one's old place (and the holes around it).
    expect(big.offset).toBeLessThanOrEqual(moves[0]!.fromOffset);
    expect(big.offset + big.size).toBeGreaterThanOrEqual(moves[0]!.fromOffset + moved.size);
    // Every other allocation stayed, and every one still holds its bytes.
    for (const a of kept) if (a !== moved) expect(a.offset).toBe(where.get(a.id));
    for (const a of kept) expect(stamped(a)).toBe(true);
    allocator.validate();
    allocator.destroy();
  });

  test('without relocation the same miss creates a block', () => {
    const allocator = new Allocator({
      device: simulatedDevice('lavapipe'),
      blockPolicy: relocatingBlockPolicy,
      debugSettings: { logLeaksOnShutdown: false },
    });
    fragment(allocator, 2 * MiB, 64);
    allocate(allocator, 'big', 4 * MiB);
    expect(allocator.stats().blockCount).toBe(2);
    expect(allocator.relocationMoveCount).toBe(0);
    allocator.destroy();
  });

  test('pinned allocations and the move limit are honoured: then the type grows', () => {
    const pinned = relocatingAllocator();
    for (const a of fragment(pinned.allocator, 2 * MiB, 64)) pinned.allocator.setMovable(a, false);
    allocate(pinned.allocator, 'big', 4 * MiB);
    expect([pinned.moves.length, pinned.allocator.stats().blockCount]).toEqual([0, 2]);
    pinned.allocator.validate();
    // 2 MiB would have to move for a 4 MiB request; a limit of 0.25 x 4 MiB allows 1 MiB.
    const limited = relocatingAllocator({ maxMovedPerRequest: 0.25 });
    fragment(limited.allocator, 2 * MiB, 64);
    allocate(limited.allocator, 'big', 4 * MiB);
    expect([limited.moves.length, limited.allocator.stats().blockCount]).toEqual([0, 2]);
    limited.allocator.validate();
  });

  test('a window whose allocations fit nowhere else is undone, and the type grows', () => {
    const { allocator, moves } = relocatingAllocator();
    // 1.5 MiB allocations with 0.5 MiB holes (both below the 2 MiB from which TLSF places at the end of a
    // range, so they alternate): a 2 MiB request needs one 1.5 MiB allocation moved, but no hole takes
    // it, so every window is tried and undone.
    const all: Allocation[] = [];
    for (let i = 0; i < 64; i++) {
      all.push(allocate(allocator, `a${i}`, 1.5 * MiB));
      all.push(allocate(allocator, `h${i}`, 0.5 * MiB));
    }
    expect(allocator.stats().blockCount).toBe(1);
    const kept = all.filter((a) => a.size === 1.5 * MiB);
    for (const a of all) if (a.size === 0.5 * MiB) allocator.free(a);
    for (const a of kept) stamp(a);
    const where = kept.map((a) => a.offset);
    allocate(allocator, 'big', 2 * MiB);
    expect(moves).toEqual([]);
    expect(allocator.stats().blockCount).toBe(2);
    expect(kept.map((a) => a.offset)).toEqual(where);
    for (const a of kept) expect(stamped(a)).toBe(true);
    allocator.validate();
    // The undone victims' handles are live: each frees once.
    for (const a of kept) allocator.free(a);
    allocator.validate();
  });

  test('moves are events before the allocation: the trace round-trips them', () => {
    const log = new EventLog();
    const { allocator, moves } = relocatingAllocator({}, log);
    fragment(allocator, 2 * MiB, 64);
    const start = log.length;
    const big = allocate(allocator, 'big', 4 * MiB);
    const kinds = Array.from(log.columns.kind.subarray(start, log.length));
    expect(kinds).toEqual([...moves.map(() => TraceEventKind.Move), TraceEventKind.Allocate]);
    expect(moves.length).toBeGreaterThan(0);
    const fromTrace = tracedState(log, allocator, 'relocation.vrt');
    expect(fromTrace).toEqual(allocator.liveAllocations().map((a) => [a.id, a.block.id, a.offset]));
    expect(fromTrace.some(([id]) => id === big.id)).toBe(true);
  });

  test('a copy that throws: allocate() throws it, the moves stand as reported, nothing else changes', () => {
    const log = new EventLog();
    const { allocator } = relocatingAllocator(
      {
        copy: () => {
          throw new Error('copy failed');
        },
      },
      log,
    );
    const kept = fragment(allocator, 2 * MiB, 64);
    const before = allocator.stats();
    const start = log.length;
    expect(() => allocate(allocator, 'big', 4 * MiB)).toThrow('copy failed');
    allocator.validate();
    expect(allocator.stats()).toEqual(before);
    const moved = Array.from(log.columns.kind.subarray(start, log.length)).filter(
      (k) => k === TraceEventKind.Move,
    ).length;
    expect(moved).toBe(1);
    expect(allocator.relocationMoveCount).toBe(1);
    // The allocator's places are those the events report (one allocation moved).
    expect(tracedState(log, allocator, 'throwing-copy.vrt')).toEqual(
      allocator.liveAllocations().map((a) => [a.id, a.block.id, a.offset]),
    );
    expect(allocator.liveAllocations().map((a) => a.id)).toEqual(kept.map((a) => a.id).sort((x, y) => x - y));
  });

  test('flush is called once per relocating request, after its copies, before allocate() returns', () => {
    // Each flush records how many copies had been made by then.
    const flushes: number[] = [];
    const { allocator, moves } = relocatingAllocator({
      maxMovedPerRequest: 2,
      flush: () => flushes.push(moves.length),
    });
    const kept = fragment(allocator, 2 * MiB, 64);
    // 7 MiB fits no 2 MiB hole: clearing two neighbours (4 MiB moved) leaves 10 MiB.
    const big = allocate(allocator, 'big', 7 * MiB);
    expect(moves).toHaveLength(2);
    expect(flushes).toEqual([2]);
    // A request that fits a hole moves nothing and flushes nothing.
    allocator.free(big);
    allocate(allocator, 'small', MiB);
    expect(flushes).toEqual([2]);
    for (const a of kept) expect(stamped(a)).toBe(true);
    allocator.destroy();
  });

  test('bad options are refused', () => {
    const device = simulatedDevice('lavapipe');
    const copy = () => {};
    const make = (desc: object) => () => new Allocator({ device, ...desc });
    expect(make({ strategy: 'freelist', relocation: { copy } })).toThrow(AllocationError);
    expect(make({ relocation: {} })).toThrow(/relocation.copy must be a function/);
    expect(make({ relocation: { copy, flush: 1 } })).toThrow(/relocation.flush must be a function/);
    expect(make({ relocation: { copy, maxMovedPerRequest: -1 } })).toThrow(/maxMovedPerRequest/);
    expect(make({ relocation: { copy, maxMovedPerRequest: Number.NaN } })).toThrow(/maxMovedPerRequest/);
    expect(make({ relocation: { copy }, blockPolicy: { relocateAbove: 0.5 } })).toThrow(/relocateAbove/);
    expect(make({ relocation: { copy }, blockPolicy: { relocateAbove: Number.NaN } })).toThrow(
      /relocateAbove/,
    );
    // lavapipe is a CPU device: moves only past 1.25 x the peak used bytes; a GPU moves at every miss.
    expect(new Allocator({ device, relocation: { copy } }).blockPolicy).toEqual(cpuRelocatingBlockPolicy);
    expect(new Allocator({ device: simulatedDevice('h100'), relocation: { copy } }).blockPolicy).toEqual(
      relocatingBlockPolicy,
    );
  });

  test('relocateAbove: a miss whose new block keeps the type within the limit grows; past it, moves', () => {
    // fragment(): 64 MiB of 2 MiB allocations in holes of 2 MiB in a 128 MiB block. A 4 MiB request then
    // brings the used bytes to 68 MiB; the block a miss would add is 32 MiB (160 MiB in all).
    const run = (relocateAbove: number) => {
      const moves: DefragmentationMove[] = [];
      const allocator = new Allocator({
        device: simulatedDevice('lavapipe'),
        blockPolicy: { ...relocatingBlockPolicy, relocateAbove },
        relocation: { copy: (move) => moves.push(move) },
        debugSettings: { logLeaksOnShutdown: false },
      });
      fragment(allocator, 2 * MiB, 64);
      allocate(allocator, 'big', 4 * MiB);
      const result = [allocator.stats().blockCount, moves.length];
      allocator.validate();
      allocator.destroy();
      return result;
    };
    expect(run(2.5)).toEqual([2, 0]); // 160 <= 2.5 x 68: grow, copy nothing
    expect(run(2.25)).toEqual([1, 1]); // 160 > 2.25 x 68 = 153: move one 2 MiB allocation
    expect(run(0)).toEqual([1, 1]); // 0: every fragmentation miss tries moves
  });
});
