// Replays an EventLog's block and allocation events and returns the totals of what is live at the end:
// the check that an imported timeline really ends in the state the dump describes.
import { TraceEventKind, type EventColumns } from '../event-log.ts';
import { emptyTotals, type ImportTotals } from './model.ts';
import { IdIndex } from '../id-index.ts';

export interface EndState {
  readonly totals: ImportTotals;
  /** Index = memory type. */
  readonly perType: ImportTotals[];
  /** Frees / destroys naming ids that were not live (0 for a well-formed log). */
  readonly unknownIds: number;
}

/**
 * endState of a log that grows: `advance` replays the events up to a count (they must not change once
 * replayed: final events, see EventLog.watchFinal), `result` gives the totals of what is live so far.
 */
export class EndStateReplay {
  /** Live ids -> the index of the event that made each (its type and size are read there). */
  private readonly blocks = new IdIndex();
  private readonly allocations = new IdIndex();
  private unknownIds = 0;
  /** The columns last replayed from (a grown log's columns hold every earlier event too). */
  private columns: EventColumns | null = null;
  /** Events replayed so far. */
  replayed = 0;

  /** Replays events [replayed, upTo) of `c`. */
  advance(c: EventColumns, upTo: number): void {
    const { blocks, allocations } = this;
    this.columns = c;
    for (let i = this.replayed; i < upTo; i++) {
      const id = c.id[i]!;
      switch (c.kind[i]) {
        case TraceEventKind.BlockCreate:
          blocks.set(id, i);
          break;
        case TraceEventKind.BlockDestroy:
          if (!blocks.delete(id)) this.unknownIds++;
          break;
        case TraceEventKind.Allocate:
          allocations.set(id, i);
          break;
        case TraceEventKind.Free:
          if (!allocations.delete(id)) this.unknownIds++;
          break;
        default:
          break;
      }
    }
    this.replayed = Math.max(this.replayed, upTo);
  }

  result(): EndState {
    const totals = emptyTotals();
    const perType: ImportTotals[] = [];
    const typeTotals = (t: number): ImportTotals => {
      while (perType.length <= t) perType.push(emptyTotals());
      return perType[t]!;
    };
    const c = this.columns;
    if (c === null) return { totals, perType, unknownIds: this.unknownIds };
    // Each live id's size counts in the totals and in its memory type's.
    const sum = (ids: IdIndex, add: (to: ImportTotals, size: number) => void): void =>
      ids.forEachValue((i) => {
        const size = c.size[i]!;
        add(totals, size);
        add(typeTotals(c.type[i]!), size);
      });
    sum(this.blocks, (to, size) => {
      to.blocks++;
      to.blockBytes += size;
    });
    sum(this.allocations, (to, size) => {
      to.allocations++;
      to.allocatedBytes += size;
    });
    return { totals, perType, unknownIds: this.unknownIds };
  }
}

/** Any event store with the EventLog columns: a live EventLog or a loaded trace's events. */
export function endState(log: { readonly length: number; readonly columns: EventColumns }): EndState {
  const replay = new EndStateReplay();
  replay.advance(log.columns, log.length);
  return replay.result();
}
