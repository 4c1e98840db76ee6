// Memory made ready for the next large import while the trace worker has nothing to do (issue 11).
//
// On this project's machine class (a virtual machine) the first touch of a fresh page costs 3-22 µs per
// 4 KiB (the guest's fault and zeroing, and the host's own fault behind it; less with huge pages), against
// well under 1 µs on bare metal. A 1M-entry PyTorch import writes about 30 MB of entry columns and 55 MB of
// timeline columns, all fresh. prefault.ts already has the main thread touch them ahead of the importer,
// but during an upload that touching competes with the browser and the parse for the same two cores. The
// reserve moves it to before the file is picked: the trace worker touches shared buffers shaped like a
// large import's columns while idle, and the next import large enough to fill them starts its columns
// there (docs/importers.md, "Thirteenth pass").
//
// What it costs: about 80 MiB resident while the server or app waits (the touched pages). The first
// import of a snapshot of 64-256 MB takes it, and a new one is made once that import has ended. Where a
// first touch is cheap (firstTouchMicros below reserveFirstTouchMicros) there is no reserve.
// VRAMSCOPE_IMPORT_RESERVE=off turns it off.
import { columnNamesOf, eventColumnBytes, type GivenColumnBuffers } from '../../allocator/event-log.ts';
import { pytorchEntryColumnBytes, pytorchTimelineShape } from '../../allocator/import/index.ts';
import { ColumnPages, PAGE_INTS, touchableBuffer } from './prefault.ts';

/** What a reserve is shaped for: a large import's columns (pytorchEntryColumnBytes, pytorchTimelineShape). */
export interface ReserveShape {
  /** Bytes per element of each entry column, in the importer's order. */
  readonly entryColumnBytes: readonly number[];
  /** The timeline log's columns the import writes (columnBit bits of EventColumns). */
  readonly logColumns: number;
  /** About how many timeline events an entry makes. */
  readonly eventsPerEntry: number;
}

export interface ReserveSize {
  /** Rows each reserved column can hold: its length. Pages never touched cost address space only. */
  readonly capacityRows: number;
  /**
   * Entry rows whose pages are touched in advance (the log's: eventsPerEntry as many). An import is given
   * the reserve only when it asks for at least this many rows, so that most of what was touched is used.
   */
  readonly touchedEntryRows: number;
}

/** 4M rows of room (snapshots up to 256 MB: the importer asks for a row per 64 bytes), the first 1M touched. */
export const defaultReserveSize: ReserveSize = { capacityRows: 1 << 22, touchedEntryRows: 1 << 20 };

/** The buffers of a taken reserve. */
export interface ReservedColumns {
  /** One per entry column (ReserveShape.entryColumnBytes order), each capacityRows elements long. */
  readonly entries: SharedArrayBuffer[];
  /** One per log column the import writes; the rest are made fresh by allocateEventColumns. */
  readonly log: GivenColumnBuffers;
}

/** A fill slice runs this long at most before it lets the worker's messages through, ms. */
const SLICE_MS = 4;
/** Pages each column group is given per step of a slice (the clock is read between steps). */
const STEP_PAGES = 64;

export class ImportReserve {
  private columns: ReservedColumns | null = null;
  /** The reserve's entry columns and log columns, touched from their first row (prefault.ts's toucher). */
  private touching: ColumnPages[] = [];
  private filling = false;

  constructor(
    readonly shape: ReserveShape,
    readonly size: ReserveSize = defaultReserveSize,
  ) {}

  /** Every page meant to be touched is: take() can hand the reserve out. */
  get full(): boolean {
    return this.columns !== null && this.touching.every((pages) => pages.complete);
  }

  /** Bytes of the reserve's buffers touching has covered so far (resident). */
  get touchedBytes(): number {
    return this.touching.reduce((sum, pages) => sum + pages.touchedBytes, 0);
  }

  /**
   * Makes the reserve (if it was taken or never made) and touches its pages, a few ms at a time between
   * the thread's other work, until it is full or `busy()` says an import has started (a later fill goes on
   * where this one stopped). Resolves when it stops. Failing to get the memory leaves no reserve.
   */
  async fill(busy: () => boolean = () => false): Promise<void> {
    if (this.filling) return;
    this.filling = true;
    try {
      if (this.columns === null && !this.make()) return;
      for (;;) {
        if (busy()) return;
        const started = performance.now();
        let pages = 0;
        do {
          pages = 0;
          for (const group of this.touching) pages += group.touch(0, Infinity, STEP_PAGES);
        } while (pages > 0 && performance.now() - started < SLICE_MS);
        if (pages === 0) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.filling = false;
    }
  }

  /**
   * The reserve, for an import asking for `entryRows` entry rows and `logRows` log rows of this shape:
   * taken (the next fill makes a new one) when it is full and the request fits and uses most of it; null
   * otherwise (the import makes fresh memory, as without a reserve). A request of this shape too large
   * for it lets the reserve go, so that its pages are not held beside that import's (the next fill makes
   * a new one).
   */
  take(
    entryRows: number,
    logRows: number,
    entryColumnBytes: readonly number[],
    logColumns: number,
  ): ReservedColumns | null {
    const { capacityRows, touchedEntryRows } = this.size;
    const sameShape =
      logColumns === this.shape.logColumns &&
      entryColumnBytes.length === this.shape.entryColumnBytes.length &&
      entryColumnBytes.every((b, i) => b === this.shape.entryColumnBytes[i]);
    const columns = this.columns;
    if (!sameShape || columns === null) return null;
    if (Math.max(entryRows, logRows) > capacityRows) {
      this.release();
      return null;
    }
    if (!this.full || entryRows < touchedEntryRows) return null;
    this.release();
    return columns;
  }

  /** Drops the buffers (collected once nothing else holds them); a fill makes new ones. */
  private release(): void {
    this.columns = null;
    this.touching = [];
  }

  private make(): boolean {
    const { capacityRows, touchedEntryRows } = this.size;
    const { entryColumnBytes } = this.shape;
    try {
      const entries = entryColumnBytes.map((b) => touchableBuffer(capacityRows * b));
      const logNames = columnNamesOf(this.shape.logColumns);
      const logBytes = logNames.map((name) => eventColumnBytes[name]);
      const logBuffers = logBytes.map((b) => touchableBuffer(capacityRows * b));
      const log: GivenColumnBuffers = {};
      logNames.forEach((name, k) => (log[name] = logBuffers[k]));
      this.columns = { entries, log };
      this.touching = [
        new ColumnPages({ buffers: entries, rows: touchedEntryRows, elementBytes: entryColumnBytes }),
        new ColumnPages({
          buffers: logBuffers,
          rows: Math.ceil(touchedEntryRows * this.shape.eventsPerEntry),
          elementBytes: logBytes,
        }),
      ];
      return true;
    } catch {
      // No address space or memory for it (a limit on virtual memory): no reserve, imports as before.
      return false;
    }
  }
}

/**
 * What the first touch of a fresh page costs here, µs per 4 KiB: `bytes` of fresh shared memory written
 * once per page, timed. Huge pages, where the kernel gives them, make each first touch dearer and the rest
 * of its 2 MiB free; the average is what an import pays.
 */
export function firstTouchMicros(bytes = 8 << 20): number {
  const view = new Int32Array(new SharedArrayBuffer(bytes));
  const started = performance.now();
  for (let i = 0; i < view.length; i += PAGE_INTS) view[i] = 0;
  return ((performance.now() - started) * 1000) / (bytes / 4096);
}

/** Above this first-touch cost (µs per 4 KiB) a reserve saves an open more than it costs; below, none is made. */
export const reserveFirstTouchMicros = 1.5;

/**
 * The trace worker's reserve: shaped for PyTorch snapshots (the importer that asks for entry memory), made
 * where a first touch is slow. VRAMSCOPE_IMPORT_RESERVE=off: never; =on: whatever a first touch costs.
 */
export function importReserveFor(setting: string | undefined): ImportReserve | null {
  if (setting === 'off') return null;
  if (setting !== 'on' && firstTouchMicros() < reserveFirstTouchMicros) return null;
  return new ImportReserve({
    entryColumnBytes: pytorchEntryColumnBytes,
    logColumns: pytorchTimelineShape.columns,
    eventsPerEntry: pytorchTimelineShape.eventsPerEntry,
  });
}
