// Allocations slice (issue 11): the timeline's mode (stacked totals per heap/type, or individual
// allocations as bands, as PyTorch's memory_viz draws them), the bands' detail (how many allocations are
// drawn individually), the search over allocations (by address, by stack-frame text; answered by the
// engine) and a request to show one allocation's lifetime on the timeline (the timeline performs it).
import type { StateCreator } from 'zustand/vanilla';
import { maxAllocationBands } from '../../src-main/api/contract.ts';
import type { AllocationRecord } from '../data/source.ts';
import { errorSentence } from './session-slice.ts';
import type { EventRange } from './cursor-slice.ts';
import type { InspectorState } from './store.ts';

export type TimelineMode = 'totals' | 'allocations';

/** Default and bounds of the detail control (the contract allows 1 to maxAllocationBands). */
export const bandDetailDefault = 2_000;
export const bandDetailMin = 10;
export const bandDetailMax = maxAllocationBands;

export interface AllocationSearchState {
  readonly address: string;
  readonly text: string;
  readonly pending: boolean;
  /** null until a search was answered. */
  readonly total: number | null;
  readonly rows: readonly AllocationRecord[];
  readonly error: string | null;
}

export interface BandsSlice {
  timelineMode: TimelineMode;
  /** Allocations drawn individually at most. */
  bandDetail: number;
  search: AllocationSearchState;
  searchSeq: number;
  /** A window the timeline should zoom to (seq grows with every request). */
  zoomRequest: { readonly range: EventRange; readonly seq: number } | null;
  setTimelineMode(mode: TimelineMode): void;
  setBandDetail(limit: number): void;
  /** Asks the engine for allocations by address and/or text; only the newest answer is kept. */
  searchAllocations(address: string, text: string): Promise<void>;
  /** Shows an allocation: selects it, puts the cursor right after its allocate event, zooms to its life. */
  jumpToAllocation(row: AllocationRecord): void;
}

const emptySearch: AllocationSearchState = {
  address: '',
  text: '',
  pending: false,
  total: null,
  rows: [],
  error: null,
};

export const createBandsSlice: StateCreator<InspectorState, [], [], BandsSlice> = (set, get) => ({
  timelineMode: 'totals',
  bandDetail: bandDetailDefault,
  search: emptySearch,
  searchSeq: 0,
  zoomRequest: null,
  setTimelineMode(mode) {
    set({ timelineMode: mode });
  },
  setBandDetail(limit) {
    set({ bandDetail: Math.max(bandDetailMin, Math.min(bandDetailMax, Math.round(limit))) });
  },
  async searchAllocations(address, text) {
    const seq = get().searchSeq + 1;
    const source = get().source;
    if (address.trim() === '' && text.trim() === '') {
      set({ searchSeq: seq, search: { ...emptySearch, address, text } });
      return;
    }
    set({ searchSeq: seq, search: { ...get().search, address, text, pending: true, error: null } });
    if (!source?.searchAllocations) {
      set({ search: { ...get().search, pending: false, error: 'This source cannot search allocations.' } });
      return;
    }
    try {
      const r = await source.searchAllocations({ address, text, limit: 200 });
      if (seq !== get().searchSeq) return;
      set({ search: { address, text, pending: false, total: r.total, rows: r.rows, error: null } });
    } catch (e) {
      if (seq !== get().searchSeq) return;
      set({ search: { address, text, pending: false, total: null, rows: [], error: errorSentence(e) } });
    }
  },
  jumpToAllocation(row) {
    const n = get().overview?.eventCount ?? 0;
    const end = row.freedAt ?? n;
    // Its lifetime with a quarter of it on either side (at least 20 events), clamped to the trace.
    const pad = Math.max(20, Math.ceil((end - row.allocatedAt) / 4));
    const range = { start: Math.max(0, row.allocatedAt - pad), end: Math.min(n, end + pad) };
    set({ zoomRequest: { range, seq: (get().zoomRequest?.seq ?? 0) + 1 } });
    get().setCursor(row.allocatedAt + 1);
    void get().select(row.id);
  },
});
