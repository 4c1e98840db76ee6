// Built-in device models for the D3D12 and Metal heap models of gpu-allocator 0.28, expressed as
// DeviceDescriptions so the allocator treats every backend alike.
//
// Heap kinds map onto Vulkan property flags (docs/profiles.md):
//   GPU-only   D3D12 DEFAULT / Metal Private                       → DEVICE_LOCAL
//   upload     D3D12 CUSTOM write-combine L0 / Metal Shared WC     → HOST_VISIBLE|HOST_COHERENT
//   readback   D3D12 CUSTOM write-back L0 / Metal Shared cached    → HOST_VISIBLE|HOST_COHERENT|HOST_CACHED
// D3D12 and Metal CPU mappings are always coherent, hence HOST_COHERENT everywhere, nonCoherentAtomSize 1.
//
// Sizes (bytes) of the modelled machines:
// - D3D12: a discrete GPU with 16 GiB of VRAM (heap 0, DEVICE_LOCAL: the DEFAULT heaps) and 32 GiB of
//   shared system memory (heap 1: the L0 CUSTOM heaps; Windows shares half of a 64 GiB machine's RAM).
// - Metal: an Apple-silicon-style unified-memory GPU with a 16 GiB working set (one DEVICE_LOCAL heap that
//   Private and Shared heaps all draw from).
import type { DeviceDescription, MemoryHeap, MemoryType, ResourceCategory } from '../device.ts';
import { MemoryHeapFlags, MemoryPropertyFlags } from '../device.ts';
import type { MemoryLocation } from '../types.ts';
import { ProfileError } from './profile-error.ts';

const GiB = 1024 * 1024 * 1024;
/** Bytes of the modelled VRAM (D3D12) or unified working set (Metal). */
export const modelledDeviceMemoryBytes = 16 * GiB;
/** Bytes of the modelled D3D12 shared system memory. */
export const modelledSystemMemoryBytes = 32 * GiB;

const { DEVICE_LOCAL, HOST_VISIBLE, HOST_COHERENT, HOST_CACHED } = MemoryPropertyFlags;

/** Vulkan-style flags standing for each gpu-allocator location's heap kind. */
export const locationPropertyFlags: Readonly<Record<Exclude<MemoryLocation, 'Unknown'>, number>> = {
  GpuOnly: DEVICE_LOCAL,
  CpuToGpu: HOST_VISIBLE | HOST_COHERENT,
  GpuToCpu: HOST_VISIBLE | HOST_COHERENT | HOST_CACHED,
};

/** In the crate's order: memory type i of the heap models stands for location modelLocations[i]. */
export const modelLocations: readonly Exclude<MemoryLocation, 'Unknown'>[] = [
  'GpuOnly',
  'CpuToGpu',
  'GpuToCpu',
];

/** D3D12 heap kinds per location, as gpu-allocator creates them. */
export const d3d12HeapKinds: Readonly<Record<Exclude<MemoryLocation, 'Unknown'>, string>> = {
  GpuOnly: 'DEFAULT',
  CpuToGpu: 'CUSTOM write-combine L0',
  GpuToCpu: 'CUSTOM write-back L0',
};

/** Metal storage/cache modes per location, as gpu-allocator creates them. */
export const metalHeapKinds: Readonly<Record<Exclude<MemoryLocation, 'Unknown'>, string>> = {
  GpuOnly: 'Private',
  CpuToGpu: 'Shared write-combined',
  GpuToCpu: 'Shared default cache',
};

/** Tier-1 categories in the crate's order (ALLOW_ONLY_BUFFERS, ..._RT_DS_TEXTURES, ..._NON_RT_DS_TEXTURES). */
export const resourceCategories: readonly ResourceCategory[] = ['buffer', 'rtvDsvTexture', 'otherTexture'];

function limitsFor(heaps: readonly MemoryHeap[]): DeviceDescription['limits'] {
  return {
    bufferImageGranularity: 1,
    nonCoherentAtomSize: 1,
    // Neither API has a per-process heap-count limit worth modelling; Vulkan's largest common value.
    maxMemoryAllocationCount: 0xffffffff,
    maxMemoryAllocationSize: heaps.reduce((m, h) => Math.max(m, h.size), 0),
  };
}

/**
 * gpu-allocator's D3D12 heap model. Tier 1: 9 memory types, location-major (type = 3 × location +
 * category), each restricted to one resource category. Tier 2: 3 types, category ignored.
 */
export function builtinD3D12Description(tier: 1 | 2): DeviceDescription {
  if (tier !== 1 && tier !== 2)
    throw new ProfileError(`D3D12 resource heap tier must be 1 or 2, got ${String(tier)}.`);
  const heaps: MemoryHeap[] = [
    { index: 0, size: modelledDeviceMemoryBytes, flags: MemoryHeapFlags.DEVICE_LOCAL },
    { index: 1, size: modelledSystemMemoryBytes, flags: 0 },
  ];
  const types: MemoryType[] = [];
  for (const location of modelLocations) {
    const heapIndex = location === 'GpuOnly' ? 0 : 1;
    const base = {
      propertyFlags: locationPropertyFlags[location],
      heapIndex,
      heapKind: d3d12HeapKinds[location],
    };
    if (tier === 1) {
      for (const resourceCategory of resourceCategories)
        types.push({ index: types.length, ...base, resourceCategory });
    } else {
      types.push({ index: types.length, ...base });
    }
  }
  return {
    name: `Modelled D3D12 GPU (resource heap tier ${tier}, 16 GiB)`,
    api: 'd3d12',
    deviceType: 'discrete',
    vendorId: 0,
    deviceId: 0,
    driverVersion: 'model',
    apiVersion: `D3D12 resource heap tier ${tier}`,
    heaps,
    types,
    limits: limitsFor(heaps),
    // QueryVideoMemoryInfo reports budgets; committed resources are D3D12's dedicated allocations; every
    // resource has a GPU virtual address.
    extensions: { memoryBudget: true, dedicatedAllocation: true, bufferDeviceAddress: true },
    resourceHeapTier: tier,
    source: `builtin:d3d12-tier${tier}`,
  };
}

/** gpu-allocator's Metal heap model: Private, Shared write-combined, Shared default cache. */
export function builtinMetalDescription(): DeviceDescription {
  const heaps: MemoryHeap[] = [
    { index: 0, size: modelledDeviceMemoryBytes, flags: MemoryHeapFlags.DEVICE_LOCAL },
  ];
  const types: MemoryType[] = modelLocations.map((location, index) => ({
    index,
    propertyFlags: locationPropertyFlags[location],
    heapIndex: 0,
    heapKind: metalHeapKinds[location],
  }));
  return {
    name: 'Modelled Metal GPU (unified memory, 16 GiB working set)',
    api: 'metal',
    deviceType: 'integrated',
    vendorId: 0,
    deviceId: 0,
    driverVersion: 'model',
    apiVersion: 'Metal 3',
    heaps,
    types,
    limits: limitsFor(heaps),
    // recommendedMaxWorkingSetSize/currentAllocatedSize act as a budget; the crate's Metal backend has no
    // dedicated allocations; buffers have gpuAddress.
    extensions: { memoryBudget: true, dedicatedAllocation: false, bufferDeviceAddress: true },
    source: 'builtin:metal',
  };
}

export type BuiltinProfileName = 'd3d12-tier1' | 'd3d12-tier2' | 'metal';
export const builtinProfileNames: readonly BuiltinProfileName[] = ['d3d12-tier1', 'd3d12-tier2', 'metal'];

/** A built-in model by name ("d3d12-tier1", "d3d12-tier2", "metal"; a "builtin:" prefix is accepted). */
export function loadBuiltinProfile(name: string): DeviceDescription {
  const n = name.startsWith('builtin:') ? name.slice('builtin:'.length) : name;
  switch (n) {
    case 'd3d12-tier1':
      return builtinD3D12Description(1);
    case 'd3d12-tier2':
      return builtinD3D12Description(2);
    case 'metal':
      return builtinMetalDescription();
    default:
      throw new ProfileError(
        `Unknown built-in profile "${name}"; the built-in profiles are ${builtinProfileNames.join(', ')}.`,
      );
  }
}
