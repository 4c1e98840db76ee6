// The allocator: gpu-allocator 0.28's behaviour (memory locations, dedicated and sub-allocated schemes,
// block sizes and growth, debug settings, reports, leak reports, errors) over any Device, with pluggable
// placement (tlsf | freelist), cached memory-type decision records, and an event stream.
//
// Placement: with `tlsf`, each memory type has one TlsfPool whose segments are its general blocks, so a
// request searches every block of the type in one O(1) lookup; with `freelist` (the crate), each general
// block has its own sub-allocator and blocks are tried one by one in blockPolicy.order.
//
// Invariants (checked by validate()):
// - every live allocation is owned by exactly one block: a chunk of a general block's sub-allocator (tlsf:
//   a chunk of its type's pool, in the block's segment), or the whole of a dedicated block;
// - per memory type, `liveGeneralBlocks` counts the general blocks in its slot list, `emptyGeneralBlocks`
//   those without a chunk, `generalBytes` their bytes; with a pool, segment ids map one-to-one to them;
// - empty general blocks per type: at most max(1, blockPolicy.spareEmptyBlocks); the free that empties a
//   block destroys it when the type already keeps that many (the type's last general block is always
//   kept); dedicated blocks die with their allocation.
//
// Failure guarantees (behaviour, not state, so validate() cannot see them; tests/unit/allocator.test.ts does):
// - a failed allocate() leaves every allocation where it was (new blocks are created only when the
//   request is known to fit in them); the only trace it may leave is empty spare blocks released because
//   the device ran out of memory or a strict budget refused a block (policies with growth, e.g. tlsf's);
// - a device.freeBlock() that throws does so after the allocator has forgotten the block: the allocator
//   stays consistent (the driver may have leaked the memory), then the error reaches the caller.
import { nextMemblockSize, resolveAllocationSizes, type AllocationSizes } from './allocation-sizes.ts';
import {
  DeviceError,
  isHostVisible,
  MemoryPropertyFlags,
  memoryPropertyFlagNames,
  memoryHeapFlagNames,
  type Device,
  type DeviceMemoryBlock,
  type MemoryType,
} from './device.ts';
import {
  AllocationError,
  FailedToMapError,
  InternalError,
  InvalidAllocationCreateDescError,
  NoCompatibleMemoryTypeFoundError,
  OutOfMemoryError,
} from './errors.ts';
import {
  planDefragmentation,
  type DefragmentationBlock,
  type DefragmentationItem,
  type DefragmentationMove,
  type DefragmentationOptions,
  type DefragmentationPlan,
  type DefragmentationState,
} from './defragment.ts';
import { FlagBits } from './event-log.ts';
import { findRelocationWindows, type RelocationWindow } from './relocate.ts';
import { formatBytes } from './format.ts';
import { MemoryTypeDecisionCache } from './memory-type.ts';
import { createSubAllocator } from './placement/index.ts';
import type { ChunkInfo, SubAllocationKind, SubAllocator } from './placement/sub-allocator.ts';
import { TlsfPool, TlsfSegment } from './placement/tlsf.ts';
import { isInt32PowerOfTwo, isPowerOfTwo } from './placement/request-check.ts';
import {
  AllocationKind,
  defaultDebugSettings,
  memoryLocations,
  type Allocation,
  type AllocationCreateDesc,
  type AllocationReport,
  type AllocatorCreateDesc,
  type AllocateEvent,
  type AllocatorEventSink,
  type BlockCreateEvent,
  type BlockDestroyEvent,
  type BudgetSampleEvent,
  type FailureEvent,
  type FreeEvent,
  type MoveEvent,
  type RenameEvent,
  type AllocatorReport,
  type BlockPolicy,
  budgetModes,
  type BudgetMode,
  crateBlockPolicy,
  packedBlockPolicy,
  relocatingBlockPolicy,
  cpuRelocatingBlockPolicy,
  type DebugSettings,
  type Logger,
  type LogLevel,
  type MappedAllocation,
  type MemoryBlockReport,
  type MemoryLocation,
  type MemoryTypeDecision,
  type PlacementStrategyName,
  placementStrategyNames,
  type RelocationOptions,
} from './types.ts';
import type { ResourceCategory } from './device.ts';

/**
 * A general or dedicated block as the allocator tracks it. Bytes in use are the sub-allocator's
 * (`sub.allocatedBytes`, padding included) for a general block, the whole block for a dedicated one.
 */
class BlockState {
  constructor(
    readonly memory: DeviceMemoryBlock,
    readonly typeState: MemoryTypeState,
    /** The block's placement (tlsf: a view of its segment of the type's pool); null when dedicated. */
    readonly sub: SubAllocator<AllocationImpl> | null,
    /** Index in typeState.blocks. */
    public slot: number,
    /** tlsf: the block's segment in its type's pool; -1 otherwise. */
    readonly segment: number,
  ) {}
  dedicatedAllocation: AllocationImpl | null = null;
  /** The block's homes by decision id (MemoryTypeDecisionCache ids are 0, 1, 2, ...); see homeFor. */
  private readonly homes: (AllocationHome | undefined)[] = [];

  get dedicated(): boolean {
    return this.sub === null;
  }

  /** The home of this block's allocations placed by `decision` (one object per block and decision). */
  homeFor(decision: MemoryTypeDecision): AllocationHome {
    return this.homes[decision.id] ?? this.newHome(decision);
  }

  private newHome(decision: MemoryTypeDecision): AllocationHome {
    const home = new AllocationHome(this, decision);
    this.homes[decision.id] = home;
    return home;
  }
}

/**
 * Where an allocation lives and why: its block and the memory-type decision that placed it. One object per
 * block and decision (BlockState.homeFor), shared by all such allocations, so that an allocation object
 * holds one reference for both: 8 bytes less per allocation (80 -> 72 bytes on 64-bit V8 without pointer
 * compression, Node's build). A block holds as many homes as the decisions that placed something in it.
 */
class AllocationHome {
  constructor(
    readonly block: BlockState,
    readonly decision: MemoryTypeDecision,
  ) {}
}

class MemoryTypeState {
  readonly hostVisible: boolean;
  /** Block slots, reused after a block is destroyed (null = empty slot). */
  readonly blocks: (BlockState | null)[] = [];
  /** tlsf: one index over all general blocks of the type, made with its first general block. */
  pool: TlsfPool<AllocationImpl> | null = null;
  /** Placement by a pool (tlsf) rather than a sub-allocator per block (freelist). */
  readonly pooled: boolean;
  /** tlsf: the general block of each pool segment id. */
  readonly bySegment: (BlockState | null)[] = [];
  liveGeneralBlocks = 0;
  /** General blocks with no allocation in them. */
  emptyGeneralBlocks = 0;
  /** Bytes of the general blocks. */
  generalBytes = 0;
  /**
   * Bytes: the most of the general blocks' bytes seen in use (generalBytes - free bytes, the request
   * included), sampled at pool misses only (blockPolicy.relocateAbove), so at most the true peak.
   */
  usedPeakAtMiss = 0;
  /** Use the device block size (else the host one), per blockPolicy.sizesBy. */
  readonly deviceSized: boolean;
  /**
   * Bytes: managed requests larger than this get a dedicated block (largestBlockSize x
   * blockPolicy.dedicatedAbove). Depends on liveGeneralBlocks when the policy has no growth; the allocator
   * recomputes it whenever that count changes, so allocate() reads one field.
   */
  dedicatedAbove = 0;
  constructor(
    readonly type: MemoryType,
    pooled: boolean,
    sizesBy: BlockPolicy['sizesBy'],
    /** Bytes of the type's heap. */
    readonly heapSize: number,
  ) {
    this.hostVisible = isHostVisible(type);
    this.pooled = pooled;
    this.deviceSized =
      sizesBy === 'deviceLocal'
        ? (type.propertyFlags & MemoryPropertyFlags.DEVICE_LOCAL) !== 0 || !this.hostVisible
        : !this.hostVisible;
  }
}

const BLOCK_SIZE_MULTIPLE = 4 * 1024 * 1024;
/** Relocation before growth: the cheapest windows tried (over all blocks of the type) before growing. */
const RELOCATION_WINDOWS_TRIED = 4;

const FREED = -2;
const DEDICATED_CHUNK = -1;

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** One reusable record per event type (see Allocator.records). */
interface EventRecords {
  readonly allocate: Writable<AllocateEvent>;
  readonly free: Writable<FreeEvent>;
  readonly failure: Writable<FailureEvent>;
  readonly blockCreate: Writable<BlockCreateEvent>;
  readonly blockDestroy: Writable<BlockDestroyEvent>;
  readonly rename: Writable<RenameEvent>;
  readonly budgetSample: Writable<BudgetSampleEvent>;
  readonly move: Writable<MoveEvent>;
}

function newEventRecords(): EventRecords {
  return {
    allocate: {
      type: 'allocate',
      allocationId: 0,
      blockId: 0,
      memoryTypeIndex: 0,
      offset: 0,
      size: 0,
      alignment: 0,
      kind: AllocationKind.NonLinear,
      location: 'Unknown',
      name: '',
      decisionId: -1,
      usedRetry: false,
      stack: null,
    },
    free: { type: 'free', allocationId: 0 },
    failure: {
      type: 'failure',
      name: '',
      size: 0,
      alignment: 0,
      location: 'Unknown',
      linear: true,
      code: '',
      message: '',
      decisionId: -1,
      stack: null,
    },
    blockCreate: { type: 'blockCreate', blockId: 0, memoryTypeIndex: 0, size: 0, dedicated: false },
    blockDestroy: { type: 'blockDestroy', blockId: 0 },
    rename: { type: 'rename', allocationId: 0, name: '' },
    budgetSample: { type: 'budgetSample', heapIndex: 0, budget: 0, usage: 0, flags: 0 },
    move: { type: 'move', allocationId: 0, blockId: 0, memoryTypeIndex: 0, offset: 0 },
  };
}

/** The allocation handle callers hold. Fields are few on purpose: this object is the per-allocation cost. */
class AllocationImpl implements Allocation {
  constructor(
    readonly id: number,
    public name: string,
    readonly size: number,
    /**
     * Sub-allocator chunk handle, DEDICATED_CHUNK, or FREED once freed. Changes only when a move places the
     * allocation elsewhere (as does the home's block).
     */
    public chunk: number,
    /** Block and decision (shared: AllocationHome); the block changes when a move places it elsewhere. */
    public home: AllocationHome,
  ) {}

  /**
   * Bytes from the block's start, read from the chunk (no field: 8 bytes less per allocation, and the
   * sub-allocator's record is the one truth); 0 for a dedicated allocation, -1 once freed.
   */
  get offset(): number {
    const c = this.chunk;
    if (c === DEDICATED_CHUNK) return 0;
    if (c === FREED) return -1;
    const b = this.home.block;
    const pool = b.typeState.pool;
    return pool !== null ? pool.offsetOf(c) : b.sub!.offsetOf(c);
  }

  get blockState(): BlockState {
    return this.home.block;
  }
  get decision(): MemoryTypeDecision {
    return this.home.decision;
  }

  /** Null here; AllocationWithStack (debugSettings.storeStackTraces) keeps one, so no field costs 8 bytes. */
  get stack(): string | null {
    return null;
  }

  // The decision's key holds the request's location and linearity, so they cost no field here.
  get location(): MemoryLocation {
    return this.decision.location;
  }
  get linear(): boolean {
    return this.decision.linear;
  }

  get memoryTypeIndex(): number {
    return this.blockState.typeState.type.index;
  }
  get memoryProperties(): number {
    return this.blockState.typeState.type.propertyFlags;
  }
  get block(): DeviceMemoryBlock {
    return this.blockState.memory;
  }
  get isDedicated(): boolean {
    return this.blockState.sub === null;
  }
  get isFreed(): boolean {
    return this.chunk === FREED;
  }
  get mapped(): MappedAllocation | null {
    const memory = this.blockState.memory.mapped;
    if (memory === null || this.chunk === FREED) return null;
    return new MappedAllocationView(memory, this.offset, this.size);
  }
}

/** An allocation that keeps the stack it was made from (debugSettings.storeStackTraces). */
class AllocationWithStack extends AllocationImpl {
  constructor(
    id: number,
    name: string,
    size: number,
    chunk: number,
    home: AllocationHome,
    private readonly recordedStack: string,
  ) {
    super(id, name, size, chunk, home);
  }
  override get stack(): string {
    return this.recordedStack;
  }
}

class MappedAllocationView implements MappedAllocation {
  constructor(
    readonly memory: NonNullable<DeviceMemoryBlock['mapped']>,
    private readonly base: number,
    readonly size: number,
  ) {}
  private check(offset: number, length: number): void {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.size
    ) {
      throw new RangeError(
        `range [${offset}, ${offset + length}) is outside the allocation's ${this.size} bytes`,
      );
    }
  }
  read(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return this.memory.read(this.base + offset, length);
  }
  write(offset: number, data: Uint8Array): void {
    this.check(offset, data.length);
    this.memory.write(this.base + offset, data);
  }
  flush(offset: number, length: number): void {
    this.check(offset, length);
    this.memory.flush(this.base + offset, length);
  }
  invalidate(offset: number, length: number): void {
    this.check(offset, length);
    this.memory.invalidate(this.base + offset, length);
  }
}

export interface BlockInfo {
  readonly id: number;
  readonly memoryTypeIndex: number;
  /** Bytes. */
  readonly size: number;
  readonly dedicated: boolean;
  /** Bytes in use, padding included. */
  readonly allocatedBytes: number;
  readonly chunks: ChunkInfo<Allocation>[];
  /** [offset, size] in bytes. */
  readonly freeRanges: Array<readonly [number, number]>;
  /** 1 − largest free range / free bytes (0 = all free space in one range; 0 when nothing is free). */
  readonly fragmentation: number;
}

export interface AllocatorStats {
  /** Bytes of live device memory blocks. */
  readonly committedBytes: number;
  /** Bytes requested by live allocations. */
  readonly allocatedBytes: number;
  readonly blockCount: number;
  readonly allocationCount: number;
}

export interface MemoryTypeQuery {
  readonly memoryTypeBits: number;
  readonly location: MemoryLocation;
  readonly linear: boolean;
  readonly scheme?: AllocationCreateDesc['scheme'];
  readonly resourceCategory?: ResourceCategory | null;
}

export class Allocator {
  readonly device: Device;
  readonly strategy: PlacementStrategyName;
  readonly allocationSizes: AllocationSizes;
  readonly debugSettings: DebugSettings;
  readonly bufferDeviceAddress: boolean;
  readonly blockPolicy: BlockPolicy;
  readonly budget: BudgetMode;
  /** Blocks created past their heap's budget (budget mode `warn`). */
  private budgetOverruns = 0;
  /** Memory types whose new block the budget refused (budget mode `strict`). */
  private budgetRefusals = 0;
  /** Adjustments made to the create desc (e.g. block sizes rounded), in words. */
  readonly warnings: readonly string[];

  private readonly types: MemoryTypeState[];
  private readonly decisions: MemoryTypeDecisionCache;
  private readonly granularity: number;
  private readonly logger: Logger | null;
  private sink: AllocatorEventSink | null;
  /**
   * The event records handed to the sink: one per event type, refilled for every event so the hot path
   * allocates nothing (AllocatorEventSink: sinks copy what they need before returning).
   */
  private readonly records = newEventRecords();
  private nextAllocationId = 1;
  private committedBytes = 0;
  private requestedBytes = 0;
  private allocationCount = 0;
  private blockCount = 0;
  private destroyed = false;
  /** Bumped by every allocate, free and applied defragmentation: a plan applies to one version only. */
  private stateVersion = 0;
  /** Relocation before growth (opt-in; see RelocationOptions); null: allocate() never moves anything. */
  private readonly relocation: RelocationOptions | null;
  /** relocation.maxMovedPerRequest, resolved. */
  private readonly relocationFactor: number;
  /** Moves made by relocation before growth so far, and their requested bytes. */
  private relocationMoves = 0;
  private relocationBytes = 0;
  /** Ids of live allocations marked not movable (defragmentation leaves them in place). */
  private readonly immovable = new Set<number>();
  private readonly newestFirst: boolean;
  /** debugSettings.storeStackTraces (read on every allocate()). */
  private readonly storeStackTraces: boolean;
  /** Last managed decision per (location, linear); see decide(). */
  private readonly recentDecisions: (MemoryTypeDecision | undefined)[] = new Array<
    MemoryTypeDecision | undefined
  >(8).fill(undefined);

  constructor(desc: AllocatorCreateDesc) {
    const strategy = desc.strategy ?? 'tlsf';
    if (!placementStrategyNames.includes(strategy)) {
      throw new AllocationError(
        'InvalidAllocatorCreateDesc',
        `unknown placement strategy "${String(strategy)}"; use tlsf or freelist`,
      );
    }
    if (!desc.device)
      throw new AllocationError('InvalidAllocatorCreateDesc', 'AllocatorCreateDesc.device is required');
    this.device = desc.device;
    this.strategy = strategy;
    const { sizes, warnings } = resolveAllocationSizes(desc.allocationSizes);
    this.allocationSizes = sizes;
    this.warnings = warnings;
    this.debugSettings = { ...defaultDebugSettings, ...desc.debugSettings };
    this.bufferDeviceAddress = desc.bufferDeviceAddress ?? false;
    this.blockPolicy = {
      ...(strategy === 'freelist'
        ? crateBlockPolicy
        : desc.relocation
          ? desc.device.description.deviceType === 'cpu'
            ? cpuRelocatingBlockPolicy
            : relocatingBlockPolicy
          : packedBlockPolicy),
      ...desc.blockPolicy,
    };
    const { order, dedicatedAbove } = this.blockPolicy;
    if (order !== 'newestFirst' && order !== 'oldestFirst') {
      throw new AllocationError(
        'InvalidAllocatorCreateDesc',
        `blockPolicy.order must be newestFirst or oldestFirst, got "${String(order)}"`,
      );
    }
    const spare = this.blockPolicy.spareEmptyBlocks;
    if (!Number.isSafeInteger(spare) || spare < 0) {
      throw new AllocationError(
        'InvalidAllocatorCreateDesc',
        `blockPolicy.spareEmptyBlocks must be a whole number >= 0, got ${spare}`,
      );
    }
    if (!(dedicatedAbove > 0 && dedicatedAbove <= 1)) {
      throw new AllocationError(
        'InvalidAllocatorCreateDesc',
        `blockPolicy.dedicatedAbove must be in (0, 1], got ${dedicatedAbove}`,
      );
    }
    const { sizesBy, growth, minBlockSize, fragmentedFree, fragmentBlockSize, relocateAbove } =
      this.blockPolicy;
    if (sizesBy !== 'hostVisible' && sizesBy !== 'deviceLocal') {
      throw new AllocationError(
        'InvalidAllocatorCreateDesc',
        `blockPolicy.sizesBy must be hostVisible or deviceLocal, got "${String(sizesBy)}"`,
      );
    }
    if (!(growth >= 0 && growth <= 16)) {
      throw new AllocationError(
        'InvalidAllocatorCreateDesc',
        `blockPolicy.growth must be in [0, 16], got ${growth}`,
      );
    }
    for (const [name, value] of [
      ['minBlockSize', minBlockSize],
      ['fragmentBlockSize', fragmentBlockSize],
    ] as const) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new AllocationError(
          'InvalidAllocatorCreateDesc',
          `blockPolicy.${name} must be a positive whole number of bytes, got ${value}`,
        );
      }
    }
    if (!(fragmentedFree >= 0 && fragmentedFree <= 1)) {
      throw new AllocationError(
        'InvalidAllocatorCreateDesc',
        `blockPolicy.fragmentedFree must be in [0, 1], got ${fragmentedFree}`,
      );
    }
    if (!(relocateAbove === 0 || (relocateAbove >= 1 && relocateAbove <= 16))) {
      throw new AllocationError(
        'InvalidAllocatorCreateDesc',
        `blockPolicy.relocateAbove must be 0 or in [1, 16], got ${relocateAbove}`,
      );
    }
    const budget = desc.budget ?? 'warn';
    if (!budgetModes.includes(budget)) {
      throw new AllocationError(
        'InvalidAllocatorCreateDesc',
        `budget must be ignore, warn or strict, got "${String(budget)}"`,
      );
    }
    this.budget = budget;
    this.relocation = desc.relocation ?? null;
    this.relocationFactor = this.relocation?.maxMovedPerRequest ?? 1;
    if (this.relocation !== null) {
      if (strategy !== 'tlsf') {
        throw new AllocationError(
          'InvalidAllocatorCreateDesc',
          "relocation needs the tlsf strategy (freelist keeps the crate's behaviour)",
        );
      }
      if (typeof this.relocation.copy !== 'function') {
        throw new AllocationError('InvalidAllocatorCreateDesc', 'relocation.copy must be a function');
      }
      if (this.relocation.flush !== undefined && typeof this.relocation.flush !== 'function') {
        throw new AllocationError('InvalidAllocatorCreateDesc', 'relocation.flush must be a function');
      }
      if (!(this.relocationFactor >= 0 && this.relocationFactor <= 1024)) {
        throw new AllocationError(
          'InvalidAllocatorCreateDesc',
          `relocation.maxMovedPerRequest must be in [0, 1024], got ${this.relocationFactor}`,
        );
      }
    }
    this.newestFirst = order === 'newestFirst';
    this.logger = desc.logger ?? null;
    this.sink = desc.events ?? null;
    const description = desc.device.description;
    const heapSizes = description.heaps.map((h) => h.size);
    this.types = description.types.map(
      (t) =>
        new MemoryTypeState(t, strategy === 'tlsf', this.blockPolicy.sizesBy, heapSizes[t.heapIndex] ?? 0),
    );
    for (const t of this.types) this.updateDedicatedAbove(t);
    this.storeStackTraces = this.debugSettings.storeStackTraces;
    this.granularity = Math.max(1, description.limits.bufferImageGranularity);
    this.decisions = new MemoryTypeDecisionCache(description);
    for (const w of warnings) this.log('warn', w);
    if (this.debugSettings.logMemoryInformation) this.logMemoryInformation();
  }

  private log(level: LogLevel, message: string): void {
    if (this.logger) this.logger(level, message);
  }

  private logMemoryInformation(): void {
    const d = this.device.description;
    this.log('debug', `memory heaps of ${d.name}:`);
    for (const h of d.heaps) {
      this.log(
        'debug',
        `  heap ${h.index}: ${formatBytes(h.size)} [${memoryHeapFlagNames(h.flags).join('|') || 'none'}]`,
      );
    }
    this.log('debug', 'memory types:');
    for (const t of d.types) {
      this.log(
        'debug',
        `  type ${t.index}: heap ${t.heapIndex} [${memoryPropertyFlagNames(t.propertyFlags).join('|') || 'none'}]`,
      );
    }
  }

  setEventSink(sink: AllocatorEventSink | null): void {
    this.sink = sink;
  }

  /**
   * The decision for a request. Managed requests without a resource category hit a small array indexed by
   * (location, linear) while memoryTypeBits stays the same, which skips hashing the key on the hot path.
   */
  private decide(desc: AllocationCreateDesc, location: number): MemoryTypeDecision {
    // `location`: the desc's location slot, from checkDesc().
    const bits = desc.requirements.memoryTypeBits;
    const scheme = desc.scheme;
    if ((scheme === undefined || scheme.kind === 'managed') && desc.resourceCategory === undefined) {
      const slot = location * 2 + (desc.linear ? 1 : 0);
      const hit = this.recentDecisions[slot];
      if (hit !== undefined && hit.memoryTypeBits === bits) return hit;
      return this.decideManaged(desc, slot);
    }
    return this.decideAny(desc);
  }

  /** decide() on a miss of recentDecisions (slot `slot`): looks the managed decision up and keeps it there. */
  private decideManaged(desc: AllocationCreateDesc, slot: number): MemoryTypeDecision {
    const bits = desc.requirements.memoryTypeBits;
    const decision = this.decisions.lookup(bits, desc.location, desc.linear, 'managed', null);
    this.recentDecisions[slot] = decision;
    return decision;
  }

  /** decide() for a desc with a scheme other than managed or a resource category. */
  private decideAny(desc: AllocationCreateDesc): MemoryTypeDecision {
    const bits = desc.requirements.memoryTypeBits;
    const scheme = desc.scheme;
    return this.decisions.lookup(
      bits,
      desc.location,
      desc.linear,
      scheme?.kind ?? 'managed',
      desc.resourceCategory ?? null,
    );
  }

  /** The cached decision for a key, computed once (a pure query: allocates nothing on the device). */
  chooseMemoryType(query: MemoryTypeQuery): MemoryTypeDecision {
    return this.decisions.lookup(
      query.memoryTypeBits,
      query.location,
      query.linear,
      query.scheme?.kind ?? 'managed',
      query.resourceCategory ?? null,
    );
  }

  decision(id: number): MemoryTypeDecision | undefined {
    return this.decisions.get(id);
  }

  /**
   * Throws InvalidAllocationCreateDesc for a malformed desc; returns its location's slot (locationSlot), which
   * decide() reuses. This runs on every allocate(): the common desc (no scheme, size and alignment int32s) is
   * accepted by a few comparisons kept small enough for V8 to inline; anything else goes to checkDescFully(),
   * which accepts or throws with the first problem's message.
   */
  private checkDesc(desc: AllocationCreateDesc): number {
    const r = desc.requirements;
    const slot = locationSlot(desc.location);
    if (
      slot >= 0 &&
      typeof desc.name === 'string' &&
      r !== null &&
      typeof r === 'object' &&
      desc.scheme === undefined
    ) {
      const size = r.size;
      const a = r.alignment;
      const bits = r.memoryTypeBits;
      // int32 size > 0; a power-of-two alignment below 2^31; an integer in [0, 2^32) (`>>> 0` keeps it).
      if ((size | 0) === size && size > 0 && isInt32PowerOfTwo(a) && bits >>> 0 === bits) return slot;
    }
    return this.checkDescFully(desc);
  }

  /** checkDesc() for every desc, one test at a time: returns the location slot or throws naming the problem. */
  private checkDescFully(desc: AllocationCreateDesc): number {
    const r = desc.requirements;
    if (typeof desc.name !== 'string') invalidDesc(desc, 'name must be a string');
    if (r === null || typeof r !== 'object') invalidDesc(desc, 'requirements are missing');
    const size = r.size;
    if (!Number.isSafeInteger(size) || size <= 0)
      invalidDesc(desc, `size must be a whole number of bytes in (0, 2^53), got ${size}`);
    const a = r.alignment;
    // isPowerOfTwo also takes 2^53, which is no safe integer.
    if (!Number.isSafeInteger(a) || !isPowerOfTwo(a))
      invalidDesc(desc, `alignment must be a power of two, got ${a}`);
    // An integer in [0, 2^32) is exactly a value that `>>> 0` leaves unchanged.
    const bits = r.memoryTypeBits;
    if (bits >>> 0 !== bits) invalidDesc(desc, `memoryTypeBits must be a 32-bit mask, got ${bits}`);
    const slot = locationSlot(desc.location);
    if (slot < 0) invalidDesc(desc, `unknown memory location "${String(desc.location)}"`);
    const scheme = desc.scheme;
    if (scheme !== undefined) {
      const kind = scheme?.kind ?? 'managed';
      if (kind !== 'managed' && kind !== 'dedicatedBuffer' && kind !== 'dedicatedImage')
        invalidDesc(desc, `unknown allocation scheme "${String(kind)}"`);
    }
    return slot;
  }

  /**
   * Allocates memory for a resource. Throws AllocationError; a failure leaves the allocator as it was and
   * is reported to the event sink.
   */
  allocate(desc: AllocationCreateDesc): Allocation {
    if (this.destroyed) throw new InternalError('allocate() after destroy()');
    let decision: MemoryTypeDecision | null = null;
    try {
      decision = this.decide(desc, this.checkDesc(desc));
      if (decision.winner === null) noCompatibleType(desc, decision);
      const stack = this.storeStackTraces ? (desc.stack ?? captureStack()) : (desc.stack ?? null);
      let allocation: AllocationImpl;
      try {
        allocation = this.allocateFromType(this.types[decision.winner]!, desc, decision, stack);
      } catch (error) {
        allocation = this.allocateFallback(error, desc, decision, stack);
      }
      this.stateVersion++;
      if (desc.movable === false) this.immovable.add(allocation.id);
      if (this.sink !== null) this.reportAllocate(allocation, desc, decision, stack);
      if (this.debugSettings.logAllocations) this.logAllocate(allocation, desc, decision, stack);
      return allocation;
    } catch (error) {
      if (this.sink !== null) this.reportFailure(error, desc, decision);
      throw error;
    }
  }

  /**
   * After the decision's winner failed with `error`: the decision's fallback type, when it has one and the
   * error is an AllocationError; else `error` is thrown again.
   */
  private allocateFallback(
    error: unknown,
    desc: AllocationCreateDesc,
    decision: MemoryTypeDecision,
    stack: string | null,
  ): AllocationImpl {
    this.reportBudgetRefusal(error, desc.name);
    const retry = decision.retryTypeIndex;
    if (retry === null || retry === decision.winner || !(error instanceof AllocationError)) throw error;
    let allocation: AllocationImpl;
    try {
      allocation = this.allocateFromType(this.types[retry]!, desc, decision, stack);
    } catch (retryError) {
      this.reportBudgetRefusal(retryError, desc.name);
      throw retryError;
    }
    if (error instanceof OutOfMemoryError && error.overBudget !== null) {
      this.log(
        'info',
        `"${desc.name}" went to memory type ${retry} (the decision's fallback) because heap ${error.overBudget.heapIndex} of type ${decision.winner} was at its budget (budget mode strict)`,
      );
    }
    return allocation;
  }

  /** The allocation used the decision's fallback type (the fallback is never the winner). */
  private static usedRetry(allocation: AllocationImpl, decision: MemoryTypeDecision): boolean {
    return allocation.memoryTypeIndex !== decision.winner;
  }

  private reportAllocate(
    allocation: AllocationImpl,
    desc: AllocationCreateDesc,
    decision: MemoryTypeDecision,
    stack: string | null,
  ): void {
    const e = this.records.allocate;
    e.allocationId = allocation.id;
    e.blockId = allocation.blockState.memory.id;
    e.memoryTypeIndex = allocation.memoryTypeIndex;
    e.offset = allocation.offset;
    e.size = allocation.size;
    e.alignment = desc.requirements.alignment;
    e.kind =
      allocation.chunk === DEDICATED_CHUNK
        ? AllocationKind.Dedicated
        : desc.linear
          ? AllocationKind.Linear
          : AllocationKind.NonLinear;
    e.location = desc.location;
    e.name = desc.name;
    e.decisionId = decision.id;
    e.usedRetry = Allocator.usedRetry(allocation, decision);
    e.stack = stack;
    this.sink!.event(e);
  }

  private logAllocate(
    allocation: AllocationImpl,
    desc: AllocationCreateDesc,
    decision: MemoryTypeDecision,
    stack: string | null,
  ): void {
    const retried = Allocator.usedRetry(allocation, decision) ? ', after falling back' : '';
    this.log(
      'debug',
      `allocated "${desc.name}": ${formatBytes(desc.requirements.size)} at offset ${allocation.offset} of block ${allocation.block.id} (type ${allocation.memoryTypeIndex}${retried})${this.debugSettings.logStackTraces && stack ? `\n${stack}` : ''}`,
    );
  }

  /** Sends the sink a failure event for `desc` (which may be malformed: it failed checkDesc, perhaps). */
  private reportFailure(
    error: unknown,
    desc: AllocationCreateDesc,
    decision: MemoryTypeDecision | null,
  ): void {
    const code = error instanceof AllocationError ? error.code : 'Internal';
    const size: unknown = desc?.requirements?.size;
    const alignment: unknown = desc?.requirements?.alignment;
    const e = this.records.failure;
    e.name = typeof desc?.name === 'string' ? desc.name : '';
    e.size = Number.isSafeInteger(size) ? (size as number) : 0;
    e.alignment = Number.isSafeInteger(alignment) ? (alignment as number) : 0;
    e.location = memoryLocations.includes(desc?.location) ? desc.location : 'Unknown';
    e.linear = desc?.linear !== false;
    e.code = code;
    e.message = error instanceof Error ? error.message : String(error);
    e.decisionId = decision?.id ?? -1;
    e.stack = desc?.stack ?? null;
    this.sink!.event(e);
  }

  private allocateFromType(
    typeState: MemoryTypeState,
    desc: AllocationCreateDesc,
    decision: MemoryTypeDecision,
    stack: string | null,
  ): AllocationImpl {
    // The common case, kept small so that V8 inlines it into allocate(): a managed request (no scheme) that
    // fits the heap, below the dedicated threshold, placed by the type's pool. The rest (dedicated blocks,
    // freelist blocks, relocation, a new block, errors) is allocateFromTypeSlow().
    const pool = typeState.pool;
    if (pool !== null && desc.scheme === undefined) {
      const r = desc.requirements;
      const size = r.size;
      if (size <= typeState.dedicatedAbove && size <= typeState.heapSize) {
        const kind = desc.linear ? AllocationKind.Linear : AllocationKind.NonLinear;
        const chunk = pool.allocate(size, r.alignment, kind, this.granularity, placeholder);
        if (chunk >= 0) {
          const block = typeState.bySegment[pool.placedSegment]!;
          return this.finishSubAllocation(block, chunk, desc, decision, stack);
        }
        return this.allocateFromTypeSlow(typeState, desc, decision, stack, true);
      }
    }
    return this.allocateFromTypeSlow(typeState, desc, decision, stack, false);
  }

  /** allocateFromType() for every request; `poolMissed`: the type's pool has just been searched in vain. */
  private allocateFromTypeSlow(
    typeState: MemoryTypeState,
    desc: AllocationCreateDesc,
    decision: MemoryTypeDecision,
    stack: string | null,
    poolMissed: boolean,
  ): AllocationImpl {
    const { size, alignment } = desc.requirements;
    const heapSize = typeState.heapSize;
    if (size > heapSize) {
      throw new OutOfMemoryError(
        `allocation "${desc.name}" asks for ${formatBytes(size)}, more than memory type ${typeState.type.index}'s heap ${typeState.type.heapIndex} holds (${formatBytes(heapSize)})`,
      );
    }
    if ((desc.scheme ?? managedScheme).kind !== 'managed' || size > typeState.dedicatedAbove) {
      return this.allocateDedicated(typeState, desc, decision, stack);
    }
    const kind = desc.linear ? AllocationKind.Linear : AllocationKind.NonLinear;
    const pool = typeState.pool;
    if (pool !== null) {
      const chunk = poolMissed ? -1 : pool.allocate(size, alignment, kind, this.granularity, placeholder);
      if (chunk >= 0) {
        const block = typeState.bySegment[pool.placedSegment]!;
        return this.finishSubAllocation(block, chunk, desc, decision, stack);
      }
      if (
        this.relocation !== null &&
        this.fragmentationMiss(typeState) &&
        this.growthOvercommits(typeState, size)
      ) {
        const relocated = this.relocateFor(typeState, size, alignment, kind);
        if (relocated >= 0) {
          const block = typeState.bySegment[pool.segmentOf(relocated)]!;
          return this.finishSubAllocation(block, relocated, desc, decision, stack);
        }
      }
    } else {
      const blocks = typeState.blocks;
      const n = blocks.length;
      for (let k = 0; k < n; k++) {
        const block = blocks[this.newestFirst ? n - 1 - k : k];
        if (block === null || block === undefined || block.sub === null) continue;
        const chunk = block.sub.allocate(size, alignment, kind, this.granularity, placeholder);
        if (chunk >= 0) return this.finishSubAllocation(block, chunk, desc, decision, stack);
      }
    }
    const memblockSize = this.nextBlockSize(typeState, size);
    const block = this.createGeneralBlock(typeState, memblockSize, size, desc);
    const chunk = block.sub!.allocate(size, alignment, kind, this.granularity, placeholder);
    if (chunk < 0) {
      const error = this.destroyBlock(block);
      if (error !== null) throw error;
      throw new InternalError(
        `a fresh ${formatBytes(memblockSize)} block could not hold ${formatBytes(size)} aligned to ${alignment}`,
      );
    }
    return this.finishSubAllocation(block, chunk, desc, decision, stack);
  }

  /**
   * A new general block of `size` bytes for a request of `request` bytes. When the device is out of memory
   * (tlsf policy): first the empty general blocks kept on the same heap are released, then smaller blocks
   * are tried, halving down to the request (rounded up to 4 MiB), as VMA does. A failure leaves no trace.
   */
  private createGeneralBlock(
    t: MemoryTypeState,
    size: number,
    request: number,
    desc: AllocationCreateDesc,
  ): BlockState {
    for (;;) {
      try {
        return this.createBlock(t, size, desc, false);
      } catch (error) {
        if (!(error instanceof OutOfMemoryError) || this.blockPolicy.growth === 0) throw error;
        if (this.releaseEmptyBlocks(t.type.heapIndex) > 0) continue;
        const smallest = Math.ceil(request / BLOCK_SIZE_MULTIPLE) * BLOCK_SIZE_MULTIPLE;
        if (size <= smallest) throw error;
        size = Math.max(smallest, Math.ceil(size / 2 / BLOCK_SIZE_MULTIPLE) * BLOCK_SIZE_MULTIPLE);
      }
    }
  }

  /**
   * Releases the empty general blocks kept on heap `heapIndex` (memory pressure); returns how many. A
   * device.freeBlock() error stops the release and is thrown (the allocator stays consistent).
   */
  private releaseEmptyBlocks(heapIndex: number): number {
    let released = 0;
    for (const t of this.types) {
      if (t.type.heapIndex !== heapIndex || t.emptyGeneralBlocks === 0) continue;
      for (const b of [...t.blocks]) {
        if (b === null || b.sub === null || b.sub.chunkCount !== 0) continue;
        const error = this.destroyBlock(b);
        released++;
        if (error !== null) throw error;
      }
    }
    return released;
  }

  /** Bytes: the largest general block the policy gives memory type `t` (the dedicatedAbove reference). */
  private largestBlockSize(t: MemoryTypeState): number {
    const sizes = this.allocationSizes;
    if (this.blockPolicy.growth > 0)
      return t.deviceSized ? sizes.deviceMaxMemblockSize : sizes.hostMaxMemblockSize;
    return nextMemblockSize(sizes, !t.deviceSized, t.liveGeneralBlocks);
  }

  /** Recomputes `t.dedicatedAbove`; called whenever `t.liveGeneralBlocks` changes. */
  private updateDedicatedAbove(t: MemoryTypeState): void {
    t.dedicatedAbove = this.largestBlockSize(t) * this.blockPolicy.dedicatedAbove;
  }

  /** Bytes of the next general block of memory type `t` for a request of `size` bytes. */
  private nextBlockSize(t: MemoryTypeState, size: number): number {
    const growth = this.blockPolicy.growth;
    if (growth === 0) return nextMemblockSize(this.allocationSizes, !t.deviceSized, t.liveGeneralBlocks);
    const max = this.largestBlockSize(t);
    const policy = this.blockPolicy;
    // Free space that could not take the request is fragmentation, not lack of capacity: a block sized to
    // the request fixes it without committing a growth step's worth of memory.
    const want = this.fragmentationMiss(t)
      ? Math.max(policy.fragmentBlockSize, size)
      : Math.max(policy.minBlockSize, growth * t.generalBytes, size);
    return Math.min(max, Math.ceil(want / BLOCK_SIZE_MULTIPLE) * BLOCK_SIZE_MULTIPLE);
  }

  /**
   * A request that fits no free range of type `t` is a fragmentation miss (not lack of capacity) when more
   * than blockPolicy.fragmentedFree of the type's general block bytes are free (tlsf).
   */
  private fragmentationMiss(t: MemoryTypeState): boolean {
    return t.pool !== null && t.pool.freeBytes > this.blockPolicy.fragmentedFree * t.generalBytes;
  }

  /**
   * Whether the block a fragmentation miss of `size` bytes would create takes type `t` past
   * blockPolicy.relocateAbove x its peak used bytes (always true when relocateAbove is 0); updates
   * `t.usedPeakAtMiss`. Only then are moves worth their copies.
   */
  private growthOvercommits(t: MemoryTypeState, size: number): boolean {
    const above = this.blockPolicy.relocateAbove;
    if (above === 0) return true;
    const used = t.generalBytes - t.pool!.freeBytes + size;
    if (used > t.usedPeakAtMiss) t.usedPeakAtMiss = used;
    return t.generalBytes + this.nextBlockSize(t, size) > above * t.usedPeakAtMiss;
  }

  /** Moves made by relocation before growth so far (see RelocationOptions). */
  get relocationMoveCount(): number {
    return this.relocationMoves;
  }

  /** Requested bytes moved by relocation before growth so far. */
  get relocationMovedBytes(): number {
    return this.relocationBytes;
  }

  /**
   * Relocation before growth (see RelocationOptions): clears the cheapest window of type `t` for a request
   * of `size` bytes by moving its allocations to other free ranges of the type, and places the request
   * there. Returns the request's pool chunk (its owner still the placeholder), or -1 when no window within
   * the move limit can be cleared; then the type is exactly as it was (chunk records aside).
   *
   * Steps per window tried: free the victims; reserve the whole free range they leave, so that no victim
   * lands in it (a destination then never overlaps a source); place each victim, largest first, with the
   * pool's own search; release the reservation and take the request's place. A victim that fits nowhere
   * undoes the window (every victim back at its old offset) and the next window is tried.
   */
  private relocateFor(t: MemoryTypeState, size: number, alignment: number, kind: SubAllocationKind): number {
    const pool = t.pool!;
    const granularity = this.granularity;
    const request = {
      size,
      alignment,
      kind,
      granularity,
      maxMovedBytes: Math.min(this.relocationFactor * size, pool.freeBytes),
    };
    const blocks: BlockState[] = [];
    const chunkLists: ChunkInfo<AllocationImpl>[][] = [];
    const windows: RelocationWindow[] = [];
    for (const b of t.blocks) {
      if (b === null || b.sub === null) continue;
      const chunks = pool.chunks(b.segment);
      blocks.push(b);
      chunkLists.push(chunks);
      findRelocationWindows(
        blocks.length - 1,
        b.memory.size,
        chunks,
        (i) => !this.immovable.has(chunks[i]!.owner.id),
        request,
        RELOCATION_WINDOWS_TRIED,
        windows,
      );
    }
    for (const w of windows) {
      const block = blocks[w.block]!;
      const victims = chunkLists[w.block]!.slice(w.first, w.end);
      const chunk = this.clearWindow(t, block, w, victims, request);
      if (chunk >= 0) return chunk;
    }
    return -1;
  }

  /** One window of relocateFor: returns the request's chunk, or -1 with every victim back in place. */
  private clearWindow(
    t: MemoryTypeState,
    block: BlockState,
    w: RelocationWindow,
    victims: ChunkInfo<AllocationImpl>[],
    request: { size: number; alignment: number; kind: SubAllocationKind },
  ): number {
    const pool = t.pool!;
    const granularity = this.granularity;
    // Blocks empty before the moves (victims may fill them; the window block keeps the request).
    const wasEmpty: BlockState[] = [];
    if (t.emptyGeneralBlocks > 0) {
      for (const b of t.blocks) if (b !== null && b.sub !== null && b.sub.chunkCount === 0) wasEmpty.push(b);
    }
    // The owner's chunk, not v.chunk: an undone earlier window put its victims back under new handles.
    for (const v of victims) pool.free(v.owner.chunk);
    // The free range the victims left (read from the pool: the window's bounds came from chunk records
    // that an undone earlier window may have laid out with other padding). It is reserved whole, with
    // alignment 1 and no granularity test, so that no victim lands in it; it is bounded by chunks that
    // stay (or the block's ends) and released before the request takes its place in it.
    const range = pool.freeRanges(block.segment).find(([o, n]) => o <= w.rangeStart && w.rangeStart < o + n);
    if (range === undefined) throw new InternalError('relocation: the victims left no free range');
    const reservation = pool.allocateAt(
      block.segment,
      range[0],
      range[1],
      1,
      AllocationKind.Linear,
      1,
      placeholder,
    );
    if (reservation < 0) throw new InternalError('relocation: the freed range could not be reserved');
    const order = victims.map((_, i) => i).sort((x, y) => victims[y]!.size - victims[x]!.size);
    const placed = new Array<number>(victims.length).fill(-1);
    let fits = true;
    for (const i of order) {
      const v = victims[i]!;
      const c = pool.allocate(v.size, v.alignment, v.kind, granularity, v.owner);
      if (c < 0) {
        fits = false;
        break;
      }
      placed[i] = c;
    }
    pool.free(reservation);
    const chunk = fits
      ? pool.allocateAt(
          block.segment,
          w.offset,
          request.size,
          request.alignment,
          request.kind,
          granularity,
          placeholder,
        )
      : -1;
    if (chunk < 0) {
      // Undo: every victim back at its old offset (those ranges are free again, as they were).
      for (const c of placed) if (c >= 0) pool.free(c);
      for (const v of victims) {
        const back = pool.allocateAt(
          block.segment,
          v.offset,
          v.size,
          v.alignment,
          v.kind,
          granularity,
          v.owner,
        );
        if (back < 0) throw new InternalError(`relocation: allocation ${v.owner.id} could not go back`);
        v.owner.chunk = back;
      }
      return -1;
    }
    // Victims left `block` for blocks that may have been empty.
    for (const b of wasEmpty) if (b.sub!.chunkCount > 0) t.emptyGeneralBlocks--;
    // When every victim left it, the window block holds only the request: count it empty, as
    // finishSubAllocation counts a block's first chunk as the end of its emptiness.
    if (pool.segmentChunkCount(block.segment) === 1) t.emptyGeneralBlocks++;
    // Every move is booked and reported before any copy runs, so a copy that throws finds the allocator
    // and the event stream agreeing; the request's chunk is then released and the error propagates.
    const destinations = placed.map((c) => t.bySegment[pool.segmentOf(c)]!);
    const moves = victims.map((v, i): DefragmentationMove => {
      const a = v.owner;
      const c = placed[i]!;
      const to = destinations[i]!;
      a.chunk = c;
      a.home = to.homeFor(a.decision);
      this.relocationMoves++;
      this.relocationBytes += a.size;
      if (this.sink !== null) {
        const e = this.records.move;
        e.allocationId = a.id;
        e.blockId = to.memory.id;
        e.memoryTypeIndex = t.type.index;
        e.offset = a.offset;
        this.sink.event(e);
      }
      return {
        allocationId: a.id,
        name: a.name,
        memoryTypeIndex: t.type.index,
        size: a.size,
        alignment: v.alignment,
        kind: v.kind,
        fromBlock: block.memory.id,
        fromOffset: v.offset,
        toBlock: to.memory.id,
        toOffset: a.offset,
      };
    });
    this.stateVersion++;
    try {
      moves.forEach((m, i) => this.relocation!.copy(m, block.memory, destinations[i]!.memory));
      this.relocation!.flush?.();
    } catch (error) {
      pool.free(chunk);
      // An emptied window block is already counted empty (above); release it as free() would.
      if (
        pool.segmentChunkCount(block.segment) === 0 &&
        t.liveGeneralBlocks > 1 &&
        t.emptyGeneralBlocks > this.blockPolicy.spareEmptyBlocks
      ) {
        const deviceError = this.destroyBlock(block);
        if (deviceError !== null) throw deviceError;
      }
      throw error;
    }
    return chunk;
  }

  /** Wraps `chunk`, just placed in `block` with its data at `offset` (bytes), in an allocation. */
  private finishSubAllocation(
    block: BlockState,
    chunk: number,
    desc: AllocationCreateDesc,
    decision: MemoryTypeDecision,
    stack: string | null,
  ): AllocationImpl {
    const pool = block.typeState.pool;
    // With a pool, go to it directly: the segment view would check the handle's segment again.
    const placement = pool ?? block.sub!;
    const allocation = this.newAllocation(desc, chunk, block, decision, stack);
    placement.setOwner(chunk, allocation);
    const count = pool !== null ? pool.segmentChunkCount(block.segment) : block.sub!.chunkCount;
    if (count === 1) block.typeState.emptyGeneralBlocks--;
    this.requestedBytes += allocation.size;
    this.allocationCount++;
    return allocation;
  }

  /** The handle of a placed request (`chunk` a sub-allocator handle or DEDICATED_CHUNK). */
  private newAllocation(
    desc: AllocationCreateDesc,
    chunk: number,
    block: BlockState,
    decision: MemoryTypeDecision,
    stack: string | null,
  ): AllocationImpl {
    if (this.storeStackTraces && stack !== null)
      return this.newAllocationWithStack(desc, chunk, block, decision, stack);
    const id = this.nextAllocationId++;
    const size = fieldBytes(desc.requirements.size);
    return new AllocationImpl(id, desc.name, size, chunk, block.homeFor(decision));
  }

  /** newAllocation() with debugSettings.storeStackTraces (apart: the common path inlines less). */
  private newAllocationWithStack(
    desc: AllocationCreateDesc,
    chunk: number,
    block: BlockState,
    decision: MemoryTypeDecision,
    stack: string,
  ): AllocationImpl {
    const id = this.nextAllocationId++;
    const size = fieldBytes(desc.requirements.size);
    const home = block.homeFor(decision);
    return new AllocationWithStack(id, desc.name, size, chunk, home, stack);
  }

  private allocateDedicated(
    typeState: MemoryTypeState,
    desc: AllocationCreateDesc,
    decision: MemoryTypeDecision,
    stack: string | null,
  ): AllocationImpl {
    const block = this.createBlock(typeState, desc.requirements.size, desc, true);
    const allocation = this.newAllocation(desc, DEDICATED_CHUNK, block, decision, stack);
    block.dedicatedAllocation = allocation;
    this.requestedBytes += allocation.size;
    this.allocationCount++;
    return allocation;
  }

  private createBlock(
    typeState: MemoryTypeState,
    size: number,
    desc: AllocationCreateDesc,
    dedicated: boolean,
  ): BlockState {
    const scheme = desc.scheme ?? managedScheme;
    const dedicatedTo =
      scheme.kind === 'dedicatedBuffer' && scheme.buffer !== undefined
        ? { kind: 'buffer' as const, handle: scheme.buffer }
        : scheme.kind === 'dedicatedImage' && scheme.image !== undefined
          ? { kind: 'image' as const, handle: scheme.image }
          : undefined;
    const overBudget = this.budget === 'ignore' ? null : this.budgetExceeded(typeState, size);
    if (overBudget !== null && this.budget === 'strict') {
      throw new OutOfMemoryError(
        `a ${formatBytes(size)} block of memory type ${typeState.type.index} for "${desc.name}" would push heap ${typeState.type.heapIndex} past its budget: usage ${formatBytes(overBudget.usage)} + ${formatBytes(size)} > budget ${formatBytes(overBudget.budget)} (budget mode strict)`,
        { heapIndex: typeState.type.heapIndex, budget: overBudget.budget, usage: overBudget.usage, size },
      );
    }
    let memory: DeviceMemoryBlock;
    try {
      memory = this.device.allocateBlock({
        memoryTypeIndex: typeState.type.index,
        size,
        dedicatedTo,
        deviceAddress: this.bufferDeviceAddress,
        map: typeState.hostVisible,
      });
    } catch (error) {
      if (error instanceof DeviceError) {
        if (error.code === 'VK_ERROR_MEMORY_MAP_FAILED') {
          throw new FailedToMapError(
            `mapping a new ${formatBytes(size)} block of memory type ${typeState.type.index} failed: ${error.message}`,
          );
        }
        throw new OutOfMemoryError(
          `the device could not allocate a ${formatBytes(size)} block of memory type ${typeState.type.index} for "${desc.name}" (${error.code}): ${error.message}`,
        );
      }
      throw error;
    }
    if (typeState.hostVisible && memory.mapped === null) {
      this.device.freeBlock(memory);
      throw new FailedToMapError(
        `the device returned an unmapped block for host-visible memory type ${typeState.type.index}`,
      );
    }
    let sub: SubAllocator<AllocationImpl> | null = null;
    let segment = -1;
    if (!dedicated) {
      if (typeState.pooled) {
        // Made on first use: a pool's class index is about 6 KB, and most memory types never get a block.
        const pool = (typeState.pool ??= new TlsfPool<AllocationImpl>());
        segment = pool.addSegment(size);
        sub = new TlsfSegment(pool, segment);
      } else {
        sub = createSubAllocator<AllocationImpl>(this.strategy, size);
      }
    }
    let slot = typeState.blocks.indexOf(null);
    if (slot < 0) slot = typeState.blocks.length;
    const block = new BlockState(memory, typeState, sub, slot, segment);
    typeState.blocks[slot] = block;
    if (!dedicated) {
      if (segment >= 0) typeState.bySegment[segment] = block;
      typeState.liveGeneralBlocks++;
      this.updateDedicatedAbove(typeState);
      typeState.emptyGeneralBlocks++;
      typeState.generalBytes += size;
    }
    this.committedBytes += size;
    this.blockCount++;
    if (this.sink !== null) {
      const e = this.records.blockCreate;
      e.blockId = memory.id;
      e.memoryTypeIndex = typeState.type.index;
      e.size = size;
      e.dedicated = dedicated;
      this.sink.event(e);
    }
    if (overBudget !== null) {
      this.budgetOverruns++;
      const usage = overBudget.usage + size;
      if (this.sink !== null) {
        const e = this.records.budgetSample;
        e.heapIndex = typeState.type.heapIndex;
        e.budget = overBudget.budget;
        e.usage = usage;
        e.flags = FlagBits.budgetCrossed;
        this.sink.event(e);
      }
      this.log(
        'warn',
        `block ${memory.id} (${formatBytes(size)}, memory type ${typeState.type.index}) pushed heap ${typeState.type.heapIndex} past its budget: usage ${formatBytes(usage)} > budget ${formatBytes(overBudget.budget)}`,
      );
    }
    return block;
  }

  /**
   * Forgets a block (its chunks must be freed already), then frees its memory on the device. Returns the
   * error device.freeBlock() threw, if any, for the caller to throw once its own bookkeeping is done: the
   * allocator is consistent either way.
   */
  private destroyBlock(block: BlockState): unknown {
    const typeState = block.typeState;
    typeState.blocks[block.slot] = null;
    while (typeState.blocks.length > 0 && typeState.blocks[typeState.blocks.length - 1] === null)
      typeState.blocks.pop();
    if (block.sub !== null) {
      typeState.liveGeneralBlocks--;
      this.updateDedicatedAbove(typeState);
      typeState.generalBytes -= block.memory.size;
      if (block.sub.chunkCount === 0) typeState.emptyGeneralBlocks--;
      if (block.segment >= 0) {
        typeState.pool!.removeSegment(block.segment);
        typeState.bySegment[block.segment] = null;
      }
    }
    this.committedBytes -= block.memory.size;
    this.blockCount--;
    let error: unknown = null;
    try {
      this.device.freeBlock(block.memory);
    } catch (e) {
      error = e;
    }
    if (this.sink !== null) {
      const e = this.records.blockDestroy;
      e.blockId = block.memory.id;
      this.sink.event(e);
    }
    return error;
  }

  /** The allocation behind a handle, if this allocator made it and it is still live; else Internal. */
  private liveAllocation(allocation: Allocation, op: 'free' | 'rename' | 'setMovable'): AllocationImpl {
    if (
      !(allocation instanceof AllocationImpl) ||
      allocation.blockState.typeState !== this.types[allocation.memoryTypeIndex] ||
      allocation.chunk === FREED
    ) {
      this.notLive(allocation, op);
    }
    return allocation;
  }

  /** Throws liveAllocation()'s error for a handle it refused (built here, off the path of every free()). */
  private notLive(allocation: Allocation, op: string): never {
    if (
      !(allocation instanceof AllocationImpl) ||
      allocation.blockState.typeState !== this.types[allocation.memoryTypeIndex]
    ) {
      throw new InternalError(`${op}() of an allocation this allocator did not make`);
    }
    throw new InternalError(
      `${op}() of allocation "${allocation.name}" (id ${allocation.id}) that was already freed`,
    );
  }

  /** Frees an allocation; null is a no-op. Freeing twice, or an allocation of another allocator, is Internal. */
  free(handle: Allocation | null): void {
    if (handle === null) return;
    const allocation = this.liveAllocation(handle, 'free');
    const block = allocation.blockState;
    let deviceError: unknown = null;
    if (allocation.chunk === DEDICATED_CHUNK) {
      allocation.chunk = FREED;
      block.dedicatedAllocation = null;
      deviceError = this.destroyBlock(block);
    } else {
      const typeState = block.typeState;
      const pool = typeState.pool;
      let empty: boolean;
      if (pool !== null) {
        pool.freeOwned(allocation.chunk, allocation);
        empty = pool.segmentChunkCount(block.segment) === 0;
      } else {
        const sub = block.sub!;
        sub.free(allocation.chunk);
        empty = sub.chunkCount === 0;
      }
      allocation.chunk = FREED;
      if (empty) deviceError = this.generalBlockEmptied(block);
    }
    this.requestedBytes -= allocation.size;
    this.allocationCount--;
    this.stateVersion++;
    if (this.immovable.size > 0) this.immovable.delete(allocation.id);
    if (this.sink !== null) this.reportFree(allocation);
    if (this.debugSettings.logFrees) this.logFree(allocation);
    if (deviceError !== null) throw deviceError;
  }

  /**
   * free() of the last allocation of a general block: counts it empty and destroys it when its type keeps
   * enough empty blocks already. Returns destroyBlock()'s device error, if any. (Apart from free() with the
   * other rare steps, so that V8 can inline more of the common path: see docs/allocator.md, speed.)
   */
  private generalBlockEmptied(block: BlockState): unknown {
    const typeState = block.typeState;
    typeState.emptyGeneralBlocks++;
    if (typeState.liveGeneralBlocks > 1 && typeState.emptyGeneralBlocks > this.blockPolicy.spareEmptyBlocks) {
      return this.destroyBlock(block);
    }
    return null;
  }

  private reportFree(allocation: AllocationImpl): void {
    const e = this.records.free;
    e.allocationId = allocation.id;
    this.sink!.event(e);
  }

  private logFree(allocation: AllocationImpl): void {
    this.log(
      'debug',
      `freed "${allocation.name}": ${formatBytes(allocation.size)}${this.debugSettings.logStackTraces && allocation.stack ? `\n${allocation.stack}` : ''}`,
    );
  }

  rename(handle: Allocation, name: string): void {
    const allocation = this.liveAllocation(handle, 'rename');
    if (typeof name !== 'string')
      throw new InvalidAllocationCreateDescError('rename(): the name must be a string');
    allocation.name = name;
    if (this.sink !== null) {
      const e = this.records.rename;
      e.allocationId = allocation.id;
      e.name = name;
      this.sink.event(e);
    }
  }

  /** Marks a live allocation movable (the default) or not by defragmentation. */
  setMovable(handle: Allocation, movable: boolean): void {
    const allocation = this.liveAllocation(handle, 'setMovable');
    if (movable) this.immovable.delete(allocation.id);
    else this.immovable.add(allocation.id);
  }

  isMovable(handle: Allocation): boolean {
    return !handle.isDedicated && !this.immovable.has(handle.id);
  }

  /** The general blocks and their allocations as the defragmentation planner reads them. */
  defragmentationState(): DefragmentationState {
    const blocks: DefragmentationBlock[] = [];
    for (const b of this.liveBlocks()) {
      if (b.sub === null) continue;
      const items: DefragmentationItem[] = b.sub.chunks().map((c) => ({
        allocationId: c.owner.id,
        name: c.owner.name,
        regionOffset: c.regionOffset,
        offset: c.offset,
        size: c.size,
        alignment: c.alignment,
        kind: c.kind,
        movable: !this.immovable.has(c.owner.id),
      }));
      blocks.push({ id: b.memory.id, memoryTypeIndex: b.typeState.type.index, size: b.memory.size, items });
    }
    return { version: this.stateVersion, granularity: this.granularity, blocks };
  }

  /** Plans a defragmentation pass (changes nothing; see defragment.ts). */
  planDefragmentation(options: DefragmentationOptions = {}): DefragmentationPlan {
    return planDefragmentation(this.defragmentationState(), options);
  }

  /**
   * Applies a plan made from the current state: each move, in order, frees the allocation's chunk and takes
   * its planned place (handles stay valid; block and offset change); then the emptied general blocks are
   * freed as the block policy allows. Bytes: `copy` is called for every move right after it is made
   * (source and destination may overlap within one block: copy as memmove, before anything else runs);
   * without it, host-visible bytes are copied through the mappings and other memory is left to the caller.
   * Returns the ids of the blocks freed.
   */
  applyDefragmentation(
    plan: DefragmentationPlan,
    copy?: (move: DefragmentationMove, from: DeviceMemoryBlock, to: DeviceMemoryBlock) => void,
  ): number[] {
    if (this.destroyed) throw new InternalError('applyDefragmentation() after destroy()');
    if (plan.stateVersion !== this.stateVersion) {
      throw new InternalError(
        `the defragmentation plan was made for state ${plan.stateVersion}, the allocator is at ${this.stateVersion}: plan again`,
      );
    }
    const byId = new Map<number, AllocationImpl>();
    const blocksById = new Map<number, BlockState>();
    for (const b of this.liveBlocks()) {
      blocksById.set(b.memory.id, b);
      if (b.sub !== null) for (const c of b.sub.chunks()) byId.set(c.owner.id, c.owner);
    }
    // Check every move against the state before touching anything.
    for (const m of plan.moves) {
      const a = byId.get(m.allocationId);
      const to = blocksById.get(m.toBlock);
      if (
        a === undefined ||
        a.blockState.memory.id !== m.fromBlock ||
        a.offset !== m.fromOffset ||
        to === undefined ||
        to.sub === null ||
        to.typeState !== a.blockState.typeState ||
        this.immovable.has(a.id)
      ) {
        throw new InternalError(
          `defragmentation move of allocation ${m.allocationId} does not match the allocator`,
        );
      }
    }
    const touched = new Set<BlockState>();
    for (const m of plan.moves) {
      const a = byId.get(m.allocationId)!;
      const from = a.blockState;
      const to = blocksById.get(m.toBlock)!;
      const fromSub = from.sub!;
      const toSub = to.sub!;
      const kind = a.linear ? AllocationKind.Linear : AllocationKind.NonLinear;
      const fromOffset = a.offset;
      fromSub.free(a.chunk);
      const chunk = toSub.allocateAt(m.toOffset, a.size, m.alignment, kind, this.granularity, a);
      if (chunk < 0) {
        // Put it back where it was (that range was just freed, so it fits) and report the bad plan.
        a.chunk = fromSub.allocateAt(fromOffset, a.size, m.alignment, kind, this.granularity, a);
        throw new InternalError(
          `defragmentation could not place allocation ${a.id} at offset ${m.toOffset} of block ${m.toBlock}`,
        );
      }
      if (from !== to) {
        if (fromSub.chunkCount === 0) from.typeState.emptyGeneralBlocks++;
        if (toSub.chunkCount === 1) to.typeState.emptyGeneralBlocks--;
      }
      a.chunk = chunk;
      a.home = to.homeFor(a.decision);
      touched.add(from);
      if (copy) copy(m, from.memory, to.memory);
      else copyMapped(from.memory, m.fromOffset, to.memory, m.toOffset, a.size);
      if (this.sink !== null) {
        const e = this.records.move;
        e.allocationId = a.id;
        e.blockId = to.memory.id;
        e.memoryTypeIndex = to.typeState.type.index;
        e.offset = m.toOffset;
        this.sink.event(e);
      }
    }
    const freed: number[] = [];
    // A device.freeBlock() error is thrown once every block is settled (the allocator stays consistent).
    let deviceError: unknown = null;
    for (const b of touched) {
      const t = b.typeState;
      if (
        b.sub!.chunkCount === 0 &&
        t.blocks[b.slot] === b &&
        t.liveGeneralBlocks > 1 &&
        t.emptyGeneralBlocks > this.blockPolicy.spareEmptyBlocks
      ) {
        freed.push(b.memory.id);
        const error = this.destroyBlock(b);
        if (error !== null && deviceError === null) deviceError = error;
      }
    }
    if (plan.moves.length > 0) this.stateVersion++;
    if (deviceError !== null) throw deviceError;
    return freed;
  }

  /**
   * Budget mode strict: a block refused by the budget is reported to the event sink as a budget sample of
   * the heap whose usage (bytes) is what the block would have made it, past the budget. Sessions record it
   * (flagged as a refusal): in the trace, it precedes the fallback allocation or the failure it caused.
   */
  private reportBudgetRefusal(error: unknown, name: string): void {
    if (!(error instanceof OutOfMemoryError) || error.overBudget === null) return;
    const r = error.overBudget;
    this.budgetRefusals++;
    if (this.sink !== null) {
      const e = this.records.budgetSample;
      e.heapIndex = r.heapIndex;
      e.budget = r.budget;
      e.usage = r.usage + r.size;
      e.flags = FlagBits.budgetRefused;
      this.sink.event(e);
    }
    this.log(
      'warn',
      `the budget refused a ${formatBytes(r.size)} block on heap ${r.heapIndex} for "${name}": usage ${formatBytes(r.usage)} + ${formatBytes(r.size)} > budget ${formatBytes(r.budget)} (budget mode strict)`,
    );
  }

  /** Memory types whose new block the budget refused so far (budget mode `strict`; one per type tried). */
  get budgetRefusalCount(): number {
    return this.budgetRefusals;
  }

  /** Blocks created past their heap's budget so far (budget mode `warn`). */
  get budgetOverrunCount(): number {
    return this.budgetOverruns;
  }

  /**
   * The heap's budget and usage (bytes) when a new block of `size` bytes would push the heap of memory
   * type `t` past its budget; null when it would not, or the device reports no budgets.
   */
  private budgetExceeded(t: MemoryTypeState, size: number): { budget: number; usage: number } | null {
    const budgets = this.device.budgets();
    if (budgets === null) return null;
    const heap = budgets.find((b) => b.heapIndex === t.type.heapIndex);
    if (heap === undefined || heap.usage + size <= heap.budget) return null;
    return { budget: heap.budget, usage: heap.usage };
  }

  /** Bytes of live device memory blocks (gpu-allocator's capacity). */
  capacity(): number {
    return this.committedBytes;
  }

  /** Bytes requested by live allocations (stats().allocatedBytes, without building the stats object). */
  get allocatedBytes(): number {
    return this.requestedBytes;
  }

  stats(): AllocatorStats {
    return {
      committedBytes: this.committedBytes,
      allocatedBytes: this.requestedBytes,
      blockCount: this.blockCount,
      allocationCount: this.allocationCount,
    };
  }

  private *liveBlocks(): Generator<BlockState> {
    for (const t of this.types) {
      for (const b of t.blocks) if (b !== null) yield b;
    }
  }

  liveAllocations(): Allocation[] {
    const out: Allocation[] = [];
    for (const b of this.liveBlocks()) {
      if (b.sub === null) {
        if (b.dedicatedAllocation) out.push(b.dedicatedAllocation);
      } else {
        for (const c of b.sub.chunks()) out.push(c.owner);
      }
    }
    return out.sort((x, y) => x.id - y.id);
  }

  blocks(): BlockInfo[] {
    const out: BlockInfo[] = [];
    for (const b of this.liveBlocks()) {
      if (b.sub === null) {
        const a = b.dedicatedAllocation;
        out.push({
          id: b.memory.id,
          memoryTypeIndex: b.typeState.type.index,
          size: b.memory.size,
          dedicated: true,
          allocatedBytes: a ? b.memory.size : 0,
          chunks: a
            ? [
                {
                  chunk: DEDICATED_CHUNK,
                  regionOffset: 0,
                  regionSize: b.memory.size,
                  offset: 0,
                  size: a.size,
                  // A dedicated block holds one resource at offset 0, which satisfies any alignment.
                  alignment: 1,
                  kind: a.linear ? AllocationKind.Linear : AllocationKind.NonLinear,
                  owner: a,
                },
              ]
            : [],
          freeRanges: [],
          fragmentation: 0,
        });
      } else {
        const freeRanges = b.sub.freeRanges();
        const freeBytes = b.memory.size - b.sub.allocatedBytes;
        out.push({
          id: b.memory.id,
          memoryTypeIndex: b.typeState.type.index,
          size: b.memory.size,
          dedicated: false,
          allocatedBytes: b.sub.allocatedBytes,
          chunks: b.sub.chunks(),
          freeRanges,
          fragmentation: freeBytes > 0 ? 1 - b.sub.largestFreeRange() / freeBytes : 0,
        });
      }
    }
    return out;
  }

  generateReport(): AllocatorReport {
    const allocations: AllocationReport[] = [];
    const blocks: MemoryBlockReport[] = [];
    let totalAllocatedBytes = 0;
    for (const info of this.blocks()) {
      const start = allocations.length;
      for (const c of info.chunks) {
        allocations.push({
          name: c.owner.name,
          offset: c.regionOffset,
          size: c.regionSize,
          memoryTypeIndex: info.memoryTypeIndex,
          blockId: info.id,
          stack: c.owner.stack,
        });
      }
      totalAllocatedBytes += info.allocatedBytes;
      blocks.push({
        blockId: info.id,
        memoryTypeIndex: info.memoryTypeIndex,
        size: info.size,
        dedicated: info.dedicated,
        allocationsStart: start,
        allocationsEnd: allocations.length,
      });
    }
    return { allocations, blocks, totalAllocatedBytes, totalCapacityBytes: this.committedBytes };
  }

  /** Logs every live allocation at `level` (gpu-allocator's report_memory_leaks). Returns them. */
  reportMemoryLeaks(level: LogLevel): Allocation[] {
    const leaks = this.liveAllocations();
    for (const a of leaks) {
      const where = this.debugSettings.logStackTraces && a.stack ? `\n${a.stack}` : '';
      this.log(
        level,
        `leak: "${a.name}" ${formatBytes(a.size)} (${a.size} bytes) at offset ${a.offset} of block ${a.block.id}, memory type ${a.memoryTypeIndex}, ${a.isDedicated ? 'dedicated' : 'sub-allocated'}${where}`,
      );
    }
    return leaks;
  }

  /** Logs leaks (if enabled) and frees every block. The allocator is unusable afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    if (this.debugSettings.logLeaksOnShutdown) this.reportMemoryLeaks('warn');
    let firstError: unknown = null;
    for (const b of [...this.liveBlocks()]) {
      if (b.dedicatedAllocation) b.dedicatedAllocation.chunk = FREED;
      if (b.sub && b.sub.chunkCount > 0) {
        for (const c of b.sub.chunks()) {
          c.owner.chunk = FREED;
          b.sub.free(c.chunk);
        }
        // Empty now, so that destroyBlock's bookkeeping stays exact.
        b.typeState.emptyGeneralBlocks++;
      }
      const error = this.destroyBlock(b);
      firstError ??= error;
    }
    this.requestedBytes = 0;
    this.allocationCount = 0;
    this.destroyed = true;
    if (firstError !== null) throw firstError;
  }

  /** Checks every invariant; throws InternalError naming the first broken one. */
  validate(): void {
    let committed = 0;
    let requested = 0;
    let allocations = 0;
    let blocks = 0;
    const seenIds = new Set<number>();
    for (const t of this.types) {
      let general = 0;
      t.blocks.forEach((b, slot) => {
        if (b === null) return;
        blocks++;
        if (b.slot !== slot)
          throw new InternalError(`block ${b.memory.id} thinks it is in slot ${b.slot}, but sits in ${slot}`);
        if (b.typeState !== t)
          throw new InternalError(`block ${b.memory.id} is listed under the wrong memory type`);
        if (b.memory.memoryTypeIndex !== t.type.index)
          throw new InternalError(
            `block ${b.memory.id} was allocated from type ${b.memory.memoryTypeIndex}, listed under ${t.type.index}`,
          );
        committed += b.memory.size;
        if (b.sub === null) {
          const a = b.dedicatedAllocation;
          if (a === null) throw new InternalError(`dedicated block ${b.memory.id} outlived its allocation`);
          if (a.blockState !== b || a.offset !== 0 || a.size > b.memory.size || a.chunk !== DEDICATED_CHUNK) {
            throw new InternalError(`dedicated allocation ${a.id} does not match its block ${b.memory.id}`);
          }
          requested += a.size;
          allocations++;
          seenIds.add(a.id);
          return;
        }
        general++;
        if (t.pool !== null && (b.segment < 0 || t.bySegment[b.segment] !== b))
          throw new InternalError(`block ${b.memory.id} is not its type's pool segment ${b.segment}`);
        if (b.sub.size !== b.memory.size)
          throw new InternalError(
            `block ${b.memory.id}: sub-allocator manages ${b.sub.size} of ${b.memory.size} bytes`,
          );
        b.sub.validate(this.granularity);
        for (const c of b.sub.chunks()) {
          const a = c.owner;
          if (!(a instanceof AllocationImpl))
            throw new InternalError(`block ${b.memory.id}: chunk ${c.chunk} has no allocation`);
          if (a.blockState !== b || a.chunk !== c.chunk || a.offset !== c.offset || a.size !== c.size) {
            throw new InternalError(
              `allocation ${a.id} disagrees with chunk ${c.chunk} of block ${b.memory.id}`,
            );
          }
          if (c.offset + c.size > b.memory.size)
            throw new InternalError(`allocation ${a.id} ends past block ${b.memory.id}`);
          if (seenIds.has(a.id)) throw new InternalError(`allocation ${a.id} is placed twice`);
          seenIds.add(a.id);
          requested += a.size;
          allocations++;
        }
      });
      if (general !== t.liveGeneralBlocks)
        throw new InternalError(
          `memory type ${t.type.index}: counted ${t.liveGeneralBlocks} general blocks, found ${general}`,
        );
      let generalBytes = 0;
      for (const b of t.blocks) if (b !== null && b.sub !== null) generalBytes += b.memory.size;
      if (generalBytes !== t.generalBytes)
        throw new InternalError(
          `memory type ${t.type.index}: counted ${t.generalBytes} bytes of general blocks, found ${generalBytes}`,
        );
      if (t.pool !== null) {
        t.pool.validateIndex();
        if (t.pool.segmentCount !== general)
          throw new InternalError(
            `memory type ${t.type.index}: the pool holds ${t.pool.segmentCount} segments for ${general} general blocks`,
          );
      }
      if (t.blocks.length > 0 && t.blocks[t.blocks.length - 1] === null)
        throw new InternalError(`memory type ${t.type.index}: trailing empty block slot`);
      // The free that empties a block destroys it when the type already keeps enough empty ones.
      const empty = t.blocks.filter((b) => b !== null && b.sub !== null && b.sub.chunkCount === 0).length;
      if (empty !== t.emptyGeneralBlocks) {
        throw new InternalError(
          `memory type ${t.type.index}: counted ${t.emptyGeneralBlocks} empty general blocks, found ${empty}`,
        );
      }
      if (empty > Math.max(1, this.blockPolicy.spareEmptyBlocks)) {
        throw new InternalError(`memory type ${t.type.index}: ${empty} empty general blocks kept`);
      }
    }
    if (committed !== this.committedBytes)
      throw new InternalError(`committed bytes: counted ${this.committedBytes}, blocks hold ${committed}`);
    if (requested !== this.requestedBytes)
      throw new InternalError(
        `requested bytes: counted ${this.requestedBytes}, allocations hold ${requested}`,
      );
    if (allocations !== this.allocationCount)
      throw new InternalError(`allocations: counted ${this.allocationCount}, found ${allocations}`);
    if (blocks !== this.blockCount)
      throw new InternalError(`blocks: counted ${this.blockCount}, found ${blocks}`);
    const report = this.generateReport();
    if (
      report.allocations.length !== allocations ||
      report.blocks.length !== blocks ||
      report.totalCapacityBytes !== committed
    ) {
      throw new InternalError('the report disagrees with the allocator state');
    }
    let reportedInUse = 0;
    for (const r of report.allocations) reportedInUse += r.size;
    if (reportedInUse !== report.totalAllocatedBytes)
      throw new InternalError('report: allocation sizes do not add up to totalAllocatedBytes');
  }
}

const managedScheme = { kind: 'managed' } as const;

/**
 * memmove of `size` bytes between mapped blocks (the read is a copy); nothing when either is unmapped. What
 * applyDefragmentation does without a copy callback; a relocation.copy for host-visible memory can use it.
 */
export function copyMapped(
  from: DeviceMemoryBlock,
  fromOffset: number,
  to: DeviceMemoryBlock,
  toOffset: number,
  size: number,
): void {
  if (from.mapped === null || to.mapped === null) return;
  from.mapped.invalidate(fromOffset, size);
  const bytes = from.mapped.read(fromOffset, size);
  to.mapped.write(toOffset, bytes);
  to.mapped.flush(toOffset, size);
}

/** 0–3 for the four memory locations (index into Allocator.recentDecisions / 2), -1 for anything else. */
function locationSlot(location: MemoryLocation): number {
  return location === 'GpuOnly'
    ? 0
    : location === 'CpuToGpu'
      ? 1
      : location === 'GpuToCpu'
        ? 2
        : location === 'Unknown'
          ? 3
          : -1;
}

/** For error messages only (checkDesc runs on every allocate(), so nothing is built before an error). */
function describeDesc(desc: AllocationCreateDesc): string {
  return `allocation "${String(desc.name)}"`;
}

function invalidDesc(desc: AllocationCreateDesc, problem: string): never {
  throw new InvalidAllocationCreateDescError(`${describeDesc(desc)}: ${problem}`);
}

function noCompatibleType(desc: AllocationCreateDesc, decision: MemoryTypeDecision): never {
  throw new NoCompatibleMemoryTypeFoundError(
    `no memory type for allocation "${desc.name}" (${desc.location}, memoryTypeBits 0x${desc.requirements.memoryTypeBits.toString(16)}): ${decision.reason}`,
  );
}

/**
 * `bytes` (a safe integer >= 0, unchanged in value) in the form V8 stores best in an allocation's fields:
 * below 2^31, `| 0` is exact and gives a small integer, so AllocationImpl's size field keeps V8's
 * small-integer representation. Arithmetic can yield doubles (the pool keeps bytes in Float64Arrays);
 * stored as they are, they turned a field into a double field, which V8 boxes: a 16-byte heap number
 * allocated with every allocation and held for its life. Larger values pass unchanged.
 */
function fieldBytes(bytes: number): number {
  return bytes < 2147483648 ? bytes | 0 : bytes;
}

/** Owner slot value between sub-allocation and the allocation object's creation (never observed outside). */
const placeholder = null as unknown as AllocationImpl;

function captureStack(): string {
  const stack = new Error().stack ?? '';
  // Drop "Error" and the allocator's own frames.
  return stack
    .split('\n')
    .slice(1)
    .filter((line) => !line.includes('/allocator/allocator.'))
    .map((line) => line.trim())
    .join('\n');
}
