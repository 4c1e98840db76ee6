// Cursor slice: the one "current time" every view follows (an event index in [0, eventCount]: the state
// after that many events), the visible timeline window, a brushed range, the diff anchor and the selected
// allocation. Moving the cursor fetches the snapshot at it; only the newest answer is kept.
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
}

let snapshotSeq = 0;
let selectSeq = 0;

export const createCursorSlice: StateCreator<InspectorState, [], [], CursorSlice> = (set, get) => ({
  cursor: 0,
  range: { start: 0, end: 0 },
  brush: null,
  diffFrom: null,
  snapshot: null,
  selectedId: null,
  selected: null,
  detailError: null,
  setCursor(requested) {
    const max = get().overview?.eventCount ?? 0;
    const cursor = Math.max(0, Math.min(max, Math.round(requested)));
    set({ cursor });
    const source = get().source;
    if (!source || !get().overview) return;
    const seq = ++snapshotSeq;
    source.snapshot(cursor).then(
      (snapshot) => {
        if (seq === snapshotSeq) set({ snapshot });
      },
      () => {
        if (seq === snapshotSeq) set({ snapshot: null });
      },
    );
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
    const seq = ++selectSeq;
    set({ selectedId: id, detailError: null, selected: id === null ? null : get().selected });
    const source = get().source;
    if (id === null || !source) return;
    try {
      const detail = await source.allocation(id);
      if (seq !== selectSeq) return;
      set({
        selected: detail,
        detailError: detail ? null : `Allocation ${id} is not in this trace.`,
      });
    } catch (e) {
      if (seq === selectSeq) set({ selected: null, detailError: errorSentence(e) });
    }
  },
});
