// View settings slice: theme, which view is in front, timeline grouping, block-map colouring and the
// allocation table's filter. Persisted nowhere: a reload starts from the defaults.
import type { StateCreator } from 'zustand/vanilla';
import { defaultAllocationQuery } from '../data/source.ts';
import type { AllocationQuery, TimelineGroupBy } from '../data/source.ts';
import type { InspectorState } from './store.ts';

export type ViewName =
  'overview' | 'blocks' | 'allocations' | 'leaks' | 'scenarios' | 'devices' | 'compare' | 'open' | 'capture';
export const viewNames: readonly ViewName[] = [
  'overview',
  'blocks',
  'allocations',
  'leaks',
  'scenarios',
  'devices',
  'compare',
  'open',
  'capture',
];
export type Theme = 'light' | 'dark';
export type BlockColorBy = 'kind' | 'type';

/** The allocation table's filter: the query without paging. */
export type AllocationFilter = Omit<AllocationQuery, 'offset' | 'limit'>;

export interface ViewSlice {
  theme: Theme;
  view: ViewName;
  groupBy: TimelineGroupBy;
  /** Timeline shows committed (block) bytes, allocated (requested) bytes, or both. */
  showCommitted: boolean;
  showAllocated: boolean;
  colorBy: BlockColorBy;
  filter: AllocationFilter;
  /** Restrict the table to allocations alive at the cursor. */
  liveAtCursor: boolean;
  setTheme(theme: Theme): void;
  toggleTheme(): void;
  setView(view: ViewName): void;
  setGroupBy(groupBy: TimelineGroupBy): void;
  setColorBy(colorBy: BlockColorBy): void;
  setShown(which: 'committed' | 'allocated', shown: boolean): void;
  setFilter(patch: Partial<AllocationFilter>): void;
  setLiveAtCursor(on: boolean): void;
}

const { offset: _offset, limit: _limit, ...defaultFilter } = defaultAllocationQuery;

export const createViewSlice: StateCreator<InspectorState, [], [], ViewSlice> = (set, get) => ({
  theme: 'dark',
  view: 'overview',
  groupBy: 'heap',
  showCommitted: true,
  showAllocated: true,
  colorBy: 'kind',
  filter: defaultFilter,
  liveAtCursor: false,
  setTheme(theme) {
    set({ theme });
  },
  toggleTheme() {
    set({ theme: get().theme === 'dark' ? 'light' : 'dark' });
  },
  setView(view) {
    set({ view });
  },
  setGroupBy(groupBy) {
    set({ groupBy });
  },
  setColorBy(colorBy) {
    set({ colorBy });
  },
  setShown(which, shown) {
    set(which === 'committed' ? { showCommitted: shown } : { showAllocated: shown });
  },
  setFilter(patch) {
    set({ filter: { ...get().filter, ...patch } });
  },
  setLiveAtCursor(on) {
    set({ liveAtCursor: on });
  },
});
