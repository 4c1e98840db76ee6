// The event data every trace consumer reads: an EventLog (live), or a loaded trace. Same columns, a string
// table as a plain array (id 0 = ""), and decision records by id (sparse: undefined where unknown).
import type { EventColumns, EventLog } from '../event-log.ts';
import type { MemoryTypeDecision } from '../types.ts';

export interface TraceEvents {
  readonly length: number;
  readonly columns: EventColumns;
  readonly strings: readonly string[];
  readonly decisions: readonly (MemoryTypeDecision | undefined)[];
  /**
   * The columns that may hold a value other than 0, as columnBit bits (EventLog.columnsWritten): a column
   * without its bit is 0 for every event, and readers may skip it. Absent: any column may.
   */
  readonly columnsWritten?: number;
}

/** A live view of an EventLog as TraceEvents (length and columns follow the log as it grows). */
export function traceEventsOf(log: EventLog): TraceEvents {
  return {
    get length() {
      return log.length;
    },
    get columns() {
      return log.columns;
    },
    get strings() {
      return log.strings.strings;
    },
    get decisions() {
      return log.decisions;
    },
    get columnsWritten() {
      return log.columnsWritten;
    },
  };
}
