// Session slice: which data source the inspector talks to, the scenarios it offers and the state of the
// scenario run. Live updates from the source land here and in the trace slice.
import type { StateCreator } from 'zustand/vanilla';
import type {
  InspectorSource,
  RunConfig,
  RunInfo,
  ScenarioInfo,
  ScenarioParamValue,
} from '../data/source.ts';
import type { InspectorState } from './store.ts';

export interface SessionSlice {
  source: InspectorSource | null;
  scenarios: readonly ScenarioInfo[];
  /** The current or last scenario run; null when none ran. */
  runStatus: RunInfo | null;
  /** One sentence about the last failed session action (run, control), null when none. */
  sessionError: string | null;
  /** Connects to a source, loads its overview and scenarios, and listens for live changes. */
  connect(source: InspectorSource): Promise<void>;
  runScenario(id: string, params: Record<string, ScenarioParamValue>, config?: RunConfig): Promise<void>;
  controlRun(action: 'pause' | 'step' | 'resume' | 'cancel'): Promise<void>;
  /** Shows another source of the server (a capture's device) in every view. */
  showSource(sourceId: string): Promise<void>;
  /** Ends this store's subscription to its source (kept per store: two stores never cross). */
  sourceUnsubscribe: (() => void) | null;
}

export const createSessionSlice: StateCreator<InspectorState, [], [], SessionSlice> = (set, get) => ({
  source: null,
  scenarios: [],
  runStatus: null,
  sessionError: null,
  sourceUnsubscribe: null,
  async connect(source) {
    get().sourceUnsubscribe?.();
    set({
      source,
      sessionError: null,
      sourceUnsubscribe: source.subscribe({
        traceChanged: (overview) => get().overviewChanged(overview),
        runStatus: (runStatus) => set({ runStatus }),
        error: (sessionError) => set({ sessionError }),
      }),
    });
    const [overview, scenarios] = await Promise.all([
      source.overview(),
      source.scenarios().catch(() => [] as readonly ScenarioInfo[]),
    ]);
    set({ scenarios });
    if (overview) get().overviewChanged(overview, true);
  },
  async runScenario(id, params, config) {
    const source = get().source;
    if (!source) return;
    set({ sessionError: null });
    try {
      set({ runStatus: await source.runScenario(id, params, config) });
    } catch (e) {
      set({ sessionError: errorSentence(e) });
    }
  },
  async showSource(sourceId) {
    const source = get().source;
    if (!source?.showSource) return;
    set({ sessionError: null, runStatus: null });
    try {
      const overview = await source.showSource(sourceId);
      if (overview) get().overviewChanged(overview, true);
      else set({ sessionError: `${sourceId} is not open on the server.` });
    } catch (e) {
      set({ sessionError: errorSentence(e) });
    }
  },
  async controlRun(action) {
    const source = get().source;
    if (!source) return;
    try {
      set({ runStatus: await source.control(action) });
    } catch (e) {
      set({ sessionError: errorSentence(e) });
    }
  },
});

export function errorSentence(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
