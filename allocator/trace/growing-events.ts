// A growing event stream assembled from slices (a live session's batches, as the scenario worker sends
// them): columns with capacity doubling, so appending k events costs O(k) amortised and the columns never
// need concatenating. Read as TraceEvents by the analysis, which extends itself by the new events.
import {
  allocateEventColumns,
  eventColumnNames,
  grownEventColumns,
  type EventColumns,
  type MutableEventColumns,
} from '../event-log.ts';
import type { MemoryTypeDecision } from '../types.ts';
import type { TraceEvents } from './events.ts';

/** One slice of a stream: events [start, start + columns.kind.length) and what they introduce. */
export interface EventSlice {
  readonly start: number;
  readonly columns: EventColumns;
  /** String ids stringsStart.. of the stream's string table. */
  readonly stringsStart: number;
  readonly strings: readonly string[];
  readonly decisions: readonly MemoryTypeDecision[];
}

export class GrowingEvents implements TraceEvents {
  length = 0;
  private cols: MutableEventColumns = allocateEventColumns(1024);
  readonly strings: string[] = [''];
  readonly decisions: (MemoryTypeDecision | undefined)[] = [];

  /** Columns of at least `length` events (the tail past `length` is unused capacity). */
  get columns(): EventColumns {
    return this.cols;
  }

  /** Appends a slice; slices must come in order (each starts where the previous ended). */
  append(slice: EventSlice): void {
    if (slice.start !== this.length)
      throw new Error(`event slice starts at ${slice.start}, expected ${this.length}`);
    for (let i = 0; i < slice.strings.length; i++) this.strings[slice.stringsStart + i] = slice.strings[i]!;
    for (const d of slice.decisions) this.decisions[d.id] = d;
    const n = slice.columns.kind.length;
    const end = this.length + n;
    if (end > this.cols.kind.length)
      this.cols = grownEventColumns(this.cols, Math.max(end, this.cols.kind.length * 2));
    for (const key of eventColumnNames)
      (this.cols[key] as Uint8Array).set(slice.columns[key] as Uint8Array, this.length);
    this.length = end;
  }
}
