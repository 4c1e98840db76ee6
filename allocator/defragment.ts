// Defragmentation plans: which allocations to move where so that the general blocks of each memory type
// are compacted, computed on a plain description of the allocator's state (DefragmentationState), so the
// planner changes nothing and needs no allocator internals. Allocator.applyDefragmentation() carries a
// plan out, move by move, in plan order.
//
// Model. Each general block is a list of occupied byte ranges. An allocation occupies its region
// [regionOffset, offset + size) (alignment padding in front included, data always at the region's end);
// a moved allocation is counted from the end of whatever precedes it, which is never less than the
// sub-allocators really take, so every planned placement is free when it is applied.
// Placement rules, as the sub-allocators apply them: the data offset is a multiple of the allocation's
// alignment; a linear and a non-linear allocation never share a bufferImageGranularity page (last byte of
// the lower one against the first byte of the upper one).
// Moves are planned in the order they are applied; a move frees its source before its destination is
// taken (an allocation may slide down over its own old bytes: the copy must be a memmove).
//
// Algorithms:
// - full: blocks are ordered fullest first; each block in turn is compacted from its start (every
//   allocation slides down to the lowest offset that fits, or first goes to the free tail of a fuller
//   block). Minimises the blocks in use and leaves each block's free space in one range.
// - fast: the emptiest blocks are emptied into the holes of fuller blocks (first fit, largest allocation
//   first), one whole block at a time: a block is only touched when all of it fits elsewhere.
// Budgets (bytes and moves per pass) cut a plan at the first move that would exceed them; every prefix of
// a plan is itself applicable, and the next pass plans from where this one stopped.

export type DefragmentationAlgorithm = 'fast' | 'full';
export const defragmentationAlgorithms: readonly DefragmentationAlgorithm[] = ['fast', 'full'];

export interface DefragmentationOptions {
  /** Default 'full'. */
  readonly algorithm?: DefragmentationAlgorithm;
  /** Bytes (requested sizes) moved at most in this pass; default unlimited. */
  readonly maxBytesPerPass?: number;
  /** Moves at most in this pass; default unlimited. */
  readonly maxMovesPerPass?: number;
  /** Memory type indices to touch; default all. */
  readonly memoryTypes?: readonly number[];
}

/** One allocation of a general block, as the planner sees it. Bytes throughout. */
export interface DefragmentationItem {
  readonly allocationId: number;
  readonly name: string;
  /** Start of the region the allocation holds (alignment padding included). */
  readonly regionOffset: number;
  /** Data offset (a multiple of alignment); the region ends at offset + size. */
  readonly offset: number;
  readonly size: number;
  readonly alignment: number;
  /** 0 linear, 1 non-linear (AllocationKind). */
  readonly kind: number;
  /** false for allocations marked not movable. */
  readonly movable: boolean;
}

export interface DefragmentationBlock {
  readonly id: number;
  readonly memoryTypeIndex: number;
  /** Bytes. */
  readonly size: number;
  /** In address order. */
  readonly items: readonly DefragmentationItem[];
}

export interface DefragmentationState {
  /** Changes with every allocate/free/move; a plan only applies to the state it was made from. */
  readonly version: number;
  /** bufferImageGranularity in bytes (>= 1, a power of two). */
  readonly granularity: number;
  /** General (non-dedicated) blocks only: dedicated allocations never move. */
  readonly blocks: readonly DefragmentationBlock[];
}

export interface DefragmentationMove {
  readonly allocationId: number;
  readonly name: string;
  readonly memoryTypeIndex: number;
  /** Requested bytes (what is copied). */
  readonly size: number;
  readonly alignment: number;
  readonly kind: number;
  readonly fromBlock: number;
  readonly fromOffset: number;
  readonly toBlock: number;
  readonly toOffset: number;
}

export interface DefragmentationPlan {
  readonly algorithm: DefragmentationAlgorithm;
  /** The DefragmentationState.version this plan was made from. */
  readonly stateVersion: number;
  /** In the order they must be applied. */
  readonly moves: readonly DefragmentationMove[];
  /** Sum of the moved allocations' requested bytes. */
  readonly bytesMoved: number;
  /** Blocks left without allocations once the plan is applied (freed as the block policy allows). */
  readonly emptiedBlocks: readonly number[];
  /** General blocks considered (of the memory types touched). */
  readonly blocksBefore: number;
  /** Of those, the blocks that still hold allocations afterwards. */
  readonly blocksAfter: number;
  /** Live requested bytes in the blocks considered. */
  readonly liveBytes: number;
  /**
   * Over the general blocks considered, as allocator/analysis's fragmentationOf defines it:
   * 1 − (sum of each block's largest free range) / (sum of free bytes), on data ranges; 0 when nothing is
   * free. "after" leaves out the emptied blocks.
   */
  readonly fragmentationBefore: number;
  readonly fragmentationAfter: number;
  /** false when a budget stopped the plan before the algorithm was done (plan another pass). */
  readonly complete: boolean;
}

/** A placed range of the model. */
interface Placed {
  item: DefragmentationItem;
  /** Region start in the model (>= the real region start). */
  start: number;
  /** Data offset. */
  offset: number;
  block: BlockModel;
}

interface BlockModel {
  readonly source: DefragmentationBlock;
  /** Occupied ranges in address order (full: rebuilt as the compaction cursor passes). */
  placed: Placed[];
  allocatedBytes: number;
}

function alignUp(value: number, alignment: number): number {
  if (value < 1073741824 && alignment <= 1073741824) return ((value + alignment - 1) & -alignment) >>> 0;
  return Math.ceil(value / alignment) * alignment;
}

function samePage(a: number, b: number, page: number): boolean {
  return Math.floor(a / page) === Math.floor(b / page);
}

/**
 * The lowest data offset for `item` in the free range [from, limit) of a block, given the kinds of the
 * occupied neighbours (-1: none) whose data ends at `from` and starts at `limit`; -1 when it does not fit.
 */
function fitIn(
  item: DefragmentationItem,
  from: number,
  prevKind: number,
  limit: number,
  nextKind: number,
  granularity: number,
): number {
  let o = alignUp(from, item.alignment);
  if (
    granularity > 1 &&
    prevKind >= 0 &&
    prevKind !== item.kind &&
    from > 0 &&
    samePage(from - 1, o, granularity)
  )
    o = alignUp(o, granularity);
  const end = o + item.size;
  if (end > limit) return -1;
  if (granularity > 1 && nextKind >= 0 && nextKind !== item.kind && samePage(end - 1, limit, granularity))
    return -1;
  return o;
}

class Budget {
  bytes = 0;
  moves = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly maxMoves: number,
  ) {}
  allows(n: number, bytes: number): boolean {
    return this.moves + n <= this.maxMoves && this.bytes + bytes <= this.maxBytes;
  }
  take(bytes: number): void {
    this.moves++;
    this.bytes += bytes;
  }
}

function checkOptions(options: DefragmentationOptions): {
  algorithm: DefragmentationAlgorithm;
  maxBytes: number;
  maxMoves: number;
  types: Set<number> | null;
} {
  const algorithm = options.algorithm ?? 'full';
  if (!defragmentationAlgorithms.includes(algorithm))
    throw new RangeError(`unknown defragmentation algorithm "${String(algorithm)}"; use fast or full`);
  const limit = (v: number | undefined, what: string): number => {
    if (v === undefined) return Infinity;
    if (!(v === Infinity || (Number.isSafeInteger(v) && v >= 0)))
      throw new RangeError(`${what} must be a whole number >= 0, got ${v}`);
    return v;
  };
  const types = options.memoryTypes;
  if (types !== undefined && !types.every((t) => Number.isSafeInteger(t) && t >= 0))
    throw new RangeError(`memoryTypes must be memory type indices, got ${JSON.stringify(types)}`);
  return {
    algorithm,
    maxBytes: limit(options.maxBytesPerPass, 'maxBytesPerPass'),
    maxMoves: limit(options.maxMovesPerPass, 'maxMovesPerPass'),
    types: types === undefined ? null : new Set(types),
  };
}

/** Plans a defragmentation pass over `state`. Pure: reads `state` only. */
export function planDefragmentation(
  state: DefragmentationState,
  options: DefragmentationOptions = {},
): DefragmentationPlan {
  const { algorithm, maxBytes, maxMoves, types } = checkOptions(options);
  const granularity = Math.max(1, state.granularity);
  const byType = new Map<number, BlockModel[]>();
  let liveBytes = 0;
  for (const b of state.blocks) {
    if (types !== null && !types.has(b.memoryTypeIndex)) continue;
    let allocated = 0;
    const placed: Placed[] = [];
    for (const item of b.items) {
      allocated += item.offset + item.size - item.regionOffset;
      liveBytes += item.size;
      placed.push({
        item,
        start: item.regionOffset,
        offset: item.offset,
        block: null as unknown as BlockModel,
      });
    }
    const model: BlockModel = { source: b, placed, allocatedBytes: allocated };
    for (const p of placed) p.block = model;
    const list = byType.get(b.memoryTypeIndex);
    if (list) list.push(model);
    else byType.set(b.memoryTypeIndex, [model]);
  }
  const models = [...byType.values()].flat();
  const fragmentationBefore = fragmentationOfModels(models);
  const moves: DefragmentationMove[] = [];
  const budget = new Budget(maxBytes, maxMoves);
  let complete = true;
  for (const blocks of byType.values()) {
    // Fullest first; ties by block id so plans are deterministic.
    blocks.sort((x, y) => y.allocatedBytes - x.allocatedBytes || x.source.id - y.source.id);
    const done =
      algorithm === 'full'
        ? planFull(blocks, granularity, budget, moves)
        : planFast(blocks, granularity, budget, moves);
    if (!done) {
      complete = false;
      break;
    }
  }
  const emptied = models.filter((m) => m.placed.length === 0 && m.source.items.length > 0);
  const remaining = models.filter((m) => m.placed.length > 0 || m.source.items.length === 0);
  return {
    algorithm,
    stateVersion: state.version,
    moves,
    bytesMoved: budget.bytes,
    emptiedBlocks: emptied.map((m) => m.source.id),
    blocksBefore: models.length,
    blocksAfter: models.filter((m) => m.placed.length > 0).length,
    liveBytes,
    fragmentationBefore,
    fragmentationAfter: fragmentationOfModels(remaining),
    complete,
  };
}

function recordMove(moves: DefragmentationMove[], p: Placed, to: BlockModel, toOffset: number): void {
  const item = p.item;
  moves.push({
    allocationId: item.allocationId,
    name: item.name,
    memoryTypeIndex: to.source.memoryTypeIndex,
    size: item.size,
    alignment: item.alignment,
    kind: item.kind,
    fromBlock: p.block.source.id,
    fromOffset: p.offset,
    toBlock: to.source.id,
    toOffset,
  });
}

/**
 * full: a compaction cursor per block. Block i's allocations, in address order, each go to the free tail
 * of the fullest earlier block that takes them, else slide down to block i's cursor. Allocations that do
 * not move (not movable, or no lower place) become the new cursor, so a compacted block is free above its
 * cursor only. Returns false when the budget stopped it.
 */
function planFull(
  blocks: BlockModel[],
  granularity: number,
  budget: Budget,
  moves: DefragmentationMove[],
): boolean {
  const n = blocks.length;
  // Per block: end of the last data placed or kept, and the kind of that data (-1: none).
  const cursor = new Float64Array(n);
  const lastKind = new Int8Array(n).fill(-1);
  const compacted: Placed[][] = blocks.map(() => []);
  let smallest = Infinity;
  for (const b of blocks)
    for (const p of b.placed) if (p.item.movable && p.item.size < smallest) smallest = p.item.size;
  // Blocks before firstOpen have a tail too small for any movable allocation.
  let firstOpen = 0;
  for (let i = 0; i < n; i++) {
    const block = blocks[i]!;
    const items = block.placed;
    for (let k = 0; k < items.length; k++) {
      const p = items[k]!;
      const item = p.item;
      if (item.movable) {
        // 1. The free tail of a fuller, already compacted block.
        while (firstOpen < i && blocks[firstOpen]!.source.size - cursor[firstOpen]! < smallest) firstOpen++;
        let target = -1;
        let to = -1;
        for (let j = firstOpen; j < i; j++) {
          const size = blocks[j]!.source.size;
          if (size - cursor[j]! < item.size) continue;
          to = fitIn(item, cursor[j]!, lastKind[j]!, size, -1, granularity);
          if (to >= 0) {
            target = j;
            break;
          }
        }
        // 2. Else slide down in its own block, below where the next (not yet processed) allocation starts.
        if (target < 0) {
          const next = items[k + 1];
          const o = fitIn(
            item,
            cursor[i]!,
            lastKind[i]!,
            next ? next.start : block.source.size,
            next ? next.item.kind : -1,
            granularity,
          );
          if (o >= 0 && o < p.offset) {
            target = i;
            to = o;
          }
        }
        if (target >= 0) {
          if (!budget.allows(1, item.size)) {
            // Unprocessed allocations stay where they are.
            for (let r = k; r < items.length; r++) compacted[i]!.push(items[r]!);
            for (let r = i + 1; r < n; r++) compacted[r] = blocks[r]!.placed;
            for (let r = 0; r < n; r++) blocks[r]!.placed = compacted[r]!;
            return false;
          }
          budget.take(item.size);
          const dest = blocks[target]!;
          recordMove(moves, p, dest, to);
          compacted[target]!.push({ item, start: cursor[target]!, offset: to, block: dest });
          cursor[target] = to + item.size;
          lastKind[target] = item.kind;
          continue;
        }
      }
      // Stays where it is.
      compacted[i]!.push(p);
      cursor[i] = p.offset + item.size;
      lastKind[i] = item.kind;
    }
  }
  for (let i = 0; i < n; i++) blocks[i]!.placed = compacted[i]!;
  return true;
}

/**
 * fast: empties the emptiest blocks, one whole block at a time, into first-fit holes of fuller blocks
 * (largest allocation first). Returns false when the budget stopped it.
 */
function planFast(
  blocks: BlockModel[],
  granularity: number,
  budget: Budget,
  moves: DefragmentationMove[],
): boolean {
  const freeBytes = (m: BlockModel): number => m.source.size - m.allocatedBytes;
  let lastDestination = blocks.length - 1;
  for (let s = blocks.length - 1; s > 0 && s <= lastDestination; s--) {
    const source = blocks[s]!;
    if (source.placed.length === 0 || source.placed.some((p) => !p.item.movable)) continue;
    const order = source.placed.slice().sort((x, y) => y.item.size - x.item.size || x.offset - y.offset);
    let bytes = 0;
    for (const p of order) bytes += p.item.size;
    if (!budget.allows(order.length, bytes)) return false;
    // Tentative placements, undone unless the whole block fits.
    const taken: { to: BlockModel; placed: Placed; index: number }[] = [];
    let fits = true;
    for (const p of order) {
      let done = false;
      for (let d = 0; d < s && !done; d++) {
        const to = blocks[d]!;
        if (freeBytes(to) < p.item.size) continue;
        const found = firstFit(to, p.item, granularity);
        if (found === null) continue;
        const placed: Placed = { item: p.item, start: found.start, offset: found.offset, block: to };
        to.placed.splice(found.index, 0, placed);
        to.allocatedBytes += found.offset + p.item.size - found.start;
        taken.push({ to, placed, index: found.index });
        done = true;
      }
      if (!done) {
        fits = false;
        break;
      }
    }
    if (!fits) {
      for (let t = taken.length - 1; t >= 0; t--) {
        const { to, placed } = taken[t]!;
        to.placed.splice(to.placed.indexOf(placed), 1);
        to.allocatedBytes -= placed.offset + placed.item.size - placed.start;
      }
      continue;
    }
    for (let t = 0; t < taken.length; t++) {
      const p = order[t]!;
      const { to, placed } = taken[t]!;
      budget.take(p.item.size);
      recordMove(moves, p, to, placed.offset);
    }
    source.placed = [];
    source.allocatedBytes = 0;
    lastDestination = s - 1;
  }
  return true;
}

/** The first hole of `block` (lowest offset) that takes `item`: its data offset, model start and list index. */
function firstFit(
  block: BlockModel,
  item: DefragmentationItem,
  granularity: number,
): { offset: number; start: number; index: number } | null {
  let from = 0;
  let prevKind = -1;
  const placed = block.placed;
  for (let k = 0; k <= placed.length; k++) {
    const next = placed[k];
    const limit = next ? next.start : block.source.size;
    if (limit - from >= item.size) {
      const o = fitIn(item, from, prevKind, limit, next ? next.item.kind : -1, granularity);
      if (o >= 0) return { offset: o, start: from, index: k };
    }
    if (next) {
      from = next.offset + next.item.size;
      prevKind = next.item.kind;
    }
  }
  return null;
}

/** fragmentationOf's overall figure over the model's data ranges (see DefragmentationPlan). */
function fragmentationOfModels(models: readonly BlockModel[]): number {
  let free = 0;
  let largestSum = 0;
  for (const m of models) {
    const ranges = m.placed
      .map((p) => [p.offset, p.offset + p.item.size] as const)
      .sort((a, b) => a[0] - b[0]);
    let cursor = 0;
    let largest = 0;
    for (const [s, e] of ranges) {
      if (s > cursor) {
        free += s - cursor;
        if (s - cursor > largest) largest = s - cursor;
      }
      if (e > cursor) cursor = e;
    }
    if (m.source.size > cursor) {
      free += m.source.size - cursor;
      if (m.source.size - cursor > largest) largest = m.source.size - cursor;
    }
    largestSum += largest;
  }
  return free > 0 ? 1 - largestSum / free : 0;
}
