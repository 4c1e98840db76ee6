// Coalesces the events of main into at most one frame per flush interval (~30 frames/s), however fast
// the allocator runs. Three kinds of input:
// - emit(event): sent in the next frame, in order;
// - emit(event, key): keyed events replace an earlier pending event with the same key (progress of one
//   task, state of one run: only the latest matters);
// - pulled sources (live sessions): markDirty(key) says "new data", and at flush time the source's pull()
//   builds one event covering everything since its last pull (one event slice per session per frame).
import { eventFlushIntervalMs, type AnyEvent, type EventBatchFrame } from './contract.ts';

export type BatchListener = (frame: EventBatchFrame) => void;

export interface PulledSource {
  /** Builds the event for everything new since the last pull, or null when nothing is new. */
  pull(): AnyEvent | null;
}

export class EventBatcher {
  private readonly pending: AnyEvent[] = [];
  /** key → index in `pending`. */
  private readonly keyed = new Map<string, number>();
  private readonly sources = new Map<string, PulledSource>();
  private readonly dirty = new Set<string>();
  private readonly listeners = new Set<BatchListener>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastFlush = -Infinity;
  /** Frames delivered so far (for tests and diagnostics). */
  framesSent = 0;

  constructor(
    private readonly intervalMs: number = eventFlushIntervalMs,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  subscribe(listener: BatchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: AnyEvent, key?: string): void {
    if (key !== undefined) {
      const at = this.keyed.get(key);
      if (at !== undefined) {
        this.pending[at] = event;
        return;
      }
      this.keyed.set(key, this.pending.length);
    }
    this.pending.push(event);
    this.schedule();
  }

  addSource(key: string, source: PulledSource): void {
    this.sources.set(key, source);
  }

  /** Pulls the source one last time (so its final events are sent), then forgets it. */
  removeSource(key: string): void {
    const source = this.sources.get(key);
    if (!source) return;
    const event = source.pull();
    if (event) this.pending.push(event);
    this.sources.delete(key);
    this.dirty.delete(key);
    this.schedule();
  }

  markDirty(key: string): void {
    if (!this.sources.has(key)) return;
    this.dirty.add(key);
    this.schedule();
  }

  /** Sends what is pending now, regardless of the interval (used at shutdown). */
  flushNow(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.flush();
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
    this.pending.length = 0;
    this.keyed.clear();
    this.sources.clear();
    this.dirty.clear();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    // Never two flushes closer than the interval: the frame rate bound holds even for a burst right
    // after a flush. Node may fire a timer up to ~1 ms early, so the next flush re-checks.
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.clock());
    this.timer = setTimeout(() => {
      this.timer = null;
      const early = this.lastFlush + this.intervalMs - this.clock();
      if (early > 0) {
        this.schedule();
        return;
      }
      this.flush();
    }, wait);
    // A pending flush must not keep a CLI process alive on its own.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private flush(): void {
    for (const key of this.dirty) {
      const event = this.sources.get(key)?.pull();
      if (event) this.pending.push(event);
    }
    this.dirty.clear();
    if (this.pending.length === 0) return;
    const frame: EventBatchFrame = { t: 'evt', events: this.pending.splice(0) };
    this.keyed.clear();
    this.lastFlush = this.clock();
    this.framesSent++;
    for (const listener of [...this.listeners]) {
      try {
        listener(frame);
      } catch (error) {
        console.error('vramscope: an event listener threw', error);
      }
    }
  }
}
