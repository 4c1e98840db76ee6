// An index over one event stream (allocator/event-log.ts columns) that answers the inspector's questions
// without touching every event per query: allocation and block records with their lifetimes, and periodic
// checkpoints of the per-type committed/allocated bytes so a timeline range replays at most
// `checkpointEvery` events before its start. Pure: no DOM, no I/O.
import { FlagBits, TraceEventKind, flagsLocation } from '../../allocator/index.ts';
import type { DeviceDescription, EventColumns, MemoryTypeDecision } from '../../allocator/index.ts';
import type { AllocationKindName, AllocationRecord, TimelineMarker } from './source.ts';

/** The raw data of a trace or live session (an EventLog satisfies it). */
export interface TraceData {
  readonly columns: EventColumns;
  readonly length: number;
  readonly strings: { get(id: number): string };
  readonly decisions: readonly (MemoryTypeDecision | undefined)[];
}

export interface BlockRecord {
  readonly id: number;
  readonly memoryTypeIndex: number;
  readonly heapIndex: number;
  readonly size: number;
  readonly dedicated: boolean;
  readonly createdAt: number;
  destroyedAt: number | null;
}

type MutableAllocation = { -readonly [K in keyof AllocationRecord]: AllocationRecord[K] };

const kindNames: readonly AllocationKindName[] = ['linear', 'nonLinear', 'dedicated'];

/** Events between two checkpoints. A timeline query replays at most this many before its start. */
export const checkpointEvery = 4096;

export class TraceIndex {
  readonly allocations: AllocationRecord[] = [];
  readonly blocks: BlockRecord[] = [];
  readonly markers: TimelineMarker[] = [];
  /** Index into `allocations` by allocation id. */
  private readonly allocById = new Map<number, number>();
  private readonly blockById = new Map<number, number>();
  /** committed[type] / allocated[type] as of the last indexed event. */
  readonly committed: Float64Array;
  readonly allocated: Float64Array;
  /** Checkpoint k holds the per-type bytes after the first k * checkpointEvery events. */
  private readonly checkpoints: Float64Array[] = [];
  readonly typeToHeap: readonly number[];
  readonly typeCount: number;
  length = 0;
  peakCommitted = 0;
  peakCommittedAt = 0;
  peakAllocated = 0;
  peakAllocatedAt = 0;
  freeCount = 0;
  failureCount = 0;
  readonly peakCommittedByType: Float64Array;
  readonly peakAllocatedByType: Float64Array;
  readonly allocationCountByType: Float64Array;
  readonly peakCommittedByHeap: Float64Array;
  /** Last budget sample per heap (bytes), NaN when none. */
  readonly budget: Float64Array;
  readonly usage: Float64Array;
  private committedTotal = 0;
  private allocatedTotal = 0;

  constructor(
    readonly device: DeviceDescription,
    readonly data: TraceData,
  ) {
    this.typeCount = device.types.length;
    this.typeToHeap = device.types.map((t) => t.heapIndex);
    this.committed = new Float64Array(this.typeCount);
    this.allocated = new Float64Array(this.typeCount);
    this.peakCommittedByType = new Float64Array(this.typeCount);
    this.peakAllocatedByType = new Float64Array(this.typeCount);
    this.allocationCountByType = new Float64Array(this.typeCount);
    this.peakCommittedByHeap = new Float64Array(device.heaps.length);
    this.budget = new Float64Array(device.heaps.length).fill(Number.NaN);
    this.usage = new Float64Array(device.heaps.length).fill(Number.NaN);
    this.checkpoints.push(new Float64Array(this.typeCount * 2));
    this.extend();
  }

  /** Indexes events appended since the last call (live sessions grow). */
  extend(): void {
    const c = this.data.columns;
    const end = this.data.length;
    for (let i = this.length; i < end; i++) {
      this.apply(c, i);
      if ((i + 1) % checkpointEvery === 0) {
        const cp = new Float64Array(this.typeCount * 2);
        cp.set(this.committed, 0);
        cp.set(this.allocated, this.typeCount);
        this.checkpoints.push(cp);
      }
    }
    this.length = end;
  }

  private heapOf(type: number): number {
    return this.typeToHeap[type] ?? 0;
  }

  private apply(c: EventColumns, i: number): void {
    const kind = c.kind[i];
    switch (kind) {
      case TraceEventKind.Allocate: {
        const type = c.type[i] ?? 0;
        const size = c.size[i] ?? 0;
        const flags = c.flags[i] ?? 0;
        const stackId = c.stack[i] ?? 0;
        const id = c.id[i] ?? 0;
        const record: AllocationRecord = {
          id,
          name: this.data.strings.get(c.name[i] ?? 0),
          memoryTypeIndex: type,
          heapIndex: this.heapOf(type),
          location: flagsLocation(flags),
          kind: kindNames[flags & FlagBits.kindMask] ?? 'linear',
          blockId: c.block[i] ?? 0,
          offset: c.offset[i] ?? 0,
          size,
          alignment: c.alignment[i] ?? 1,
          allocatedAt: i,
          freedAt: null,
          origin: stackId === 0 ? null : this.data.strings.get(stackId),
          decisionId: c.decision[i] ?? -1,
          usedRetry: (flags & FlagBits.usedRetry) !== 0,
        };
        this.allocById.set(id, this.allocations.length);
        this.allocations.push(record);
        this.allocated[type] = (this.allocated[type] ?? 0) + size;
        this.allocatedTotal += size;
        this.allocationCountByType[type] = (this.allocationCountByType[type] ?? 0) + 1;
        if ((this.allocated[type] ?? 0) > (this.peakAllocatedByType[type] ?? 0))
          this.peakAllocatedByType[type] = this.allocated[type] ?? 0;
        if (this.allocatedTotal > this.peakAllocated) {
          this.peakAllocated = this.allocatedTotal;
          this.peakAllocatedAt = i + 1;
        }
        break;
      }
      case TraceEventKind.Free: {
        this.freeCount++;
        const k = this.allocById.get(c.id[i] ?? -1);
        if (k === undefined) break;
        const rec = this.allocations[k] as MutableAllocation | undefined;
        if (!rec || rec.freedAt !== null) break;
        rec.freedAt = i;
        this.allocated[rec.memoryTypeIndex] = (this.allocated[rec.memoryTypeIndex] ?? 0) - rec.size;
        this.allocatedTotal -= rec.size;
        break;
      }
      case TraceEventKind.Rename: {
        const k = this.allocById.get(c.id[i] ?? -1);
        const rec = k === undefined ? undefined : (this.allocations[k] as MutableAllocation | undefined);
        if (rec) rec.name = this.data.strings.get(c.name[i] ?? 0);
        break;
      }
      case TraceEventKind.BlockCreate: {
        const type = c.type[i] ?? 0;
        const size = c.size[i] ?? 0;
        const block: BlockRecord = {
          id: c.id[i] ?? 0,
          memoryTypeIndex: type,
          heapIndex: this.heapOf(type),
          size,
          dedicated: ((c.flags[i] ?? 0) & FlagBits.dedicated) !== 0,
          createdAt: i,
          destroyedAt: null,
        };
        this.blockById.set(block.id, this.blocks.length);
        this.blocks.push(block);
        this.committed[type] = (this.committed[type] ?? 0) + size;
        this.committedTotal += size;
        if ((this.committed[type] ?? 0) > (this.peakCommittedByType[type] ?? 0))
          this.peakCommittedByType[type] = this.committed[type] ?? 0;
        const heap = block.heapIndex;
        let heapBytes = 0;
        for (let t = 0; t < this.typeCount; t++)
          if (this.heapOf(t) === heap) heapBytes += this.committed[t] ?? 0;
        if (heapBytes > (this.peakCommittedByHeap[heap] ?? 0)) this.peakCommittedByHeap[heap] = heapBytes;
        if (this.committedTotal > this.peakCommitted) {
          this.peakCommitted = this.committedTotal;
          this.peakCommittedAt = i + 1;
        }
        break;
      }
      case TraceEventKind.BlockDestroy: {
        const k = this.blockById.get(c.id[i] ?? -1);
        const block = k === undefined ? undefined : this.blocks[k];
        if (!block || block.destroyedAt !== null) break;
        block.destroyedAt = i;
        this.committed[block.memoryTypeIndex] = (this.committed[block.memoryTypeIndex] ?? 0) - block.size;
        this.committedTotal -= block.size;
        break;
      }
      case TraceEventKind.Failure:
        this.failureCount++;
        this.markers.push({
          index: i,
          kind: 'failure',
          label: `${this.data.strings.get(c.name[i] ?? 0)}: ${this.data.strings.get(c.code[i] ?? 0)}`,
        });
        break;
      case TraceEventKind.Frame:
        this.markers.push({ index: i, kind: 'frame', label: `frame ${c.id[i] ?? 0}` });
        break;
      case TraceEventKind.Mark:
        this.markers.push({ index: i, kind: 'mark', label: this.data.strings.get(c.name[i] ?? 0) });
        break;
      case TraceEventKind.BudgetSample: {
        const heap = c.id[i] ?? 0;
        if (heap >= 0 && heap < this.budget.length) {
          this.budget[heap] = c.offset[i] ?? 0;
          this.usage[heap] = c.size[i] ?? 0;
        }
        break;
      }
      default:
        break;
    }
  }

  allocationById(id: number): AllocationRecord | undefined {
    const k = this.allocById.get(id);
    return k === undefined ? undefined : this.allocations[k];
  }

  blockByIdAt(id: number): BlockRecord | undefined {
    const k = this.blockById.get(id);
    return k === undefined ? undefined : this.blocks[k];
  }

  /**
   * Per-type committed and allocated bytes after the first `at` events (0 ≤ at ≤ length), written into
   * `committed` and `allocated` (length typeCount each). Replays from the nearest checkpoint.
   */
  bytesAt(at: number, committed: Float64Array, allocated: Float64Array): void {
    const k = Math.min(Math.floor(at / checkpointEvery), this.checkpoints.length - 1);
    const cp = this.checkpoints[k] ?? new Float64Array(this.typeCount * 2);
    committed.set(cp.subarray(0, this.typeCount));
    allocated.set(cp.subarray(this.typeCount));
    this.replay(k * checkpointEvery, at, committed, allocated, null);
  }

  /**
   * Applies the byte effects of events [from, to) to the per-type arrays. After each event, calls
   * `after(i)` when given (the timeline uses it to take per-bucket maxima).
   */
  replay(
    from: number,
    to: number,
    committed: Float64Array,
    allocated: Float64Array,
    after: ((i: number) => void) | null,
  ): void {
    const c = this.data.columns;
    for (let i = from; i < to; i++) {
      const kind = c.kind[i];
      if (kind === TraceEventKind.Allocate) {
        const t = c.type[i] ?? 0;
        allocated[t] = (allocated[t] ?? 0) + (c.size[i] ?? 0);
      } else if (kind === TraceEventKind.Free) {
        const rec = this.allocationById(c.id[i] ?? -1);
        if (rec && rec.freedAt === i)
          allocated[rec.memoryTypeIndex] = (allocated[rec.memoryTypeIndex] ?? 0) - rec.size;
      } else if (kind === TraceEventKind.BlockCreate) {
        const t = c.type[i] ?? 0;
        committed[t] = (committed[t] ?? 0) + (c.size[i] ?? 0);
      } else if (kind === TraceEventKind.BlockDestroy) {
        const block = this.blockByIdAt(c.id[i] ?? -1);
        if (block && block.destroyedAt === i)
          committed[block.memoryTypeIndex] = (committed[block.memoryTypeIndex] ?? 0) - block.size;
      }
      if (after) after(i);
    }
  }

  /** Wall time (ms) of event i, clamped to the trace. */
  timeOf(i: number): number {
    if (this.length === 0) return 0;
    return this.data.columns.time[Math.max(0, Math.min(this.length - 1, i))] ?? 0;
  }

  isAlive(rec: AllocationRecord, at: number): boolean {
    return rec.allocatedAt < at && (rec.freedAt === null || rec.freedAt >= at);
  }

  isBlockAlive(block: BlockRecord, at: number): boolean {
    return block.createdAt < at && (block.destroyedAt === null || block.destroyedAt >= at);
  }
}
