// Messages between main and the trace worker (trace-worker.ts), which loads, imports and analyzes traces
// and answers queries over them, so that no trace, however large, holds up the API on the main thread.
import type { ApiErrorCode, FileSource, RequestResult, TraceSummary, ValidatedParams } from './contract.ts';

/** What the trace worker reads: a file on disk or bytes (uploads are resolved to their file by main). */
export type LocalFileSource = Exclude<FileSource, { kind: 'upload' }>;

/** The queries a loaded source answers (AnalyzedSource's methods). */
export interface SourceQueryMap {
  timeline: [ValidatedParams<'queryTimeline'>, RequestResult<'queryTimeline'>];
  snapshot: [ValidatedParams<'snapshotAt'>, RequestResult<'snapshotAt'>];
  allocations: [ValidatedParams<'listAllocations'>, RequestResult<'listAllocations'>];
  detail: [ValidatedParams<'allocationDetail'>, RequestResult<'allocationDetail'>];
  leaks: [ValidatedParams<'leaks'>, RequestResult<'leaks'>];
  diff: [ValidatedParams<'diff'>, RequestResult<'diff'>];
  report: ['json' | 'text', string];
}
export type SourceQuery = keyof SourceQueryMap;

export type ToTraceWorker =
  | {
      readonly type: 'load';
      readonly id: number;
      readonly sourceId: string;
      readonly input: LocalFileSource;
      readonly taskId: string;
    }
  | {
      readonly type: 'import';
      readonly id: number;
      readonly sourceId: string;
      readonly input: LocalFileSource;
      readonly format: 'auto' | 'vma' | 'd3d12ma' | 'pytorch';
      readonly taskId: string;
    }
  | {
      readonly type: 'query';
      readonly id: number;
      readonly sourceId: string;
      readonly method: SourceQuery;
      readonly params: unknown;
    }
  | { readonly type: 'close'; readonly id: number; readonly sourceId: string };

export type FromTraceWorker =
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

/** What a load or import answers: the summary plus the path to remember as a recent trace. */
export interface LoadedSource {
  readonly summary: TraceSummary;
  readonly path: string | null;
}
