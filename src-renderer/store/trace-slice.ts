// Trace slice: the overview of what is loaded, loading progress and the error of a bad file.
import type { StateCreator } from 'zustand/vanilla';
import type { LoadProgress, PickedFile, TraceOverview } from '../data/source.ts';
import { paceProgress } from './progress-pace.ts';
import { errorSentence } from './session-slice.ts';
import type { InspectorState } from './store.ts';

export interface LoadingState {
  readonly name: string;
  readonly loaded: number;
  /** 0 when unknown. */
  readonly total: number;
  /** "uploading": bytes going to the server; "reading": being parsed. */
  readonly phase?: 'uploading' | 'reading';
  /** Whether cancelLoad can stop it (a picked or dropped file: its upload, import, decoding or analysis). */
  readonly cancellable?: boolean;
}

/** The load in progress that cancelLoad stops (one at a time; not state: nothing renders it). */
let currentLoad: AbortController | null = null;

export interface LoadError {
  readonly name: string;
  /** One sentence saying what was wrong and where. */
  readonly message: string;
}

export interface TraceSlice {
  overview: TraceOverview | null;
  loading: LoadingState | null;
  loadError: LoadError | null;
  /** Opens trace bytes through the source. */
  openTrace(name: string, bytes: Uint8Array): Promise<void>;
  /**
   * Opens a dropped or picked file of any size: uploaded in chunks where the source can (never read whole
   * into the page), else its bytes through openTrace.
   */
  openPickedFile(file: PickedFile): Promise<void>;
  /**
   * Stops the open in progress wherever it is: its upload, or the server's import, decoding or analysis
   * (the file is not opened; the server drops what it received and says "cancelled").
   */
  cancelLoad(): void;
  /** Opens a file the server granted (a sample) by its fileId. */
  openTraceFile(name: string, fileId: string): Promise<void>;
  /**
   * A new or grown trace. `reset` (a different trace): cursor to the end, selection cleared. Otherwise
   * (a live run grew) a cursor that sat at the end follows the end.
   */
  overviewChanged(overview: TraceOverview, reset?: boolean): void;
  dismissLoadError(): void;
}

export const createTraceSlice: StateCreator<InspectorState, [], [], TraceSlice> = (set, get) => ({
  overview: null,
  loading: null,
  loadError: null,
  async openTrace(name, bytes) {
    const source = get().source;
    if (!source) {
      set({ loadError: { name, message: `Cannot open "${name}": not connected to VRAMscope.` } });
      return;
    }
    set({ loading: { name, loaded: 0, total: bytes.length }, loadError: null });
    const pace = paceProgress((p: { loaded: number; total: number }) =>
      set({ loading: { name, loaded: p.loaded, total: p.total } }),
    );
    try {
      const overview = await source.loadTrace(name, bytes, (p) => pace.push(p));
      set({ loading: null });
      get().overviewChanged(overview, true);
    } catch (e) {
      set({ loading: null, loadError: { name, message: errorSentence(e) } });
    } finally {
      // A held update comes from a timer, never between the set above and this.
      pace.cancel();
    }
  },
  async openPickedFile(file) {
    const source = get().source;
    const name = file.name;
    if (!source?.loadFile) {
      const bytes = new Uint8Array(await file.slice(0, file.size).arrayBuffer());
      return get().openTrace(name, bytes);
    }
    currentLoad?.abort();
    const control = new AbortController();
    currentLoad = control;
    set({
      loading: { name, loaded: 0, total: file.size, phase: 'uploading', cancellable: true },
      loadError: null,
    });
    const pace = paceProgress(
      (p: LoadProgress) =>
        set({
          loading: {
            name,
            loaded: p.loaded,
            total: p.total,
            ...(p.phase ? { phase: p.phase } : {}),
            cancellable: true,
          },
        }),
      (p) => p.phase,
    );
    try {
      const overview = await source.loadFile(file, (p) => pace.push(p), control.signal);
      if (currentLoad === control) set({ loading: null });
      get().overviewChanged(overview, true);
    } catch (e) {
      if (currentLoad === control) set({ loading: null, loadError: { name, message: errorSentence(e) } });
    } finally {
      pace.cancel();
      if (currentLoad === control) currentLoad = null;
    }
  },
  cancelLoad() {
    currentLoad?.abort();
  },
  async openTraceFile(name, fileId) {
    const source = get().source;
    if (!source?.loadTraceFile) {
      set({ loadError: { name, message: `Cannot open "${name}": this source has no server files.` } });
      return;
    }
    set({ loading: { name, loaded: 0, total: 0 }, loadError: null });
    try {
      const overview = await source.loadTraceFile(fileId);
      set({ loading: null });
      get().overviewChanged(overview, true);
    } catch (e) {
      set({ loading: null, loadError: { name, message: errorSentence(e) } });
    }
  },
  overviewChanged(overview, reset = false) {
    const prev = get().overview;
    const end = overview.eventCount;
    const followEnd = reset || !prev || get().cursor >= prev.eventCount;
    set({ overview });
    if (reset || !prev) {
      set({ selectedId: null, selected: null, brush: null, diffFrom: null, range: { start: 0, end } });
    } else if (get().range.end >= prev.eventCount) {
      // The visible window showed the end: keep showing it as the live trace grows.
      set({ range: { start: get().range.start, end } });
    }
    get().setCursor(followEnd ? end : Math.min(get().cursor, end));
  },
  dismissLoadError() {
    set({ loadError: null });
  },
});
