// Messages between main and the trace worker (trace-worker.ts), which loads, imports and analyzes traces
// and answers queries over them, so that no trace, however large, holds up the API on the main thread.
import type { DeviceDescription, PlacementStrategyName } from '../../allocator/index.ts';
import type { AnalysisSummary } from '../../allocator/analysis/index.ts';
import type { EventSlice } from '../../allocator/trace/index.ts';
import type {
  ApiErrorCode,
  ReplayReportDto,
  ReplaySideDto,
  RequestResult,
  TraceSummary,
  ValidatedParams,
} from './contract.ts';
import type { PrefaultRequest } from '../import/prefault.ts';

/**
 * A file as the worker gets it: a path main resolved from a file grant (never one a client sent), bytes a
 * client sent, or an upload still arriving: the path of its private file, its declared size and the
 * shared memory that says how much of it is on disk (upload-arrival.ts). `name` is for messages and
 * summaries only.
 */
export type WorkerFile =
  | { readonly kind: 'path'; readonly path: string; readonly name: string }
  | { readonly kind: 'bytes'; readonly name: string; readonly data: Uint8Array }
  | {
      readonly kind: 'arriving';
      readonly path: string;
      readonly name: string;
      readonly bytes: number;
      readonly arrival: SharedArrayBuffer;
    };

/** The queries a loaded source answers (AnalyzedSource's methods). */
export interface SourceQueryMap {
  timeline: [ValidatedParams<'queryTimeline'>, RequestResult<'queryTimeline'>];
  snapshot: [ValidatedParams<'snapshotAt'>, RequestResult<'snapshotAt'>];
  defrag: [ValidatedParams<'defragmentPlan'>, RequestResult<'defragmentPlan'>];
  allocations: [ValidatedParams<'listAllocations'>, RequestResult<'listAllocations'>];
  detail: [ValidatedParams<'allocationDetail'>, RequestResult<'allocationDetail'>];
  bands: [ValidatedParams<'allocationBands'>, RequestResult<'allocationBands'>];
  search: [ValidatedParams<'searchAllocations'>, RequestResult<'searchAllocations'>];
  leaks: [ValidatedParams<'leaks'>, RequestResult<'leaks'>];
  diff: [ValidatedParams<'diff'>, RequestResult<'diff'>];
  report: ['json' | 'text', string];
  reportObject: [null, RequestResult<'getReport'>];
}
export type SourceQuery = keyof SourceQueryMap;

export type ToTraceWorker =
  | {
      readonly type: 'load';
      readonly id: number;
      readonly sourceId: string;
      readonly input: WorkerFile;
      readonly taskId: string;
    }
  | {
      readonly type: 'import';
      readonly id: number;
      readonly sourceId: string;
      readonly input: WorkerFile;
      readonly format: 'auto' | 'vma' | 'd3d12ma' | 'pytorch' | 'rmv';
      readonly taskId: string;
    }
  | {
      readonly type: 'query';
      readonly id: number;
      readonly sourceId: string;
      readonly method: SourceQuery;
      readonly params: unknown;
    }
  | { readonly type: 'close'; readonly id: number; readonly sourceId: string }
  /** A live source (a session's recording): starts empty, grows by liveAppend, analysed as it grows. */
  | {
      readonly type: 'liveOpen';
      readonly id: number;
      readonly sourceId: string;
      readonly name: string;
      readonly device: DeviceDescription;
      readonly strategy: string;
      readonly warnings: readonly string[];
    }
  | {
      readonly type: 'liveAppend';
      readonly id: number;
      readonly sourceId: string;
      readonly slice: EventSlice;
    }
  /** Replays a loaded source's requests on `target` into a new source `newSourceId` (issue 12). */
  | {
      readonly type: 'replay';
      readonly id: number;
      readonly sourceId: string;
      readonly newSourceId: string;
      readonly target: DeviceDescription;
      readonly strategy: PlacementStrategyName;
    }
  /** What a loaded source's recording says, as a replay side (the compare view's numbers). */
  | { readonly type: 'side'; readonly id: number; readonly sourceId: string }
  /** Handled at once, not queued behind the load it stops. */
  | { readonly type: 'cancel'; readonly id: number; readonly taskId: string };

export type FromTraceWorker =
  /**
   * An import's fresh memory to touch ahead of the import (src-main/import/prefault.ts): the worker is busy
   * importing, the main thread mostly waits on the upload's socket meanwhile.
   */
  | { readonly type: 'prefault'; readonly request: PrefaultRequest }
  | {
      readonly type: 'progress';
      readonly taskId: string;
      readonly phase: 'start' | 'progress' | 'done' | 'failed';
      readonly done: number;
      readonly total: number;
      readonly message?: string;
    }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly ok: false;
      readonly code: ApiErrorCode;
      readonly message: string;
    };

/** What liveAppend answers: the summary of the analysed events (the analysisChanged event's payload). */
export type LiveSummary = AnalysisSummary;

/** What a load or import answers. */
export interface LoadedSource {
  readonly summary: TraceSummary;
}

/** What a replay answers: the report `vramscope replay --json` prints and the new source's summary. */
export interface ReplayedSource {
  readonly report: ReplayReportDto;
  readonly summary: TraceSummary;
}

/** A source's recorded side and its summary. */
export interface SourceSide {
  readonly side: ReplaySideDto;
  readonly summary: TraceSummary;
}
