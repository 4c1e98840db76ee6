// The trace worker's analysis thread: analyses imports' timelines as the importer makes their events final
// (the trace worker shares each log's columns and says how many events are final), on the other core, so
// that when an import ends its analysis is done too. At 'finish' it hands the analysis over (toParts,
// buffers transferred) and forgets the job. One thread serves every import (jobs by number): started with
// the trace worker, its code is loaded and compiled before the first file comes.
import { parentPort } from 'node:worker_threads';
import { analyzeTrace, type TraceAnalysis } from '../../allocator/analysis/index.ts';
import type { DeviceDescription } from '../../allocator/device.ts';
import type { FromAnalysis, ToAnalysis } from './analysis-protocol.ts';
import { FinalEvents, type FinalBatch } from './final-events.ts';

const port = parentPort;
if (!port) throw new Error('analysis-worker.ts must run in a worker thread');
const post = (message: FromAnalysis, transfer: ArrayBuffer[] = []): void =>
  port.postMessage(message, transfer);

/** One import's timeline as far as it is final (the events its analysis reads), and that analysis so far. */
class Job {
  readonly events = new FinalEvents();
  private analysis: TraceAnalysis | null = null;
  /** The first failure; reported at 'finish'. */
  private failure: Error | null = null;

  constructor(
    private readonly device: DeviceDescription,
    private readonly expectedEvents: number,
  ) {}

  /** Analyses the events up to the batch's `final`. */
  advance(batch: FinalBatch): void {
    this.events.advance(batch);
    if (this.failure !== null) return;
    try {
      if (this.analysis === null)
        this.analysis = analyzeTrace(this.events, this.device, { expectedEvents: this.expectedEvents });
      else this.analysis.extend();
      // Here rather than at the trace worker's first query, which waits for it (16-18 ms at a million).
      this.analysis.timeline.updateLevels();
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** Hands the analysis over (or says why there is none); the job is done. */
  handOver(job: number): void {
    if (this.failure !== null || this.analysis === null) {
      post({ type: 'failed', job, message: this.failure?.message ?? 'nothing was analysed' });
      return;
    }
    const { parts, transfer } = this.analysis.toParts();
    this.analysis = null;
    post({ type: 'parts', job, parts }, transfer);
  }
}

const jobs = new Map<number, Job>();

port.on('message', (m: ToAnalysis) => {
  if (m.type === 'start') {
    jobs.set(m.job, new Job(m.device, m.expectedEvents));
    return;
  }
  const job = jobs.get(m.job);
  if (job === undefined) return;
  switch (m.type) {
    case 'columns':
      job.events.setColumns(m.columns);
      return;
    case 'final':
      job.advance(m);
      return;
    case 'finish':
      job.advance(m);
      jobs.delete(m.job);
      job.handOver(m.job);
      return;
    case 'drop':
      jobs.delete(m.job);
      return;
  }
});
