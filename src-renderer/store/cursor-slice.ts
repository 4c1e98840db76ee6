// Cursor slice: the one "current time" every view follows (an event index in [0, eventCount]: the state
// after that many events), the visible timeline window, a brushed range, the diff anchor and the selected
// allocation. Moving the cursor fetches the snapshot at it, at most once per `snapshotWindowMs` (the first
// move at once, the last one of a burst after the window: holding an arrow key sends a few requests, not
// one per event); only the newest answer is kept. Request counters and the timer live in the store, so two
// stores never cancel each other's answers.
import type { StateCreator } from 'zustand/vanilla';
import type { AllocationDetail, Snapshot } from '../data/source.ts';
import { errorSentence } from './session-slice.ts';
import type { InspectorState } from './store.ts';

export interface EventRange {
  /** Inclusive event index. */
  readonly start: number;
  /** Exclusive event index. */
  readonly end: number;
}

export interface CursorSlice {
  cursor: number;
  /** Timeline window shown (zoom/pan). */
  range: EventRange;
  /** Brushed range on the timeline (shift-drag), null when none. */
  brush: EventRange | null;
  /** The cursor position the diff compares against (the "from" side), null when none. */
  diffFrom: number | null;
  snapshot: Snapshot | null;
  selectedId: number | null;
  selected: AllocationDetail | null;
  detailError: string | null;
  setCursor(cursor: number): void;
  /** Moves the cursor by `delta` events, clamped to the trace. */
  stepCursor(delta: number): void;
  setRange(range: EventRange): void;
  setBrush(brush: EventRange | null): void;
  setDiffFrom(at: number | null): void;
  select(id: number | null): Promise<void>;
  /** Numbers the snapshot and selection requests; an answer is kept only when it is the newest. */
  snapshotSeq: number;
  selectSeq: number;
  /** The pending trailing snapshot request of a burst of cursor moves, null when none. */
  snapshotTimer: ReturnType<typeof setTimeout> | null;
  /** true while the window after a snapshot request is open (later moves wait for its end). */
  snapshotWindowOpen: boolean;
}

/** Cursor moves within this many ms of a snapshot request share one trailing request. */
export const snapshotWindowMs = 50;

export const createCursorSlice: StateCreator<InspectorState, [], [], CursorSlice> = (set, get) => ({
  cursor: 0,
  range: { start: 0, end: 0 },
  brush: null,
  diffFrom: null,
  snapshot: null,
  selectedId: null,
  selected: null,
  detailError: null,
  snapshotSeq: 0,
  selectSeq: 0,
  snapshotTimer: null,
  snapshotWindowOpen: false,
  setCursor(requested) {
    const max = get().overview?.eventCount ?? 0;
    const cursor = Math.max(0, Math.min(max, Math.round(requested)));
    set({ cursor });
    if (!get().source || !get().overview) return;
    const request = (): void => {
      const source = get().source;
      if (!source) return;
      const seq = get().snapshotSeq + 1;
      const at = get().cursor;
      set({ snapshotSeq: seq, snapshotWindowOpen: true });
      source.snapshot(at).then(
        (snapshot) => {
          if (seq === get().snapshotSeq) set({ snapshot });
        },
        () => {
          if (seq === get().snapshotSeq) set({ snapshot: null });
        },
      );
      set({
        snapshotTimer: setTimeout(() => {
          set({ snapshotTimer: null, snapshotWindowOpen: false });
          // Moves during the window: one request for where the cursor ended up.
          if (get().cursor !== at) request();
        }, snapshotWindowMs),
      });
    };
    if (!get().snapshotWindowOpen) request();
  },
  stepCursor(delta) {
    get().setCursor(get().cursor + delta);
  },
  setRange(range) {
    const max = get().overview?.eventCount ?? 0;
    const start = Math.max(0, Math.min(max, Math.floor(range.start)));
    const end = Math.max(start, Math.min(max, Math.ceil(range.end)));
    set({ range: { start, end } });
  },
  setBrush(brush) {
    set({ brush });
  },
  setDiffFrom(at) {
    set({ diffFrom: at });
  },
  async select(id) {
    const seq = get().selectSeq + 1;
    set({ selectSeq: seq, selectedId: id, detailError: null, selected: id === null ? null : get().selected });
    const source = get().source;
    if (id === null || !source) return;
    try {
      const detail = await source.allocation(id);
      if (seq !== get().selectSeq) return;
      set({
        selected: detail,
        detailError: detail ? null : `Allocation ${id} is not in this trace.`,
      });
    } catch (e) {
      if (seq === get().selectSeq) set({ selected: null, detailError: errorSentence(e) });
    }
  },
});
