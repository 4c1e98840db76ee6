// A device wrapper that enforces per-heap size limits, like VMA's VmaAllocatorCreateInfo::pHeapSizeLimit:
// it lets a session emulate a smaller GPU (or push a heap past its budget) safely, on a real device too.
// Blocks beyond a heap's limit fail with VK_ERROR_OUT_OF_DEVICE_MEMORY, and budgets() reports the limit as
// the heap's budget. With no limits set it only counts bytes per heap and forwards every call.
import {
  DeviceError,
  type BlockAllocateRequest,
  type Device,
  type DeviceDescription,
  type DeviceMemoryBlock,
  type HeapBudget,
} from '../../allocator/index.ts';

export class HeapLimitedDevice implements Device {
  readonly description: DeviceDescription;
  private readonly inner: Device;
  /** Bytes per heap index; undefined = no limit. */
  private readonly limits: (number | undefined)[];
  /** Emulated budget bytes per heap index (setHeapBudget); undefined = as the device reports. */
  private readonly budgetOverrides: (number | undefined)[];
  /** Bytes of live blocks per heap, allocated through this wrapper. */
  private readonly used: number[];

  constructor(inner: Device) {
    this.inner = inner;
    this.description = inner.description;
    this.limits = inner.description.heaps.map(() => undefined);
    this.used = inner.description.heaps.map(() => 0);
    this.budgetOverrides = inner.description.heaps.map(() => undefined);
  }

  /**
   * Sets (bytes) or clears (null) an emulated budget for one heap: budgets() reports it as the heap's
   * budget (the smaller of it and the device's) with this wrapper's live block bytes as the heap's usage,
   * so runs are reproducible whatever else uses the GPU. Nothing fails at the device because of it.
   */
  setHeapBudget(heapIndex: number, bytes: number | null): void {
    if (!Number.isSafeInteger(heapIndex) || heapIndex < 0 || heapIndex >= this.limits.length)
      throw new RangeError(`heap ${heapIndex} does not exist (the device has ${this.limits.length} heaps)`);
    if (bytes !== null && (!Number.isSafeInteger(bytes) || bytes < 0))
      throw new RangeError(`a heap budget must be a non-negative safe integer of bytes, got ${bytes}`);
    this.budgetOverrides[heapIndex] = bytes ?? undefined;
  }

  /** Sets (bytes) or clears (null) the limit of one heap. Live blocks stay; only new blocks are checked. */
  setHeapLimit(heapIndex: number, bytes: number | null): void {
    if (!Number.isSafeInteger(heapIndex) || heapIndex < 0 || heapIndex >= this.limits.length)
      throw new RangeError(`heap ${heapIndex} does not exist (the device has ${this.limits.length} heaps)`);
    if (bytes !== null && (!Number.isSafeInteger(bytes) || bytes < 0))
      throw new RangeError(`a heap limit must be a non-negative safe integer of bytes, got ${bytes}`);
    this.limits[heapIndex] = bytes ?? undefined;
  }

  heapLimit(heapIndex: number): number | null {
    return this.limits[heapIndex] ?? null;
  }

  /** Bytes of live blocks in a heap (through this wrapper). */
  heapUsage(heapIndex: number): number {
    return this.used[heapIndex] ?? 0;
  }

  private heapOf(memoryTypeIndex: number): number {
    const type = this.description.types[memoryTypeIndex];
    if (!type) throw new DeviceError('VK_ERROR_UNKNOWN', `memory type ${memoryTypeIndex} does not exist`);
    return type.heapIndex;
  }

  allocateBlock(request: BlockAllocateRequest): DeviceMemoryBlock {
    const heap = this.heapOf(request.memoryTypeIndex);
    const limit = this.limits[heap];
    const used = this.used[heap] ?? 0;
    if (limit !== undefined && used + request.size > limit) {
      throw new DeviceError(
        'VK_ERROR_OUT_OF_DEVICE_MEMORY',
        `heap ${heap} is limited to ${limit} bytes by the session; ${used} are in use, ${request.size} more were asked for`,
      );
    }
    const block = this.inner.allocateBlock(request);
    this.used[heap] = used + block.size;
    return block;
  }

  freeBlock(block: DeviceMemoryBlock): void {
    this.inner.freeBlock(block);
    const heap = this.heapOf(block.memoryTypeIndex);
    this.used[heap] = (this.used[heap] ?? 0) - block.size;
  }

  budgets(): readonly HeapBudget[] | null {
    const inner = this.inner.budgets();
    const limited =
      this.limits.some((l) => l !== undefined) || this.budgetOverrides.some((b) => b !== undefined);
    if (!limited) return inner;
    return this.description.heaps.map((heap, i) => {
      const reported = inner?.find((b) => b.heapIndex === i);
      let budget = reported?.budget ?? heap.size;
      let usage = reported?.usage ?? this.used[i] ?? 0;
      const limit = this.limits[i];
      if (limit !== undefined) budget = Math.min(budget, limit);
      const override = this.budgetOverrides[i];
      if (override !== undefined) {
        budget = Math.min(budget, override);
        usage = this.used[i] ?? 0;
      }
      return { heapIndex: i, budget, usage };
    });
  }

  /** The wrapped device (e.g. to close a native device). */
  get wrapped(): Device {
    return this.inner;
  }
}
