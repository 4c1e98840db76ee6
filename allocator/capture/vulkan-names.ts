// Names of the few Vulkan enums and bits a captured trace shows (VkResult, buffer/image usage bits).
// Values from the Vulkan 1.3 headers (vulkan_core.h).

const resultNames: ReadonlyMap<number, string> = new Map([
  [0, 'VK_SUCCESS'],
  [1, 'VK_NOT_READY'],
  [2, 'VK_TIMEOUT'],
  [5, 'VK_INCOMPLETE'],
  [-1, 'VK_ERROR_OUT_OF_HOST_MEMORY'],
  [-2, 'VK_ERROR_OUT_OF_DEVICE_MEMORY'],
  [-3, 'VK_ERROR_INITIALIZATION_FAILED'],
  [-4, 'VK_ERROR_DEVICE_LOST'],
  [-5, 'VK_ERROR_MEMORY_MAP_FAILED'],
  [-7, 'VK_ERROR_EXTENSION_NOT_PRESENT'],
  [-10, 'VK_ERROR_TOO_MANY_OBJECTS'],
  [-11, 'VK_ERROR_FORMAT_NOT_SUPPORTED'],
  [-12, 'VK_ERROR_FRAGMENTED_POOL'],
  [-13, 'VK_ERROR_UNKNOWN'],
  [-1000069000, 'VK_ERROR_OUT_OF_POOL_MEMORY'],
  [-1000072003, 'VK_ERROR_INVALID_EXTERNAL_HANDLE'],
  [-1000161000, 'VK_ERROR_FRAGMENTATION'],
  [-1000257000, 'VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS'],
  [-1000001004, 'VK_ERROR_OUT_OF_DATE_KHR'],
  [1000001003, 'VK_SUBOPTIMAL_KHR'],
]);

export function vkResultName(result: number): string {
  return resultNames.get(result) ?? `VkResult ${result}`;
}

// The usage tables and format range below are the one TypeScript copy: the facade (native/index.ts)
// re-exports them, the trace views name bits with them, and the addon's own copy (native/src/vk_tables.h,
// exported as `argumentTables`) is checked against them by tests/integration/native-safety.test.ts.

/** VkBufferUsageFlagBits the addon accepts: core 1.0 and SHADER_DEVICE_ADDRESS (core 1.2). */
export const BufferUsage = {
  TRANSFER_SRC: 0x1,
  TRANSFER_DST: 0x2,
  UNIFORM_TEXEL_BUFFER: 0x4,
  STORAGE_TEXEL_BUFFER: 0x8,
  UNIFORM_BUFFER: 0x10,
  STORAGE_BUFFER: 0x20,
  INDEX_BUFFER: 0x40,
  VERTEX_BUFFER: 0x80,
  INDIRECT_BUFFER: 0x100,
  SHADER_DEVICE_ADDRESS: 0x20000,
} as const;

/** VkImageUsageFlagBits (core 1.0). */
export const ImageUsage = {
  TRANSFER_SRC: 0x1,
  TRANSFER_DST: 0x2,
  SAMPLED: 0x4,
  STORAGE: 0x8,
  COLOR_ATTACHMENT: 0x10,
  DEPTH_STENCIL_ATTACHMENT: 0x20,
  TRANSIENT_ATTACHMENT: 0x40,
  INPUT_ATTACHMENT: 0x80,
} as const;

/** Core Vulkan 1.0 formats are 1..184 (VK_FORMAT_ASTC_12x12_SRGB_BLOCK); 0 is VK_FORMAT_UNDEFINED. */
export const maxCoreFormat = 184;
export const VK_FORMAT_R8G8B8A8_UNORM = 37;

/** What the addon uses for an omitted buffer usage, image usage and image format. */
export const resourceDefaults = {
  bufferUsage: BufferUsage.TRANSFER_SRC | BufferUsage.TRANSFER_DST | BufferUsage.STORAGE_BUFFER,
  imageUsage: ImageUsage.TRANSFER_DST | ImageUsage.SAMPLED,
  imageFormat: VK_FORMAT_R8G8B8A8_UNORM,
} as const;

function bitNames(bits: number, table: Readonly<Record<string, number>>): string {
  if (bits === 0) return 'none';
  const names: string[] = [];
  let rest = bits;
  for (const [name, bit] of Object.entries(table)) {
    if ((bits & bit) !== 0) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) names.push(`0x${(rest >>> 0).toString(16)}`);
  return names.join('|');
}

export function bufferUsageText(usage: number): string {
  return bitNames(usage, BufferUsage);
}

export function imageUsageText(usage: number): string {
  return bitNames(usage, ImageUsage);
}

/** Vulkan's packed version (variant 3 bits, major 7, minor 10, patch 12) as "major.minor.patch". */
export function vkVersionText(version: number): string {
  return `${(version >>> 22) & 0x7f}.${(version >>> 12) & 0x3ff}.${version & 0xfff}`;
}

/** Driver versions as vulkaninfo prints them (NVIDIA packs 10.8.8 bits and the rest, as native/src/vk_common.cc prints it; others use the Vulkan packing). */
export function driverVersionText(vendorId: number, version: number): string {
  if (vendorId === 0x10de)
    return `${(version >>> 22) & 0x3ff}.${(version >>> 14) & 0xff}.${(version >>> 6) & 0xff}.${version & 0x3ff}`;
  return vkVersionText(version);
}
