// A simulated Device built from a DeviceDescription (a real vulkaninfo profile or a built-in model):
// what vkAllocateMemory/vkFreeMemory/vkMapMemory would do on that GPU, without one. It enforces what a
// driver enforces and nothing more:
// - a heap cannot hold more than its size: VK_ERROR_OUT_OF_DEVICE_MEMORY for DEVICE_LOCAL heaps,
//   VK_ERROR_OUT_OF_HOST_MEMORY for the others;
// - size > maxMemoryAllocationSize: VK_ERROR_OUT_OF_DEVICE_MEMORY (what drivers return in practice);
// - more than maxMemoryAllocationCount live blocks: VK_ERROR_TOO_MANY_OBJECTS;
// - optional fault injection `failAfterBytes`: once blocks totalling that many bytes have been allocated
//   over the device's life (frees do not give it back), every further allocation that would exceed it
//   fails with VK_ERROR_OUT_OF_DEVICE_MEMORY.
// Budgets (VK_EXT_memory_budget, only when the description has it): budget = floor(heap size ×
// budgetFraction), default 0.8 — drivers keep a share of each heap for other processes and the OS, and
// 80% is what WDDM and NVIDIA/AMD Linux drivers typically report to one process; usage = live block bytes.
// Misuse a validation layer would report is a DeviceError with code 'VK_ERROR_VALIDATION'.
//
// Mapped memory is lazy and sparse: 64 KiB pages in a Map, created on first write. Untouched bytes read
// as zeros, so a mapped 256 MiB block costs nothing until written.
import type {
  BlockAllocateRequest,
  Device,
  DeviceDescription,
  DeviceMemoryBlock,
  HeapBudget,
  MappedMemory,
} from './device.ts';
import { DeviceError, MemoryHeapFlags, MemoryPropertyFlags } from './device.ts';
import { formatBytes } from './format.ts';

export interface SimulatedDeviceOptions {
  /** Budget per heap as a fraction of its size, in (0, 1]. Default 0.8. */
  readonly budgetFraction?: number;
  /** Fault injection: bytes of blocks the device hands out over its life before allocations fail. */
  readonly failAfterBytes?: number;
}

export interface SimulatedDevice extends Device {
  /** Live block bytes per heap. */
  heapUsage(): readonly number[];
  /** Live blocks. */
  readonly liveBlockCount: number;
  /** Bytes of every block ever allocated (what failAfterBytes counts). */
  readonly lifetimeAllocatedBytes: number;
}

/** Bytes per lazily created page of mapped memory. */
export const mappedPageSize = 64 * 1024;

const defaultBudgetFraction = 0.8;

function checkRange(blockId: number, size: number, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new DeviceError(
      'VK_ERROR_VALIDATION',
      `${what} of block ${blockId}: offset ${offset} and length ${length} must be non-negative safe integers.`,
    );
  }
  if (offset + length > size) {
    throw new DeviceError(
      'VK_ERROR_VALIDATION',
      `${what} of block ${blockId}: range ${offset}..${offset + length} is past the end of the ${size}-byte block.`,
    );
  }
}

/** Mapped memory of a simulated block: sparse 64 KiB pages, created on first write. */
export class SparseMappedMemory implements MappedMemory {
  readonly size: number;
  /**
   * Written pages by page index; null until the first write (a Map with its hash table is about 150 bytes,
   * and most blocks of a bench replay are mapped and never written).
   */
  private pages: Map<number, Uint8Array> | null = null;
  private released = false;
  private readonly blockId: number;
  private readonly coherent: boolean;
  /** nonCoherentAtomSize, bytes. */
  private readonly atom: number;
  constructor(blockId: number, size: number, coherent: boolean, atom: number) {
    this.blockId = blockId;
    this.size = size;
    this.coherent = coherent;
    this.atom = atom;
  }

  /** Pages that have been written, i.e. that hold host memory (for tests and memory accounting). */
  get residentPages(): number {
    return this.pages?.size ?? 0;
  }

  /** Bytes of host memory the pages hold. */
  get residentBytes(): number {
    let n = 0;
    for (const page of this.pages?.values() ?? []) n += page.length;
    return n;
  }

  release(): void {
    this.released = true;
    this.pages = null;
  }

  private live(what: string): void {
    if (this.released) {
      throw new DeviceError(
        'VK_ERROR_VALIDATION',
        `${what} of block ${this.blockId}: the block was freed, its mapping is gone.`,
      );
    }
  }

  read(offset: number, length: number): Uint8Array {
    this.live('read');
    checkRange(this.blockId, this.size, offset, length, 'read');
    const out = new Uint8Array(length);
    let pos = offset;
    while (pos < offset + length) {
      const page = Math.floor(pos / mappedPageSize);
      const inPage = pos - page * mappedPageSize;
      const n = Math.min(mappedPageSize - inPage, offset + length - pos);
      const data = this.pages?.get(page);
      if (data !== undefined) out.set(data.subarray(inPage, inPage + n), pos - offset);
      pos += n;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    this.live('write');
    checkRange(this.blockId, this.size, offset, data.length, 'write');
    let pos = offset;
    const end = offset + data.length;
    while (pos < end) {
      const page = Math.floor(pos / mappedPageSize);
      const inPage = pos - page * mappedPageSize;
      const n = Math.min(mappedPageSize - inPage, end - pos);
      this.pages ??= new Map<number, Uint8Array>();
      let bytes = this.pages.get(page);
      if (bytes === undefined) {
        bytes = new Uint8Array(Math.min(mappedPageSize, this.size - page * mappedPageSize));
        this.pages.set(page, bytes);
      }
      bytes.set(data.subarray(pos - offset, pos - offset + n), inPage);
      pos += n;
    }
  }

  flush(offset: number, length: number): void {
    this.checkFlushRange(offset, length, 'flush');
  }

  invalidate(offset: number, length: number): void {
    this.checkFlushRange(offset, length, 'invalidate');
  }

  /**
   * vkFlushMappedMemoryRanges rules for non-coherent memory: offset a multiple of nonCoherentAtomSize, and
   * length a multiple of it unless the range ends at the end of the block. Coherent memory: bounds only.
   */
  private checkFlushRange(offset: number, length: number, what: string): void {
    this.live(what);
    checkRange(this.blockId, this.size, offset, length, what);
    if (this.coherent) return;
    if (offset % this.atom !== 0) {
      throw new DeviceError(
        'VK_ERROR_VALIDATION',
        `${what} of block ${this.blockId}: offset ${offset} is not a multiple of nonCoherentAtomSize ${this.atom}.`,
      );
    }
    if (length % this.atom !== 0 && offset + length !== this.size) {
      throw new DeviceError(
        'VK_ERROR_VALIDATION',
        `${what} of block ${this.blockId}: length ${length} is not a multiple of nonCoherentAtomSize ${this.atom} and the range does not end at the end of the block.`,
      );
    }
  }
}

interface LiveBlock {
  readonly block: DeviceMemoryBlock;
  readonly heapIndex: number;
  readonly mapped: SparseMappedMemory | null;
}

/** A Device that behaves like `description`'s GPU (see the header for what it enforces). */
export function createSimulatedDevice(
  description: DeviceDescription,
  options: SimulatedDeviceOptions = {},
): SimulatedDevice {
  const budgetFraction = options.budgetFraction ?? defaultBudgetFraction;
  if (!(budgetFraction > 0 && budgetFraction <= 1)) {
    throw new RangeError(`budgetFraction must be in (0, 1], got ${budgetFraction}.`);
  }
  const failAfterBytes = options.failAfterBytes;
  if (failAfterBytes !== undefined && !(Number.isSafeInteger(failAfterBytes) && failAfterBytes >= 0)) {
    throw new RangeError(`failAfterBytes must be a non-negative safe integer, got ${failAfterBytes}.`);
  }
  const usage = description.heaps.map(() => 0);
  const live = new Map<number, LiveBlock>();
  let nextId = 1;
  let lifetimeBytes = 0;

  function allocateBlock(request: BlockAllocateRequest): DeviceMemoryBlock {
    const { memoryTypeIndex, size } = request;
    const type = description.types[memoryTypeIndex];
    if (!Number.isSafeInteger(memoryTypeIndex) || type === undefined) {
      throw new DeviceError(
        'VK_ERROR_VALIDATION',
        `Memory type ${memoryTypeIndex} does not exist; ${description.name} has ${description.types.length} types.`,
      );
    }
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new DeviceError(
        'VK_ERROR_VALIDATION',
        `Block size must be a positive safe integer, got ${size}.`,
      );
    }
    const hostVisible = (type.propertyFlags & MemoryPropertyFlags.HOST_VISIBLE) !== 0;
    if (request.map && !hostVisible) {
      throw new DeviceError(
        'VK_ERROR_MEMORY_MAP_FAILED',
        `Memory type ${memoryTypeIndex} is not HOST_VISIBLE, so a block of it cannot be mapped.`,
      );
    }
    if (request.deviceAddress && !description.extensions.bufferDeviceAddress) {
      throw new DeviceError(
        'VK_ERROR_VALIDATION',
        `${description.name} does not support buffer device addresses.`,
      );
    }
    if (request.dedicatedTo !== undefined && !description.extensions.dedicatedAllocation) {
      throw new DeviceError(
        'VK_ERROR_VALIDATION',
        `${description.name} does not support dedicated allocations.`,
      );
    }
    if (size > description.limits.maxMemoryAllocationSize) {
      throw new DeviceError(
        'VK_ERROR_OUT_OF_DEVICE_MEMORY',
        `A ${formatBytes(size)} block exceeds maxMemoryAllocationSize (${formatBytes(description.limits.maxMemoryAllocationSize)}).`,
      );
    }
    if (live.size >= description.limits.maxMemoryAllocationCount) {
      throw new DeviceError(
        'VK_ERROR_TOO_MANY_OBJECTS',
        `${live.size} blocks are live, the maxMemoryAllocationCount of ${description.name}.`,
      );
    }
    const heap = description.heaps[type.heapIndex];
    if (usage[type.heapIndex] + size > heap.size) {
      const deviceLocal = (heap.flags & MemoryHeapFlags.DEVICE_LOCAL) !== 0;
      throw new DeviceError(
        deviceLocal ? 'VK_ERROR_OUT_OF_DEVICE_MEMORY' : 'VK_ERROR_OUT_OF_HOST_MEMORY',
        `Heap ${type.heapIndex} (${formatBytes(heap.size)}) has ${formatBytes(heap.size - usage[type.heapIndex])} free, ` +
          `not enough for a ${formatBytes(size)} block of memory type ${memoryTypeIndex}.`,
      );
    }
    if (failAfterBytes !== undefined && lifetimeBytes + size > failAfterBytes) {
      throw new DeviceError(
        'VK_ERROR_OUT_OF_DEVICE_MEMORY',
        `Injected failure: the device was set to fail after ${formatBytes(failAfterBytes)} of blocks ` +
          `(${formatBytes(lifetimeBytes)} handed out so far, ${formatBytes(size)} asked).`,
      );
    }
    const id = nextId++;
    const coherent = (type.propertyFlags & MemoryPropertyFlags.HOST_COHERENT) !== 0;
    const mapped = request.map
      ? new SparseMappedMemory(id, size, coherent, description.limits.nonCoherentAtomSize)
      : null;
    const block: DeviceMemoryBlock = { id, memoryTypeIndex, size, handle: `sim-memory-${id}`, mapped };
    usage[type.heapIndex] += size;
    lifetimeBytes += size;
    live.set(id, { block, heapIndex: type.heapIndex, mapped });
    return block;
  }

  function freeBlock(block: DeviceMemoryBlock): void {
    const entry = live.get(block.id);
    if (entry === undefined || entry.block !== block) {
      throw new DeviceError(
        'VK_ERROR_VALIDATION',
        `Block ${block.id} is not a live block of this device (already freed, or from another device).`,
      );
    }
    live.delete(block.id);
    usage[entry.heapIndex] -= block.size;
    entry.mapped?.release();
  }

  function budgets(): readonly HeapBudget[] | null {
    if (!description.extensions.memoryBudget) return null;
    return description.heaps.map((heap) => ({
      heapIndex: heap.index,
      budget: Math.floor(heap.size * budgetFraction),
      usage: usage[heap.index],
    }));
  }

  return {
    description,
    allocateBlock,
    freeBlock,
    budgets,
    heapUsage: () => usage.slice(),
    get liveBlockCount() {
      return live.size;
    },
    get lifetimeAllocatedBytes() {
      return lifetimeBytes;
    },
  };
}
