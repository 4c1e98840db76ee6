// Device contract (DESIGN.md contract 1): what the allocator needs from a device. Two implementations:
// the real Vulkan device in native/ and the simulated device built from a profile (simulated-device.ts).
// All sizes and offsets are bytes as JS numbers; every value is checked with Number.isSafeInteger at the
// boundary where it enters (profile parser, native facade), so inside the allocator they are exact.

/** Vulkan VkMemoryPropertyFlagBits (the D3D12/Metal models map their heaps onto these bits). */
export const MemoryPropertyFlags = {
  DEVICE_LOCAL: 0x1,
  HOST_VISIBLE: 0x2,
  HOST_COHERENT: 0x4,
  HOST_CACHED: 0x8,
  LAZILY_ALLOCATED: 0x10,
  PROTECTED: 0x20,
  DEVICE_COHERENT_AMD: 0x40,
  DEVICE_UNCACHED_AMD: 0x80,
  RDMA_CAPABLE_NV: 0x100,
} as const;
export type MemoryPropertyFlagName = keyof typeof MemoryPropertyFlags;

/** Vulkan VkMemoryHeapFlagBits. */
export const MemoryHeapFlags = {
  DEVICE_LOCAL: 0x1,
  MULTI_INSTANCE: 0x2,
} as const;
export type MemoryHeapFlagName = keyof typeof MemoryHeapFlags;

export type GraphicsApi = 'vulkan' | 'd3d12' | 'metal';
export type PhysicalDeviceType = 'discrete' | 'integrated' | 'virtual' | 'cpu' | 'other';

export interface MemoryHeap {
  readonly index: number;
  /** Bytes. */
  readonly size: number;
  /** MemoryHeapFlags bits. */
  readonly flags: number;
}

export interface MemoryType {
  readonly index: number;
  /** MemoryPropertyFlags bits. */
  readonly propertyFlags: number;
  readonly heapIndex: number;
  /**
   * D3D12/Metal models only: the heap kind this type stands for (e.g. "DEFAULT", "CUSTOM write-combine L0",
   * "Private"), and for D3D12 tier 1 the resource category it is restricted to.
   */
  readonly heapKind?: string;
  readonly resourceCategory?: ResourceCategory;
}

/** D3D12 resource heap tier 1 splits heaps by what they may hold. */
export type ResourceCategory = 'buffer' | 'rtvDsvTexture' | 'otherTexture';

export interface DeviceLimits {
  /** Bytes; the page size at which linear and non-linear resources may not share memory. */
  readonly bufferImageGranularity: number;
  /** Bytes; flush/invalidate ranges of non-coherent memory are multiples of this. */
  readonly nonCoherentAtomSize: number;
  readonly maxMemoryAllocationCount: number;
  /** Bytes. */
  readonly maxMemoryAllocationSize: number;
}

export interface DeviceExtensions {
  readonly memoryBudget: boolean;
  readonly dedicatedAllocation: boolean;
  readonly bufferDeviceAddress: boolean;
}

export interface DeviceDescription {
  readonly name: string;
  readonly api: GraphicsApi;
  readonly deviceType: PhysicalDeviceType;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly driverVersion: string;
  readonly apiVersion: string;
  readonly heaps: readonly MemoryHeap[];
  readonly types: readonly MemoryType[];
  readonly limits: DeviceLimits;
  readonly extensions: DeviceExtensions;
  /** D3D12 models only. */
  readonly resourceHeapTier?: 1 | 2;
  /** Where the description came from: "vulkan" (a live device), "profile:<file>", "builtin:d3d12-tier1", ... */
  readonly source: string;
}

export interface HeapBudget {
  readonly heapIndex: number;
  /** Bytes the process may use in this heap before the driver starts to suffer, as the driver reports it. */
  readonly budget: number;
  /** Bytes the process uses in this heap, as the driver reports it. */
  readonly usage: number;
}

export interface BlockAllocateRequest {
  readonly memoryTypeIndex: number;
  /** Bytes. */
  readonly size: number;
  /** VkMemoryDedicatedAllocateInfo: the buffer or image handle this block is dedicated to, when known. */
  readonly dedicatedTo?: { readonly kind: 'buffer' | 'image'; readonly handle: unknown } | undefined;
  /** VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT. */
  readonly deviceAddress: boolean;
  /** Map the whole block persistently right after allocation (host-visible types only). */
  readonly map: boolean;
}

/** A host-visible block mapped for the CPU. Offsets and lengths are bytes from the start of the block. */
export interface MappedMemory {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
  /** Non-coherent memory only; no-ops on coherent memory. */
  flush(offset: number, length: number): void;
  invalidate(offset: number, length: number): void;
}

/** One VkDeviceMemory (or ID3D12Heap / MTLHeap) as the device hands it out. */
export interface DeviceMemoryBlock {
  /** Unique for the life of the device, never reused. */
  readonly id: number;
  readonly memoryTypeIndex: number;
  /** Bytes. */
  readonly size: number;
  /** The backend's handle (e.g. the native VkDeviceMemory wrapper), opaque to the allocator. */
  readonly handle: unknown;
  readonly mapped: MappedMemory | null;
}

/**
 * Errors a device reports. `code` is the VkResult name on Vulkan ("VK_ERROR_OUT_OF_DEVICE_MEMORY",
 * "VK_ERROR_MEMORY_MAP_FAILED", ...); simulated devices use the same names.
 */
export class DeviceError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'DeviceError';
    this.code = code;
  }
}

export interface Device {
  readonly description: DeviceDescription;
  /** Throws DeviceError (code VK_ERROR_OUT_OF_DEVICE_MEMORY / VK_ERROR_OUT_OF_HOST_MEMORY / ...) on failure. */
  allocateBlock(request: BlockAllocateRequest): DeviceMemoryBlock;
  freeBlock(block: DeviceMemoryBlock): void;
  /** Per-heap budget and usage where the driver reports them (VK_EXT_memory_budget); null otherwise. */
  budgets(): readonly HeapBudget[] | null;
}

export function isHostVisible(type: MemoryType): boolean {
  return (type.propertyFlags & MemoryPropertyFlags.HOST_VISIBLE) !== 0;
}

export function memoryPropertyFlagNames(flags: number): MemoryPropertyFlagName[] {
  const names: MemoryPropertyFlagName[] = [];
  for (const [name, bit] of Object.entries(MemoryPropertyFlags) as [MemoryPropertyFlagName, number][]) {
    if ((flags & bit) !== 0) names.push(name);
  }
  return names;
}

export function memoryHeapFlagNames(flags: number): MemoryHeapFlagName[] {
  const names: MemoryHeapFlagName[] = [];
  for (const [name, bit] of Object.entries(MemoryHeapFlags) as [MemoryHeapFlagName, number][]) {
    if ((flags & bit) !== 0) names.push(name);
  }
  return names;
}
