// Placement strategies behind the SubAllocator contract: 'tlsf' (default, O(1)) and 'freelist'
// (gpu-allocator 0.28's best-fit free list, the "crate" baseline).
import type { PlacementStrategyName } from '../types.ts';
import { InternalError } from '../errors.ts';
import { createFreeListSubAllocator } from './freelist.ts';
import type { SubAllocator } from './sub-allocator.ts';
import { createTlsfSubAllocator } from './tlsf.ts';

export { createTlsfSubAllocator, TlsfSubAllocator } from './tlsf.ts';
export type { TlsfOptions } from './tlsf.ts';
export { createFreeListSubAllocator, FreeListSubAllocator } from './freelist.ts';
export type { ChunkInfo, SubAllocationKind, SubAllocator, SubAllocatorFactory } from './sub-allocator.ts';

/** A sub-allocator managing [0, size) bytes with the given placement strategy. */
export function createSubAllocator<T>(strategy: PlacementStrategyName, size: number): SubAllocator<T> {
  switch (strategy) {
    case 'tlsf':
      return createTlsfSubAllocator<T>(size);
    case 'freelist':
      return createFreeListSubAllocator<T>(size);
    default:
      throw new InternalError(`Unknown placement strategy "${String(strategy)}"; expected tlsf or freelist.`);
  }
}
