// The allocator's public types: what callers pass in and get back, the memory-type decision record and
// the event sink (DESIGN.md contract 2). Bytes are JS numbers that are safe integers (< 2^53).
import type { DefragmentationMove } from './defragment.ts';
import type { Device, DeviceMemoryBlock, MappedMemory, ResourceCategory } from './device.ts';

export type MemoryLocation = 'Unknown' | 'GpuOnly' | 'CpuToGpu' | 'GpuToCpu';
export const memoryLocations: readonly MemoryLocation[] = ['Unknown', 'GpuOnly', 'CpuToGpu', 'GpuToCpu'];

export type PlacementStrategyName = 'tlsf' | 'freelist';
export const placementStrategyNames: readonly PlacementStrategyName[] = ['tlsf', 'freelist'];

/** gpu-allocator's AllocationScheme. The handle is the backend's buffer/image object, when there is one. */
export type AllocationScheme =
  | { readonly kind: 'managed' }
  | { readonly kind: 'dedicatedBuffer'; readonly buffer?: unknown }
  | { readonly kind: 'dedicatedImage'; readonly image?: unknown };
export type AllocationSchemeKind = AllocationScheme['kind'];

export interface MemoryRequirements {
  /** Bytes, > 0. */
  readonly size: number;
  /** Bytes, a power of two. */
  readonly alignment: number;
  /** Bit i set: memory type i may be used. Vulkan has at most 32 types. */
  readonly memoryTypeBits: number;
}

export interface AllocationCreateDesc {
  readonly name: string;
  readonly requirements: MemoryRequirements;
  readonly location: MemoryLocation;
  /** true for buffers and linear-tiled images; false for optimal-tiled images. */
  readonly linear: boolean;
  readonly scheme?: AllocationScheme;
  /** D3D12 tier 1 only; defaults to buffer when linear, otherTexture otherwise. */
  readonly resourceCategory?: ResourceCategory;
  /**
   * Where the caller asked for it (e.g. "scenario.mjs:42" or a backtrace). Used when debug settings
   * store stack traces, and passed to event listeners.
   */
  readonly stack?: string;
  /** false: defragmentation never moves it (default true; dedicated allocations never move). */
  readonly movable?: boolean;
}

export interface DebugSettings {
  /** Log memory types and heaps at creation (Vulkan). */
  readonly logMemoryInformation: boolean;
  /** Log leaks when the allocator is destroyed. */
  readonly logLeaksOnShutdown: boolean;
  /** Keep a stack per allocation (the desc's `stack`, or one captured by the allocator). */
  readonly storeStackTraces: boolean;
  readonly logAllocations: boolean;
  readonly logFrees: boolean;
  /** Include stacks in allocation/free/leak logs. */
  readonly logStackTraces: boolean;
}

export const defaultDebugSettings: DebugSettings = {
  logMemoryInformation: false,
  logLeaksOnShutdown: true,
  storeStackTraces: false,
  logAllocations: false,
  logFrees: false,
  logStackTraces: false,
};

/** Bytes. gpu-allocator's AllocationSizes. */
export interface AllocationSizesInput {
  readonly deviceMemblockSize?: number;
  readonly hostMemblockSize?: number;
  readonly deviceMaxMemblockSize?: number;
  readonly hostMaxMemblockSize?: number;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string) => void;

export interface AllocatorCreateDesc {
  readonly device: Device;
  readonly debugSettings?: Partial<DebugSettings>;
  readonly allocationSizes?: AllocationSizesInput;
  /** Flag every block for buffer device addresses. */
  readonly bufferDeviceAddress?: boolean;
  readonly strategy?: PlacementStrategyName;
  /** Where log lines go (debug settings decide which are written). Default: none. */
  readonly logger?: Logger;
  /** Which blocks are tried first and when a request gets its own block; defaults depend on the strategy. */
  readonly blockPolicy?: Partial<BlockPolicy>;
  /** Listener of the event stream; null/absent costs nothing. */
  readonly events?: AllocatorEventSink | null;
  /** What a new block that pushes a heap past its budget (VK_EXT_memory_budget) does; default `warn`. */
  readonly budget?: BudgetMode;
  /**
   * Opt-in: relocate before growing (tlsf only). Absent or null: allocate() never moves anything.
   * See RelocationOptions.
   */
  readonly relocation?: RelocationOptions | null;
}

/**
 * Relocation before growth, with the application's cooperation (VMA's defragmentation, done where it
 * pays: on the allocation that would otherwise create a block). When a request fits no free range of its
 * memory type although more than blockPolicy.fragmentedFree of the type's block bytes are free (a
 * fragmentation miss), allocate() moves the live allocations of the cheapest byte range (fewest bytes
 * moved) to other free ranges of the same type and places the request there, instead of creating a
 * block. Each move is reported to the event sink as a `move` event and handed to `copy` before
 * allocate() returns; handles stay valid (their block and offset change). A move's destination never
 * overlaps another move's source, and the new allocation overlaps only the sources: the order of the
 * copies does not matter, but they must be done before the new allocation's memory is written.
 * Dedicated allocations and allocations marked not movable never move.
 */
export interface RelocationOptions {
  /**
   * Copies a moved allocation's bytes from (`from`, move.fromOffset) to (`to`, move.toOffset), and lets
   * the application rebind its resource: what makes the moves safe, so it is required (a no-op is the
   * caller's explicit choice, e.g. for resources whose contents are rebuilt anyway). The copies run
   * after every move of the request is made and reported; one that throws makes allocate() throw it: the
   * moves stand (as reported), the request is not placed.
   */
  readonly copy: (move: DefragmentationMove, from: DeviceMemoryBlock, to: DeviceMemoryBlock) => void;
  /**
   * Called once after the copy calls of one request, before allocate() returns (a throw is handled as
   * copy's). A copier that queues its copies does them here, e.g. in one device submission
   * (native/defrag-copy.ts createRelocationCopy).
   */
  readonly flush?: () => void;
  /** Bytes moved for one request at most, as a multiple of the request's size (default 1). */
  readonly maxMovedPerRequest?: number;
}

/**
 * Heap budgets (checked when a block is created, with the device's per-heap budget and usage; devices
 * without VK_EXT_memory_budget report none, and then nothing is checked):
 * - `ignore`: gpu-allocator's behaviour;
 * - `warn`: the block is created; the event sink gets a budget sample with the heap's usage past its
 *   budget, and a warn line is logged;
 * - `strict`: the block is not created: the allocation takes the decision's fallback memory type where
 *   it has one (its event then says the fallback was used), else fails with OutOfMemory naming the budget.
 */
export type BudgetMode = 'ignore' | 'warn' | 'strict';
export const budgetModes: readonly BudgetMode[] = ['ignore', 'warn', 'strict'];

/**
 * How requests are spread over blocks. gpu-allocator tries the newest block first, gives a request its own
 * block only when it is larger than the block size, sizes blocks by AllocationSizes (host-visible types use
 * the host size) and releases an emptied block unless it is the type's last (`crateBlockPolicy`, the
 * `freelist` default). The `tlsf` default (`packedBlockPolicy`) searches all blocks of a type at once (one
 * TLSF index per type), sizes blocks by demand and keeps emptied blocks: few driver allocations and a low
 * committed/live ratio (measured trade-offs in docs/allocator.md).
 */
export interface BlockPolicy {
  /** freelist only (tlsf searches every block of a type at once): which block is tried first. */
  readonly order: 'newestFirst' | 'oldestFirst';
  /**
   * A managed request larger than this fraction of the type's largest block size gets a dedicated block;
   * in (0, 1].
   */
  readonly dedicatedAbove: number;
  /**
   * Empty general blocks kept per memory type besides the last one (0 = the crate's rule: an emptied block
   * is released unless it is the type's only general block). A spare saves a vkAllocateMemory/vkFreeMemory
   * pair each time usage dips and comes back. Spares are released under budget pressure (see budget).
   */
  readonly spareEmptyBlocks: number;
  /**
   * Which AllocationSizes pair (device or host block size) a memory type uses: `hostVisible` (the crate:
   * any host-visible type uses the host size) or `deviceLocal` (a device-local type uses the device size
   * even when host-visible, as on integrated GPUs, lavapipe and resizable-BAR types).
   */
  readonly sizesBy: 'hostVisible' | 'deviceLocal';
  /**
   * 0: the crate's AllocationSizes growth. > 0: a new general block is this fraction of the type's
   * general block bytes so far, rounded up to 4 MiB, at least minBlockSize and the request, at most the
   * type's block size from AllocationSizes (its max when growth is configured there).
   */
  readonly growth: number;
  /** Bytes: the smallest block when growth > 0 (rounded up to 4 MiB, clamped to the type's block size). */
  readonly minBlockSize: number;
  /**
   * tlsf with growth > 0: when a request fits no free range although the type's free bytes exceed this
   * fraction of its general block bytes, the miss is fragmentation, not capacity, and the new block is
   * sized to the request (at least fragmentBlockSize) instead of a growth step.
   */
  readonly fragmentedFree: number;
  /** Bytes: the smallest block created for a fragmentation miss (see fragmentedFree). */
  readonly fragmentBlockSize: number;
  /**
   * With relocation (AllocatorCreateDesc.relocation): a fragmentation miss is answered by moves only when
   * the block it would otherwise create takes the type's general block bytes past this multiple of the
   * most bytes the type's blocks have held in use so far (seen at misses); below that the block is
   * created, and no bytes are copied. 0: moves are tried at every fragmentation miss. Moves cost copies
   * (on a CPU device such as lavapipe, CPU time and first touches of fresh pages), so growth is preferred
   * while it keeps the committed bytes near the live ones.
   */
  readonly relocateAbove: number;
}

const MiB = 1024 * 1024;

export const crateBlockPolicy: BlockPolicy = {
  order: 'newestFirst',
  dedicatedAbove: 1,
  spareEmptyBlocks: 0,
  sizesBy: 'hostVisible',
  growth: 0,
  minBlockSize: 4 * MiB,
  fragmentedFree: 1,
  fragmentBlockSize: 4 * MiB,
  relocateAbove: 0,
};
export const packedBlockPolicy: BlockPolicy = {
  order: 'oldestFirst',
  dedicatedAbove: 0.5,
  spareEmptyBlocks: 4,
  sizesBy: 'deviceLocal',
  growth: 0.5,
  minBlockSize: 128 * MiB,
  fragmentedFree: 0.07,
  fragmentBlockSize: 32 * MiB,
  relocateAbove: 0,
};

/**
 * The tlsf default when relocation is on (AllocatorCreateDesc.relocation): fragmentation misses are
 * mostly answered by moves rather than blocks, so blocks can grow in smaller steps (growth 1/8: the last
 * step, which is what the committed peak pays for, stays small) and a miss counts as fragmentation from
 * 5 % free. Measured trade-off in docs/allocator.md ("Relocation before growth").
 */
export const relocatingBlockPolicy: BlockPolicy = {
  ...packedBlockPolicy,
  growth: 0.125,
  fragmentedFree: 0.05,
};

/**
 * The tlsf default when relocation is on and the device is a CPU (deviceType `cpu`, such as lavapipe):
 * there "device" memory is host memory and every move is a copy by the replaying thread, into pages that
 * may never have been touched (a first touch costs tens of µs per 4 KiB page on a VM), so moves are
 * kept for where they pay: a fragmentation miss is answered by moves only when a new block would take
 * the type past 1.25 x its peak used bytes (relocateAbove), and from 10 % free. On workload-a and seeds
 * 1–6 (simulated lavapipe profile): 11–12 vkAllocateMemory calls, committed/live 1.219–1.242, 0–41 moves
 * per replay (workload-a: none), against relocatingBlockPolicy's 9–12, 1.063–1.176 and 16–180 moves.
 * Measured trade-off in docs/allocator.md (sixth pass, "Moves on a CPU device").
 */
export const cpuRelocatingBlockPolicy: BlockPolicy = {
  ...relocatingBlockPolicy,
  fragmentedFree: 0.1,
  relocateAbove: 1.25,
};

/** How an allocation sits in memory; also the bufferImageGranularity class of a sub-allocation. */
export const enum AllocationKind {
  Linear = 0,
  NonLinear = 1,
  Dedicated = 2,
}

export interface Allocation {
  /** Unique per allocator, never reused. */
  readonly id: number;
  readonly name: string;
  readonly memoryTypeIndex: number;
  readonly memoryProperties: number;
  readonly block: DeviceMemoryBlock;
  /**
   * Bytes from the start of the block where the caller's data starts (after alignment); it changes when a
   * move places the allocation elsewhere. -1 once freed (the allocation no longer has a place; read it
   * before free() if it is wanted afterwards).
   */
  readonly offset: number;
  /** Requested bytes. */
  readonly size: number;
  readonly isDedicated: boolean;
  readonly linear: boolean;
  readonly location: MemoryLocation;
  /** The memory-type decision that placed it (shared by every allocation with the same key). */
  readonly decision: MemoryTypeDecision;
  /** Mapped view already offset to this allocation, for host-visible memory. */
  readonly mapped: MappedAllocation | null;
  readonly stack: string | null;
}

/** A host-visible allocation's bytes. Offsets are relative to the allocation. */
export interface MappedAllocation {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
  flush(offset: number, length: number): void;
  invalidate(offset: number, length: number): void;
  readonly memory: MappedMemory;
}

// ---- Memory-type decision record -------------------------------------------------------------------

export interface MemoryTypeCandidate {
  readonly typeIndex: number;
  readonly propertyFlags: number;
  readonly heapIndex: number;
  /** memoryTypeBits had this type's bit. */
  readonly allowedByBits: boolean;
  /** For each attempt (same order as `attempts`): did this type have every required flag? */
  readonly matchesAttempt: readonly boolean[];
}

export interface MemoryTypeAttempt {
  /** MemoryPropertyFlags that a type must have for this attempt. */
  readonly requiredFlags: number;
  /** The type this attempt picks: the lowest allowed index with all required flags; null if none. */
  readonly typeIndex: number | null;
  /** Why this attempt exists, in words ("preferred: device-local upload memory (ReBAR)"). */
  readonly label: string;
}

/**
 * Why a memory type was chosen. Computed once per key (memoryTypeBits, location, linear, scheme, category)
 * and shared by every allocation with that key, so recording it costs one id per event.
 */
export interface MemoryTypeDecision {
  /** Index in the allocator's decision table; stable for the allocator's life. */
  readonly id: number;
  readonly api: 'vulkan' | 'd3d12' | 'metal';
  readonly memoryTypeBits: number;
  readonly location: MemoryLocation;
  readonly linear: boolean;
  readonly scheme: AllocationSchemeKind;
  readonly resourceCategory: ResourceCategory | null;
  readonly candidates: readonly MemoryTypeCandidate[];
  /** Attempts in order; attempt 0 is the first choice, later ones are fallbacks. */
  readonly attempts: readonly MemoryTypeAttempt[];
  /** The first attempt's result that exists; null means NoCompatibleMemoryTypeFound. */
  readonly winner: number | null;
  /** One sentence a graphics engineer reads at a glance. */
  readonly reason: string;
  /** Fallbacks that choosing already took (e.g. "no HOST_VISIBLE|HOST_COHERENT|DEVICE_LOCAL type; ..."). */
  readonly fallbacks: readonly string[];
  /**
   * Fallback tried at allocation time if allocating from the winner fails (gpu-allocator: CpuToGpu
   * retries once with HOST_VISIBLE|HOST_COHERENT). null when there is none.
   */
  readonly retryTypeIndex: number | null;
}

// ---- Event stream ------------------------------------------------------------------------------------

/** An allocation was placed. Also what EventLog.allocate records. */
export interface AllocateEventFields {
  readonly allocationId: number;
  readonly blockId: number;
  readonly memoryTypeIndex: number;
  /** Bytes: start of the caller's data in the block. */
  readonly offset: number;
  /** Requested bytes. */
  readonly size: number;
  /** Bytes. */
  readonly alignment: number;
  readonly kind: AllocationKind;
  readonly location: MemoryLocation;
  readonly name: string;
  /** Id of the MemoryTypeDecision (Allocator.decision(id)); -1 when none. */
  readonly decisionId: number;
  /** true when the allocation-time retry (fallback type) was needed. */
  readonly usedRetry: boolean;
  readonly stack: string | null;
}

/** A request failed. Also what EventLog.failure records. */
export interface FailureEventFields {
  readonly name: string;
  /** Requested bytes (0 when the request did not carry a valid size). */
  readonly size: number;
  /** Bytes (0 when the request did not carry a valid alignment). */
  readonly alignment: number;
  readonly location: MemoryLocation;
  readonly linear: boolean;
  /** AllocationError code, or 'Internal' for anything else thrown. */
  readonly code: string;
  readonly message: string;
  /** -1 when no decision was reached. */
  readonly decisionId: number;
  readonly stack: string | null;
}

/** A device memory block was allocated. */
export interface BlockCreateEventFields {
  readonly blockId: number;
  readonly memoryTypeIndex: number;
  /** Bytes. */
  readonly size: number;
  readonly dedicated: boolean;
}

/**
 * Budget mode `warn`: a block just created pushed heap `heapIndex` past its budget, as the device
 * reports it.
 */
export interface BudgetSampleEventFields {
  readonly heapIndex: number;
  /** Bytes. */
  readonly budget: number;
  /** Bytes in use, the new block included (a refused block: what it would have made it). */
  readonly usage: number;
  /**
   * FlagBits (event-log.ts): 0 or absent for a periodic sample; budgetCrossed when a new block pushed the
   * heap past its budget (mode warn); budgetRefused when the budget refused a block (mode strict).
   */
  readonly flags?: number;
}

/** Defragmentation (or relocation before growth) moved a live allocation: its new block, memory type and data offset. */
export interface MoveEventFields {
  readonly allocationId: number;
  readonly blockId: number;
  readonly memoryTypeIndex: number;
  /** Bytes: the data's new start in the block. */
  readonly offset: number;
}

export interface AllocateEvent extends AllocateEventFields {
  readonly type: 'allocate';
}
export interface FreeEvent {
  readonly type: 'free';
  readonly allocationId: number;
}
export interface FailureEvent extends FailureEventFields {
  readonly type: 'failure';
}
export interface BlockCreateEvent extends BlockCreateEventFields {
  readonly type: 'blockCreate';
}
export interface BlockDestroyEvent {
  readonly type: 'blockDestroy';
  readonly blockId: number;
}
export interface RenameEvent {
  readonly type: 'rename';
  readonly allocationId: number;
  readonly name: string;
}
export interface BudgetSampleEvent extends BudgetSampleEventFields {
  readonly type: 'budgetSample';
}
export interface MoveEvent extends MoveEventFields {
  readonly type: 'move';
}

/** One allocator event: a record with named fields, discriminated by `type`. */
export type AllocatorEvent =
  | AllocateEvent
  | FreeEvent
  | FailureEvent
  | BlockCreateEvent
  | BlockDestroyEvent
  | RenameEvent
  | BudgetSampleEvent
  | MoveEvent;

/**
 * Receives every allocator event as it happens. Timestamps are the sink's business.
 *
 * No garbage per event: the allocator owns one record per event type and refills it for the next event
 * of that type, so `event` must read (or copy) the fields it needs before returning and never keep the
 * record or hand it to code that runs later. A sink that throws propagates out of the allocator call.
 */
export interface AllocatorEventSink {
  event(e: AllocatorEvent): void;
}

// ---- Reports -----------------------------------------------------------------------------------------

export interface AllocationReport {
  readonly name: string;
  /** Bytes: offset of the internal region, alignment padding included (as gpu-allocator reports). */
  readonly offset: number;
  /** Bytes of the internal region, padding included. */
  readonly size: number;
  readonly memoryTypeIndex: number;
  readonly blockId: number;
  readonly stack: string | null;
}

export interface MemoryBlockReport {
  readonly blockId: number;
  readonly memoryTypeIndex: number;
  readonly size: number;
  readonly dedicated: boolean;
  /** Half-open range into AllocatorReport.allocations. */
  readonly allocationsStart: number;
  readonly allocationsEnd: number;
}

export interface AllocatorReport {
  readonly allocations: readonly AllocationReport[];
  readonly blocks: readonly MemoryBlockReport[];
  readonly totalAllocatedBytes: number;
  readonly totalCapacityBytes: number;
}
