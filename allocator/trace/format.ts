// Trace format v1: constants, the header record's shape and its validation, and the error every malformed
// input turns into. The byte layout is documented in docs/trace-format.md; keep the two in step.
import type { DeviceDescription } from '../device.ts';
import type { BudgetMode, DebugSettings, MemoryTypeDecision, PlacementStrategyName } from '../types.ts';

export const TRACE_FORMAT_NAME = 'vramscope-trace';
export const TRACE_FORMAT_VERSION = 1;
/** "\x89VRAMTR\n": a high byte (not text), the name, and a newline that text-mode transfers would mangle. */
export const TRACE_MAGIC = new Uint8Array([0x89, 0x56, 0x52, 0x41, 0x4d, 0x54, 0x52, 0x0a]);
/** Magic (8 bytes) + format version (u32 little-endian). */
export const FILE_PREAMBLE_BYTES = 12;
/** Record frame: type (u8) + payload length (u32 LE) + CRC-32 of type byte and payload (u32 LE). */
export const RECORD_FRAME_BYTES = 9;

export const RecordType = {
  Header: 0x48, // 'H'
  Chunk: 0x43, // 'C'
  Index: 0x49, // 'I'
} as const;

/** Chunk payload encodings. */
export const ChunkEncoding = {
  Raw: 0,
  DeflateRaw: 1,
} as const;

/** Column modes inside a chunk. */
export const ColumnMode = {
  /** Every event's value is 0; no data. */
  Zero: 0,
  /** Values only for events whose kind uses the column (kindColumnUse); the others are 0. */
  Sparse: 1,
  /** A value for every event. */
  Dense: 2,
} as const;

/** Upper bounds that keep a hostile file from making the reader allocate without limit. */
export const limits = {
  maxHeaderBytes: 16 * 1024 * 1024,
  /** Uncompressed bytes of one chunk body. */
  maxChunkBodyBytes: 64 * 1024 * 1024,
  /** UTF-16 code units of one string. */
  maxStringUnits: 1024 * 1024,
  maxDecisionBytes: 1024 * 1024,
  maxEventsPerChunk: 1 << 20,
} as const;

/** Column tags in a v1 chunk: the index in eventColumnNames. */
export const ColumnTag = {
  kind: 0,
  time: 1,
  id: 2,
  block: 3,
  type: 4,
  offset: 5,
  size: 6,
  alignment: 7,
  flags: 8,
  name: 9,
  decision: 10,
  stack: 11,
  code: 12,
  message: 13,
  // Added in 0.2 for captured applications (docs/capture.md); older readers skip them.
  thread: 14,
  usage: 15,
  typeBits: 16,
  format: 17,
  // Added in 0.3 for imported dumps (docs/trace-format.md); older readers skip them.
  address: 18,
  stream: 19,
} as const;
/** Columns this reader and writer know (tags 0 ..< V1_COLUMN_COUNT); later tags are skipped. */
export const V1_COLUMN_COUNT = 20;

function bits(...tags: number[]): number {
  let m = 0;
  for (const t of tags) m |= 1 << t;
  return m;
}
const T = ColumnTag;
/**
 * Bit `tag` set: events of that kind use the column (EventColumns doc in allocator/event-log.ts). The uses
 * of tags 0-13 by kinds 1-10 are frozen (a v1 reader decodes sparse columns with them); a value outside its
 * kind's use makes the writer store that column densely, so every event log still round-trips.
 */
export const kindColumnUse: readonly number[] = [
  0,
  bits(T.id, T.block, T.type, T.offset, T.size, T.alignment, T.flags, T.name, T.decision, T.stack) |
    bits(T.thread, T.typeBits) |
    bits(T.address, T.stream), // Allocate
  bits(T.id) | bits(T.thread), // Free
  bits(T.type, T.size, T.alignment, T.flags, T.name, T.decision, T.stack, T.code, T.message) | bits(T.thread), // Failure
  bits(T.id, T.type, T.size, T.flags) | bits(T.thread) | bits(T.address), // BlockCreate
  bits(T.id) | bits(T.thread), // BlockDestroy
  bits(T.id, T.name) | bits(T.thread), // Rename
  bits(T.id, T.offset, T.size) | bits(T.thread), // BudgetSample
  bits(T.id, T.name) | bits(T.thread), // Frame
  bits(T.name, T.stack), // Mark
  bits(T.id, T.block, T.type, T.offset), // 10 Move
  0, // 11-15: reserved for other allocator events
  0,
  0,
  0,
  0,
  bits(T.id, T.flags, T.size, T.name, T.message, T.stack, T.thread, T.usage, T.format), // 16 ResourceCreate
  bits(T.id, T.thread), // 17 ResourceDestroy
  bits(T.id, T.offset, T.size, T.thread), // 18 MemoryMap
  bits(T.id, T.thread), // 19 MemoryUnmap
  bits(T.id, T.flags, T.name, T.thread), // 20 ObjectName
  bits(T.stack, T.thread), // 21 DeviceDestroy
  bits(T.thread), // 22 ProcessEnd
  bits(T.size, T.thread), // 23 CaptureLoss
];
/** Event kinds this reader knows: 1-10 (the allocator's) and 16-23 (captured applications). */
export const knownEventKinds: Uint8Array = (() => {
  const known = new Uint8Array(256);
  for (let k = 1; k <= 10; k++) known[k] = 1;
  for (let k = 16; k <= 23; k++) known[k] = 1;
  return known;
})();
/** Largest kind number a v1 trace may use: the per-kind delta state of the id column is this long. */
export const MAX_EVENT_KIND = 31;

// ---- Header --------------------------------------------------------------------------------------------

export interface TraceAllocatorConfig {
  readonly strategy: PlacementStrategyName;
  /** Bytes (gpu-allocator AllocationSizes); absent fields mean the allocator's defaults. */
  readonly allocationSizes: {
    readonly deviceMemblockSize?: number;
    readonly hostMemblockSize?: number;
    readonly deviceMaxMemblockSize?: number;
    readonly hostMaxMemblockSize?: number;
  };
  readonly debugSettings: DebugSettings;
  readonly bufferDeviceAddress: boolean;
  /**
   * Heap budget mode of the run (ignore / warn / strict). Added in 0.3; absent in older traces (they were
   * recorded in warn mode, or before budgets were checked).
   */
  readonly budget?: BudgetMode;
  /**
   * Scenario runs: `real` when each allocation created its buffer/image and used the driver's requirements
   * (the allocate events then carry the driver's memoryTypeBits in the typeBits column; size and alignment
   * are the driver's), `none` when it used the scenario's numbers. Absent in older traces (none).
   */
  readonly resources?: 'real' | 'none';
}

/** Where an imported trace came from (VMA/D3D12MA JSON dump, PyTorch snapshot, ...). */
export interface TraceImportInfo {
  /** Format name of the source, e.g. "vma-json". */
  readonly format: string;
  /** File name or description of the source. */
  readonly source: string;
  /** The source format's own version or layout name, when it has one. */
  readonly version?: string;
}

/** Free-form facts about the run that produced the trace (scenario, parameters, seed). */
export interface TraceSessionInfo {
  readonly scenario?: string;
  /** null stands for a value JSON cannot hold (NaN, Infinity). */
  readonly params?: Readonly<Record<string, string | number | boolean | null>>;
  readonly seed?: number;
}

/**
 * A captured application (`vramscope capture`, docs/capture.md): which process and which of its devices
 * (tracks) this trace holds. Added in 0.2; older readers ignore it.
 */
export interface TraceCaptureInfo {
  /** The command line given to `vramscope capture`. */
  readonly command: readonly string[];
  readonly pid: number;
  /** The executable the layer ran in (/proc/self/exe). */
  readonly executable: string;
  /** Which VkDevice of the process, in creation order (0, 1, ...): one trace per device. */
  readonly track: number;
  /** The raw VkDevice handle, "0x..." (for matching the application's own logs). */
  readonly deviceHandle: string;
  readonly layerVersion: number;
  /** Native call stacks were recorded. */
  readonly stacks: boolean;
  readonly applicationName?: string;
  readonly driverName?: string;
}

export interface TraceHeader {
  readonly format: typeof TRACE_FORMAT_NAME;
  readonly version: number;
  /** package.json version of the tool that wrote it. */
  readonly toolVersion: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly device: DeviceDescription;
  readonly allocator: TraceAllocatorConfig;
  readonly importedFrom?: TraceImportInfo;
  readonly session?: TraceSessionInfo;
  readonly capture?: TraceCaptureInfo;
}

/** One malformed input: `position` is the byte offset in the file; `eventIndex` the event, when known. */
export class TraceFormatError extends Error {
  readonly position: number;
  readonly eventIndex: number | null;
  constructor(message: string, position: number, eventIndex: number | null = null) {
    super(message);
    this.name = 'TraceFormatError';
    this.position = position;
    this.eventIndex = eventIndex;
  }
}

// ---- Header validation (data from strangers: check every field we read) --------------------------------

type Json = unknown;

class ShapeError extends Error {}

function obj(v: Json, path: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ShapeError(`${path} must be an object`);
  return v as Record<string, Json>;
}
function str(v: Json, path: string): string {
  if (typeof v !== 'string') throw new ShapeError(`${path} must be a string`);
  return v;
}
function bool(v: Json, path: string): boolean {
  if (typeof v !== 'boolean') throw new ShapeError(`${path} must be true or false`);
  return v;
}
function uint(v: Json, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new ShapeError(`${path} must be a non-negative integer below 2^53`);
  return v;
}
function arr(v: Json, path: string): Json[] {
  if (!Array.isArray(v)) throw new ShapeError(`${path} must be an array`);
  return v;
}
function oneOf<T extends string>(v: Json, path: string, choices: readonly T[]): T {
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v))
    throw new ShapeError(`${path} must be one of ${choices.join(', ')}`);
  return v as T;
}

function checkDevice(v: Json): DeviceDescription {
  const d = obj(v, 'device');
  str(d.name, 'device.name');
  oneOf(d.api, 'device.api', ['vulkan', 'd3d12', 'metal']);
  oneOf(d.deviceType, 'device.deviceType', ['discrete', 'integrated', 'virtual', 'cpu', 'other']);
  uint(d.vendorId, 'device.vendorId');
  uint(d.deviceId, 'device.deviceId');
  str(d.driverVersion, 'device.driverVersion');
  str(d.apiVersion, 'device.apiVersion');
  str(d.source, 'device.source');
  const heaps = arr(d.heaps, 'device.heaps');
  if (heaps.length > 64) throw new ShapeError('device.heaps has more than 64 entries');
  heaps.forEach((h, i) => {
    const o = obj(h, `device.heaps[${i}]`);
    if (uint(o.index, `device.heaps[${i}].index`) !== i)
      throw new ShapeError(`device.heaps[${i}].index must be ${i}`);
    uint(o.size, `device.heaps[${i}].size`);
    uint(o.flags, `device.heaps[${i}].flags`);
  });
  const types = arr(d.types, 'device.types');
  if (types.length > 64) throw new ShapeError('device.types has more than 64 entries');
  types.forEach((t, i) => {
    const o = obj(t, `device.types[${i}]`);
    if (uint(o.index, `device.types[${i}].index`) !== i)
      throw new ShapeError(`device.types[${i}].index must be ${i}`);
    uint(o.propertyFlags, `device.types[${i}].propertyFlags`);
    if (uint(o.heapIndex, `device.types[${i}].heapIndex`) >= heaps.length)
      throw new ShapeError(`device.types[${i}].heapIndex names no heap`);
    if (o.heapKind !== undefined) str(o.heapKind, `device.types[${i}].heapKind`);
    if (o.resourceCategory !== undefined)
      oneOf(o.resourceCategory, `device.types[${i}].resourceCategory`, [
        'buffer',
        'rtvDsvTexture',
        'otherTexture',
      ]);
  });
  const l = obj(d.limits, 'device.limits');
  uint(l.bufferImageGranularity, 'device.limits.bufferImageGranularity');
  uint(l.nonCoherentAtomSize, 'device.limits.nonCoherentAtomSize');
  uint(l.maxMemoryAllocationCount, 'device.limits.maxMemoryAllocationCount');
  uint(l.maxMemoryAllocationSize, 'device.limits.maxMemoryAllocationSize');
  const e = obj(d.extensions, 'device.extensions');
  bool(e.memoryBudget, 'device.extensions.memoryBudget');
  bool(e.dedicatedAllocation, 'device.extensions.dedicatedAllocation');
  bool(e.bufferDeviceAddress, 'device.extensions.bufferDeviceAddress');
  if (d.resourceHeapTier !== undefined && d.resourceHeapTier !== 1 && d.resourceHeapTier !== 2)
    throw new ShapeError('device.resourceHeapTier must be 1 or 2');
  return d as unknown as DeviceDescription;
}

function checkAllocator(v: Json): TraceAllocatorConfig {
  const a = obj(v, 'allocator');
  oneOf(a.strategy, 'allocator.strategy', ['tlsf', 'freelist']);
  const sizes = obj(a.allocationSizes, 'allocator.allocationSizes');
  for (const key of [
    'deviceMemblockSize',
    'hostMemblockSize',
    'deviceMaxMemblockSize',
    'hostMaxMemblockSize',
  ]) {
    if (sizes[key] !== undefined) uint(sizes[key], `allocator.allocationSizes.${key}`);
  }
  const dbg = obj(a.debugSettings, 'allocator.debugSettings');
  for (const key of [
    'logMemoryInformation',
    'logLeaksOnShutdown',
    'storeStackTraces',
    'logAllocations',
    'logFrees',
    'logStackTraces',
  ]) {
    bool(dbg[key], `allocator.debugSettings.${key}`);
  }
  bool(a.bufferDeviceAddress, 'allocator.bufferDeviceAddress');
  if (a.budget !== undefined) oneOf(a.budget, 'allocator.budget', ['ignore', 'warn', 'strict']);
  if (a.resources !== undefined) oneOf(a.resources, 'allocator.resources', ['real', 'none']);
  return a as unknown as TraceAllocatorConfig;
}

/** Validates a parsed header; throws TraceFormatError at `position` naming the first bad field. */
export function validateHeader(value: Json, position: number): TraceHeader {
  try {
    const h = obj(value, 'header');
    if (h.format !== TRACE_FORMAT_NAME) throw new ShapeError(`header.format must be "${TRACE_FORMAT_NAME}"`);
    const version = uint(h.version, 'header.version');
    if (version !== TRACE_FORMAT_VERSION)
      throw new ShapeError(
        `header.version is ${version}; this reader understands version ${TRACE_FORMAT_VERSION}`,
      );
    str(h.toolVersion, 'header.toolVersion');
    str(h.createdAt, 'header.createdAt');
    checkDevice(h.device);
    checkAllocator(h.allocator);
    if (h.importedFrom !== undefined) {
      const i = obj(h.importedFrom, 'header.importedFrom');
      str(i.format, 'header.importedFrom.format');
      str(i.source, 'header.importedFrom.source');
      if (i.version !== undefined) str(i.version, 'header.importedFrom.version');
    }
    if (h.session !== undefined) {
      const s = obj(h.session, 'header.session');
      if (s.scenario !== undefined) str(s.scenario, 'header.session.scenario');
      if (s.seed !== undefined && (typeof s.seed !== 'number' || !Number.isSafeInteger(s.seed)))
        throw new ShapeError('header.session.seed must be an integer');
      if (s.params !== undefined) {
        const p = obj(s.params, 'header.session.params');
        for (const [k, pv] of Object.entries(p)) {
          if (pv !== null && typeof pv !== 'string' && typeof pv !== 'number' && typeof pv !== 'boolean')
            throw new ShapeError(`header.session.params.${k} must be a string, number, boolean or null`);
        }
      }
    }
    if (h.capture !== undefined) {
      const c = obj(h.capture, 'header.capture');
      arr(c.command, 'header.capture.command').forEach((a, i) => str(a, `header.capture.command[${i}]`));
      uint(c.pid, 'header.capture.pid');
      str(c.executable, 'header.capture.executable');
      uint(c.track, 'header.capture.track');
      str(c.deviceHandle, 'header.capture.deviceHandle');
      uint(c.layerVersion, 'header.capture.layerVersion');
      bool(c.stacks, 'header.capture.stacks');
      if (c.applicationName !== undefined) str(c.applicationName, 'header.capture.applicationName');
      if (c.driverName !== undefined) str(c.driverName, 'header.capture.driverName');
    }
    return h as unknown as TraceHeader;
  } catch (error) {
    if (error instanceof ShapeError)
      throw new TraceFormatError(`bad trace header: ${error.message}`, position);
    throw error;
  }
}

/** Checks the fields of a decision record that the analysis reads; throws ShapeError-derived messages. */
export function validateDecision(value: Json, id: number): MemoryTypeDecision | string {
  try {
    const d = obj(value, `decision ${id}`);
    if (uint(d.id, `decision ${id}.id`) !== id)
      throw new ShapeError(`decision ${id} carries id ${String(d.id)}`);
    oneOf(d.api, `decision ${id}.api`, ['vulkan', 'd3d12', 'metal']);
    uint(d.memoryTypeBits, `decision ${id}.memoryTypeBits`);
    oneOf(d.location, `decision ${id}.location`, ['Unknown', 'GpuOnly', 'CpuToGpu', 'GpuToCpu']);
    bool(d.linear, `decision ${id}.linear`);
    str(d.scheme, `decision ${id}.scheme`);
    if (d.resourceCategory !== null)
      oneOf(d.resourceCategory, `decision ${id}.resourceCategory`, [
        'buffer',
        'rtvDsvTexture',
        'otherTexture',
      ]);
    arr(d.candidates, `decision ${id}.candidates`).forEach((c, i) => {
      const o = obj(c, `decision ${id}.candidates[${i}]`);
      uint(o.typeIndex, `decision ${id}.candidates[${i}].typeIndex`);
      uint(o.propertyFlags, `decision ${id}.candidates[${i}].propertyFlags`);
      uint(o.heapIndex, `decision ${id}.candidates[${i}].heapIndex`);
      bool(o.allowedByBits, `decision ${id}.candidates[${i}].allowedByBits`);
      arr(o.matchesAttempt, `decision ${id}.candidates[${i}].matchesAttempt`).forEach((m, k) =>
        bool(m, `decision ${id}.candidates[${i}].matchesAttempt[${k}]`),
      );
    });
    arr(d.attempts, `decision ${id}.attempts`).forEach((a, i) => {
      const o = obj(a, `decision ${id}.attempts[${i}]`);
      uint(o.requiredFlags, `decision ${id}.attempts[${i}].requiredFlags`);
      if (o.typeIndex !== null) uint(o.typeIndex, `decision ${id}.attempts[${i}].typeIndex`);
      str(o.label, `decision ${id}.attempts[${i}].label`);
    });
    if (d.winner !== null) uint(d.winner, `decision ${id}.winner`);
    str(d.reason, `decision ${id}.reason`);
    arr(d.fallbacks, `decision ${id}.fallbacks`).forEach((f, i) => str(f, `decision ${id}.fallbacks[${i}]`));
    if (d.retryTypeIndex !== null) uint(d.retryTypeIndex, `decision ${id}.retryTypeIndex`);
    return d as unknown as MemoryTypeDecision;
  } catch (error) {
    if (error instanceof ShapeError) return error.message;
    throw error;
  }
}
