// The API client for views that talk to main directly rather than through the InspectorSource (the
// Devices view, the compare view): provided once in main.tsx; null in tests that mount views without one.
import { createContext, createElement, useContext } from 'react';
import type { ReactNode } from 'react';
import type { ApiClient } from '../../src-main/api/contract.ts';

const ApiContext = createContext<ApiClient | null>(null);

export function ApiProvider(props: { api: ApiClient; children: ReactNode }): ReactNode {
  return createElement(ApiContext.Provider, { value: props.api }, props.children);
}

/** The API client, or null when the app runs without one. */
export function useApi(): ApiClient | null {
  return useContext(ApiContext);
}
