// The "crate" baseline: a faithful re-implementation of gpu-allocator 0.28's free-list sub-allocator
// (free_list_allocator), used for "ours vs the crate" comparisons. It keeps the crate's data structures
// and costs on purpose:
// - chunks (used and free) in a map id -> chunk, forming an address-ordered doubly linked list;
//   id 1 is the initial free chunk, new ids count up from 2 and are never reused;
// - a set of free chunk ids; allocate() visits EVERY free chunk (O(free chunks)) and takes the best fit:
//   the smallest chunk that fits, ties to the first visited;
// - bufferImageGranularity: if the previous neighbour is of the other kind and its last byte is on the
//   page of the aligned offset, the offset is aligned up to the granularity; if the next neighbour is of
//   the other kind and on the page of the data's last byte, the chunk is skipped (no shifting);
// - the new chunk takes the front `padding + size` bytes of the chosen free chunk (padding wasted until
//   freed), or the whole chunk is converted in place when it is exactly that size;
// - free() marks the chunk free and merges it with a free next neighbour, then into a free previous one.
// Differences from the crate, all deliberate:
// - the free set is a JS Set, iterated in insertion order (the crate's HashSet order is unspecified), so
//   "ties to the first visited" is deterministic here;
// - freeing a chunk that is already free throws Internal (the crate only rejects unknown ids and would
//   corrupt its byte count on a double free of a chunk that was not merged away);
// - each chunk also records its data offset, requested size and alignment, for chunks() and validate().
import { InternalError } from '../errors.ts';
import { checkPlacementRequest, placementAtMayFit } from './request-check.ts';
import type { ChunkInfo, SubAllocationKind, SubAllocator } from './sub-allocator.ts';

const FREE = -1;

interface FreeListChunk<T> {
  readonly id: number;
  /** Bytes: region start (alignment padding included). */
  offset: number;
  /** Bytes: region length. */
  size: number;
  /** FREE, or the SubAllocationKind of a used chunk. */
  kind: number;
  dataOffset: number;
  requestedSize: number;
  alignment: number;
  owner: T | undefined;
  /** Physical neighbours' ids; 0 = none. */
  prev: number;
  next: number;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/** The crate's is_on_same_page: does the last byte of [offsetA, +sizeA) share a page with offsetB? */
function isOnSamePage(offsetA: number, sizeA: number, offsetB: number, page: number): boolean {
  return Math.floor((offsetA + sizeA - 1) / page) === Math.floor(offsetB / page);
}

/** The crate's has_granularity_conflict: both used and of different kinds. */
function hasGranularityConflict(a: number, b: number): boolean {
  return a !== FREE && b !== FREE && a !== b;
}

export class FreeListSubAllocator<T> implements SubAllocator<T> {
  readonly size: number;
  private allocated = 0;
  private liveChunks = 0;
  private nextId = 2;
  /** Id of the chunk at offset 0 (a split hands the front to the new chunk, so this changes). */
  private headId = 1;
  private readonly map = new Map<number, FreeListChunk<T>>();
  private readonly freeIds = new Set<number>();

  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new InternalError(
        `Free-list sub-allocator size must be a positive safe integer of bytes, got ${size}.`,
      );
    }
    this.size = size;
    this.map.set(1, this.record(1, 0, size, 0, 0));
    this.freeIds.add(1);
  }

  get allocatedBytes(): number {
    return this.allocated;
  }

  get chunkCount(): number {
    return this.liveChunks;
  }

  allocate(size: number, alignment: number, kind: SubAllocationKind, granularity: number, owner: T): number {
    checkPlacementRequest(size, alignment, kind, granularity);
    if (size > this.size - this.allocated) return -1;
    let bestId = 0;
    let bestOffset = 0;
    let bestAlignedSize = 0;
    let bestChunkSize = 0;
    for (const id of this.freeIds) {
      const chunk = this.get(id, 'a free-set id');
      if (chunk.size < size) continue;
      let offset = alignUp(chunk.offset, alignment);
      if (chunk.prev !== 0) {
        const previous = this.get(chunk.prev, 'a previous-neighbour link');
        if (
          isOnSamePage(previous.offset, previous.size, offset, granularity) &&
          hasGranularityConflict(previous.kind, kind)
        ) {
          offset = alignUp(offset, granularity);
        }
      }
      const padding = offset - chunk.offset;
      const alignedSize = padding + size;
      if (alignedSize > chunk.size) continue;
      if (chunk.next !== 0) {
        const next = this.get(chunk.next, 'a next-neighbour link');
        if (isOnSamePage(offset, size, next.offset, granularity) && hasGranularityConflict(kind, next.kind))
          continue;
      }
      if (bestId === 0 || chunk.size < bestChunkSize) {
        bestId = id;
        bestAlignedSize = alignedSize;
        bestOffset = offset;
        bestChunkSize = chunk.size;
      }
    }
    if (bestId === 0) return -1;
    return this.takeFront(bestId, bestOffset, bestAlignedSize, size, alignment, kind, owner);
  }

  allocateAt(
    offset: number,
    size: number,
    alignment: number,
    kind: SubAllocationKind,
    granularity: number,
    owner: T,
  ): number {
    checkPlacementRequest(size, alignment, kind, granularity);
    if (!placementAtMayFit(offset, size, alignment, this.size, this.allocated)) return -1;
    let c: FreeListChunk<T> | undefined = this.map.get(this.headId);
    while (c && c.offset + c.size <= offset) c = c.next === 0 ? undefined : this.map.get(c.next);
    if (!c || c.kind !== FREE || offset + size > c.offset + c.size) return -1;
    if (c.prev !== 0) {
      const previous = this.get(c.prev, 'a previous-neighbour link');
      if (
        isOnSamePage(previous.offset, previous.size, offset, granularity) &&
        hasGranularityConflict(previous.kind, kind)
      ) {
        return -1;
      }
    }
    if (c.next !== 0) {
      const next = this.get(c.next, 'a next-neighbour link');
      if (isOnSamePage(offset, size, next.offset, granularity) && hasGranularityConflict(kind, next.kind))
        return -1;
    }
    // As the crate does, the bytes in front of the data stay attached to the new chunk as padding.
    return this.takeFront(c.id, offset, offset + size - c.offset, size, alignment, kind, owner);
  }

  /** Turns the front `alignedSize` bytes of free chunk `freeId` into a used chunk with data at `dataOffset`. */
  private takeFront(
    freeId: number,
    dataOffset: number,
    alignedSize: number,
    size: number,
    alignment: number,
    kind: SubAllocationKind,
    owner: T,
  ): number {
    const free = this.get(freeId, 'the chosen free id');
    let chunk: FreeListChunk<T>;
    if (free.size > alignedSize) {
      // The new chunk takes the front of the free chunk; the free chunk keeps its id and the rest.
      chunk = this.record(this.nextId++, free.offset, alignedSize, free.prev, freeId);
      free.prev = chunk.id;
      free.offset += alignedSize;
      free.size -= alignedSize;
      if (chunk.prev !== 0) this.get(chunk.prev, 'a previous-neighbour link').next = chunk.id;
      else this.headId = chunk.id;
      this.map.set(chunk.id, chunk);
    } else {
      chunk = free;
      this.freeIds.delete(freeId);
    }
    chunk.kind = kind;
    chunk.dataOffset = dataOffset;
    chunk.requestedSize = size;
    chunk.alignment = alignment;
    chunk.owner = owner;
    this.allocated += alignedSize;
    this.liveChunks++;
    return chunk.id;
  }

  free(chunkId: number): void {
    const chunk = this.live(chunkId, 'free');
    chunk.kind = FREE;
    chunk.owner = undefined;
    this.allocated -= chunk.size;
    this.liveChunks--;
    this.freeIds.add(chunk.id);
    if (chunk.next !== 0 && this.get(chunk.next, 'a next-neighbour link').kind === FREE) {
      this.merge(chunk.id, chunk.next);
    }
    if (chunk.prev !== 0 && this.get(chunk.prev, 'a previous-neighbour link').kind === FREE) {
      this.merge(chunk.prev, chunk.id);
    }
  }

  offsetOf(chunkId: number): number {
    return this.live(chunkId, 'read the offset of').dataOffset;
  }

  owner(chunkId: number): T {
    return this.live(chunkId, 'read the owner of').owner as T;
  }

  setOwner(chunkId: number, owner: T): void {
    this.live(chunkId, 'set the owner of').owner = owner;
  }

  chunks(): ChunkInfo<T>[] {
    const out: ChunkInfo<T>[] = [];
    for (
      let c: FreeListChunk<T> | undefined = this.map.get(this.headId);
      c;
      c = c.next === 0 ? undefined : this.map.get(c.next)
    ) {
      if (c.kind === FREE) continue;
      out.push({
        chunk: c.id,
        regionOffset: c.offset,
        regionSize: c.size,
        offset: c.dataOffset,
        size: c.requestedSize,
        alignment: c.alignment,
        kind: c.kind as SubAllocationKind,
        owner: c.owner as T,
      });
    }
    return out;
  }

  freeRanges(): Array<readonly [number, number]> {
    const out: Array<readonly [number, number]> = [];
    for (
      let c: FreeListChunk<T> | undefined = this.map.get(this.headId);
      c;
      c = c.next === 0 ? undefined : this.map.get(c.next)
    ) {
      if (c.kind === FREE) out.push([c.offset, c.size]);
    }
    return out;
  }

  largestFreeRange(): number {
    let best = 0;
    for (const id of this.freeIds) {
      const s = this.get(id, 'a free-set id').size;
      if (s > best) best = s;
    }
    return best;
  }

  validate(granularity: number): void {
    const fail = (what: string): never => {
      throw new InternalError(`Free-list sub-allocator invariant broken: ${what}.`);
    };
    let c = this.map.get(this.headId);
    if (!c) return fail(`the first chunk ${this.headId} is missing`);
    let expect = 0;
    let prevId = 0;
    let prevFree = false;
    let allocated = 0;
    let freeBytes = 0;
    let live = 0;
    let walked = 0;
    let freeCount = 0;
    let lastUsed: FreeListChunk<T> | null = null;
    while (c) {
      if (++walked > this.map.size) fail('the chunk list has a cycle');
      if (c.prev !== prevId) fail(`chunk ${c.id} has a wrong previous-neighbour link`);
      if (c.offset !== expect) {
        fail(`chunk ${c.id} starts at ${c.offset}, expected ${expect} (chunks out of order or overlapping)`);
      }
      if (!(c.size > 0)) fail(`chunk ${c.id} has size ${c.size}`);
      expect = c.offset + c.size;
      if (expect > this.size) fail(`chunk ${c.id} ends at ${expect}, beyond the block size ${this.size}`);
      if (c.id >= this.nextId) fail(`chunk id ${c.id} was never handed out`);
      if (c.kind === FREE) {
        if (prevFree) fail(`free chunks ${prevId} and ${c.id} are adjacent (unmerged)`);
        if (!this.freeIds.has(c.id)) fail(`free chunk ${c.id} is missing from the free set`);
        freeBytes += c.size;
        freeCount++;
        prevFree = true;
      } else {
        const end = c.dataOffset + c.requestedSize;
        if (c.dataOffset < c.offset || end !== c.offset + c.size) {
          fail(`chunk ${c.id} data [${c.dataOffset}, ${end}) is not the tail of its region`);
        }
        if (c.dataOffset % c.alignment !== 0)
          fail(`chunk ${c.id} data offset ${c.dataOffset} is not aligned to ${c.alignment}`);
        if (this.freeIds.has(c.id)) fail(`used chunk ${c.id} is in the free set`);
        if (lastUsed && granularity > 1 && lastUsed.kind !== c.kind) {
          const lastEnd = lastUsed.dataOffset + lastUsed.requestedSize - 1;
          if (Math.floor(lastEnd / granularity) === Math.floor(c.dataOffset / granularity)) {
            fail(
              `chunks ${lastUsed.id} and ${c.id} of different kinds share a ${granularity}-byte granularity page`,
            );
          }
        }
        lastUsed = c;
        allocated += c.size;
        live++;
        prevFree = false;
      }
      prevId = c.id;
      if (c.next === 0) break;
      c = this.map.get(c.next);
      if (!c) fail(`chunk ${prevId} links to a missing chunk`);
    }
    if (expect !== this.size) fail(`chunks cover [0, ${expect}) instead of [0, ${this.size})`);
    if (walked !== this.map.size)
      fail(`the chunk map holds ${this.map.size} chunks, the list reaches ${walked}`);
    if (freeCount !== this.freeIds.size)
      fail(`the free set holds ${this.freeIds.size} ids, ${freeCount} chunks are free`);
    if (allocated !== this.allocated) fail(`allocatedBytes is ${this.allocated}, chunks hold ${allocated}`);
    if (allocated + freeBytes !== this.size)
      fail(`allocated ${allocated} + free ${freeBytes} != size ${this.size}`);
    if (live !== this.liveChunks) fail(`chunkCount is ${this.liveChunks}, ${live} chunks are live`);
  }

  // ---- internals -------------------------------------------------------------------------------

  private record(id: number, offset: number, size: number, prev: number, next: number): FreeListChunk<T> {
    return {
      id,
      offset,
      size,
      kind: FREE,
      dataOffset: 0,
      requestedSize: 0,
      alignment: 1,
      owner: undefined,
      prev,
      next,
    };
  }

  /** Merges chunk `rightId` into its physical predecessor `leftId` (both free). */
  private merge(leftId: number, rightId: number): void {
    const right = this.get(rightId, 'a merged chunk id');
    this.map.delete(rightId);
    this.freeIds.delete(rightId);
    const left = this.get(leftId, 'a merged chunk id');
    left.next = right.next;
    left.size += right.size;
    if (right.next !== 0) this.get(right.next, 'a next-neighbour link').prev = leftId;
  }

  private get(id: number, what: string): FreeListChunk<T> {
    const c = this.map.get(id);
    if (c === undefined) throw new InternalError(`Free-list chunk ${id} (${what}) is not in the chunk list.`);
    return c;
  }

  private live(chunkId: number, op: string): FreeListChunk<T> {
    const c = this.map.get(chunkId);
    if (c === undefined || c.kind === FREE) {
      throw new InternalError(`Cannot ${op} chunk ${chunkId}: it is not a live chunk of this block.`);
    }
    return c;
  }
}

export function createFreeListSubAllocator<T>(size: number): SubAllocator<T> {
  return new FreeListSubAllocator<T>(size);
}
