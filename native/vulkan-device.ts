// The allocator's Device contract (allocator/device.ts) over a real Vulkan device: blocks are VkDeviceMemory
// objects from vkAllocateMemory, mapped persistently when asked (as gpu-allocator does), and budgets come
// from VK_EXT_memory_budget. Every failure surfaces as a DeviceError whose code is the VkResult name (or the
// addon's ERR_VRAMSCOPE_* code for misuse).
import {
  DeviceError,
  type BlockAllocateRequest,
  type Device,
  type DeviceDescription,
  type DeviceMemoryBlock,
  type HeapBudget,
  type MappedMemory,
} from '../allocator/index.ts';
import {
  VulkanContext,
  isCodedError,
  type BufferHandle,
  type ImageHandle,
  type MemoryHandle,
  type NativeDeviceInfo,
  type OpenOptions,
} from './index.ts';

/** The allocator-facing description of a device reported by the addon (`source: 'vulkan'`). */
export function describeNativeDevice(info: NativeDeviceInfo): DeviceDescription {
  return {
    name: info.name,
    api: 'vulkan',
    deviceType: info.deviceType,
    vendorId: info.vendorId,
    deviceId: info.deviceId,
    driverVersion: info.driverVersion,
    apiVersion: info.apiVersion,
    heaps: info.heaps.map((h) => ({ index: h.index, size: h.size, flags: h.flags })),
    types: info.types.map((t) => ({
      index: t.index,
      propertyFlags: t.propertyFlags,
      heapIndex: t.heapIndex,
    })),
    limits: { ...info.limits },
    extensions: { ...info.extensions },
    source: 'vulkan',
  };
}

function toDeviceError(error: unknown): unknown {
  if (error instanceof DeviceError) return error;
  if (isCodedError(error)) return new DeviceError(error.code, error.message);
  return error;
}

class VulkanMappedMemory implements MappedMemory {
  readonly size: number;
  private readonly context: VulkanContext;
  private readonly memory: MemoryHandle;

  constructor(context: VulkanContext, memory: MemoryHandle, size: number) {
    this.context = context;
    this.memory = memory;
    this.size = size;
  }

  // After freeBlock the handle is dead: each call below throws a DeviceError (ERR_VRAMSCOPE_INVALID_HANDLE).
  read(offset: number, length: number): Uint8Array {
    try {
      return this.context.readMemory(this.memory, offset, length);
    } catch (error) {
      throw toDeviceError(error);
    }
  }
  write(offset: number, data: Uint8Array): void {
    try {
      this.context.writeMemory(this.memory, offset, data);
    } catch (error) {
      throw toDeviceError(error);
    }
  }
  flush(offset: number, length: number): void {
    try {
      this.context.flushMemory(this.memory, offset, length);
    } catch (error) {
      throw toDeviceError(error);
    }
  }
  invalidate(offset: number, length: number): void {
    try {
      this.context.invalidateMemory(this.memory, offset, length);
    } catch (error) {
      throw toDeviceError(error);
    }
  }
}

function isHandle(value: unknown, kind: 'buffer' | 'image'): boolean {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === kind;
}

export class VulkanDevice implements Device {
  readonly description: DeviceDescription;
  readonly context: VulkanContext;
  private nextBlockId = 1;
  private readonly live = new Set<DeviceMemoryBlock>();

  constructor(context: VulkanContext) {
    this.context = context;
    this.description = describeNativeDevice(context.info);
  }

  allocateBlock(request: BlockAllocateRequest): DeviceMemoryBlock {
    const dedicated = request.dedicatedTo;
    let dedicatedBuffer: BufferHandle | undefined;
    let dedicatedImage: ImageHandle | undefined;
    if (dedicated !== undefined) {
      // The allocator passes the backend's handle through unchanged; only our own handles are meaningful here.
      if (dedicated.kind === 'buffer' && isHandle(dedicated.handle, 'buffer'))
        dedicatedBuffer = dedicated.handle as BufferHandle;
      if (dedicated.kind === 'image' && isHandle(dedicated.handle, 'image'))
        dedicatedImage = dedicated.handle as ImageHandle;
    }
    try {
      const memory = this.context.allocateMemory(request.memoryTypeIndex, request.size, {
        deviceAddress: request.deviceAddress,
        map: request.map,
        ...(dedicatedBuffer !== undefined ? { dedicatedBuffer } : {}),
        ...(dedicatedImage !== undefined ? { dedicatedImage } : {}),
      });
      const block: DeviceMemoryBlock = {
        id: this.nextBlockId++,
        memoryTypeIndex: request.memoryTypeIndex,
        size: request.size,
        handle: memory,
        mapped: request.map ? new VulkanMappedMemory(this.context, memory, request.size) : null,
      };
      this.live.add(block);
      return block;
    } catch (error) {
      throw toDeviceError(error);
    }
  }

  freeBlock(block: DeviceMemoryBlock): void {
    if (!this.live.has(block)) {
      throw new DeviceError(
        'ERR_VRAMSCOPE_INVALID_HANDLE',
        `block ${String(block?.id)} is not a live block of this device`,
      );
    }
    try {
      this.context.freeMemory(block.handle as MemoryHandle);
    } catch (error) {
      throw toDeviceError(error);
    } finally {
      this.live.delete(block);
    }
  }

  budgets(): readonly HeapBudget[] | null {
    try {
      return this.context.budgets();
    } catch (error) {
      throw toDeviceError(error);
    }
  }

  /** Live blocks handed out and not yet freed. */
  liveBlockCount(): number {
    return this.live.size;
  }

  /** Frees everything still live and closes the device (see VulkanContext.close). */
  close(): void {
    this.live.clear();
    this.context.close();
  }
}

/**
 * Opens a Vulkan device for the allocator: by index (enumerateDevices order) or the default
 * (discrete > integrated > virtual > cpu). The bench and the session use this.
 */
export function openVulkanDevice(
  index?: number,
  options: Omit<OpenOptions, 'deviceIndex'> = {},
): VulkanDevice {
  const context = VulkanContext.open({ ...options, ...(index !== undefined ? { deviceIndex: index } : {}) });
  return new VulkanDevice(context);
}
