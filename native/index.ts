// Typed facade over the vramscope_vulkan addon (native/src/*.cc). It only types: every argument that reaches
// native code is checked there, once, in C++ (the addon never trusts JS), so the facade and the addon cannot
// drift. The facade checks only what it keeps to itself (the open() options bag, onMessage, addonPath).
// Resource handles are opaque, frozen, type-tagged objects made by the addon; they carry no pointer, so a
// stale or forged handle is an exception, never a crash. Errors keep the addon's `code`: a VkResult name
// ("VK_ERROR_OUT_OF_DEVICE_MEMORY") for Vulkan failures, ERR_VRAMSCOPE_* for misuse. Sizes and offsets are
// bytes as safe-integer JS numbers.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  DeviceExtensions,
  DeviceLimits,
  HeapBudget,
  MemoryHeap,
  MemoryType,
  PhysicalDeviceType,
} from '../allocator/index.ts';
import {
  BufferUsage,
  ImageUsage,
  maxCoreFormat,
  resourceDefaults,
  VK_FORMAT_R8G8B8A8_UNORM,
} from '../allocator/capture/vulkan-names.ts';

/** Usage bits and formats the addon accepts, one table shared with the trace views (vulkan-names.ts). */
export { BufferUsage, ImageUsage, maxCoreFormat, resourceDefaults, VK_FORMAT_R8G8B8A8_UNORM };

/**
 * native/: this file's folder in the sources; from a bundle (VRAMSCOPE_BUNDLED, built two folders below the
 * repository root: dist/cli/, .vite/build/), the root's native/.
 */
const nativeDir =
  typeof VRAMSCOPE_BUNDLED !== 'undefined' && VRAMSCOPE_BUNDLED === true
    ? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'native')
    : path.dirname(fileURLToPath(import.meta.url));

/** Where `npm run build:native` puts the addon (Node's build; Electron's goes to native/build-electron/). */
export const defaultAddonPath = path.join(nativeDir, 'build', 'Release', 'vramscope_vulkan.node');

export interface NativeDeviceInfo {
  readonly index: number;
  readonly name: string;
  readonly deviceType: PhysicalDeviceType;
  readonly vendorId: number;
  readonly deviceId: number;
  /** Formatted as vulkaninfo prints it (vendor-specific for NVIDIA). */
  readonly driverVersion: string;
  readonly driverVersionRaw: number;
  readonly apiVersion: string;
  /** VkPhysicalDeviceDriverProperties (Vulkan 1.2); empty strings when absent. */
  readonly driverName: string;
  readonly driverInfo: string;
  readonly heaps: readonly MemoryHeap[];
  readonly types: readonly MemoryType[];
  readonly limits: DeviceLimits;
  readonly extensions: DeviceExtensions;
  readonly extensionNames: readonly string[];
  /** VK_EXT_memory_budget per heap; null when the device lacks the extension. */
  readonly budgets: readonly HeapBudget[] | null;
}

export interface OpenedDeviceInfo extends NativeDeviceInfo {
  readonly validation: boolean;
}

/** VkMemoryRequirements + VkMemoryDedicatedRequirements. Bytes. */
export interface ResourceRequirements {
  readonly size: number;
  readonly alignment: number;
  readonly memoryTypeBits: number;
  readonly prefersDedicated: boolean;
  readonly requiresDedicated: boolean;
}

export interface MemoryHandle {
  readonly kind: 'memory';
  readonly id: number;
  readonly context: number;
}
export interface BufferHandle {
  readonly kind: 'buffer';
  readonly id: number;
  readonly context: number;
}
export interface ImageHandle {
  readonly kind: 'image';
  readonly id: number;
  readonly context: number;
}
export type ResourceHandle = BufferHandle | ImageHandle;

export interface MemoryInfo {
  readonly memoryTypeIndex: number;
  readonly size: number;
  readonly mapped: boolean;
  readonly coherent: boolean;
  readonly deviceAddress: boolean;
  readonly dedicated: boolean;
}

export interface AllocateMemoryOptions {
  /** VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT (needs the bufferDeviceAddress feature). */
  readonly deviceAddress?: boolean;
  /** Map the whole block persistently (host-visible types only). */
  readonly map?: boolean;
  /** VkMemoryDedicatedAllocateInfo; the size must equal the resource's required size. */
  readonly dedicatedBuffer?: BufferHandle;
  readonly dedicatedImage?: ImageHandle;
}

export type ImageTiling = 'optimal' | 'linear';
export interface ImageDesc {
  readonly width: number;
  readonly height: number;
  /** VkFormat, core 1.0 (1..maxCoreFormat); default VK_FORMAT_R8G8B8A8_UNORM (37). */
  readonly format?: number;
  readonly tiling: ImageTiling;
  /** VkImageUsageFlags (ImageUsage bits); default TRANSFER_DST | SAMPLED. */
  readonly usage?: number;
  readonly mipLevels?: number;
  readonly arrayLayers?: number;
}

export interface DebugMessage {
  readonly severity: 'error' | 'warning' | 'info' | 'verbose';
  /** "general", "validation", "performance", joined with "|". */
  readonly type: string;
  readonly messageIdName: string;
  readonly messageIdNumber: number;
  readonly message: string;
}

export interface LiveCounts {
  readonly memory: number;
  readonly mapped: number;
  readonly buffers: number;
  readonly images: number;
}

/** One copy of VulkanContext.copyBuffers: `size` bytes from `src` at `srcOffset` to `dst` at `dstOffset`. */
export interface BufferCopy {
  readonly src: BufferHandle;
  readonly srcOffset: number;
  readonly dst: BufferHandle;
  readonly dstOffset: number;
  readonly size: number;
}

// The raw addon, as native/src/addon.cc exports it.
interface RawContext {
  info(): OpenedDeviceInfo;
  budgets(): HeapBudget[] | null;
  allocateMemory(typeIndex: number, size: number, options: AllocateMemoryOptions): MemoryHandle;
  freeMemory(memory: MemoryHandle): void;
  mapMemory(memory: MemoryHandle): void;
  unmapMemory(memory: MemoryHandle): void;
  readMemory(memory: MemoryHandle, offset: number, length: number): Uint8Array;
  writeMemory(memory: MemoryHandle, offset: number, data: Uint8Array): void;
  copyMappedMemory(
    srcMemory: MemoryHandle,
    srcOffset: number,
    dstMemory: MemoryHandle,
    dstOffset: number,
    length: number,
  ): void;
  flushMemory(memory: MemoryHandle, offset: number, length: number): boolean;
  invalidateMemory(memory: MemoryHandle, offset: number, length: number): boolean;
  memoryInfo(memory: MemoryHandle): MemoryInfo;
  createBuffer(
    size: number,
    usage: number | undefined,
  ): { handle: BufferHandle; requirements: ResourceRequirements };
  createImage(desc: ImageDesc): { handle: ImageHandle; requirements: ResourceRequirements };
  bindBufferMemory(buffer: BufferHandle, memory: MemoryHandle, offset: number): void;
  bindImageMemory(image: ImageHandle, memory: MemoryHandle, offset: number): void;
  destroyBuffer(buffer: BufferHandle): void;
  destroyImage(image: ImageHandle): void;
  copyBuffer(src: BufferHandle, srcOffset: number, dst: BufferHandle, dstOffset: number, size: number): void;
  copyBuffers(copies: readonly BufferCopy[], ordered: boolean): void;
  takeMessages(): DebugMessage[];
  submitDebugMessage(severity: 'error' | 'warning', idName: string, text: string): void;
  liveCounts(): LiveCounts;
  close(): void;
  readonly closed: boolean;
}
interface RawAddon {
  enumerateDevices(): NativeDeviceInfo[];
  loaderVersion(): string;
  driverAnchorHeld(): boolean;
  VulkanContext: new (deviceIndex: number | undefined, validation: boolean | undefined) => RawContext;
  napiVersion: number;
  /** The addon's copy of the usage/format tables (native/src/vk_tables.h), for the test that compares them. */
  argumentTables: ArgumentTables;
}

export interface ArgumentTables {
  readonly bufferUsage: Readonly<Record<string, number>>;
  readonly imageUsage: Readonly<Record<string, number>>;
  readonly maxCoreFormat: number;
  readonly defaultBufferUsage: number;
  readonly defaultImageUsage: number;
  readonly defaultImageFormat: number;
}

/** An error of the facade or the addon; `code` is a VkResult name or ERR_VRAMSCOPE_*. */
export interface CodedError extends Error {
  readonly code: string;
}

export function isCodedError(error: unknown): error is CodedError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}

function codedError(kind: 'type' | 'range' | 'error', code: string, message: string): CodedError {
  const error =
    kind === 'type'
      ? new TypeError(message)
      : kind === 'range'
        ? new RangeError(message)
        : new Error(message);
  return Object.assign(error, { code });
}

let loaded: RawAddon | null = null;
let loadedFrom: string | null = null;

/**
 * Loads the addon once. The path comes from the argument, else VRAMSCOPE_NATIVE_ADDON, else the build output
 * next to this file. Throws "native addon not built: run npm run setup" when the file is missing.
 */
function addon(addonPath?: string): RawAddon {
  const wanted = addonPath ?? process.env.VRAMSCOPE_NATIVE_ADDON ?? defaultAddonPath;
  if (loaded !== null) return loaded;
  if (!existsSync(wanted)) {
    throw codedError(
      'error',
      'ERR_VRAMSCOPE_NOT_BUILT',
      `native addon not built: run npm run setup (looked for ${wanted})`,
    );
  }
  const require = createRequire(import.meta.url);
  loaded = require(wanted) as RawAddon;
  loadedFrom = wanted;
  return loaded;
}

/** Loads the addon from an explicit path (bundled scripts); later calls reuse the first one loaded. */
export function loadNativeAddon(addonPath?: string): { path: string; napiVersion: number } {
  const raw = addon(addonPath);
  return { path: loadedFrom ?? '', napiVersion: raw.napiVersion };
}

/** Whether the addon file exists (does not load it). */
export function isNativeAddonBuilt(addonPath?: string): boolean {
  return loaded !== null || existsSync(addonPath ?? process.env.VRAMSCOPE_NATIVE_ADDON ?? defaultAddonPath);
}

export function loaderVersion(): string {
  return addon().loaderVersion();
}

/**
 * Whether this thread holds the addon's process-wide driver anchor: an instance without layers, made with the
 * thread's first instance and kept until the thread's env ends, so that the loader never unloads the Vulkan
 * drivers between one device and the next (NVIDIA's driver 580 fails every vkCreateInstance after about 29
 * reloads in a process; native/src/device_info.cc).
 */
export function driverAnchorHeld(): boolean {
  return addon().driverAnchorHeld();
}

/** Every Vulkan physical device, with heaps, types, limits, extensions and (VK_EXT_memory_budget) budgets. */
export function enumerateDevices(): NativeDeviceInfo[] {
  return addon().enumerateDevices();
}

const typeRank: Record<PhysicalDeviceType, number> = {
  discrete: 4,
  integrated: 3,
  virtual: 2,
  cpu: 1,
  other: 0,
};

/** The device `open()` picks without an index: discrete > integrated > virtual > cpu, first of the best kind. */
export function defaultDeviceIndex(devices: readonly Pick<NativeDeviceInfo, 'deviceType'>[]): number {
  let best = 0;
  for (let i = 1; i < devices.length; i++) {
    if (typeRank[devices[i]!.deviceType] > typeRank[devices[best]!.deviceType]) best = i;
  }
  return best;
}

export interface OpenOptions {
  /** Physical device index from enumerateDevices(); default: discrete > integrated > virtual > cpu. */
  readonly deviceIndex?: number;
  /** Enable VK_LAYER_KHRONOS_validation with a debug messenger (warnings and errors). */
  readonly validation?: boolean;
  /**
   * Called with each debug message, synchronously after the native call during which Vulkan reported it.
   * Without it, messages queue until takeMessages().
   */
  readonly onMessage?: (message: DebugMessage) => void;
  /** Addon file to load (bundled scripts); defaults to native/build/Release/vramscope_vulkan.node. */
  readonly addonPath?: string;
}

/** One opened Vulkan device and the memory, buffers and images made on it. */
export class VulkanContext {
  readonly info: OpenedDeviceInfo;
  private readonly raw: RawContext;
  private readonly onMessage: ((message: DebugMessage) => void) | undefined;

  private constructor(raw: RawContext, onMessage: ((message: DebugMessage) => void) | undefined) {
    this.raw = raw;
    this.onMessage = onMessage;
    this.info = raw.info();
    this.deliver();
  }

  static open(options: OpenOptions = {}): VulkanContext {
    // The options bag and onMessage stay in the facade; deviceIndex and validation are checked by the addon.
    if (typeof options !== 'object' || options === null)
      throw codedError('type', 'ERR_VRAMSCOPE_INVALID_ARGUMENT', 'options must be an object');
    if (options.onMessage !== undefined && typeof options.onMessage !== 'function') {
      throw codedError('type', 'ERR_VRAMSCOPE_INVALID_ARGUMENT', 'onMessage must be a function');
    }
    const Raw = addon(options.addonPath).VulkanContext;
    return new VulkanContext(new Raw(options.deviceIndex, options.validation), options.onMessage);
  }

  get closed(): boolean {
    return this.raw.closed;
  }

  /** Hands queued debug messages to onMessage (if set). Runs after every native call. */
  private deliver(): void {
    if (this.onMessage === undefined) return;
    for (const message of this.raw.takeMessages()) this.onMessage(message);
  }

  private call<T>(fn: () => T): T {
    try {
      return fn();
    } finally {
      this.deliver();
    }
  }

  budgets(): HeapBudget[] | null {
    return this.call(() => this.raw.budgets());
  }

  allocateMemory(memoryTypeIndex: number, size: number, options: AllocateMemoryOptions = {}): MemoryHandle {
    return this.call(() => this.raw.allocateMemory(memoryTypeIndex, size, options));
  }

  freeMemory(memory: MemoryHandle): void {
    this.call(() => this.raw.freeMemory(memory));
  }

  mapMemory(memory: MemoryHandle): void {
    this.call(() => this.raw.mapMemory(memory));
  }

  unmapMemory(memory: MemoryHandle): void {
    this.call(() => this.raw.unmapMemory(memory));
  }

  /** A copy of `length` bytes at `offset` of a mapped block. */
  readMemory(memory: MemoryHandle, offset: number, length: number): Uint8Array {
    return this.call(() => this.raw.readMemory(memory, offset, length));
  }

  /** Copies `data` (any ArrayBufferView) to `offset` of a mapped block. */
  writeMemory(memory: MemoryHandle, offset: number, data: Uint8Array): void {
    this.call(() => this.raw.writeMemory(memory, offset, data));
  }

  /**
   * Copies `length` bytes between two mapped blocks (or within one; overlapping ranges copy as if through a
   * temporary) on the host, without a JS buffer in between. Invalidate the source and flush the
   * destination around it for non-coherent memory.
   */
  copyMappedMemory(
    srcMemory: MemoryHandle,
    srcOffset: number,
    dstMemory: MemoryHandle,
    dstOffset: number,
    length: number,
  ): void {
    this.call(() => this.raw.copyMappedMemory(srcMemory, srcOffset, dstMemory, dstOffset, length));
  }

  /** Flushes a range of non-coherent memory (widened to nonCoherentAtomSize); false when nothing was needed. */
  flushMemory(memory: MemoryHandle, offset: number, length: number): boolean {
    return this.call(() => this.raw.flushMemory(memory, offset, length));
  }

  invalidateMemory(memory: MemoryHandle, offset: number, length: number): boolean {
    return this.call(() => this.raw.invalidateMemory(memory, offset, length));
  }

  memoryInfo(memory: MemoryHandle): MemoryInfo {
    return this.call(() => this.raw.memoryInfo(memory));
  }

  /** `usage`: BufferUsage bits; default TRANSFER_SRC | TRANSFER_DST | STORAGE_BUFFER. */
  createBuffer(size: number, usage?: number): { handle: BufferHandle; requirements: ResourceRequirements } {
    return this.call(() => this.raw.createBuffer(size, usage));
  }

  createImage(desc: ImageDesc): { handle: ImageHandle; requirements: ResourceRequirements } {
    return this.call(() => this.raw.createImage(desc));
  }

  bindBufferMemory(buffer: BufferHandle, memory: MemoryHandle, offset: number): void {
    this.call(() => this.raw.bindBufferMemory(buffer, memory, offset));
  }

  bindImageMemory(image: ImageHandle, memory: MemoryHandle, offset: number): void {
    this.call(() => this.raw.bindImageMemory(image, memory, offset));
  }

  destroyBuffer(buffer: BufferHandle): void {
    this.call(() => this.raw.destroyBuffer(buffer));
  }

  destroyImage(image: ImageHandle): void {
    this.call(() => this.raw.destroyImage(image));
  }

  /**
   * Copies `size` bytes from `src` at `srcOffset` to `dst` at `dstOffset` (bytes, within each buffer) with
   * vkCmdCopyBuffer on the device's queue, and returns once the copy is done (fence waited). Both buffers
   * must be bound; src needs TRANSFER_SRC usage, dst TRANSFER_DST; source and destination must not overlap
   * in memory. The addon checks all of it (src/transfer.cc).
   */
  copyBuffer(src: BufferHandle, srcOffset: number, dst: BufferHandle, dstOffset: number, size: number): void {
    this.call(() => this.raw.copyBuffer(src, srcOffset, dst, dstOffset, size));
  }

  /**
   * Several copyBuffer copies in one command buffer and one submission (one vkQueueSubmit, one fence
   * wait), returning once all are done; each copy is checked as copyBuffer checks it. Unordered (default):
   * they run in no particular order, so no destination may overlap a source or another destination in
   * memory. Ordered: a barrier between consecutive copies, so each reads what the earlier ones wrote (the
   * pieces of an overlapping slide); only a copy's own source and destination must not overlap.
   */
  copyBuffers(copies: readonly BufferCopy[], ordered = false): void {
    this.call(() => this.raw.copyBuffers(copies, ordered));
  }

  /** Queued debug messages (those not already handed to onMessage), oldest first; clears the queue. */
  takeMessages(): DebugMessage[] {
    return this.raw.takeMessages();
  }

  /**
   * Sends a message through vkSubmitDebugUtilsMessageEXT to the messenger (validation only): how callers
   * check that debug messages reach them.
   */
  submitDebugMessage(severity: 'error' | 'warning', idName: string, text: string): void {
    this.call(() => this.raw.submitDebugMessage(severity, idName, text));
  }

  liveCounts(): LiveCounts {
    return this.raw.liveCounts();
  }

  /** Destroys buffers and images, frees memory, then the device, messenger and instance. Idempotent. */
  close(): void {
    this.call(() => this.raw.close());
  }
}
