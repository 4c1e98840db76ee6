// The placement contract: one SubAllocator manages the byte range [0, size) of one general memory block.
// Implementations: tlsf.ts (default, O(1)) and freelist.ts (gpu-allocator's best-fit free list, for
// "ours vs the crate" comparisons). The allocator above keeps no per-allocation map of its own: the
// owner object handed to allocate() is stored with the chunk and returned by owner().
import type { AllocationKind } from '../types.ts';

/** Linear or non-linear; Dedicated never reaches a sub-allocator. */
export type SubAllocationKind = AllocationKind.Linear | AllocationKind.NonLinear;

export interface ChunkInfo<T> {
  readonly chunk: number;
  /** Bytes: start of the chunk's region, alignment padding included. */
  readonly regionOffset: number;
  /** Bytes: region length, padding included. */
  readonly regionSize: number;
  /** Bytes: where the caller's data starts (aligned). */
  readonly offset: number;
  /** Requested bytes. */
  readonly size: number;
  /** Bytes: the alignment the chunk was placed with (a power of two). */
  readonly alignment: number;
  readonly kind: SubAllocationKind;
  readonly owner: T;
}

export interface SubAllocator<T> {
  /** Bytes managed. */
  readonly size: number;
  /** Bytes in used regions, alignment padding included (gpu-allocator's "allocated"). */
  readonly allocatedBytes: number;
  /** Number of live chunks. */
  readonly chunkCount: number;

  /**
   * Places `size` bytes aligned to `alignment` (a power of two). A linear and a non-linear resource never
   * share a `granularity` page (bufferImageGranularity; 1 = no constraint). Returns a chunk handle
   * (>= 0) or -1 when it does not fit; a -1 leaves the sub-allocator exactly as it was.
   */
  allocate(size: number, alignment: number, kind: SubAllocationKind, granularity: number, owner: T): number;
  /**
   * Places `size` bytes with their data at exactly `offset` (a multiple of `alignment`), under the same
   * granularity rule as allocate(); used by defragmentation, whose planner picks the offsets. Returns a
   * chunk handle or -1 when [offset, offset + size) is not inside one free range or breaks the granularity
   * rule; a -1 leaves the sub-allocator exactly as it was.
   */
  allocateAt(
    offset: number,
    size: number,
    alignment: number,
    kind: SubAllocationKind,
    granularity: number,
    owner: T,
  ): number;
  /** Frees a live chunk. Throws InternalError for an unknown or already freed handle. */
  free(chunk: number): void;
  /** Data offset (bytes) of a live chunk. */
  offsetOf(chunk: number): number;
  owner(chunk: number): T;
  /** Throws InternalError for a dead handle. */
  setOwner(chunk: number, owner: T): void;
  /** Live chunks in address order. */
  chunks(): ChunkInfo<T>[];
  /** Free ranges in address order, as [offset, size] pairs in bytes. */
  freeRanges(): Array<readonly [number, number]>;
  /** Bytes of the largest free range. */
  largestFreeRange(): number;
  /** Checks every invariant; throws InternalError naming the first broken one. */
  validate(granularity: number): void;
}

export type SubAllocatorFactory = <T>(size: number) => SubAllocator<T>;
