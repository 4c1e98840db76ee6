// Touching an import's fresh memory on another thread, ahead of the thread that will write it. On this
// project's machine class (a virtual machine) the first touch of a 4 KiB page costs about 18 µs; a
// 1M-entry PyTorch import writes ~30 MB of entry columns while it parses and ~40 MB of timeline columns
// while it builds, which made a fifth of its time. The importer keeps both in shared memory made here
// (ImportOptions.entryMemory, .eventLog) and publishes how many entries it has written; a thread that has
// nothing else to do meanwhile (the CLI's trace-stream worker; the web server's main thread) touches the
// pages just ahead of that count, so the importer finds them present. Touching never changes what the
// memory holds.
import {
  EventLog,
  allocateEventColumns,
  columnNamesOf,
  type EventLogOptions,
  type MutableEventColumns,
} from '../../allocator/event-log.ts';
import type { EntryMemoryProvider } from '../../allocator/import/index.ts';
import type { ImportReserve } from './import-reserve.ts';

/** Columns of `rows` rows, one buffer each, with their element sizes (bytes). */
export interface PrefaultColumns {
  readonly buffers: readonly SharedArrayBuffer[];
  readonly rows: number;
  readonly elementBytes: readonly number[];
}

/** What a toucher is given (postMessage-able): see PrefaultedImportMemory. */
export interface PrefaultRequest {
  /** Entries the importer has written ([0]; stored every few thousand, -1 when its parse is over). */
  readonly rowsWritten: Int32Array;
  /** The entries' columns: touched just ahead of the rows written. */
  readonly entries: PrefaultColumns;
  /** The timeline log's columns it will write: touched up to eventsPerEntry rows per entry written. */
  readonly log: PrefaultColumns;
  readonly eventsPerEntry: number;
}

/**
 * The memory side: entryMemory (an EntryMemoryProvider) makes the entries' columns and the timeline's log
 * columns in shared memory and hands the request to `prefault` (to send to the toucher); eventLog starts
 * the timeline in those log columns when they have room for it.
 */
export class PrefaultedImportMemory {
  /** Log columns made by entryMemory for the timeline, until eventLog takes them. */
  private spareColumns: MutableEventColumns | null = null;

  /**
   * `reserve`: memory touched while the thread was idle (import-reserve.ts), taken by an import large
   * enough for it; the toucher then finds those pages present and goes past them quickly.
   */
  constructor(
    private readonly prefault: (request: PrefaultRequest) => void,
    private readonly reserve: ImportReserve | null = null,
  ) {}

  readonly entryMemory: EntryMemoryProvider = (rows, elementBytes, timeline) => {
    // Room for an event per entry and more (the timeline has about timeline.eventsPerEntry).
    const logRows = rows + 4096;
    const reserved = this.reserve?.take(rows, logRows, elementBytes, timeline.columns) ?? null;
    const buffers = reserved?.entries ?? elementBytes.map((b) => touchableBuffer(rows * b));
    const rowsWritten = new Int32Array(new SharedArrayBuffer(4));
    const columns = allocateEventColumns(logRows, true, reserved?.log);
    this.spareColumns = columns;
    const written = columnNamesOf(timeline.columns);
    this.prefault({
      rowsWritten,
      entries: { buffers, rows, elementBytes },
      log: {
        buffers: written.map((name) => columns[name].buffer as SharedArrayBuffer),
        rows: logRows,
        elementBytes: written.map((name) => columns[name].BYTES_PER_ELEMENT),
      },
      eventsPerEntry: timeline.eventsPerEntry,
    });
    return { buffers, rowsWritten };
  };

  /** A log for `options`: in the columns entryMemory made when they have room (once), else fresh shared ones. */
  eventLog(options: EventLogOptions): EventLog {
    const spare = this.spareColumns;
    this.spareColumns = null;
    return spare !== null && spare.kind.length >= (options.initialCapacity ?? 0)
      ? new EventLog({ ...options, columns: spare })
      : new EventLog({ ...options, sharedMemory: true });
  }
}

/** How far ahead of the parse the entries' pages are touched (rows; a few tens of ms of parsing). */
const AHEAD_ROWS = 131072;
/** 4 KiB pages, in Int32s. */
export const PAGE_INTS = 1024;

/**
 * A shared buffer of at least `bytes`, in whole 8-byte words, so that ColumnPages' Int32Array views cover
 * every byte of it.
 */
export function touchableBuffer(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.ceil(bytes / 8) * 8);
}

/** Pages of some columns touched so far (also the idle import reserve's, import-reserve.ts). */
export class ColumnPages {
  private readonly views: Int32Array[];
  /** Per column: the next int to touch. */
  private readonly next: number[];
  constructor(private readonly columns: PrefaultColumns) {
    this.views = columns.buffers.map((b) => new Int32Array(b, 0, b.byteLength >> 2));
    this.next = this.views.map(() => 0);
  }

  /** Column k's int index past its first `rows` rows (within its buffer). */
  private end(k: number, rows: number = this.columns.rows): number {
    return Math.min(this.views[k]!.length, Math.ceil((rows * this.columns.elementBytes[k]!) / 4));
  }

  /** Bytes of the columns' rows touching has covered so far, for columns touched from their first row. */
  get touchedBytes(): number {
    let ints = 0;
    for (let k = 0; k < this.views.length; k++) ints += Math.min(this.next[k]!, this.end(k));
    return ints * 4;
  }

  /** Every page of the columns' rows is touched. */
  get complete(): boolean {
    return this.views.every((_, k) => this.next[k]! >= this.end(k));
  }

  /**
   * Touches the pages of rows [from, to) not touched yet (rows below `from` are the writer's own: present),
   * at most `budget` pages; returns the pages touched. An atomic compare-exchange of 0 with 0 per page
   * changes nothing (a value the writer wrote is not 0, and stays) but makes the page present.
   */
  touch(from: number, to: number, budget: number): number {
    const rows = Math.min(to, this.columns.rows);
    let pages = 0;
    for (let k = 0; k < this.views.length && pages < budget; k++) {
      const view = this.views[k]!;
      const end = this.end(k, rows);
      let i = Math.max(this.next[k]!, Math.floor((from * this.columns.elementBytes[k]!) / 4));
      for (; i < end && pages < budget; i += PAGE_INTS, pages++) Atomics.compareExchange(view, i, 0, 0);
      this.next[k] = i;
    }
    return pages;
  }
}

/** One request's touching, step by step. */
class Toucher {
  private readonly entries: ColumnPages;
  private readonly log: ColumnPages;
  constructor(private readonly request: PrefaultRequest) {
    this.entries = new ColumnPages(request.entries);
    this.log = new ColumnPages(request.log);
  }

  /** The entries written (-1: the parse is over). */
  get written(): number {
    return Atomics.load(this.request.rowsWritten, 0);
  }

  /** Touches up to `budget` pages ahead of `written`; returns the pages touched (0: nothing left for now). */
  step(written: number, budget: number): number {
    const r = this.request;
    const pages = this.entries.touch(written, written + AHEAD_ROWS, budget);
    return pages + this.log.touch(0, Math.floor(written * r.eventsPerEntry) + AHEAD_ROWS, budget - pages);
  }

  /** Whether everything there is to touch is touched. */
  done(written: number): boolean {
    return written < 0 || written + AHEAD_ROWS >= this.request.entries.rows;
  }
}

/**
 * Touches the request's pages until the parse is over, blocking this thread (a worker that has nothing
 * else to do: its messages wait meanwhile).
 */
export function prefaultBlocking(request: PrefaultRequest): void {
  const t = new Toucher(request);
  for (let written = t.written; !t.done(written); written = t.written) {
    t.step(written, Infinity);
    Atomics.wait(request.rowsWritten, 0, written, 2);
  }
}

/**
 * Touches the request's pages until the parse is over, a slice of at most `slicePages` pages per turn of
 * the event loop (a thread that serves other things meanwhile: a slice is about 1 ms here). Resolves when
 * done.
 */
export async function prefaultInSlices(request: PrefaultRequest, slicePages = 48): Promise<void> {
  const t = new Toucher(request);
  let seen = t.written;
  let seenAt = performance.now();
  for (let written = seen; !t.done(written); written = t.written) {
    // An importer that stopped publishing without ending (its thread died): let the memory go.
    if (written !== seen) {
      seen = written;
      seenAt = performance.now();
    } else if (performance.now() - seenAt > STALL_MS) return;
    const pages = t.step(written, slicePages);
    // Nothing to touch until more entries are written: look again a little later.
    await new Promise((resolve) => (pages > 0 ? setImmediate(resolve) : setTimeout(resolve, 2)));
  }
}
/** How long prefaultInSlices waits for an importer that writes no more rows (ms). */
const STALL_MS = 30_000;
