// Block sizes and growth, as gpu-allocator 0.28's AllocationSizes: device blocks 256 MiB, host blocks
// 64 MiB by default (min = max, so no growth). Inputs are clamped to [4 MiB, 256 MiB] and rounded up to a
// multiple of 4 MiB, with a warning. With max > min the next general block of a memory type is
// min × 2^min(n, 7) capped at max, where n = live general blocks of that type: it grows while blocks are
// alive and shrinks as they are released.
import { InvalidAllocatorCreateDescError } from './errors.ts';
import type { AllocationSizesInput } from './types.ts';

const MiB = 1024 * 1024;
export const MIN_MEMBLOCK_SIZE = 4 * MiB;
export const MAX_MEMBLOCK_SIZE = 256 * MiB;
const MEMBLOCK_MULTIPLE = 4 * MiB;
const MAX_GROWTH_DOUBLINGS = 7;

export interface AllocationSizes {
  /** Bytes. */
  readonly deviceMemblockSize: number;
  readonly hostMemblockSize: number;
  readonly deviceMaxMemblockSize: number;
  readonly hostMaxMemblockSize: number;
}

export const defaultAllocationSizes: AllocationSizes = {
  deviceMemblockSize: 256 * MiB,
  hostMemblockSize: 64 * MiB,
  deviceMaxMemblockSize: 256 * MiB,
  hostMaxMemblockSize: 64 * MiB,
};

function adjust(label: string, value: number, warnings: string[]): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidAllocatorCreateDescError(
      `${label} must be a positive whole number of bytes, got ${value}`,
    );
  }
  let adjusted = Math.min(Math.max(value, MIN_MEMBLOCK_SIZE), MAX_MEMBLOCK_SIZE);
  adjusted = Math.ceil(adjusted / MEMBLOCK_MULTIPLE) * MEMBLOCK_MULTIPLE;
  if (adjusted !== value) {
    warnings.push(
      `${label} ${value} bytes is not a multiple of 4 MiB within [4 MiB, 256 MiB]; using ${adjusted / MiB} MiB`,
    );
  }
  return adjusted;
}

/** Resolves user input into sizes the allocator uses; warnings say what was adjusted. */
export function resolveAllocationSizes(input: AllocationSizesInput | undefined): {
  sizes: AllocationSizes;
  warnings: string[];
} {
  const warnings: string[] = [];
  const d = defaultAllocationSizes;
  const device = adjust('deviceMemblockSize', input?.deviceMemblockSize ?? d.deviceMemblockSize, warnings);
  const host = adjust('hostMemblockSize', input?.hostMemblockSize ?? d.hostMemblockSize, warnings);
  let deviceMax = adjust('deviceMaxMemblockSize', input?.deviceMaxMemblockSize ?? device, warnings);
  let hostMax = adjust('hostMaxMemblockSize', input?.hostMaxMemblockSize ?? host, warnings);
  if (deviceMax < device) {
    warnings.push(`deviceMaxMemblockSize is below deviceMemblockSize; using ${device / MiB} MiB`);
    deviceMax = device;
  }
  if (hostMax < host) {
    warnings.push(`hostMaxMemblockSize is below hostMemblockSize; using ${host / MiB} MiB`);
    hostMax = host;
  }
  return {
    sizes: {
      deviceMemblockSize: device,
      hostMemblockSize: host,
      deviceMaxMemblockSize: deviceMax,
      hostMaxMemblockSize: hostMax,
    },
    warnings,
  };
}

/** Bytes of the next general block for a memory type with `liveGeneralBlocks` general blocks alive. */
export function nextMemblockSize(
  sizes: AllocationSizes,
  hostVisible: boolean,
  liveGeneralBlocks: number,
): number {
  const min = hostVisible ? sizes.hostMemblockSize : sizes.deviceMemblockSize;
  const max = hostVisible ? sizes.hostMaxMemblockSize : sizes.deviceMaxMemblockSize;
  if (min === max) return min;
  return Math.min(min * 2 ** Math.min(liveGeneralBlocks, MAX_GROWTH_DOUBLINGS), max);
}
