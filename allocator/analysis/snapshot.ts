// What the state looks like at one point of a trace: live allocations and blocks as records, plus
// committed/allocated bytes per heap, per memory type and in total. Built from a ReplayState.
import { FlagBits, flagsLocation } from '../event-log.ts';
import type { MemoryLocation } from '../types.ts';
import type { TraceEvents } from '../trace/events.ts';
import type { ReplayState, SeriesLayout } from './replay.ts';

export interface LiveAllocation {
  readonly id: number;
  /** Index of the Allocate event. */
  readonly eventIndex: number;
  /** Milliseconds since the recording started. */
  readonly time: number;
  readonly block: number;
  readonly memoryTypeIndex: number;
  readonly heapIndex: number;
  /** Bytes from the start of the block to the caller's data. */
  readonly offset: number;
  /** Requested bytes. */
  readonly size: number;
  readonly alignment: number;
  /** Current name (after renames). */
  readonly name: string;
  /** Where it was requested ("" when unknown). */
  readonly stack: string;
  readonly decision: number;
  readonly location: MemoryLocation;
  /** AllocationKind: 0 linear, 1 non-linear, 2 dedicated. */
  readonly kind: number;
  readonly usedRetry: boolean;
}

export interface BlockState {
  readonly id: number;
  readonly eventIndex: number;
  readonly memoryTypeIndex: number;
  readonly heapIndex: number;
  /** Bytes. */
  readonly size: number;
  readonly dedicated: boolean;
  /** Requested bytes of the live allocations in it. */
  readonly allocatedBytes: number;
  readonly allocationCount: number;
}

export interface Usage {
  /** Bytes of live blocks. */
  readonly committed: number;
  /** Requested bytes of live allocations. */
  readonly allocated: number;
}

export interface Snapshot {
  /** The state after events [0, eventIndex). */
  readonly eventIndex: number;
  /** Time of the last applied event (ms), 0 before any. */
  readonly time: number;
  /** Sorted by allocation order. */
  readonly allocations: readonly LiveAllocation[];
  /** Sorted by creation order. */
  readonly blocks: readonly BlockState[];
  readonly heaps: readonly Usage[];
  readonly types: readonly Usage[];
  readonly total: Usage;
}

export function liveAllocationAt(
  events: TraceEvents,
  layout: SeriesLayout,
  at: number,
  nameId: number,
  /** Index of the allocation's latest Move event (defragmentation), or -1: block and offset come from it. */
  movedAt = -1,
): LiveAllocation {
  const c = events.columns;
  const where = movedAt >= 0 ? movedAt : at;
  const type = c.type[at]!;
  const flags = c.flags[at]!;
  return {
    id: c.id[at]!,
    eventIndex: at,
    time: c.time[at]!,
    block: c.block[where]!,
    memoryTypeIndex: type,
    heapIndex: layout.typeHeap[type] ?? -1,
    offset: c.offset[where]!,
    size: c.size[at]!,
    alignment: c.alignment[at]!,
    name: events.strings[nameId] ?? '',
    stack: events.strings[c.stack[at]!] ?? '',
    decision: c.decision[at]!,
    location: flagsLocation(flags),
    kind: flags & FlagBits.kindMask,
    usedRetry: (flags & FlagBits.usedRetry) !== 0,
  };
}

/** Materialises the state as records (O(live allocations + blocks)). */
export function snapshotOf(events: TraceEvents, layout: SeriesLayout, state: ReplayState): Snapshot {
  const c = events.columns;
  const allocations: LiveAllocation[] = [];
  const perBlock = new Map<number, { bytes: number; count: number }>();
  const order = state.live.eventIndices();
  for (const at of order) {
    const id = c.id[at]!;
    const renamed = state.renamed.get(id);
    const a = liveAllocationAt(events, layout, at, renamed ?? c.name[at]!, state.moved.get(id) ?? -1);
    allocations.push(a);
    const b = perBlock.get(a.block);
    if (b) {
      b.bytes += a.size;
      b.count++;
    } else perBlock.set(a.block, { bytes: a.size, count: 1 });
  }
  const blocks: BlockState[] = Array.from(state.blocks.values())
    .sort((a, b) => a - b)
    .map((at) => {
      const id = c.id[at]!;
      const type = c.type[at]!;
      const used = perBlock.get(id);
      return {
        id,
        eventIndex: at,
        memoryTypeIndex: type,
        heapIndex: layout.typeHeap[type] ?? -1,
        size: c.size[at]!,
        dedicated: (c.flags[at]! & FlagBits.dedicated) !== 0,
        allocatedBytes: used?.bytes ?? 0,
        allocationCount: used?.count ?? 0,
      };
    });
  const usage = (s: number): Usage => ({ committed: state.committed[s]!, allocated: state.allocated[s]! });
  return {
    eventIndex: state.position,
    time: state.position > 0 ? c.time[state.position - 1]! : 0,
    allocations,
    blocks,
    types: Array.from({ length: layout.typeCount }, (_, t) => usage(t)),
    heaps: Array.from({ length: layout.heapCount }, (_, h) => usage(layout.typeCount + h)),
    total: usage(layout.totalSeries),
  };
}

export interface ByteRange {
  /** Bytes from the block start. */
  readonly offset: number;
  readonly size: number;
}

/**
 * The free ranges of a block, from its live allocations (any order). A trace does not carry the allocator's
 * free list, so a gap in front of an allocation that is smaller than that allocation's alignment is taken as
 * alignment padding (bytes neither allocated nor usable); every other gap is free. Sorted by offset.
 */
export function freeRangesOf(
  blockSize: number,
  allocations: readonly Pick<LiveAllocation, 'offset' | 'size' | 'alignment'>[],
): ByteRange[] {
  const sorted = [...allocations].sort((x, y) => x.offset - y.offset);
  const free: ByteRange[] = [];
  let cursor = 0;
  for (const a of sorted) {
    const gap = a.offset - cursor;
    if (gap > 0 && gap >= a.alignment) free.push({ offset: cursor, size: gap });
    cursor = Math.max(cursor, a.offset + a.size);
  }
  if (blockSize > cursor) free.push({ offset: cursor, size: blockSize - cursor });
  return free;
}
