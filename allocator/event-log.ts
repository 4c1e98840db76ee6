// The one event stream (DESIGN.md contract 2) kept as a growable struct of arrays: typed-array columns plus
// an interned string table. The recorder, the live UI and the trace writer all read slices of it; the
// allocator pushes into it through AllocatorEventSink without allocating an object per event.
import type {
  AllocateEventFields,
  AllocationKind,
  AllocatorEvent,
  AllocatorEventSink,
  BlockCreateEventFields,
  BudgetSampleEventFields,
  FailureEventFields,
  MemoryLocation,
  MemoryTypeDecision,
  MoveEventFields,
} from './types.ts';

export const enum TraceEventKind {
  Allocate = 1,
  Free = 2,
  Failure = 3,
  BlockCreate = 4,
  BlockDestroy = 5,
  Rename = 6,
  BudgetSample = 7,
  Frame = 8,
  Mark = 9,
  /** Defragmentation or relocation before growth moved a live allocation (id, block, type, offset: its new place). */
  Move = 10,
  // 16-31: events of a captured application (`vramscope capture`, docs/capture.md).
  ResourceCreate = 16,
  ResourceDestroy = 17,
  MemoryMap = 18,
  MemoryUnmap = 19,
  ObjectName = 20,
  DeviceDestroy = 21,
  ProcessEnd = 22,
  CaptureLoss = 23,
}

export const traceEventKindNames: Record<number, string> = {
  1: 'allocate',
  2: 'free',
  3: 'failure',
  4: 'blockCreate',
  5: 'blockDestroy',
  6: 'rename',
  7: 'budgetSample',
  8: 'frame',
  9: 'mark',
  10: 'move',
  16: 'resourceCreate',
  17: 'resourceDestroy',
  18: 'memoryMap',
  19: 'memoryUnmap',
  20: 'objectName',
  21: 'deviceDestroy',
  22: 'processEnd',
  23: 'captureLoss',
};

const locationCodes: Record<MemoryLocation, number> = { Unknown: 0, GpuOnly: 1, CpuToGpu: 2, GpuToCpu: 3 };
export const locationFromCode: readonly MemoryLocation[] = ['Unknown', 'GpuOnly', 'CpuToGpu', 'GpuToCpu'];

/**
 * `flags` column bits: 0-1 AllocationKind (Allocate) / linear (Failure and ResourceCreate: 0 linear,
 * 1 non-linear), 2-3 location code, 4 usedRetry (Allocate), 5 dedicated (BlockCreate), 6 image
 * (ResourceCreate, and ObjectName naming a resource), 7 memory (ObjectName naming a block).
 * BudgetSample: 0 for a periodic sample; budgetCrossed (0x1) when the allocator created a block that pushed
 * the heap past its budget (mode warn), budgetRefused (0x2) when the budget refused a block (mode strict:
 * usage is what the block would have made it). Set by the allocator on the budget samples it reports.
 */
export const FlagBits = {
  kindMask: 0x3,
  locationShift: 2,
  locationMask: 0xc,
  usedRetry: 0x10,
  dedicated: 0x20,
  image: 0x40,
  memory: 0x80,
  budgetCrossed: 0x1,
  budgetRefused: 0x2,
} as const;

export function packFlags(kind: number, location: MemoryLocation, usedRetry: boolean): number {
  return kind | (locationCodes[location] << FlagBits.locationShift) | (usedRetry ? FlagBits.usedRetry : 0);
}
export function flagsLocation(flags: number): MemoryLocation {
  return locationFromCode[(flags & FlagBits.locationMask) >> FlagBits.locationShift] ?? 'Unknown';
}

/**
 * Column meanings per kind (unused columns are 0):
 * - time: milliseconds since the session started (monotonic).
 * - id: allocation id (Allocate, Free, Rename, Move; Failure: 0), block id (BlockCreate/Destroy),
 *   heap index (BudgetSample), frame number (Frame), 0 (Mark).
 * - block: block id (Allocate, Move: the new block).
 * - type: memory type index (Allocate, BlockCreate, Move); -1 when none (Failure without a type).
 * - offset: bytes (Allocate, Move: the new data offset); budget bytes (BudgetSample).
 * - size: bytes requested (Allocate, Failure), block bytes (BlockCreate), usage bytes (BudgetSample).
 * - alignment: bytes (Allocate, Failure).
 * - flags: see FlagBits.
 * - name: string id: allocation name (Allocate, Failure, Rename), label (Mark, Frame).
 * - decision: decision id (Allocate, Failure), -1 when none.
 * - stack: string id of the stack / origin, 0 = none.
 * - code: string id of the failure code (Failure); message: string id of the failure message.
 *
 * Captured applications (kinds 16-23, docs/capture.md) reuse these columns (allocation id = resource id,
 * block id = the VkDeviceMemory's number) and add four:
 * - thread: OS thread id of the Vulkan call (0 = not recorded: the allocator's own events).
 * - usage: VkBufferUsageFlags / VkImageUsageFlags (ResourceCreate).
 * - typeBits: memoryTypeBits of the resource's memory requirements (Allocate of a bound resource).
 * - format: VkFormat (ResourceCreate of an image).
 *
 * Imported dumps (docs/importers.md) may add where things lie in the source's own address space:
 * - address: device address of an allocation (Allocate) or block (BlockCreate); 0 = not recorded (and for
 *   addresses at or above 2^53, which a trace column cannot hold exactly).
 * - stream: the stream an allocation was made on (Allocate; PyTorch's CUDA stream), stored as stream + 1:
 *   0 = not recorded.
 * ResourceCreate: id, flags (image, linear), size (buffer bytes; 0 for images), name, message (details
 * JSON), stack. ResourceDestroy: id. MemoryMap: id = block, offset, size (bytes; VK_WHOLE_SIZE as the
 * block's remaining bytes). MemoryUnmap: id = block. ObjectName: id (resource or block, see flags), name.
 * DeviceDestroy, ProcessEnd: no columns. CaptureLoss: size = records the layer dropped.
 */
export interface EventColumns {
  readonly kind: Uint8Array;
  readonly time: Float64Array;
  readonly id: Float64Array;
  readonly block: Float64Array;
  readonly type: Int16Array;
  readonly offset: Float64Array;
  readonly size: Float64Array;
  readonly alignment: Float64Array;
  readonly flags: Uint8Array;
  readonly name: Uint32Array;
  readonly decision: Int32Array;
  readonly stack: Uint32Array;
  readonly code: Uint32Array;
  readonly message: Uint32Array;
  readonly thread: Uint32Array;
  readonly usage: Float64Array;
  readonly typeBits: Float64Array;
  readonly format: Uint32Array;
  readonly address: Float64Array;
  readonly stream: Float64Array;
}

export const eventColumnNames: readonly (keyof EventColumns)[] = [
  'kind',
  'time',
  'id',
  'block',
  'type',
  'offset',
  'size',
  'alignment',
  'flags',
  'name',
  'decision',
  'stack',
  'code',
  'message',
  'thread',
  'usage',
  'typeBits',
  'format',
  'address',
  'stream',
];

/** The bit of column `name` in EventLog.columnsWritten: 1 << its index in eventColumnNames (a trace's column tag). */
export function columnBit(name: keyof EventColumns): number {
  return 1 << eventColumnNames.indexOf(name);
}
/** The bits of columns `names` (columnBit). */
export function columnBits(...names: (keyof EventColumns)[]): number {
  return names.reduce((m, n) => m | columnBit(n), 0);
}
/** The columns whose bits `bits` has (columnBits' inverse), in eventColumnNames order. */
export function columnNamesOf(bits: number): (keyof EventColumns)[] {
  return eventColumnNames.filter((_, tag) => (bits & (1 << tag)) !== 0);
}

/** Every column (columnsWritten of a source that does not track what it wrote). */
export const allColumnBits = (1 << eventColumnNames.length) - 1;
// What each EventLog method writes unconditionally (the conditional writes set their bit where they write).
const PUSH_BITS = columnBits('kind', 'time');
const ALLOCATE_BITS = columnBits('id', 'block', 'type', 'offset', 'size', 'flags', 'decision');
const FAILURE_BITS = columnBits(
  'type',
  'size',
  'alignment',
  'flags',
  'name',
  'code',
  'message',
  'decision',
  'stack',
);
const ID_BIT = columnBit('id');
const THREAD_BIT = columnBit('thread');
const ALIGNMENT_BIT = columnBit('alignment');
const ADDRESS_BIT = columnBit('address');
const STREAM_BIT = columnBit('stream');
const SIZE_BIT = columnBit('size');
const OBJECT_NAME_BITS = columnBits('id', 'flags', 'name');
const MEMORY_MAP_BITS = columnBits('id', 'offset', 'size');
const RESOURCE_CREATE_BITS = columnBits('id', 'flags', 'size', 'usage', 'format', 'name', 'message', 'stack');
const BUDGET_BITS = columnBits('id', 'offset', 'size', 'flags');
const MOVE_BITS = columnBits('id', 'block', 'type', 'offset');
const BLOCK_CREATE_BITS = columnBits('id', 'type', 'size', 'flags');
const NAME_BIT = columnBit('name');
const STACK_BIT = columnBit('stack');

export type MutableEventColumns = { -readonly [K in keyof EventColumns]: EventColumns[K] };

/** Bytes per element of each event column (the typed arrays allocateEventColumns makes). */
export const eventColumnBytes: Readonly<Record<keyof EventColumns, number>> = {
  kind: 1,
  time: 8,
  id: 8,
  block: 8,
  type: 2,
  offset: 8,
  size: 8,
  alignment: 8,
  flags: 1,
  name: 4,
  decision: 4,
  stack: 4,
  code: 4,
  message: 4,
  thread: 4,
  usage: 8,
  typeBits: 8,
  format: 4,
  address: 8,
  stream: 8,
};

/** Shared buffers to start some columns in (allocateEventColumns): zeroed, each at least capacity elements. */
export type GivenColumnBuffers = Partial<Record<keyof EventColumns, SharedArrayBuffer>>;

/**
 * Zeroed columns for `capacity` events: the one place that says which typed array each column is. `shared`:
 * in SharedArrayBuffers, so a worker thread can read the events without a copy (memory is only resident
 * once written, as with ordinary buffers). `given` (shared only): buffers to use instead of fresh ones for
 * some columns, as views of their first `capacity` elements (a buffer may be longer).
 */
export function allocateEventColumns(
  capacity: number,
  shared = false,
  given: GivenColumnBuffers = {},
): MutableEventColumns {
  type ColumnType<T> = new (
    lengthOrBuffer: number | ArrayBufferLike,
    byteOffset?: number,
    length?: number,
  ) => T;
  const col = <T>(name: keyof EventColumns, Type: ColumnType<T>): T => {
    if (!shared) return new Type(capacity);
    const buffer = given[name];
    if (buffer === undefined) return new Type(new SharedArrayBuffer(capacity * eventColumnBytes[name]));
    if (buffer.byteLength < capacity * eventColumnBytes[name])
      throw new RangeError(
        `allocateEventColumns: the buffer given for ${name} is shorter than ${capacity} events`,
      );
    return new Type(buffer, 0, capacity);
  };
  return {
    kind: col('kind', Uint8Array),
    time: col('time', Float64Array),
    id: col('id', Float64Array),
    block: col('block', Float64Array),
    type: col('type', Int16Array),
    offset: col('offset', Float64Array),
    size: col('size', Float64Array),
    alignment: col('alignment', Float64Array),
    flags: col('flags', Uint8Array),
    name: col('name', Uint32Array),
    decision: col('decision', Int32Array),
    stack: col('stack', Uint32Array),
    code: col('code', Uint32Array),
    message: col('message', Uint32Array),
    thread: col('thread', Uint32Array),
    usage: col('usage', Float64Array),
    typeBits: col('typeBits', Float64Array),
    format: col('format', Uint32Array),
    address: col('address', Float64Array),
    stream: col('stream', Float64Array),
  };
}

/**
 * Fresh columns for `capacity` events (at least as many as `cols` holds) with `cols` copied to the front.
 * `holdsData(name)` false: that column is known to be all zero, so it is not copied (its fresh pages stay
 * untouched, which costs no resident memory until something is written there).
 */
export function grownEventColumns(
  cols: EventColumns,
  capacity: number,
  holdsData: (name: keyof EventColumns) => boolean = () => true,
  shared = false,
): MutableEventColumns {
  const next = allocateEventColumns(capacity, shared);
  for (const key of eventColumnNames)
    if (holdsData(key)) (next[key] as Uint8Array).set(cols[key] as Uint8Array);
  return next;
}

/** The events of `chunks`, in order, as one set of columns (a single chunk is returned as it is). */
export function concatEventColumns(chunks: readonly EventColumns[]): EventColumns {
  if (chunks.length === 1) return chunks[0]!;
  const total = chunks.reduce((n, chunk) => n + chunk.kind.length, 0);
  const out = allocateEventColumns(total);
  for (const key of eventColumnNames) {
    const col = out[key] as Uint8Array;
    let at = 0;
    for (const chunk of chunks) {
      const part = chunk[key] as Uint8Array;
      col.set(part, at);
      at += part.length;
    }
  }
  return out;
}

/** Interned strings; id 0 is the empty string (and means "none" for stacks). */
export class StringTable {
  readonly strings: string[] = [''];
  private readonly ids = new Map<string, number>([['', 0]]);

  intern(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(value);
      this.ids.set(value, id);
    }
    return id;
  }

  get(id: number): string {
    return this.strings[id] ?? '';
  }

  get size(): number {
    return this.strings.length;
  }
}

export type Clock = () => number;

/** A captured buffer or image bound to memory (EventLog.bindResource). */
export interface BindResourceFields {
  readonly resourceId: number;
  readonly blockId: number;
  readonly memoryTypeIndex: number;
  /** Bytes into the block. */
  readonly offset: number;
  /** Bytes (the resource's memory requirements). */
  readonly size: number;
  /** Bytes. */
  readonly alignment: number;
  readonly kind: AllocationKind;
  /** VkMemoryRequirements.memoryTypeBits. */
  readonly memoryTypeBits: number;
  readonly name: string;
  readonly stack: string | null;
}

/** A captured buffer or image was created (EventLog.resourceCreate); not yet bound. */
export interface ResourceCreateFields {
  readonly resourceId: number;
  readonly image: boolean;
  /** Buffers and linear-tiling images are linear. */
  readonly linear: boolean;
  /** Bytes (memory requirements). */
  readonly size: number;
  /** VkBufferUsageFlags or VkImageUsageFlags. */
  readonly usage: number;
  /** VkFormat (images; 0 for buffers). */
  readonly format: number;
  readonly name: string;
  /** Creation details in words (extent, mips, ...). */
  readonly details: string;
  readonly stack: string | null;
}

/** vkMapMemory of a block (EventLog.memoryMap). */
export interface MemoryMapFields {
  readonly blockId: number;
  /** Bytes. */
  readonly offset: number;
  /** Bytes (VK_WHOLE_SIZE already resolved by the caller). */
  readonly size: number;
}

const defaultClock: Clock = () => performance.now();

export interface EventLogOptions {
  /** Events the columns hold before they first grow (default 4096). */
  readonly initialCapacity?: number;
  readonly clock?: Clock;
  /** Columns in SharedArrayBuffers (see allocateEventColumns), for a reader on another thread. */
  readonly sharedMemory?: boolean;
  /**
   * Columns to start in (allocateEventColumns; zeroed, holding no events), instead of fresh ones: their
   * length is the capacity, and initialCapacity and sharedMemory follow from them.
   */
  readonly columns?: MutableEventColumns;
}

/**
 * Growable struct-of-arrays event log. Implements AllocatorEventSink so an allocator can write into it
 * directly; scenarios add frames, marks and budget samples. `length` only grows.
 */
export class EventLog implements AllocatorEventSink {
  private cols: MutableEventColumns;
  private capacity: number;
  length = 0;
  readonly strings = new StringTable();
  /** Decision records by id, as the allocator numbered them. */
  readonly decisions: MemoryTypeDecision[] = [];
  private readonly clock: Clock;
  private readonly epoch: number;
  private decisionSource: ((id: number) => MemoryTypeDecision | undefined) | null = null;
  /** OS thread id written into every event pushed while set (captured applications; 0 = none). */
  thread = 0;
  private readonly sharedMemory: boolean;
  /** watchFinal: the next count of final events to report (Infinity: no watcher), and the step. */
  private watchAt = Infinity;
  private watchEvery = 0;
  private onFinal: (final: number) => void = () => {};
  /** columnsWritten. */
  private written = PUSH_BITS;

  constructor(options: EventLogOptions = {}) {
    const given = options.columns;
    this.capacity = given ? given.kind.length : Math.max(16, options.initialCapacity ?? 4096);
    this.sharedMemory = given
      ? given.kind.buffer instanceof SharedArrayBuffer
      : (options.sharedMemory ?? false);
    this.cols = given ?? allocateEventColumns(this.capacity, this.sharedMemory);
    this.clock = options.clock ?? defaultClock;
    this.epoch = this.clock();
  }

  /**
   * Calls `onFinal(n)` each time `every` more events are final, n = every, 2 every, ...: events [0, n) no
   * longer change (all but the last appended event are final: placeLast and bindResource amend the last one,
   * nothing amends an earlier one). Called while event n is appended, before it is written, so `columns`
   * and `strings` then hold everything those events name. One watcher at a time.
   */
  watchFinal(every: number, onFinal: (final: number) => void): void {
    this.watchEvery = Math.max(1, Math.floor(every));
    this.watchAt = (Math.floor(this.length / this.watchEvery) + 1) * this.watchEvery;
    this.onFinal = onFinal;
  }

  /** Lets the log copy each decision record the first time an event names it. */
  setDecisionSource(source: (id: number) => MemoryTypeDecision | undefined): void {
    this.decisionSource = source;
  }

  get columns(): EventColumns {
    return this.cols;
  }

  /**
   * The columns this log may hold a value other than 0 in, as columnBit bits: a column whose bit is clear
   * is 0 for every event (every write sets its column's bit), so a reader may skip it without reading it.
   * Only grows.
   */
  get columnsWritten(): number {
    return this.written;
  }

  /**
   * Writes `value` into column `name` of the last event (a field its method does not take: a bound
   * resource's memoryTypeBits, a captured call's type, stack or details), keeping columnsWritten right.
   */
  setOnLast(name: 'type' | 'typeBits' | 'stack' | 'message', value: number): void {
    this.cols[name][this.length - 1] = value;
    if (value !== 0) this.written |= columnBit(name);
  }

  /** Milliseconds since the log was created. */
  now(): number {
    return this.clock() - this.epoch;
  }

  private grow(): void {
    this.cols = grownEventColumns(this.cols, this.capacity * 2, undefined, this.sharedMemory);
    this.capacity *= 2;
  }

  /**
   * Appends an event with every column zeroed except kind and time; returns its index. Rows past `length`
   * are zero (fresh columns; `length` only grows), so zeros that are the common case (thread, alignment,
   * name, stack) are not written: a column never written stays untouched memory (no resident pages; a
   * million imported events that never name a thread cost nothing there).
   */
  private push(kind: TraceEventKind): number {
    if (this.length === this.watchAt) {
      this.watchAt += this.watchEvery;
      this.onFinal(this.length);
    }
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.cols.kind[i] = kind;
    this.cols.time[i] = this.now();
    if (this.thread !== 0) {
      this.cols.thread[i] = this.thread;
      this.written |= THREAD_BIT;
    }
    return i;
  }

  private noteDecision(id: number): void {
    if (id >= 0 && this.decisions[id] === undefined && this.decisionSource) {
      const decision = this.decisionSource(id);
      if (decision) this.decisions[id] = decision;
    }
  }

  /** AllocatorEventSink: copies the record's fields into the columns (the record is not kept). */
  event(e: AllocatorEvent): void {
    switch (e.type) {
      case 'allocate':
        this.allocate(e);
        return;
      case 'free':
        this.free(e.allocationId);
        return;
      case 'failure':
        this.failure(e);
        return;
      case 'blockCreate':
        this.blockCreate(e);
        return;
      case 'blockDestroy':
        this.blockDestroy(e.blockId);
        return;
      case 'rename':
        this.rename(e.allocationId, e.name);
        return;
      case 'budgetSample':
        this.budgetSample(e);
        return;
      case 'move':
        this.move(e);
        return;
    }
  }

  allocate(e: AllocateEventFields): void {
    const i = this.push(TraceEventKind.Allocate);
    const c = this.cols;
    this.written |= ALLOCATE_BITS;
    c.id[i] = e.allocationId;
    c.block[i] = e.blockId;
    c.type[i] = e.memoryTypeIndex;
    c.offset[i] = e.offset;
    c.size[i] = e.size;
    if (e.alignment !== 0) {
      c.alignment[i] = e.alignment;
      this.written |= ALIGNMENT_BIT;
    }
    c.flags[i] = packFlags(e.kind, e.location, e.usedRetry);
    if (e.name !== '') {
      c.name[i] = this.strings.intern(e.name);
      this.written |= NAME_BIT;
    }
    c.decision[i] = e.decisionId;
    if (e.stack !== null && e.stack !== '') {
      c.stack[i] = this.strings.intern(e.stack);
      this.written |= STACK_BIT;
    }
    this.noteDecision(e.decisionId);
  }

  /**
   * Where the event just recorded (an allocate or blockCreate of an imported dump) lies in the source's
   * address space, and the stream an allocation was made on: see `address` / `stream` in EventColumns.
   * An address that is not a safe integer (a bigint above 2^53) is not recorded.
   */
  placeLast(address: number | bigint | null, stream: number | null = null): void {
    const i = this.length - 1;
    if (typeof address === 'number' && Number.isSafeInteger(address) && address > 0) {
      this.cols.address[i] = address;
      this.written |= ADDRESS_BIT;
    }
    if (stream !== null && Number.isSafeInteger(stream) && stream >= 0 && stream < Number.MAX_SAFE_INTEGER) {
      this.cols.stream[i] = stream + 1;
      this.written |= STREAM_BIT;
    }
  }

  free(allocationId: number): void {
    const i = this.push(TraceEventKind.Free);
    this.cols.id[i] = allocationId;
    this.written |= ID_BIT;
  }

  failure(e: FailureEventFields): void {
    const i = this.push(TraceEventKind.Failure);
    const c = this.cols;
    this.written |= FAILURE_BITS;
    c.type[i] = -1;
    c.size[i] = e.size;
    c.alignment[i] = e.alignment;
    c.flags[i] = packFlags(e.linear ? 0 : 1, e.location, false);
    c.name[i] = this.strings.intern(e.name);
    c.code[i] = this.strings.intern(e.code);
    c.message[i] = this.strings.intern(e.message);
    c.decision[i] = e.decisionId;
    c.stack[i] = e.stack === null ? 0 : this.strings.intern(e.stack);
    this.noteDecision(e.decisionId);
  }

  blockCreate(e: BlockCreateEventFields): void {
    const i = this.push(TraceEventKind.BlockCreate);
    this.written |= BLOCK_CREATE_BITS;
    const c = this.cols;
    c.id[i] = e.blockId;
    c.type[i] = e.memoryTypeIndex;
    c.size[i] = e.size;
    c.flags[i] = e.dedicated ? FlagBits.dedicated : 0;
  }

  blockDestroy(blockId: number): void {
    const i = this.push(TraceEventKind.BlockDestroy);
    this.written |= ID_BIT;
    this.cols.id[i] = blockId;
  }

  rename(allocationId: number, name: string): void {
    const i = this.push(TraceEventKind.Rename);
    this.written |= ID_BIT | NAME_BIT;
    this.cols.id[i] = allocationId;
    this.cols.name[i] = this.strings.intern(name);
  }

  move(e: MoveEventFields): void {
    const i = this.push(TraceEventKind.Move);
    this.written |= MOVE_BITS;
    const c = this.cols;
    c.id[i] = e.allocationId;
    c.block[i] = e.blockId;
    c.type[i] = e.memoryTypeIndex;
    c.offset[i] = e.offset;
  }

  /** `e.flags`: 0 or absent (a periodic sample), FlagBits.budgetCrossed or FlagBits.budgetRefused. */
  budgetSample(e: BudgetSampleEventFields): void {
    const i = this.push(TraceEventKind.BudgetSample);
    this.written |= BUDGET_BITS;
    this.cols.id[i] = e.heapIndex;
    this.cols.offset[i] = e.budget;
    this.cols.size[i] = e.usage;
    this.cols.flags[i] = e.flags ?? 0;
  }

  frame(frameNumber: number, label = ''): void {
    const i = this.push(TraceEventKind.Frame);
    this.written |= ID_BIT | NAME_BIT;
    this.cols.id[i] = frameNumber;
    this.cols.name[i] = this.strings.intern(label);
  }

  mark(label: string, stack: string | null = null): void {
    const i = this.push(TraceEventKind.Mark);
    this.written |= NAME_BIT | STACK_BIT;
    this.cols.name[i] = this.strings.intern(label);
    this.cols.stack[i] = stack === null ? 0 : this.strings.intern(stack);
  }

  // ---- Captured applications (docs/capture.md) ----------------------------------------------------------

  /** A bound buffer or image: an Allocate event that also carries the requirements' memoryTypeBits. */
  /** A bound buffer or image: an Allocate event that also carries the requirements' memoryTypeBits. */
  bindResource(e: BindResourceFields): void {
    this.allocate({
      allocationId: e.resourceId,
      blockId: e.blockId,
      memoryTypeIndex: e.memoryTypeIndex,
      offset: e.offset,
      size: e.size,
      alignment: e.alignment,
      kind: e.kind,
      location: 'Unknown',
      name: e.name,
      decisionId: -1,
      usedRetry: false,
      stack: e.stack,
    });
    this.setOnLast('typeBits', e.memoryTypeBits);
  }

  resourceCreate(e: ResourceCreateFields): void {
    const i = this.push(TraceEventKind.ResourceCreate);
    this.written |= RESOURCE_CREATE_BITS;
    const c = this.cols;
    c.id[i] = e.resourceId;
    c.flags[i] = (e.linear ? 0 : 1) | (e.image ? FlagBits.image : 0);
    c.size[i] = e.size;
    c.usage[i] = e.usage;
    c.format[i] = e.format;
    c.name[i] = this.strings.intern(e.name);
    c.message[i] = this.strings.intern(e.details);
    c.stack[i] = e.stack === null ? 0 : this.strings.intern(e.stack);
  }

  resourceDestroy(resourceId: number): void {
    const i = this.push(TraceEventKind.ResourceDestroy);
    this.written |= ID_BIT;
    this.cols.id[i] = resourceId;
  }

  memoryMap(e: MemoryMapFields): void {
    const i = this.push(TraceEventKind.MemoryMap);
    this.written |= MEMORY_MAP_BITS;
    this.cols.id[i] = e.blockId;
    this.cols.offset[i] = e.offset;
    this.cols.size[i] = e.size;
  }

  memoryUnmap(blockId: number): void {
    const i = this.push(TraceEventKind.MemoryUnmap);
    this.written |= ID_BIT;
    this.cols.id[i] = blockId;
  }

  /** A name given to a block (memory) or to a resource that is not bound (bound ones get a Rename). */
  objectName(id: number, what: 'memory' | 'buffer' | 'image', name: string): void {
    const i = this.push(TraceEventKind.ObjectName);
    this.written |= OBJECT_NAME_BITS;
    this.cols.id[i] = id;
    this.cols.flags[i] = what === 'memory' ? FlagBits.memory : what === 'image' ? FlagBits.image : 0;
    this.cols.name[i] = this.strings.intern(name);
  }

  deviceDestroy(stack: string | null = null): void {
    const i = this.push(TraceEventKind.DeviceDestroy);
    this.written |= STACK_BIT;
    this.cols.stack[i] = stack === null ? 0 : this.strings.intern(stack);
  }

  processEnd(): void {
    this.push(TraceEventKind.ProcessEnd);
  }

  /** The layer lost `records` records (its buffer overflowed): the trace is incomplete from here. */
  captureLoss(records: number): void {
    const i = this.push(TraceEventKind.CaptureLoss);
    this.written |= SIZE_BIT;
    this.cols.size[i] = records;
  }

  /** Copies events [start, end) into fresh arrays (for shipping a batch to a UI or a trace chunk). */
  slice(start: number, end: number = this.length): EventColumns {
    const out = {} as MutableEventColumns;
    for (const key of eventColumnNames) {
      (out as Record<string, unknown>)[key] = (this.cols[key] as Uint8Array).slice(start, end);
    }
    return out;
  }
}
