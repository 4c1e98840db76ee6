// Reports over one snapshot: leaks grouped by origin and by name, fragmentation per block and overall,
// and the difference between two snapshots.
import type { LiveAllocation, Snapshot, Usage } from './snapshot.ts';
import { OriginCache } from './stack-frames.ts';

// ---- Leaks ---------------------------------------------------------------------------------------------

export interface LeakGroup {
  /**
   * byOrigin: the innermost user frame of the stack (stack-frames.ts stackOrigin: a Python frame
   * "file:line function", else the first C++ frame that is not allocator machinery; a stack without
   * frames is its own origin; "" = none recorded). byName: the allocation name.
   */
  readonly key: string;
  /** The full stack of the group's first allocation (byOrigin: one of the stacks with this origin). */
  readonly stack: string;
  readonly count: number;
  /** Requested bytes. */
  readonly bytes: number;
  /** Allocation ids in allocation order. */
  readonly allocationIds: readonly number[];
  /** Up to 5 distinct names (byOrigin) or origins (byName), for display. */
  readonly examples: readonly string[];
}

export interface LeakReport {
  readonly eventIndex: number;
  readonly count: number;
  readonly bytes: number;
  /** Sorted by bytes, then count, descending; ties by key. */
  readonly byOrigin: readonly LeakGroup[];
  readonly byName: readonly LeakGroup[];
  /** By name with every run of digits replaced by "#" ("tex_12" and "tex_7" -> "tex_#"). */
  readonly byNamePattern: readonly LeakGroup[];
}

/** The name with every run of decimal digits replaced by "#". */
export function namePattern(name: string): string {
  return name.replace(/[0-9]+/g, '#');
}

function group(
  allocations: readonly LiveAllocation[],
  keyOf: (a: LiveAllocation) => string,
  exampleOf: (a: LiveAllocation) => string,
): LeakGroup[] {
  const groups = new Map<
    string,
    { count: number; bytes: number; ids: number[]; examples: Set<string>; stack: string }
  >();
  for (const a of allocations) {
    const key = keyOf(a);
    let g = groups.get(key);
    if (!g) {
      g = { count: 0, bytes: 0, ids: [], examples: new Set(), stack: a.stack };
      groups.set(key, g);
    }
    g.count++;
    g.bytes += a.size;
    g.ids.push(a.id);
    if (g.examples.size < 5) g.examples.add(exampleOf(a));
  }
  return Array.from(groups, ([key, g]) => ({
    key,
    stack: g.stack,
    count: g.count,
    bytes: g.bytes,
    allocationIds: g.ids,
    examples: Array.from(g.examples),
  })).sort((x, y) => y.bytes - x.bytes || y.count - x.count || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

/** Live allocations at the snapshot (at the end of a trace: the leaks), grouped by origin and by name. */
export function groupLeaks(snapshot: Snapshot): LeakReport {
  const all = snapshot.allocations;
  const origins = new OriginCache();
  let bytes = 0;
  for (const a of all) bytes += a.size;
  return {
    eventIndex: snapshot.eventIndex,
    count: all.length,
    bytes,
    byOrigin: group(
      all,
      (a) => origins.originOf(a.stack),
      (a) => a.name,
    ),
    byName: group(
      all,
      (a) => a.name,
      (a) => origins.originOf(a.stack),
    ),
    byNamePattern: group(
      all,
      (a) => namePattern(a.name),
      (a) => a.name,
    ),
  };
}

// ---- Fragmentation -------------------------------------------------------------------------------------

/**
 * Free space of one block, from the live allocations' [offset, offset + size) ranges. Alignment padding and
 * the allocator's internal rounding count as free (the trace records requested sizes).
 * fragmentation = 1 - largestFreeRange / freeBytes (0 when nothing is free): 0 means all free space is one
 * range; values near 1 mean it is scattered in small holes.
 */
export interface BlockFragmentation {
  readonly blockId: number;
  readonly memoryTypeIndex: number;
  readonly heapIndex: number;
  readonly size: number;
  readonly dedicated: boolean;
  readonly usedBytes: number;
  readonly freeBytes: number;
  readonly largestFreeRange: number;
  readonly freeRangeCount: number;
  readonly fragmentation: number;
}

/**
 * Over all non-dedicated blocks: fragmentation = 1 - (sum of each block's largest free range) / (sum of free
 * bytes) — the share of free memory that is not in its block's largest hole. 0 when every block has at most
 * one hole.
 */
export interface FragmentationReport {
  readonly eventIndex: number;
  readonly blocks: readonly BlockFragmentation[];
  readonly freeBytes: number;
  readonly largestFreeRange: number;
  readonly freeRangeCount: number;
  readonly fragmentation: number;
}

export function fragmentationOf(snapshot: Snapshot): FragmentationReport {
  const byBlock = new Map<number, LiveAllocation[]>();
  for (const a of snapshot.allocations) {
    const list = byBlock.get(a.block);
    if (list) list.push(a);
    else byBlock.set(a.block, [a]);
  }
  const blocks: BlockFragmentation[] = [];
  let freeBytes = 0;
  let largestSum = 0;
  let largestFreeRange = 0;
  let freeRangeCount = 0;
  for (const b of snapshot.blocks) {
    const list = (byBlock.get(b.id) ?? []).slice().sort((x, y) => x.offset - y.offset);
    let cursor = 0;
    let used = 0;
    let free = 0;
    let largest = 0;
    let ranges = 0;
    const gap = (to: number): void => {
      const n = Math.min(to, b.size) - cursor;
      if (n > 0) {
        free += n;
        ranges++;
        if (n > largest) largest = n;
      }
    };
    for (const a of list) {
      gap(a.offset);
      const end = Math.min(a.offset + a.size, b.size);
      if (end > cursor) {
        used += end - Math.max(cursor, a.offset);
        cursor = end;
      }
    }
    gap(b.size);
    const fragmentation = free > 0 ? 1 - largest / free : 0;
    blocks.push({
      blockId: b.id,
      memoryTypeIndex: b.memoryTypeIndex,
      heapIndex: b.heapIndex,
      size: b.size,
      dedicated: b.dedicated,
      usedBytes: used,
      freeBytes: free,
      largestFreeRange: largest,
      freeRangeCount: ranges,
      fragmentation,
    });
    if (!b.dedicated) {
      freeBytes += free;
      largestSum += largest;
      freeRangeCount += ranges;
      if (largest > largestFreeRange) largestFreeRange = largest;
    }
  }
  return {
    eventIndex: snapshot.eventIndex,
    blocks,
    freeBytes,
    largestFreeRange,
    freeRangeCount,
    fragmentation: freeBytes > 0 ? 1 - largestSum / freeBytes : 0,
  };
}

// ---- Diff ----------------------------------------------------------------------------------------------

export interface UsageDelta {
  readonly committed: number;
  readonly allocated: number;
}

export interface SnapshotDiff {
  readonly from: number;
  readonly to: number;
  /** Live at `to`, not at `from`. */
  readonly appeared: readonly LiveAllocation[];
  /** Live at `from`, not at `to`. */
  readonly disappeared: readonly LiveAllocation[];
  /** Live at both with a different name. */
  readonly renamed: readonly { readonly id: number; readonly from: string; readonly to: string }[];
  readonly heaps: readonly UsageDelta[];
  readonly types: readonly UsageDelta[];
  readonly total: UsageDelta;
}

export function diffSnapshots(a: Snapshot, b: Snapshot): SnapshotDiff {
  const before = new Map(a.allocations.map((x) => [x.id, x]));
  const after = new Map(b.allocations.map((x) => [x.id, x]));
  const delta = (x: Usage, y: Usage): UsageDelta => ({
    committed: y.committed - x.committed,
    allocated: y.allocated - x.allocated,
  });
  const renamed: { id: number; from: string; to: string }[] = [];
  for (const x of b.allocations) {
    const old = before.get(x.id);
    if (old && old.name !== x.name) renamed.push({ id: x.id, from: old.name, to: x.name });
  }
  return {
    from: a.eventIndex,
    to: b.eventIndex,
    appeared: b.allocations.filter((x) => !before.has(x.id)),
    disappeared: a.allocations.filter((x) => !after.has(x.id)),
    renamed,
    heaps: a.heaps.map((h, i) => delta(h, b.heaps[i]!)),
    types: a.types.map((t, i) => delta(t, b.types[i]!)),
    total: delta(a.total, b.total),
  };
}
