// A recorder independent of any session: an EventLog (the allocator's event sink, plus frames, marks and
// budget samples from the scenario) streamed to a trace file by a TraceWriter.
import { EventLog } from '../../allocator/event-log.ts';
import type { AllocatorEventSink, MemoryTypeDecision } from '../../allocator/types.ts';
import type { TraceHeader } from '../../allocator/trace/index.ts';
import { TraceWriter } from './writer.ts';

/** What the recorder needs from an allocator (the coordinator's Allocator has both). */
export interface RecordableAllocator {
  setEventSink(sink: AllocatorEventSink | null): void;
  decision(id: number): MemoryTypeDecision | undefined;
}

export interface TraceRecorderOptions {
  readonly path: string;
  readonly header: TraceHeader;
  /** An existing log to stream (default: a fresh one). */
  readonly log?: EventLog;
  readonly compress?: boolean;
  readonly maxEventsPerChunk?: number;
  /** Default 1000 ms. */
  readonly flushIntervalMs?: number;
}

export class TraceRecorder {
  readonly log: EventLog;
  readonly writer: TraceWriter;
  private ticks = 0;

  constructor(options: TraceRecorderOptions) {
    this.log = options.log ?? new EventLog({ initialCapacity: 1 << 14 });
    this.writer = new TraceWriter(options.path, this.log, {
      header: options.header,
      ...(options.compress !== undefined ? { compress: options.compress } : {}),
      ...(options.maxEventsPerChunk !== undefined ? { maxEventsPerChunk: options.maxEventsPerChunk } : {}),
      ...(options.flushIntervalMs !== undefined ? { flushIntervalMs: options.flushIntervalMs } : {}),
    });
  }

  get path(): string {
    return this.writer.path;
  }

  /** Routes the allocator's events into the log and lets the log copy its decision records. */
  attach(allocator: RecordableAllocator): void {
    this.log.setDecisionSource((id) => allocator.decision(id));
    allocator.setEventSink(this.log);
  }

  setDecisionSource(source: (id: number) => MemoryTypeDecision | undefined): void {
    this.log.setDecisionSource(source);
  }

  /**
   * Call from busy loops that do not yield to the event loop (the timer cannot fire there): every 256th
   * call checks the clock and flushes when a second has passed or a chunk is full.
   */
  tick(): void {
    if ((++this.ticks & 0xff) === 0) this.writer.poll();
  }

  flush(): void {
    this.writer.flush();
  }

  /** Flushes, writes the end-of-trace index, fsyncs and closes the file. */
  close(): void {
    this.writer.close();
  }
}

export function startRecording(options: TraceRecorderOptions): TraceRecorder {
  return new TraceRecorder(options);
}
