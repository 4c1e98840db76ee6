// Messages between `vramscope import` and its trace-stream worker thread (trace-stream-worker.ts), which
// encodes an import's event log into trace chunks while the import is still appending to it.
import type { EventColumns } from '../../allocator/event-log.ts';
import type { EndState } from '../../allocator/import/end-state.ts';
import type { TraceHeader } from '../../allocator/trace/index.ts';
import type { FinalBatch } from './final-events.ts';
import type { PrefaultRequest } from './prefault.ts';

/** The worker's workerData. */
export interface TraceStreamSettings {
  /** Events per chunk at most (as TraceWriter's maxEventsPerChunk). */
  readonly maxEventsPerChunk: number;
}

export type ToTraceStream =
  /**
   * The import's per-entry columns (EntryMemoryProvider): touch their pages just ahead of the rows written
   * (`rowsWritten[0]`; -1: the parse is over), never changing what they hold.
   */
  | { readonly type: 'prefault'; readonly request: PrefaultRequest }
  /** The log's columns (SharedArrayBuffers), sent again whenever the log grows into new ones. */
  | { readonly type: 'columns'; readonly columns: EventColumns }
  /** Events [0, final) are final (EventLog.watchFinal): encode the full chunks among them. */
  | ({ readonly type: 'final' } & FinalBatch)
  /** The log is complete with `final` events: write the trace to `path` (a temporary name). */
  | ({ readonly type: 'finish'; readonly header: TraceHeader; readonly path: string } & FinalBatch);

export type FromTraceStream =
  /**
   * After 'finish', before the file is written: what is live at the end of the log (endState, replayed on
   * this thread as the events became final, so the CLI's end-state check costs main nothing).
   */
  | { readonly type: 'end'; readonly end: EndState }
  | { readonly type: 'written'; readonly events: number; readonly bytes: number }
  /** Encoding or writing failed; the worker removed what it had written. */
  | { readonly type: 'failed'; readonly message: string };
