// Messages between the trace worker and its analysis thread (analysis-worker.ts), which analyses imports'
// timelines while the importer is still writing them (analysis-follower.ts). One thread serves every
// import of the trace worker; each import is a job, and every message names its job.
import type { AnalysisParts } from '../../allocator/analysis/index.ts';
import type { DeviceDescription } from '../../allocator/device.ts';
import type { EventColumns } from '../../allocator/event-log.ts';
import type { FinalBatch } from './final-events.ts';

export type ToAnalysis =
  /**
   * A new job: the log's device as the timeline starts (its memory types and heaps are final, their sizes
   * may not be) and the events it is made for (sizes the timeline's first allocation).
   */
  | {
      readonly type: 'start';
      readonly job: number;
      readonly device: DeviceDescription;
      readonly expectedEvents: number;
    }
  /** The log's columns (SharedArrayBuffers), sent again whenever the log grows into new ones. */
  | { readonly type: 'columns'; readonly job: number; readonly columns: EventColumns }
  /** Events [0, final) are final: analyse them ('finish': they are all, hand the analysis over). */
  | ({ readonly type: 'final' | 'finish'; readonly job: number } & FinalBatch)
  /** The import failed or was cancelled: forget the job. */
  | { readonly type: 'drop'; readonly job: number };

export type FromAnalysis =
  /** After 'finish': the analysis of every event, its buffers transferred (TraceAnalysis.fromParts). */
  | { readonly type: 'parts'; readonly job: number; readonly parts: AnalysisParts }
  /** The analysis failed (the trace worker then analyses the events itself). */
  | { readonly type: 'failed'; readonly job: number; readonly message: string };
