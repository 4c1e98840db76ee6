// What a scenario script is (an ES module exporting `meta` and `run`) and what it gets (`ctx`). Scenario
// scripts are code the user chose to run; traces, in contrast, are data and never execute.
import type { BudgetMode, DeviceDescription, HeapBudget, MemoryLocation } from '../../allocator/index.ts';

/**
 * `file`: a path to a data file the script reads with ctx.readLines (CLI: the path as given; API: main
 * resolves the client's fileId to the granted path before the run starts, so a client never names a path).
 */
export type ParamType = 'number' | 'integer' | 'boolean' | 'string' | 'file';
export type ParamValue = number | boolean | string;

export interface ParamSpec {
  readonly type: ParamType;
  readonly default: ParamValue;
  /** Numbers and integers only; inclusive. */
  readonly min?: number;
  readonly max?: number;
  readonly description: string;
}

export interface ScenarioMeta {
  readonly name: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, ParamSpec>>;
}

export type ScenarioParams = Readonly<Record<string, ParamValue>>;

/** What a script asks for. Sizes and alignments are bytes. */
export interface AllocationRequest {
  readonly name: string;
  /** Bytes, a positive safe integer. */
  readonly size: number;
  /** Bytes, a power of two; default 256 for buffers, 65536 for images. */
  readonly alignment?: number;
  /** Default GpuOnly. */
  readonly location?: MemoryLocation;
  /** buffer = linear; image = optimal tiling (non-linear). */
  readonly kind: 'buffer' | 'image';
  /** A dedicated block for this one resource. */
  readonly dedicated?: boolean;
  /** The scenario's own labels for the origin (e.g. ["texture", "level-load"]). */
  readonly tags?: readonly string[];
}

/** A live allocation as a script sees it. */
export interface AllocationHandle {
  readonly id: number;
  readonly name: string;
  /** Bytes requested. */
  readonly size: number;
  readonly memoryTypeIndex: number;
  readonly heapIndex: number;
  readonly blockId: number;
  /** Bytes from the start of the block. */
  readonly offset: number;
  readonly location: MemoryLocation;
  readonly dedicated: boolean;
  /** Where the script asked for it: "file.mjs:42 [tag tag]". */
  readonly origin: string;
}

export interface SessionState {
  /** Allocator operations done so far (allocate, failed allocate, free, rename). */
  readonly ops: number;
  readonly frame: number;
  readonly allocationCount: number;
  readonly failureCount: number;
  readonly freeCount: number;
  readonly liveAllocations: number;
  /** Bytes requested by live allocations. */
  readonly allocatedBytes: number;
  /** Bytes of live device blocks. */
  readonly committedBytes: number;
  readonly peakCommittedBytes: number;
  readonly blockCount: number;
  /** Blocks created past a heap's budget (budget mode warn) and blocks the budget refused (strict). */
  readonly budgetCrossings: number;
  readonly budgetRefusals: number;
}

export interface ScenarioContext {
  readonly device: DeviceDescription;
  readonly seed: number;
  /** Throws an AllocationError (code: OutOfMemory, ...) when the allocator fails; the failure is recorded. */
  allocate(request: AllocationRequest): AllocationHandle;
  /** Like allocate, but returns null on an allocation failure (which is still recorded). */
  tryAllocate(request: AllocationRequest): AllocationHandle | null;
  free(handle: AllocationHandle): void;
  rename(handle: AllocationHandle, name: string): AllocationHandle;
  /** Ends a frame: records a frame event and a budget sample per heap. */
  frame(label?: string): number;
  mark(label: string): void;
  sleep(ms: number): Promise<void>;
  log(message: string): void;
  /** Seeded: uniform in [0, 1). */
  random(): number;
  /** Seeded: uniform integer in [min, max]. */
  randomInt(min: number, max: number): number;
  budgets(): readonly HeapBudget[] | null;
  state(): SessionState;
  /** Emulates a smaller heap (bytes; null clears), like VMA's heap size limit. */
  limitHeap(heapIndex: number, bytes: number | null): void;
  /**
   * Emulates a smaller budget for a heap (bytes; null clears), as VK_EXT_memory_budget would report it:
   * unlike limitHeap nothing fails at the device; the allocator's budget mode decides (ignore, warn, strict).
   * The heap's usage is then this session's blocks in it.
   */
  setHeapBudget(heapIndex: number, bytes: number | null): void;
  /** The session's budget mode (`run --budget`). */
  readonly budgetMode: BudgetMode;
  /**
   * The lines of a data file (a "file" parameter's value; relative to the working directory), read in
   * chunks as the loop asks for them: a regular file only, at most 4 GiB, lines of at most 4096 bytes;
   * a cancel stops the read mid-file. Errors name the file and a line/byte offset, never its content.
   */
  readLines(
    file: string,
  ): Iterable<{ readonly line: number; readonly offset: number; readonly text: string }>;
}

export interface ScenarioModule {
  readonly meta: ScenarioMeta;
  run(ctx: ScenarioContext, params: ScenarioParams): unknown;
}
