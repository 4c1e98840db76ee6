// A session: one device (behind a heap-limit wrapper) + one Allocator + the recorder of its event stream
// (an EventLog), with budget samples and frame/mark events added by the scenario. Optionally streams the
// events to a trace file. Runs in whichever thread owns it (the scenario worker, or a test).
import {
  Allocator,
  EventLog,
  FlagBits,
  type Allocation,
  type AllocationCreateDesc,
  type AllocationSizesInput,
  type AllocatorEvent,
  type AllocatorEventSink,
  type BudgetMode,
  type Clock,
  type DebugSettings,
  type DefragmentationMove,
  type DefragmentationOptions,
  type DefragmentationPlan,
  type Device,
  type DeviceMemoryBlock,
  type Logger,
  type PlacementStrategyName,
  type RelocationOptions,
} from '../../allocator/index.ts';
import { HeapLimitedDevice } from './heap-limit.ts';
import type { CreatedResource, ResourceBackend, ResourcesMode } from './resources.ts';
import type { SessionState } from './scenario-types.ts';

/** Receives the recorded events as they accumulate (e.g. a trace writer). */
export interface SessionEventConsumer {
  /** New events are [start, end) of `log`; called from Session.flush(). */
  append(log: EventLog, start: number, end: number): void;
  /** Called once by Session.close() after the final append. */
  close(): void;
}

export interface SessionOptions {
  readonly device: Device;
  readonly strategy?: PlacementStrategyName;
  readonly allocationSizes?: AllocationSizesInput;
  /** The session stores stacks by default (storeStackTraces) and does its own leak report. */
  readonly debugSettings?: Partial<DebugSettings>;
  /** Flag every block for buffer device addresses (AllocatorCreateDesc.bufferDeviceAddress). */
  readonly bufferDeviceAddress?: boolean;
  /** Heap budgets: ignore, warn (default) or strict (AllocatorCreateDesc.budget). */
  readonly budget?: BudgetMode;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Gets every event via flush(); see SessionEventConsumer. */
  readonly consumer?: SessionEventConsumer | null;
  /**
   * Real resources (`resources: real`): every allocation creates its buffer/image here, allocates with the
   * driver's requirements, binds it and destroys it on free. Absent or null: `resources: none`.
   */
  readonly resources?: ResourceBackend | null;
  /**
   * Relocation before growth (AllocatorCreateDesc.relocation; tlsf only): the copier of the moved bytes
   * (copyMapped on a simulated device, native/defrag-copy.ts createRelocationCopy on a real one). With real
   * resources the session also recreates each moved allocation's resource at its new place, as
   * defragment() does. Absent or null: allocate() never moves anything.
   */
  readonly relocation?: RelocationCopier | null;
}

/** What moves a relocated allocation's bytes (RelocationOptions' copy and optional flush). */
export type RelocationCopier = Pick<RelocationOptions, 'copy' | 'flush'>;

export interface LeakRecord {
  readonly id: number;
  readonly name: string;
  /** Bytes requested. */
  readonly size: number;
  readonly memoryTypeIndex: number;
  readonly stack: string | null;
}

/** Forwards every allocator event to the log and keeps the running totals a summary needs. */
class RecordingSink implements AllocatorEventSink {
  committedBytes = 0;
  peakCommittedBytes = 0;
  allocatedBytes = 0;
  allocationCount = 0;
  failureCount = 0;
  freeCount = 0;
  blockCount = 0;
  peakBlockCount = 0;
  private readonly blockSizes = new Map<number, number>();
  private readonly liveSizes = new Map<number, number>();

  /** Blocks created past a heap's budget (mode warn) / refused by it (mode strict), as recorded. */
  budgetCrossings = 0;
  budgetRefusals = 0;

  constructor(private readonly log: EventLog) {}

  event(e: AllocatorEvent): void {
    switch (e.type) {
      case 'allocate':
        this.allocationCount++;
        this.allocatedBytes += e.size;
        this.liveSizes.set(e.allocationId, e.size);
        break;
      case 'free':
        this.freeCount++;
        this.allocatedBytes -= this.liveSizes.get(e.allocationId) ?? 0;
        this.liveSizes.delete(e.allocationId);
        break;
      case 'failure':
        this.failureCount++;
        break;
      case 'blockCreate':
        this.blockSizes.set(e.blockId, e.size);
        this.committedBytes += e.size;
        this.blockCount++;
        if (this.committedBytes > this.peakCommittedBytes) this.peakCommittedBytes = this.committedBytes;
        if (this.blockCount > this.peakBlockCount) this.peakBlockCount = this.blockCount;
        break;
      case 'blockDestroy':
        this.committedBytes -= this.blockSizes.get(e.blockId) ?? 0;
        this.blockSizes.delete(e.blockId);
        this.blockCount--;
        break;
      case 'budgetSample':
        // The allocator's budget samples: a new block pushed a heap past its budget (mode warn) or the
        // budget refused one (mode strict), told apart by the flags it sets.
        if (((e.flags ?? 0) & FlagBits.budgetRefused) !== 0) this.budgetRefusals++;
        else if (((e.flags ?? 0) & FlagBits.budgetCrossed) !== 0) this.budgetCrossings++;
        break;
      // rename, move: recorded as they are.
    }
    this.log.event(e);
  }
}

export class Session {
  readonly device: HeapLimitedDevice;
  readonly allocator: Allocator;
  readonly log: EventLog;
  private readonly sink: RecordingSink;
  private readonly consumer: SessionEventConsumer | null;
  private flushed = 0;
  private opCount = 0;
  private frameNumber = 0;
  private closed = false;
  private readonly resourceBackend: ResourceBackend | null;
  /** The bound resource of each live allocation (resources real), by allocation id. */
  private readonly boundResources = new Map<number, CreatedResource>();
  /** What each bound resource was created from (a buffer's bytes, an image's texel bytes), to recreate it. */
  private readonly resourceBytes = new Map<number, number>();

  constructor(options: SessionOptions) {
    this.resourceBackend = options.resources ?? null;
    this.device = new HeapLimitedDevice(options.device);
    this.log = new EventLog(options.clock ? { clock: options.clock } : {});
    this.sink = new RecordingSink(this.log);
    this.consumer = options.consumer ?? null;
    this.allocator = new Allocator({
      device: this.device,
      strategy: options.strategy ?? 'tlsf',
      debugSettings: { storeStackTraces: true, logLeaksOnShutdown: false, ...options.debugSettings },
      ...(options.allocationSizes ? { allocationSizes: options.allocationSizes } : {}),
      ...(options.bufferDeviceAddress !== undefined
        ? { bufferDeviceAddress: options.bufferDeviceAddress }
        : {}),
      ...(options.budget !== undefined ? { budget: options.budget } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.relocation ? { relocation: this.relocationOf(options.relocation) } : {}),
      events: this.sink,
    });
    const allocator = this.allocator;
    this.log.setDecisionSource((id) => allocator.decision(id));
    this.sampleBudgets();
  }

  /** `real` when allocations create, bind and destroy real resources; else `none`. */
  get resources(): ResourcesMode {
    return this.resourceBackend === null ? 'none' : 'real';
  }

  /** Buffers and images this session has bound and not yet destroyed (resources real). */
  get boundResourceCount(): number {
    return this.boundResources.size;
  }

  /**
   * Allocates and records; throws the allocator's AllocationError (the failure is recorded first). With
   * real resources the desc's size stands for the resource (a buffer of that size, or an RGBA8 image of at
   * least that many bytes); the allocation takes the driver's size, alignment (at least the desc's) and
   * memoryTypeBits, a dedicated block when the driver requires one, and the allocate event records the
   * driver's memoryTypeBits (typeBits column).
   */
  allocate(desc: AllocationCreateDesc): Allocation {
    this.opCount++;
    const backend = this.resourceBackend;
    let resource: CreatedResource | null = null;
    try {
      if (backend === null) return this.allocator.allocate(desc);
      resource = desc.linear
        ? backend.createBuffer(desc.requirements.size)
        : backend.createImage(desc.requirements.size);
      const req = resource.requirements;
      const dedicated = req.requiresDedicated || (desc.scheme?.kind ?? 'managed') !== 'managed';
      const allocation = this.allocator.allocate({
        ...desc,
        requirements: {
          size: req.size,
          alignment: Math.max(req.alignment, desc.requirements.alignment),
          memoryTypeBits: req.memoryTypeBits,
        },
        scheme: !dedicated
          ? { kind: 'managed' }
          : resource.kind === 'buffer'
            ? { kind: 'dedicatedBuffer', buffer: resource.handle }
            : { kind: 'dedicatedImage', image: resource.handle },
      });
      this.log.setOnLast('typeBits', req.memoryTypeBits);
      try {
        backend.bind(resource, allocation.block.handle, allocation.offset);
      } catch (error) {
        this.allocator.free(allocation);
        throw error;
      }
      this.boundResources.set(allocation.id, resource);
      this.resourceBytes.set(allocation.id, desc.requirements.size);
      resource = null;
      return allocation;
    } catch (error) {
      // A failure changes what the heaps look like to the driver; sample so the trace shows it.
      this.sampleBudgets();
      throw error;
    } finally {
      if (resource !== null) backend?.destroy(resource);
    }
  }

  /** With real resources, the allocation's resource is destroyed first, then its memory freed. */
  free(allocation: Allocation): void {
    this.opCount++;
    this.destroyResourceOf(allocation.id);
    this.allocator.free(allocation);
  }

  private destroyResourceOf(allocationId: number): void {
    const resource = this.boundResources.get(allocationId);
    if (resource === undefined) return;
    this.boundResources.delete(allocationId);
    this.resourceBytes.delete(allocationId);
    this.resourceBackend?.destroy(resource);
  }

  rename(allocation: Allocation, name: string): void {
    this.opCount++;
    this.allocator.rename(allocation, name);
  }

  /**
   * Plans and applies one defragmentation pass (allocator/defragment.ts). `copy` moves each allocation's
   * bytes right after the allocator moved it (default: through the mappings of mapped blocks). Returns the
   * plan and the ids of the blocks freed; samples budgets when anything moved.
   */
  defragment(
    options: DefragmentationOptions,
    copy?: (move: DefragmentationMove, from: DeviceMemoryBlock, to: DeviceMemoryBlock) => void,
  ): { plan: DefragmentationPlan; freed: number[] } {
    // Not an op: ops count allocate, failed allocate, free and rename (the summary adds them up).
    const plan = this.allocator.planDefragmentation(options);
    const moveResources =
      this.resourceBackend === null
        ? copy
        : (move: DefragmentationMove, from: DeviceMemoryBlock, to: DeviceMemoryBlock): void => {
            if (copy) copy(move, from, to);
            this.rebindMoved(move, to);
          };
    const freed = this.allocator.applyDefragmentation(plan, moveResources);
    if (plan.moves.length > 0) this.sampleBudgets();
    return { plan, freed };
  }

  /**
   * Real resources: a resource cannot be rebound, so a moved allocation gets a new one made from the same
   * arguments (the driver's requirements, hence the allocation's size, are the same) bound at its new
   * place `to`/move.toOffset, and the old one is destroyed.
   */
  private rebindMoved(move: DefragmentationMove, to: DeviceMemoryBlock): void {
    const backend = this.resourceBackend;
    const old = this.boundResources.get(move.allocationId);
    const bytes = this.resourceBytes.get(move.allocationId);
    if (backend === null || old === undefined || bytes === undefined) return;
    const fresh = old.kind === 'buffer' ? backend.createBuffer(bytes) : backend.createImage(bytes);
    try {
      backend.bind(fresh, to.handle, move.toOffset);
    } catch (error) {
      backend.destroy(fresh);
      throw error;
    }
    this.boundResources.set(move.allocationId, fresh);
    backend.destroy(old);
  }

  /** The allocator's relocation options: the copier's copy, then (real resources) the resource follows. */
  private relocationOf(copier: RelocationCopier): RelocationOptions {
    const copy: RelocationOptions['copy'] =
      this.resourceBackend === null
        ? copier.copy
        : (move, from, to) => {
            copier.copy(move, from, to);
            this.rebindMoved(move, to);
          };
    return copier.flush ? { copy, flush: copier.flush } : { copy };
  }

  /** Records the end of a frame and a budget sample per heap; returns the frame number just ended. */
  frame(label = ''): number {
    const n = this.frameNumber++;
    this.log.frame(n, label);
    this.sampleBudgets();
    return n;
  }

  mark(label: string, stack: string | null = null): void {
    this.log.mark(label, stack);
  }

  /** One budgetSample event per heap the device reports a budget for. */
  sampleBudgets(): void {
    const budgets = this.device.budgets();
    if (!budgets) return;
    for (const b of budgets)
      this.log.budgetSample({ heapIndex: b.heapIndex, budget: b.budget, usage: b.usage });
  }

  get ops(): number {
    return this.opCount;
  }

  get peakCommittedBytes(): number {
    return this.sink.peakCommittedBytes;
  }

  get peakBlockCount(): number {
    return this.sink.peakBlockCount;
  }

  state(): SessionState {
    const s = this.sink;
    return {
      ops: this.opCount,
      frame: this.frameNumber,
      allocationCount: s.allocationCount,
      failureCount: s.failureCount,
      freeCount: s.freeCount,
      liveAllocations: s.allocationCount - s.freeCount,
      allocatedBytes: s.allocatedBytes,
      committedBytes: s.committedBytes,
      peakCommittedBytes: s.peakCommittedBytes,
      blockCount: s.blockCount,
      budgetCrossings: s.budgetCrossings,
      budgetRefusals: s.budgetRefusals,
    };
  }

  /** Live allocations, in allocation order: at the end of a run these are the leaks. */
  leaks(): LeakRecord[] {
    return this.allocator
      .liveAllocations()
      .map((a) => ({
        id: a.id,
        name: a.name,
        size: a.size,
        memoryTypeIndex: a.memoryTypeIndex,
        stack: a.stack,
      }))
      .sort((x, y) => x.id - y.id);
  }

  /** Hands the events recorded since the last flush to the consumer. */
  flush(): void {
    const end = this.log.length;
    if (this.consumer && end > this.flushed) this.consumer.append(this.log, this.flushed, end);
    this.flushed = end;
  }

  /**
   * Final budget sample, flush, consumer close, then the allocator frees every block without recording it,
   * so the recording ends with the live state (the leaks) intact. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sampleBudgets();
    try {
      this.flush();
      this.consumer?.close();
    } finally {
      // The leaked allocations' resources go before their memory, as an application's teardown would.
      for (const id of [...this.boundResources.keys()]) this.destroyResourceOf(id);
      this.allocator.setEventSink(null);
      this.allocator.destroy();
    }
  }
}
