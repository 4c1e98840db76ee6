// The one event stream (DESIGN.md contract 2) kept as a growable struct of arrays: typed-array columns plus
// an interned string table. The recorder, the live UI and the trace writer all read slices of it; the
// allocator pushes into it through AllocatorEventSink without allocating an object per event.
import type { AllocationKind, AllocatorEventSink, MemoryLocation, MemoryTypeDecision } from './types.ts';

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
  /** Defragmentation moved a live allocation (id, block, type, offset: its new place). */
  Move = 10,
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
};

const locationCodes: Record<MemoryLocation, number> = { Unknown: 0, GpuOnly: 1, CpuToGpu: 2, GpuToCpu: 3 };
export const locationFromCode: readonly MemoryLocation[] = ['Unknown', 'GpuOnly', 'CpuToGpu', 'GpuToCpu'];

/**
 * `flags` column bits: 0-1 AllocationKind (Allocate) / linear (Failure: 0 linear, 1 non-linear),
 * 2-3 location code, 4 usedRetry (Allocate), 5 dedicated (BlockCreate).
 */
export const FlagBits = {
  kindMask: 0x3,
  locationShift: 2,
  locationMask: 0xc,
  usedRetry: 0x10,
  dedicated: 0x20,
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
];

export type MutableEventColumns = { -readonly [K in keyof EventColumns]: EventColumns[K] };

/** Zeroed columns for `capacity` events: the one place that says which typed array each column is. */
export function allocateEventColumns(capacity: number): MutableEventColumns {
  return {
    kind: new Uint8Array(capacity),
    time: new Float64Array(capacity),
    id: new Float64Array(capacity),
    block: new Float64Array(capacity),
    type: new Int16Array(capacity),
    offset: new Float64Array(capacity),
    size: new Float64Array(capacity),
    alignment: new Float64Array(capacity),
    flags: new Uint8Array(capacity),
    name: new Uint32Array(capacity),
    decision: new Int32Array(capacity),
    stack: new Uint32Array(capacity),
    code: new Uint32Array(capacity),
    message: new Uint32Array(capacity),
  };
}

/** Fresh columns for `capacity` events (at least as many as `cols` holds) with `cols` copied to the front. */
export function grownEventColumns(cols: EventColumns, capacity: number): MutableEventColumns {
  const next = allocateEventColumns(capacity);
  for (const key of eventColumnNames) (next[key] as Uint8Array).set(cols[key] as Uint8Array);
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

const defaultClock: Clock = () => performance.now();

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

  constructor(options: { initialCapacity?: number; clock?: Clock } = {}) {
    this.capacity = Math.max(16, options.initialCapacity ?? 4096);
    this.cols = allocateEventColumns(this.capacity);
    this.clock = options.clock ?? defaultClock;
    this.epoch = this.clock();
  }

  /** Lets the log copy each decision record the first time an event names it. */
  setDecisionSource(source: (id: number) => MemoryTypeDecision | undefined): void {
    this.decisionSource = source;
  }

  get columns(): EventColumns {
    return this.cols;
  }

  /** Milliseconds since the log was created. */
  now(): number {
    return this.clock() - this.epoch;
  }

  private grow(): void {
    this.cols = grownEventColumns(this.cols, this.capacity * 2);
    this.capacity *= 2;
  }

  /** Appends an event with every column zeroed except kind and time; returns its index. */
  private push(kind: TraceEventKind): number {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.cols.kind[i] = kind;
    this.cols.time[i] = this.now();
    return i;
  }

  private noteDecision(id: number): void {
    if (id >= 0 && this.decisions[id] === undefined && this.decisionSource) {
      const decision = this.decisionSource(id);
      if (decision) this.decisions[id] = decision;
    }
  }

  allocate(
    allocationId: number,
    blockId: number,
    memoryTypeIndex: number,
    offset: number,
    size: number,
    alignment: number,
    kind: AllocationKind,
    location: MemoryLocation,
    name: string,
    decisionId: number,
    usedRetry: boolean,
    stack: string | null,
  ): void {
    const i = this.push(TraceEventKind.Allocate);
    const c = this.cols;
    c.id[i] = allocationId;
    c.block[i] = blockId;
    c.type[i] = memoryTypeIndex;
    c.offset[i] = offset;
    c.size[i] = size;
    c.alignment[i] = alignment;
    c.flags[i] = packFlags(kind, location, usedRetry);
    c.name[i] = this.strings.intern(name);
    c.decision[i] = decisionId;
    c.stack[i] = stack === null ? 0 : this.strings.intern(stack);
    this.noteDecision(decisionId);
  }

  free(allocationId: number): void {
    const i = this.push(TraceEventKind.Free);
    this.cols.id[i] = allocationId;
  }

  failure(
    name: string,
    size: number,
    alignment: number,
    location: MemoryLocation,
    linear: boolean,
    code: string,
    message: string,
    decisionId: number,
    stack: string | null,
  ): void {
    const i = this.push(TraceEventKind.Failure);
    const c = this.cols;
    c.type[i] = -1;
    c.size[i] = size;
    c.alignment[i] = alignment;
    c.flags[i] = packFlags(linear ? 0 : 1, location, false);
    c.name[i] = this.strings.intern(name);
    c.code[i] = this.strings.intern(code);
    c.message[i] = this.strings.intern(message);
    c.decision[i] = decisionId;
    c.stack[i] = stack === null ? 0 : this.strings.intern(stack);
    this.noteDecision(decisionId);
  }

  blockCreate(blockId: number, memoryTypeIndex: number, size: number, dedicated: boolean): void {
    const i = this.push(TraceEventKind.BlockCreate);
    const c = this.cols;
    c.id[i] = blockId;
    c.type[i] = memoryTypeIndex;
    c.size[i] = size;
    c.flags[i] = dedicated ? FlagBits.dedicated : 0;
  }

  blockDestroy(blockId: number): void {
    const i = this.push(TraceEventKind.BlockDestroy);
    this.cols.id[i] = blockId;
  }

  rename(allocationId: number, name: string): void {
    const i = this.push(TraceEventKind.Rename);
    this.cols.id[i] = allocationId;
    this.cols.name[i] = this.strings.intern(name);
  }

  move(allocationId: number, blockId: number, memoryTypeIndex: number, offset: number): void {
    const i = this.push(TraceEventKind.Move);
    const c = this.cols;
    c.id[i] = allocationId;
    c.block[i] = blockId;
    c.type[i] = memoryTypeIndex;
    c.offset[i] = offset;
  }

  budgetSample(heapIndex: number, budget: number, usage: number): void {
    const i = this.push(TraceEventKind.BudgetSample);
    this.cols.id[i] = heapIndex;
    this.cols.offset[i] = budget;
    this.cols.size[i] = usage;
  }

  frame(frameNumber: number, label = ''): void {
    const i = this.push(TraceEventKind.Frame);
    this.cols.id[i] = frameNumber;
    this.cols.name[i] = this.strings.intern(label);
  }

  mark(label: string, stack: string | null = null): void {
    const i = this.push(TraceEventKind.Mark);
    this.cols.name[i] = this.strings.intern(label);
    this.cols.stack[i] = stack === null ? 0 : this.strings.intern(stack);
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
