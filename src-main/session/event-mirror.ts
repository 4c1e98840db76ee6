// The main thread's copy of a run's event stream, rebuilt from the worker's batches: column chunks, the
// string table and the decision records. Reads concatenate chunks on demand.
import { concatEventColumns, type EventColumns, type MemoryTypeDecision } from '../../allocator/index.ts';
import type { EventBatch } from './run-protocol.ts';

export class EventMirror {
  private readonly chunks: EventColumns[] = [];
  readonly strings: string[] = [''];
  readonly decisions: MemoryTypeDecision[] = [];
  length = 0;
  private merged: EventColumns | null = null;

  /** Applies a batch; batches must arrive in order (each starts where the previous ended). */
  apply(batch: EventBatch): void {
    if (batch.start !== this.length)
      throw new Error(`event batch starts at ${batch.start}, expected ${this.length}`);
    for (let i = 0; i < batch.strings.length; i++)
      this.strings[batch.stringsStart + i] = batch.strings[i] as string;
    for (const d of batch.decisions) this.decisions[d.id] = d;
    const n = batch.columns.kind.length;
    if (n > 0) {
      this.chunks.push(batch.columns);
      this.length += n;
      this.merged = null;
    }
  }

  /** All events so far as one set of columns. */
  columns(): EventColumns {
    if (this.merged && this.merged.kind.length === this.length) return this.merged;
    const out = concatEventColumns(this.chunks);
    this.merged = out;
    return out;
  }

  /** A snapshot in the TraceEvents shape (what report/replay read). */
  view(): {
    length: number;
    columns: EventColumns;
    strings: readonly string[];
    decisions: readonly (MemoryTypeDecision | undefined)[];
  } {
    return { length: this.length, columns: this.columns(), strings: this.strings, decisions: this.decisions };
  }

  string(id: number): string {
    return this.strings[id] ?? '';
  }
}
