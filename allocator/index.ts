// Public API of the allocator library. Everything outside allocator/ imports from here.
export * from './device.ts';
export * from './errors.ts';
export * from './types.ts';
export * from './format.ts';
export * from './event-log.ts';
export type { SubAllocator, SubAllocationKind, ChunkInfo } from './placement/sub-allocator.ts';
export * from './memory-type.ts';
export * from './simulated-device.ts';
export * from './profiles/profile-error.ts';
export * from './profiles/vulkaninfo.ts';
export * from './profiles/builtin.ts';
export * from './allocation-sizes.ts';
export * from './allocator.ts';
export * from './defragment.ts';
export * from './workload.ts';
export { createSubAllocator } from './placement/index.ts';
