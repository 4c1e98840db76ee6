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

/**
 * The planner's working state in flat arrays. Items (allocations of the blocks considered) are numbered
 * block by block in planning order (memory type by memory type, blocks fullest first), each block's items in
 * address order; blocks are numbered in the same order. Bytes throughout.
 */
interface Model {
  readonly blocks: DefragmentationBlock[];
  /** Block index where each memory type's run of blocks starts, then blocks.length. */
  readonly typeStart: number[];
  /** blocks.length + 1 entries: block b's own items are blockFirst[b] .. blockFirst[b + 1] - 1. */
  readonly blockFirst: Int32Array;
  readonly items: DefragmentationItem[];
  readonly size: Float64Array;
  readonly alignment: Float64Array;
  /** 0 linear, 1 non-linear. */
  readonly kind: Int8Array;
  readonly movable: Uint8Array;
  /** Where each item is as the plan goes: block index, region start in the model, data offset. */
  readonly at: Int32Array;
  readonly start: Float64Array;
  readonly offset: Float64Array;
  /**
   * Per block, its items in address order once the plan is applied; null: unchanged (its own items).
   * Filled by the algorithms.
   */
  readonly after: (number[] | null)[];
  /** Block indices grouped by memory type as in typeStart, each type's in the state's order (for reports). */
  readonly stateOrder: number[];
}

/**
 * Max over an array of values with "leftmost index >= from whose value >= x" in O(log n): which block's free
 * tail (full) or which hole (fast) is the first that could take an allocation, without rescanning them all.
 */
class MaxTree {
  private readonly leaves: number;
  private readonly t: Float64Array;
  constructor(count: number) {
    let n = 1;
    while (n < count) n *= 2;
    this.leaves = n;
    this.t = new Float64Array(2 * n).fill(-Infinity);
  }
  set(i: number, value: number): void {
    const t = this.t;
    let k = i + this.leaves;
    t[k] = value;
    for (k >>= 1; k >= 1; k >>= 1) {
      const m = Math.max(t[2 * k]!, t[2 * k + 1]!);
      if (t[k] === m) break;
      t[k] = m;
    }
  }
  /** The lowest index >= from whose value is >= x; -1 when there is none. */
  firstAtLeast(from: number, x: number): number {
    const t = this.t;
    const n = this.leaves;
    if (from >= n) return -1;
    let k = from + n;
    for (;;) {
      if (t[k]! >= x) {
        while (k < n) {
          k *= 2;
          if (t[k]! < x) k++;
        }
        return k - n;
      }
      // Climb while k is a right child, then step to the subtree right of it.
      while (k & 1) {
        if (k === 1) return -1;
        k >>= 1;
      }
      k++;
    }
  }
}

function alignUp(value: number, alignment: number): number {
  if (value < 1073741824 && alignment <= 1073741824) return ((value + alignment - 1) & -alignment) >>> 0;
  return Math.ceil(value / alignment) * alignment;
}

function samePage(a: number, b: number, page: number): boolean {
  return Math.floor(a / page) === Math.floor(b / page);
}

/**
 * The lowest data offset for an allocation (size, alignment, kind) in the free range [from, limit) of a block, given the kinds of the
 * occupied neighbours (-1: none) whose data ends at `from` and starts at `limit`; -1 when it does not fit.
 */
export function fitInRange(
  itemSize: number,
  itemAlignment: number,
  itemKind: number,
  from: number,
  prevKind: number,
  limit: number,
  nextKind: number,
  granularity: number,
): number {
  let o = alignUp(from, itemAlignment);
  if (
    granularity > 1 &&
    prevKind >= 0 &&
    prevKind !== itemKind &&
    from > 0 &&
    samePage(from - 1, o, granularity)
  )
    o = alignUp(o, granularity);
  const end = o + itemSize;
  if (end > limit) return -1;
  if (granularity > 1 && nextKind >= 0 && nextKind !== itemKind && samePage(end - 1, limit, granularity))
    return -1;
  return o;
}

/** Ranges that fit the bytes but not the alignment or granularity, looked at before only roomy ones are. */
const nearMisses = 8;

/**
 * Free bytes that always take an allocation whatever the range's start and neighbours: the bytes, the
 * worst alignment padding, a granularity page in front and one behind.
 */
function roomyNeed(size: number, alignment: number, granularity: number): number {
  return size + alignment - 1 + (granularity > 1 ? 2 * granularity - 1 : 0);
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

/** Plans a defragmentation pass over `state`. Pure: reads `state` only. Near-linear: O(n log n) in items. */
export function planDefragmentation(
  state: DefragmentationState,
  options: DefragmentationOptions = {},
): DefragmentationPlan {
  const { algorithm, maxBytes, maxMoves, types } = checkOptions(options);
  const granularity = Math.max(1, state.granularity);
  const model = buildModel(state, types);
  const nBlocks = model.blocks.length;
  const fragmentationBefore = fragmentationOf(model, false);
  const moves: DefragmentationMove[] = [];
  const budget = new Budget(maxBytes, maxMoves);
  let complete = true;
  for (let t = 0; t + 1 < model.typeStart.length; t++) {
    const from = model.typeStart[t]!;
    const to = model.typeStart[t + 1]!;
    const done =
      algorithm === 'full'
        ? planFull(model, from, to, granularity, budget, moves)
        : planFast(model, from, to, granularity, budget, moves);
    if (!done) {
      complete = false;
      break;
    }
  }
  const emptiedBlocks: number[] = [];
  let blocksAfter = 0;
  for (const b of model.stateOrder) {
    const own = model.blockFirst[b + 1]! - model.blockFirst[b]!;
    const after = model.after[b];
    const count = after === null ? own : after!.length;
    if (count > 0) blocksAfter++;
    else if (own > 0) emptiedBlocks.push(model.blocks[b]!.id);
  }
  let liveBytes = 0;
  for (let i = 0; i < model.items.length; i++) liveBytes += model.size[i]!;
  return {
    algorithm,
    stateVersion: state.version,
    moves,
    bytesMoved: budget.bytes,
    emptiedBlocks,
    blocksBefore: nBlocks,
    blocksAfter,
    liveBytes,
    fragmentationBefore,
    fragmentationAfter: fragmentationOf(model, true),
    complete,
  };
}

function buildModel(state: DefragmentationState, types: Set<number> | null): Model {
  // Group by memory type (in order of first appearance), each type's blocks fullest first; ties by block
  // id so plans are deterministic.
  const byType = new Map<number, { block: DefragmentationBlock; allocated: number }[]>();
  let nItems = 0;
  for (const b of state.blocks) {
    if (types !== null && !types.has(b.memoryTypeIndex)) continue;
    let allocated = 0;
    for (const item of b.items) allocated += item.offset + item.size - item.regionOffset;
    nItems += b.items.length;
    const list = byType.get(b.memoryTypeIndex);
    const entry = { block: b, allocated };
    if (list) list.push(entry);
    else byType.set(b.memoryTypeIndex, [entry]);
  }
  const blocks: DefragmentationBlock[] = [];
  const typeStart: number[] = [];
  const stateOrder: number[] = [];
  for (const list of byType.values()) {
    const first = blocks.length;
    const sorted = list.map((e, i) => ({ ...e, i }));
    sorted.sort((x, y) => y.allocated - x.allocated || x.block.id - y.block.id);
    typeStart.push(first);
    const indexOf = new Int32Array(list.length);
    sorted.forEach((e, n) => {
      blocks.push(e.block);
      indexOf[e.i] = first + n;
    });
    for (const b of indexOf) stateOrder.push(b);
  }
  typeStart.push(blocks.length);
  const model: Model = {
    blocks,
    typeStart,
    blockFirst: new Int32Array(blocks.length + 1),
    items: new Array<DefragmentationItem>(nItems),
    size: new Float64Array(nItems),
    alignment: new Float64Array(nItems),
    kind: new Int8Array(nItems),
    movable: new Uint8Array(nItems),
    at: new Int32Array(nItems),
    start: new Float64Array(nItems),
    offset: new Float64Array(nItems),
    after: new Array<number[] | null>(blocks.length).fill(null),
    stateOrder,
  };
  let i = 0;
  for (let b = 0; b < blocks.length; b++) {
    model.blockFirst[b] = i;
    for (const item of blocks[b]!.items) {
      model.items[i] = item;
      model.size[i] = item.size;
      model.alignment[i] = item.alignment;
      model.kind[i] = item.kind;
      model.movable[i] = item.movable ? 1 : 0;
      model.at[i] = b;
      model.start[i] = item.regionOffset;
      model.offset[i] = item.offset;
      i++;
    }
  }
  model.blockFirst[blocks.length] = i;
  return model;
}

function recordMove(
  model: Model,
  moves: DefragmentationMove[],
  i: number,
  toBlock: number,
  toStart: number,
  toOffset: number,
): void {
  const item = model.items[i]!;
  const to = model.blocks[toBlock]!;
  moves.push({
    allocationId: item.allocationId,
    name: item.name,
    memoryTypeIndex: to.memoryTypeIndex,
    size: item.size,
    alignment: item.alignment,
    kind: item.kind,
    fromBlock: model.blocks[model.at[i]!]!.id,
    fromOffset: model.offset[i]!,
    toBlock: to.id,
    toOffset,
  });
  model.at[i] = toBlock;
  model.start[i] = toStart;
  model.offset[i] = toOffset;
}

/**
 * full over the blocks [b0, b1) of one memory type: a compaction cursor per block. Block i's allocations,
 * in address order, each go to the free tail of the fullest earlier block that takes them (a MaxTree over
 * the tails finds it), else slide down to block i's cursor. Allocations that do not move (not movable, or
 * no lower place) become the new cursor, so a compacted block is free above its cursor only.
 * Returns false when the budget stopped it.
 */
function planFull(
  model: Model,
  b0: number,
  b1: number,
  granularity: number,
  budget: Budget,
  moves: DefragmentationMove[],
): boolean {
  const { blocks, blockFirst, size, alignment, kind, movable, start, offset, after } = model;
  // Per block: end of the last data placed or kept, and the kind of that data (-1: none).
  const cursor = new Float64Array(b1 - b0);
  const lastKind = new Int8Array(b1 - b0).fill(-1);
  // Free tail bytes of the blocks already compacted (index: block - b0); -Infinity for the others.
  const tails = new MaxTree(b1 - b0);
  for (let i = b0; i < b1; i++) {
    const li = i - b0;
    const blockSize = blocks[i]!.size;
    const list: number[] = [];
    after[i] = list;
    const end = blockFirst[i + 1]!;
    for (let k = blockFirst[i]!; k < end; k++) {
      const sz = size[k]!;
      const kd = kind[k]!;
      if (movable[k] === 1) {
        let target = -1;
        let to = -1;
        // 1. The free tail of a fuller, already compacted block: the first (fullest) that takes it.
        // (Near misses capped as in planFast.)
        const roomy = roomyNeed(sz, alignment[k]!, granularity);
        let misses = 0;
        for (
          let j = tails.firstAtLeast(0, sz);
          j >= 0;
          j = tails.firstAtLeast(j + 1, ++misses < nearMisses ? sz : roomy)
        ) {
          to = fitInRange(
            sz,
            alignment[k]!,
            kd,
            cursor[j]!,
            lastKind[j]!,
            blocks[b0 + j]!.size,
            -1,
            granularity,
          );
          if (to >= 0) {
            target = j;
            break;
          }
        }
        // 2. Else slide down in its own block, below where the next (not yet processed) allocation starts.
        if (target < 0) {
          const hasNext = k + 1 < end;
          const o = fitInRange(
            sz,
            alignment[k]!,
            kd,
            cursor[li]!,
            lastKind[li]!,
            hasNext ? start[k + 1]! : blockSize,
            hasNext ? kind[k + 1]! : -1,
            granularity,
          );
          if (o >= 0 && o < offset[k]!) {
            target = li;
            to = o;
          }
        }
        if (target >= 0) {
          if (!budget.allows(1, sz)) {
            // Unprocessed allocations stay where they are (later blocks keep after[] === null).
            for (let r = k; r < end; r++) list.push(r);
            return false;
          }
          budget.take(sz);
          recordMove(model, moves, k, b0 + target, cursor[target]!, to);
          after[b0 + target]!.push(k);
          cursor[target] = to + sz;
          lastKind[target] = kd;
          if (target !== li) tails.set(target, blocks[b0 + target]!.size - cursor[target]!);
          continue;
        }
      }
      // Stays where it is.
      list.push(k);
      cursor[li] = offset[k]! + sz;
      lastKind[li] = kd;
    }
    tails.set(li, blockSize - cursor[li]!);
  }
  return true;
}

/**
 * fast over the blocks [b0, b1) of one memory type: empties the emptiest blocks, one whole block at a time,
 * into first-fit holes of fuller blocks (largest allocation first). Returns false when the budget stopped it.
 *
 * Holes: block b with n own items has n + 1 holes, hole k in front of its item k and hole n its tail. An
 * allocation placed in a hole takes it from the hole's start (the model counts the alignment padding in
 * front as the allocation's), so a hole only ever shrinks from the front and the holes keep their order:
 * a MaxTree over their free bytes finds the first fit (lowest block, then lowest offset).
 */
function planFast(
  model: Model,
  b0: number,
  b1: number,
  granularity: number,
  budget: Budget,
  moves: DefragmentationMove[],
): boolean {
  const { blocks, blockFirst, size, alignment, kind, movable, start, offset, after } = model;
  // Hole h of block b (b0 <= b < b1): holeFirst(b) + k.
  const holeFirst = (b: number): number => blockFirst[b]! - blockFirst[b0]! + (b - b0);
  const nHoles = holeFirst(b1);
  const holeFrom = new Float64Array(nHoles);
  const holeLimit = new Float64Array(nHoles);
  const holePrevKind = new Int8Array(nHoles);
  const holeNextKind = new Int8Array(nHoles);
  const holeBlock = new Int32Array(nHoles);
  /** Allocations placed in each hole, in address order (allocated on first use). */
  const holeItems: (number[] | undefined)[] = new Array<number[] | undefined>(nHoles);
  const free = new MaxTree(nHoles);
  for (let b = b0; b < b1; b++) {
    let h = holeFirst(b);
    let from = 0;
    let prevKind = -1;
    const end = blockFirst[b + 1]!;
    for (let k = blockFirst[b]!; k <= end; k++, h++) {
      holeFrom[h] = from;
      holePrevKind[h] = prevKind;
      holeLimit[h] = k < end ? start[k]! : blocks[b]!.size;
      holeNextKind[h] = k < end ? kind[k]! : -1;
      holeBlock[h] = b;
      free.set(h, holeLimit[h]! - from);
      if (k < end) {
        from = offset[k]! + size[k]!;
        prevKind = kind[k]!;
      }
    }
  }
  const emptied = new Uint8Array(b1 - b0);
  // Tentative placements of the block being emptied, undone unless all of it fits.
  const tentHole: number[] = [];
  const tentOffset: number[] = [];
  const tentOldFrom: number[] = [];
  const tentOldKind: number[] = [];
  let done = true;
  for (let s = b1 - 1; s > b0; s--) {
    // Block s is never a destination again (only blocks before the source are).
    for (let h = holeFirst(s); h < holeFirst(s + 1); h++) free.set(h, -Infinity);
    // Its allocations: its own, and those placed in its holes by earlier sources.
    const order: number[] = [];
    let pinned = false;
    for (let k = blockFirst[s]!; k < blockFirst[s + 1]!; k++) {
      order.push(k);
      if (movable[k] !== 1) pinned = true;
    }
    if (pinned) continue;
    for (let h = holeFirst(s); h < holeFirst(s + 1); h++) {
      const placed = holeItems[h];
      if (placed !== undefined) for (const k of placed) order.push(k);
    }
    if (order.length === 0) continue;
    order.sort((x, y) => size[y]! - size[x]! || offset[x]! - offset[y]!);
    let bytes = 0;
    for (const k of order) bytes += size[k]!;
    if (!budget.allows(order.length, bytes)) {
      done = false;
      break;
    }
    tentHole.length = tentOffset.length = tentOldFrom.length = tentOldKind.length = 0;
    let fits = true;
    for (const k of order) {
      const sz = size[k]!;
      let placedAt = -1;
      // The first hole with room for the bytes, unless alignment or granularity keeps it out: after
      // nearMisses such holes only holes with room to spare are looked at (each of those takes it), so a
      // search costs O(log holes) rather than a walk over every hole a little too small.
      const roomy = roomyNeed(sz, alignment[k]!, granularity);
      let misses = 0;
      let h = free.firstAtLeast(0, sz);
      for (; h >= 0; h = free.firstAtLeast(h + 1, ++misses < nearMisses ? sz : roomy)) {
        placedAt = fitInRange(
          sz,
          alignment[k]!,
          kind[k]!,
          holeFrom[h]!,
          holePrevKind[h]!,
          holeLimit[h]!,
          holeNextKind[h]!,
          granularity,
        );
        if (placedAt >= 0) break;
      }
      if (h < 0) {
        fits = false;
        break;
      }
      tentHole.push(h);
      tentOffset.push(placedAt);
      tentOldFrom.push(holeFrom[h]!);
      tentOldKind.push(holePrevKind[h]!);
      holeFrom[h] = placedAt + sz;
      holePrevKind[h] = kind[k]!;
      free.set(h, holeLimit[h]! - holeFrom[h]!);
      (holeItems[h] ??= []).push(k);
    }
    if (!fits) {
      for (let t = tentHole.length - 1; t >= 0; t--) {
        const h = tentHole[t]!;
        holeFrom[h] = tentOldFrom[t]!;
        holePrevKind[h] = tentOldKind[t]!;
        free.set(h, holeLimit[h]! - holeFrom[h]!);
        holeItems[h]!.pop();
      }
      continue;
    }
    for (let t = 0; t < tentHole.length; t++) {
      const k = order[t]!;
      budget.take(size[k]!);
      recordMove(model, moves, k, holeBlock[tentHole[t]!]!, tentOldFrom[t]!, tentOffset[t]!);
    }
    emptied[s - b0] = 1;
    after[s] = [];
  }
  // The other blocks' items in address order: hole 0's placements, own item 0, hole 1's, ..., the tail's.
  for (let b = b0; b < b1; b++) {
    if (emptied[b - b0] === 1) continue;
    const list: number[] = [];
    let h = holeFirst(b);
    const end = blockFirst[b + 1]!;
    for (let k = blockFirst[b]!; k <= end; k++, h++) {
      const placed = holeItems[h];
      if (placed !== undefined) for (const p of placed) if (model.at[p] === b) list.push(p);
      if (k < end) list.push(k);
    }
    after[b] = list;
  }
  return done;
}

/**
 * fragmentationOf's overall figure over the model's data ranges (see DefragmentationPlan): before the plan
 * (every block, its own items; call it before planning moves them) or after it (leaving out the blocks the
 * plan empties).
 */
function fragmentationOf(model: Model, afterPlan: boolean): number {
  const { blocks, blockFirst, size, offset } = model;
  let free = 0;
  let largestSum = 0;
  for (let b = 0; b < blocks.length; b++) {
    const own = blockFirst[b + 1]! - blockFirst[b]!;
    const list = afterPlan ? model.after[b] : null;
    const count = list === null || list === undefined ? own : list.length;
    if (afterPlan && count === 0 && own > 0) continue;
    let cursor = 0;
    let largest = 0;
    for (let n = 0; n < count; n++) {
      const k = list === null || list === undefined ? blockFirst[b]! + n : list[n]!;
      const s = offset[k]!;
      const e = s + size[k]!;
      if (s > cursor) {
        free += s - cursor;
        if (s - cursor > largest) largest = s - cursor;
      }
      if (e > cursor) cursor = e;
    }
    const blockSize = blocks[b]!.size;
    if (blockSize > cursor) {
      free += blockSize - cursor;
      if (blockSize - cursor > largest) largest = blockSize - cursor;
    }
    largestSum += largest;
  }
  return free > 0 ? 1 - largestSum / free : 0;
}
