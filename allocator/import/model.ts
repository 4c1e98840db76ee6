// What an importer produces: a trace header (device description built from the dump, allocator config
// marked as imported, where it came from) plus the EventLog of what the dump describes, the totals the
// parseable summary line prints, and warnings where the dump contradicts itself. Pure: no Node APIs.
import type { DeviceDescription, MemoryHeap, MemoryType } from '../device.ts';
import type { EventLog } from '../event-log.ts';
import { AllocationKind, type AllocateEventFields } from '../types.ts';

export type ImportFormat = 'vma' | 'd3d12ma' | 'pytorch' | 'rmv';
export const importFormats: readonly ImportFormat[] = ['vma', 'd3d12ma', 'pytorch', 'rmv'];

/** Human names of the formats, used in messages ("expected a VMA JSON dump ..."). */
export const importFormatNames: Record<ImportFormat, string> = {
  vma: 'VMA JSON dump (vmaBuildStatsString)',
  d3d12ma: 'D3D12MA JSON dump (BuildStatsString)',
  pytorch: 'PyTorch CUDA memory snapshot (torch.cuda.memory._snapshot)',
  rmv: 'Radeon Memory Visualizer trace (.rmv)',
};

export interface ImportedFrom {
  readonly format: ImportFormat;
  /**
   * Layout version as detected: "3" / "2" (VMA), "2" (D3D12MA), "pickle-5" / "json" (PyTorch),
   * "rmt-1.0" (legacy RMV file: its header's version) / "rdf-3" (RMV in an RDF container).
   */
  readonly version: string;
  /** File name (or the name the caller gave the bytes). */
  readonly file: string;
}

/** The allocator config of an imported trace: nothing of ours ran, so it only says where the data came from. */
export interface ImportedAllocatorConfig {
  readonly imported: true;
  /** The foreign allocator, e.g. "VulkanMemoryAllocator", "D3D12MemoryAllocator", "PyTorch CUDACachingAllocator". */
  readonly allocator: string;
  /** Settings the dump reports (preferred block sizes, PYTORCH_CUDA_ALLOC_CONF, ...), as text. */
  readonly settings: Readonly<Record<string, string>>;
}

export interface ImportedHeader {
  readonly device: DeviceDescription;
  readonly allocator: ImportedAllocatorConfig;
  readonly importedFrom: ImportedFrom;
}

/** Totals in the sense of the summary line; bytes. Per memory type as well (index = memory type). */
export interface ImportTotals {
  /** Device-memory objects: VkDeviceMemory, ID3D12Heap, PyTorch segment; each dedicated allocation is one. */
  blocks: number;
  blockBytes: number;
  /** Live suballocations and dedicated allocations (PyTorch: active allocated blocks). */
  allocations: number;
  allocatedBytes: number;
}

export interface ImportResult {
  readonly header: ImportedHeader;
  readonly log: EventLog;
  /** State at the end of the log (the dump's point in time). */
  readonly totals: ImportTotals;
  readonly perType: readonly ImportTotals[];
  /** Entries in the source's own event trace (PyTorch device_traces); null where the format has none. */
  readonly sourceEvents: number | null;
  /**
   * The state the event log ends in, when it differs from `totals` by construction (PyTorch expandable
   * segments: one block per mapped piece where the snapshot reports one segment per contiguous range).
   */
  readonly timelineEnd?: ImportTotals;
  /** One sentence each: where the dump contradicts itself or data had to be dropped. */
  readonly warnings: readonly string[];
  /** Lines describing what was found (pools, heaps, devices), for the CLI to print. */
  readonly found: readonly string[];
}

/**
 * A file that is not what it claims, or that cannot be read. `format` is the format that was expected
 * (null when no format could be recognised); the message is one sentence saying what was wrong and where.
 */
export class ImportError extends Error {
  readonly format: ImportFormat | null;
  constructor(format: ImportFormat | null, message: string) {
    super(message);
    this.name = 'ImportError';
    this.format = format;
  }
}

export function emptyTotals(): ImportTotals {
  return { blocks: 0, blockBytes: 0, allocations: 0, allocatedBytes: 0 };
}

/**
 * The one parseable summary line:
 * `format=<vma|d3d12ma|pytorch|rmv> version=<v> blocks=B block_bytes=X allocations=A allocated_bytes=Y [events=E]`.
 */
export function summaryLine(result: ImportResult): string {
  const t = result.totals;
  const from = result.header.importedFrom;
  const events = result.sourceEvents === null ? '' : ` events=${result.sourceEvents}`;
  return `format=${from.format} version=${from.version} blocks=${t.blocks} block_bytes=${t.blockBytes} allocations=${t.allocations} allocated_bytes=${t.allocatedBytes}${events}`;
}

/** Progress of a long import: bytes of the source consumed so far (and the pass, for two-pass readers). */
export type ImportProgress = (done: number, total: number | null, phase: string) => void;

/**
 * A GPU recorded by a tool outside Vulkan (a CUDA device of a PyTorch snapshot, the adapter of an RMV trace of
 * any API), described in Vulkan's terms, as the trace format knows only Vulkan, D3D12 and Metal: a discrete
 * device with the given heaps and memory types, no granularity or atom constraints, no allocation-count limit,
 * the largest heap (bytes) as the largest allocation, and buffer device address.
 */
export function vulkanTermsDevice(d: {
  readonly name: string;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly heaps: MemoryHeap[];
  readonly types: MemoryType[];
  /** `import:<format>:<file name>`. */
  readonly source: string;
}): DeviceDescription {
  return {
    name: d.name,
    api: 'vulkan',
    deviceType: 'discrete',
    vendorId: d.vendorId,
    deviceId: d.deviceId,
    driverVersion: '',
    apiVersion: '',
    heaps: d.heaps,
    types: d.types,
    limits: {
      bufferImageGranularity: 1,
      nonCoherentAtomSize: 1,
      maxMemoryAllocationCount: 0xffffffff,
      maxMemoryAllocationSize: Math.max(0, ...d.heaps.map((h) => h.size)),
    },
    extensions: { memoryBudget: false, dedicatedAllocation: false, bufferDeviceAddress: true },
    source: d.source,
  };
}

/** An allocate record whose fields can be set per event (EventLog.allocate copies them and keeps nothing). */
export type AllocateRecord = { -readonly [K in keyof AllocateEventFields]: AllocateEventFields[K] };

/**
 * One allocate record for an importer to reuse for every allocate event, its varying fields set per event
 * (an object per event was most of a million-entry timeline's garbage). What dumps do not say is neutral:
 * alignment 0, Linear, GpuOnly, no name, no decision, no retry, no stack.
 */
export function reusableAllocateRecord(): AllocateRecord {
  return {
    allocationId: 0,
    blockId: 0,
    memoryTypeIndex: 0,
    offset: 0,
    size: 0,
    alignment: 0,
    kind: AllocationKind.Linear,
    location: 'GpuOnly',
    name: '',
    decisionId: -1,
    usedRetry: false,
    stack: null,
  };
}
