// The inspector's zustand store: five slices spread into one vanilla store (one per mounted app, so tests
// get a fresh one each), provided to React through a context. Views read it with narrow selectors.
import { createContext, createElement, useContext } from 'react';
import type { ReactNode } from 'react';
import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';
import type { StoreApi } from 'zustand/vanilla';
import { createBandsSlice } from './bands-slice.ts';
import type { BandsSlice } from './bands-slice.ts';
import { createCursorSlice } from './cursor-slice.ts';
import type { CursorSlice } from './cursor-slice.ts';
import { createSessionSlice } from './session-slice.ts';
import type { SessionSlice } from './session-slice.ts';
import { createTraceSlice } from './trace-slice.ts';
import type { TraceSlice } from './trace-slice.ts';
import { createViewSlice } from './view-slice.ts';
import type { ViewSlice } from './view-slice.ts';

export type InspectorState = SessionSlice & TraceSlice & CursorSlice & ViewSlice & BandsSlice;
export type InspectorStore = StoreApi<InspectorState>;

export function createInspectorStore(): InspectorStore {
  return createStore<InspectorState>()((...a) => ({
    ...createSessionSlice(...a),
    ...createTraceSlice(...a),
    ...createCursorSlice(...a),
    ...createViewSlice(...a),
    ...createBandsSlice(...a),
  }));
}

const StoreContext = createContext<InspectorStore | null>(null);

export function StoreProvider(props: { store: InspectorStore; children: ReactNode }): ReactNode {
  return createElement(StoreContext.Provider, { value: props.store }, props.children);
}

export function useInspectorStore(): InspectorStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('The inspector store is missing: wrap the views in <StoreProvider>.');
  return store;
}

/** Reads a slice of the store; re-renders only when the selected value changes (Object.is). */
export function useInspector<T>(selector: (state: InspectorState) => T): T {
  return useStore(useInspectorStore(), selector);
}
