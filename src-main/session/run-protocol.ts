// Messages between the scenario worker and the main thread, and what a run produces. Everything here is
// structured-clone data; event columns travel as transferable ArrayBuffers.
import type {
  AllocationSizes,
  AllocationSizesInput,
  BudgetMode,
  DebugSettings,
  DeviceDescription,
  EventColumns,
  LogLevel,
  MemoryTypeDecision,
  PlacementStrategyName,
} from '../../allocator/index.ts';
import type { DeviceSpec } from './open-device.ts';
import type { ResourcesMode } from './resources.ts';
import type { LeakRecord } from './session.ts';
import type { ParamValue, ScenarioMeta, ScenarioParams } from './scenario-types.ts';

export interface RunRequest {
  /** A built-in scenario name or a path to a .mjs file (relative to cwd). */
  readonly scenario: string;
  /** Strings (from the CLI) are converted by the declared parameter types. */
  readonly params?: Readonly<Record<string, ParamValue>>;
  readonly device?: DeviceSpec;
  readonly strategy?: PlacementStrategyName;
  /** Block sizes in bytes (gpu-allocator AllocationSizes); absent fields are the allocator's defaults. */
  readonly allocationSizes?: AllocationSizesInput;
  /** The session stores stacks (origins) by default and writes its own leak report. */
  readonly debugSettings?: Partial<DebugSettings>;
  /** Flag every block for buffer device addresses (the device must offer the feature). Default false. */
  readonly bufferDeviceAddress?: boolean;
  /** Heap budgets: ignore, warn or strict (AllocatorCreateDesc.budget); default warn. */
  readonly budget?: BudgetMode;
  /**
   * real: each allocation creates its buffer/image, uses the driver's requirements, binds and destroys it
   * (default on a real device); none: the scenario's numbers, every memory type allowed (the only choice on
   * a simulated device).
   */
  readonly resources?: ResourcesMode;
  /**
   * Relocation before growth (tlsf only; default on with tlsf): a request that fits no free range while its
   * memory type has the free bytes moves a few live allocations instead of creating a block. The session
   * owns every allocation, so it can: the bytes are copied (through the mappings on a simulated device, on
   * the device on a real one) and, with real resources, each moved allocation's resource is recreated at
   * its new place. Allocations a script marks movable: false (images by default) never move.
   */
  readonly relocation?: boolean;
  /**
   * Open the real Vulkan device with the Khronos validation layer; its messages arrive as `log` messages.
   * Real devices only (a profile is a usage error; the default device's simulated fallback says so).
   */
  readonly validation?: boolean;
  /** Unsigned 32-bit; absent = a random seed, reported in the result. */
  readonly seed?: number;
  /** Write a trace here while running. */
  readonly tracePath?: string | null;
  readonly cwd: string;
}

/** A slice of the event log: events [start, start + length) with the strings and decisions new since the last batch. */
export interface EventBatch {
  readonly start: number;
  readonly columns: EventColumns;
  /** String ids stringsStart.. of the log's string table. */
  readonly stringsStart: number;
  readonly strings: readonly string[];
  readonly decisions: readonly MemoryTypeDecision[];
}

export interface RunInfo {
  readonly scenario: ScenarioMeta;
  readonly file: string;
  readonly params: ScenarioParams;
  readonly seed: number;
  readonly device: DeviceDescription;
  readonly deviceLabel: string;
  readonly deviceNote: string | null;
  readonly strategy: PlacementStrategyName;
  /** Block sizes the allocator actually uses (bytes; after its rounding and clamping). */
  readonly allocationSizes: AllocationSizes;
  readonly debugSettings: DebugSettings;
  readonly bufferDeviceAddress: boolean;
  /** Whether the validation layer is on (only ever for a real device). */
  readonly validation: boolean;
  readonly budget: BudgetMode;
  readonly resources: ResourcesMode;
  /** Relocation before growth on (RunRequest.relocation). */
  readonly relocation: boolean;
}

export type RunStateName = 'running' | 'paused' | 'finished';

export interface RunStatus {
  readonly state: RunStateName;
  readonly ops: number;
  readonly frame: number;
  readonly events: number;
  readonly committedBytes: number;
  readonly allocatedBytes: number;
  readonly liveAllocations: number;
  readonly failures: number;
}

export type RunErrorKind = 'usage' | 'device' | 'script' | 'internal';

export interface RunError {
  readonly kind: RunErrorKind;
  /** One sentence, with file:line for script errors. */
  readonly message: string;
  /** "streaming.mjs:42" for script errors, when known. */
  readonly location: string | null;
  readonly stack: string | null;
}

export interface RunSummary {
  readonly scenario: string;
  readonly seed: number;
  readonly device: string;
  readonly strategy: PlacementStrategyName;
  /** Block sizes the allocator used (bytes). */
  readonly allocationSizes: AllocationSizes;
  readonly bufferDeviceAddress: boolean;
  readonly validation: boolean;
  readonly ops: number;
  readonly allocations: number;
  readonly frees: number;
  readonly failures: number;
  readonly failuresByCode: Readonly<Record<string, number>>;
  readonly frames: number;
  readonly events: number;
  /** Bytes. */
  readonly peakCommittedBytes: number;
  readonly peakBlocks: number;
  /** The budget mode, and blocks past a heap's budget (warn) / refused by it (strict) over the run. */
  readonly budget: BudgetMode;
  readonly resources: ResourcesMode;
  /** Relocation before growth on, and the moves it made over the run. */
  readonly relocation: boolean;
  readonly relocationMoves: number;
  readonly budgetCrossings: number;
  readonly budgetRefusals: number;
  readonly leaks: readonly LeakRecord[];
  /** Bytes requested by the leaked allocations. */
  readonly leakedBytes: number;
  readonly durationMs: number;
  readonly tracePath: string | null;
}

export type RunOutcome = 'completed' | 'cancelled' | 'failed';

export interface RunResult {
  readonly outcome: RunOutcome;
  readonly error: RunError | null;
  /** Null when the run failed before the session existed (bad scenario, parameters or device). */
  readonly summary: RunSummary | null;
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly info: RunInfo }
  | { readonly type: 'events'; readonly batch: EventBatch }
  | { readonly type: 'status'; readonly status: RunStatus }
  | { readonly type: 'log'; readonly message: string; readonly level?: LogLevel }
  | { readonly type: 'done'; readonly result: RunResult };

export interface WorkerData {
  readonly request: RunRequest;
  readonly control: SharedArrayBuffer;
}
