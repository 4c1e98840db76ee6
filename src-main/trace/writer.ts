// Streams an EventLog into a trace file while it grows: chunk records are appended as events arrive, at
// least every flushIntervalMs (timer) and on close (then fsync). Writes are synchronous and whole records
// at a time, so a process killed with SIGKILL leaves a file whose every complete record is loadable.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { EventLog } from '../../allocator/event-log.ts';
import {
  TraceEncoder,
  traceEventsOf,
  type Deflate,
  type TraceEvents,
  type TraceHeader,
} from '../../allocator/trace/index.ts';
import { nodeDeflate } from './codec.ts';

export interface TraceWriterOptions {
  readonly header: TraceHeader;
  /** Deflate chunk bodies (default true). */
  readonly compress?: boolean;
  /** The compressor when compressing (default nodeDeflate: zlib level 6). */
  readonly deflate?: Deflate;
  /** Events per chunk at most (default 16384). */
  readonly maxEventsPerChunk?: number;
  /** Milliseconds between timed flushes (default 1000); 0 = no timer (call flush/poll yourself). */
  readonly flushIntervalMs?: number;
}

/** Writes all of `bytes` at `fd`'s position, however the writes split them. */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

export class TraceWriter {
  readonly path: string;
  private readonly events: TraceEvents;
  private readonly encoder: TraceEncoder;
  private fd: number | null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly flushIntervalMs: number;
  private lastFlush = performance.now();
  /** The first error of a timed flush; rethrown by the next flush/close. */
  private failure: Error | null = null;

  constructor(path: string, events: EventLog | TraceEvents, options: TraceWriterOptions) {
    this.path = path;
    this.events = events instanceof EventLog ? traceEventsOf(events) : events;
    this.encoder = new TraceEncoder({
      deflate: options.compress === false ? null : (options.deflate ?? nodeDeflate),
      maxEventsPerChunk: options.maxEventsPerChunk ?? 16384,
    });
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.fd = openSync(path, 'w');
    try {
      this.write(this.encoder.start(options.header));
    } catch (error) {
      closeSync(this.fd);
      this.fd = null;
      throw error;
    }
    if (this.flushIntervalMs > 0) {
      this.timer = setInterval(() => this.timedFlush(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  get eventsWritten(): number {
    return this.encoder.eventsWritten;
  }
  get bytesWritten(): number {
    return this.encoder.bytesWritten;
  }
  get chunksWritten(): number {
    return this.encoder.index.length;
  }
  get closed(): boolean {
    return this.fd === null;
  }

  private write(bytes: Uint8Array): void {
    if (this.fd === null) throw new Error(`trace ${this.path} is closed`);
    writeAllSync(this.fd, bytes);
  }

  private writeAll(records: Uint8Array[]): void {
    for (const r of records) this.write(r);
  }

  private timedFlush(): void {
    if (this.failure || this.fd === null) return;
    try {
      this.flush();
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    }
  }

  private rethrow(): void {
    if (this.failure) throw this.failure;
  }

  /** Writes every event logged so far. */
  flush(): void {
    this.rethrow();
    this.writeAll(this.encoder.encodePending(this.events));
    this.lastFlush = performance.now();
  }

  /** Cheap to call often: writes full chunks now, and everything when the flush interval has passed. */
  poll(): void {
    this.rethrow();
    if (this.flushIntervalMs > 0 && performance.now() - this.lastFlush >= this.flushIntervalMs) {
      this.flush();
      return;
    }
    if (this.events.length - this.encoder.eventsWritten >= this.encoder.maxEventsPerChunk) {
      this.writeAll(this.encoder.encodePending(this.events, this.events.length, true));
    }
  }

  /** Writes the rest, the end-of-trace index, fsyncs and closes. Idempotent. */
  close(): void {
    if (this.fd === null) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const fd = this.fd;
    try {
      this.flush();
      this.write(this.encoder.finish());
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      this.fd = null;
    }
  }
}
