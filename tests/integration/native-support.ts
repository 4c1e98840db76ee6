// Shared by the native-*.test.ts files: whether the addon is built, and how resources are packed into one
// block the way the allocator packs them (alignment, and bufferImageGranularity between linear and
// non-linear neighbours).
import { isNativeAddonBuilt } from '../../native/index.ts';

export const addonBuilt = isNativeAddonBuilt();
export const skipReason = 'native addon not built (run npm run setup)';

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/** The page (of `granularity` bytes) that holds byte `offset`. */
export function page(offset: number, granularity: number): number {
  return Math.floor(offset / granularity);
}

export interface Placed {
  readonly offset: number;
  readonly size: number;
  readonly linear: boolean;
}

/**
 * Offset for a resource placed right after `previous`: aligned to its own alignment, and when the linearity
 * differs and the two would share a bufferImageGranularity page, pushed to the next page (Vulkan spec,
 * "Buffer-Image Granularity"; gpu-allocator does the same).
 */
export function placeAfter(
  previous: Placed | null,
  alignment: number,
  linear: boolean,
  granularity: number,
): number {
  if (previous === null) return 0;
  let offset = alignUp(previous.offset + previous.size, alignment);
  const lastPage = page(previous.offset + previous.size - 1, granularity);
  if (previous.linear !== linear && page(offset, granularity) === lastPage) {
    offset = alignUp(alignUp(offset, granularity), alignment);
  }
  return offset;
}
