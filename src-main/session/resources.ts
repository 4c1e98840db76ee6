// Real resources for scenario runs on a real device (`resources: real`): each allocation creates the VkBuffer
// or VkImage the scenario describes, takes the driver's memory requirements (size, alignment,
// memoryTypeBits, dedicated), allocates with those, binds the resource at the chosen offset and destroys
// it on free, as an application does. `none` (bench, simulated devices) allocates from the scenario's own
// numbers with every memory type allowed.
import type { BufferHandle, ImageHandle, MemoryHandle, VulkanContext } from '../../native/index.ts';

export type ResourcesMode = 'real' | 'none';
export const resourcesModes: readonly ResourcesMode[] = ['real', 'none'];

/** VkMemoryRequirements + VkMemoryDedicatedRequirements of one resource, as the driver reports them. Bytes. */
export interface DriverRequirements {
  readonly size: number;
  readonly alignment: number;
  readonly memoryTypeBits: number;
  readonly prefersDedicated: boolean;
  readonly requiresDedicated: boolean;
}

/** A resource created on the device: an opaque handle and its requirements. */
export interface CreatedResource {
  readonly kind: 'buffer' | 'image';
  readonly handle: unknown;
  readonly requirements: DriverRequirements;
}

/** What a session needs of a device to create, bind and destroy real resources. */
export interface ResourceBackend {
  /** A buffer of `size` bytes (every usage a scenario buffer may stand for). */
  createBuffer(size: number): CreatedResource;
  /** An optimal-tiling image holding at least `bytes` bytes of texels (see imageExtentFor). */
  createImage(bytes: number): CreatedResource;
  /** Binds a resource to a block (DeviceMemoryBlock.handle) at `offset` bytes. */
  bind(resource: CreatedResource, memory: unknown, offset: number): void;
  destroy(resource: CreatedResource): void;
  /** Buffers and images alive on the device. */
  liveCounts(): { readonly buffers: number; readonly images: number };
}

/** VK_BUFFER_USAGE_TRANSFER_SRC | TRANSFER_DST | UNIFORM | STORAGE | INDEX | VERTEX: any scenario buffer. */
export const scenarioBufferUsage = 0x1 | 0x2 | 0x10 | 0x20 | 0x40 | 0x80;
/** VK_FORMAT_R8G8B8A8_UNORM: 4 bytes per texel. */
export const scenarioImageFormat = 37;
/** VK_IMAGE_USAGE_TRANSFER_DST | SAMPLED. */
export const scenarioImageUsage = 0x2 | 0x4;
/** Largest width/height used: 4096 is the least maxImageDimension2D Vulkan guarantees. */
const maxExtent = 4096;

/**
 * The extent of an RGBA8 2D image (array) with at least `bytes` bytes of texels: width a power of two up to
 * 4096, height up to 4096, then array layers (Vulkan guarantees at least 256; 256 × 64 MiB = 16 GiB).
 */
export function imageExtentFor(bytes: number): { width: number; height: number; arrayLayers: number } {
  const texels = Math.max(1, Math.ceil(bytes / 4));
  const perLayer = maxExtent * maxExtent;
  if (texels > perLayer) {
    return { width: maxExtent, height: maxExtent, arrayLayers: Math.ceil(texels / perLayer) };
  }
  let width = 1;
  while (width < maxExtent && width * width < texels) width *= 2;
  return { width, height: Math.max(1, Math.ceil(texels / width)), arrayLayers: 1 };
}

/** Real resources on a Vulkan device opened through the addon. */
export function vulkanResources(context: VulkanContext): ResourceBackend {
  return {
    createBuffer(size) {
      const r = context.createBuffer(size, scenarioBufferUsage);
      return { kind: 'buffer', handle: r.handle, requirements: { ...r.requirements } };
    },
    createImage(bytes) {
      const { width, height, arrayLayers } = imageExtentFor(bytes);
      const r = context.createImage({
        width,
        height,
        arrayLayers,
        mipLevels: 1,
        format: scenarioImageFormat,
        usage: scenarioImageUsage,
        tiling: 'optimal',
      });
      return { kind: 'image', handle: r.handle, requirements: { ...r.requirements } };
    },
    bind(resource, memory, offset) {
      // Handles this backend made, and a block of the VulkanDevice the session runs on.
      if (resource.kind === 'buffer')
        context.bindBufferMemory(resource.handle as BufferHandle, memory as MemoryHandle, offset);
      else context.bindImageMemory(resource.handle as ImageHandle, memory as MemoryHandle, offset);
    },
    destroy(resource) {
      if (resource.kind === 'buffer') context.destroyBuffer(resource.handle as BufferHandle);
      else context.destroyImage(resource.handle as ImageHandle);
    },
    liveCounts() {
      const c = context.liveCounts();
      return { buffers: c.buffers, images: c.images };
    },
  };
}
