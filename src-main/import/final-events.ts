// Events still being written (an import's timeline log, EventLog.watchFinal; a trace being decoded),
// shared with a worker thread as they become final. Their columns are SharedArrayBuffers: the worker reads
// them in place, so the writer sends only what the columns do not hold, with each batch: how many events
// are final, the strings added since the last batch, and which columns have been written. Two threads read
// events this way: the CLI's trace-stream worker (trace-stream.ts), which encodes the trace file, and the
// web server's analysis thread (analysis-follower.ts), which analyses them.
import type { EventColumns } from '../../allocator/event-log.ts';
import type { TraceEvents } from '../../allocator/trace/index.ts';

/**
 * Events [0, final) of the log are final. `strings`: the log's strings from the count sent so far on
 * (every string those events name is among them); `columnsWritten`: the log's EventLog.columnsWritten then
 * (a column without its bit is 0 in those events: not read).
 */
export interface FinalBatch {
  readonly final: number;
  readonly strings: readonly string[];
  readonly columnsWritten: number;
}

/** The writer's side: the batches of one stream of events, and its columns whenever they are new ones. */
export class FinalEventsSender {
  private sentColumns: EventColumns | null = null;
  /** Strings sent so far (the receiver starts with string 0, ""). */
  private sentStrings = 1;

  /** `sendColumns` is called, before the batch that needs them, each time the columns are new. */
  constructor(private readonly sendColumns: (columns: EventColumns) => void) {}

  /**
   * The batch saying events [0, final) of `events` are final (a live view of them: traceEventsOf for an
   * EventLog); sends their columns first if they are new. `events` must say which columns are written.
   */
  batch(events: TraceEvents, final: number): FinalBatch {
    if (events.columnsWritten === undefined)
      throw new Error('FinalEventsSender: the events do not say which columns are written');
    if (events.columns !== this.sentColumns) {
      this.sentColumns = events.columns;
      this.sendColumns(events.columns);
    }
    const all = events.strings;
    const strings = all.slice(this.sentStrings);
    this.sentStrings = all.length;
    return { final, strings, columnsWritten: events.columnsWritten };
  }
}

/**
 * The worker's side: the final events as TraceEvents, grown batch by batch. Without decision records: the
 * trace-stream worker is sent only logs without any, and the analysis does not read them.
 */
export class FinalEvents implements TraceEvents {
  private cols: EventColumns | null = null;
  private finalEvents = 0;
  private written = 0;
  readonly strings: string[] = [''];
  readonly decisions = [];

  get length(): number {
    return this.finalEvents;
  }

  get columns(): EventColumns {
    if (this.cols === null) throw new Error('no event columns were sent');
    return this.cols;
  }

  /** The columns, or null before any were sent. */
  get columnsIfSent(): EventColumns | null {
    return this.cols;
  }

  get columnsWritten(): number {
    return this.written;
  }

  setColumns(columns: EventColumns): void {
    this.cols = columns;
  }

  /** Takes in a batch: `batch.final` events are final now. */
  advance(batch: FinalBatch): void {
    for (const s of batch.strings) this.strings.push(s);
    this.finalEvents = batch.final;
    this.written = batch.columnsWritten;
  }
}
