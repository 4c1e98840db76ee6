// One pass over a trace's events builds everything the report, the API and the UI ask for: totals and peaks
// per heap/type, counts, failures, periodic checkpoints (for snapshotAt) and the timeline pyramid.
import type { DeviceDescription } from '../device.ts';
import { FlagBits, flagsLocation } from '../event-log.ts';
import { grownFloat64 } from '../grown-float64.ts';
import type { MemoryLocation } from '../types.ts';
import type { TraceEvents } from '../trace/events.ts';
import {
  EV_ALLOCATE,
  EV_BLOCK_CREATE,
  EV_BLOCK_DESTROY,
  EV_BUDGET,
  EV_FAILURE,
  EV_FRAME,
  EV_FREE,
  EV_MARK,
  EV_MOVE,
  EV_RENAME,
  ReplayState,
  seriesLayout,
  type Checkpoint,
  type SeriesLayout,
} from './replay.ts';
import {
  diffSnapshots,
  fragmentationOf,
  groupLeaks,
  type FragmentationReport,
  type LeakReport,
  type SnapshotDiff,
} from './reports.ts';
import { snapshotOf, type Snapshot, type Usage } from './snapshot.ts';
import { lowerBound, upperBound } from './sorted.ts';
import { Timeline, type TimelineParts } from './timeline.ts';

export interface PeakValue {
  readonly bytes: number;
  /** The event after which the peak was first reached (-1: never above 0). */
  readonly eventIndex: number;
  readonly time: number;
}

export interface SeriesSummary {
  /** Heap or memory type index; -1 for the total. */
  readonly index: number;
  readonly final: Usage;
  readonly peakCommitted: PeakValue;
  readonly peakAllocated: PeakValue;
  /** Allocate events of this heap / memory type (all of them for the total). */
  readonly allocationCount: number;
}

/** The driver's last budget sample of one heap (VK_EXT_memory_budget), bytes. */
export interface HeapBudget {
  readonly heapIndex: number;
  readonly budget: number;
  readonly usage: number;
  /** Event index of the sample. */
  readonly eventIndex: number;
}

/** A point where a heap's budget changed (a step of the budget line), bytes. */
export interface BudgetStep {
  readonly eventIndex: number;
  readonly budget: number;
}

/**
 * A budget sample the allocator flagged (FlagBits in event-log.ts): a new block pushed the heap past its
 * budget (`crossed`, budget mode warn) or the budget refused a block (`refused`, mode strict; usage is then
 * what the block would have made it). Bytes.
 */
export interface BudgetFlag {
  readonly eventIndex: number;
  readonly heapIndex: number;
  readonly budget: number;
  readonly usage: number;
  readonly kind: 'crossed' | 'refused';
}

export interface EventCounts {
  readonly allocations: number;
  readonly frees: number;
  readonly failures: number;
  readonly blocksCreated: number;
  readonly blocksDestroyed: number;
  readonly renames: number;
  readonly budgetSamples: number;
  readonly frames: number;
  readonly marks: number;
}

export interface FailureRecord {
  readonly eventIndex: number;
  readonly time: number;
  readonly name: string;
  readonly size: number;
  readonly alignment: number;
  readonly location: MemoryLocation;
  readonly linear: boolean;
  readonly code: string;
  readonly message: string;
  readonly decision: number;
  readonly stack: string;
}

export interface AnalysisSummary {
  readonly eventCount: number;
  /** Time of the last event, ms. */
  readonly durationMs: number;
  readonly counts: EventCounts;
  readonly heaps: readonly SeriesSummary[];
  readonly types: readonly SeriesSummary[];
  readonly total: SeriesSummary;
  /** The last budget sample of each heap that has one, by heap index. */
  readonly budgets: readonly HeapBudget[];
  /** Allocations made with the allocation-time retry type (the first choice failed). */
  readonly retriedAllocations: number;
  /** Budget samples flagged crossed (blocks created past a heap's budget) and refused (blocks refused). */
  readonly budgetCrossings: number;
  readonly budgetRefusals: number;
  readonly liveAllocations: number;
  readonly liveBlocks: number;
  readonly failures: readonly FailureRecord[];
  /** Events that make no sense in sequence (free of an unknown id, ...); 0 for any trace the reader accepts. */
  readonly anomalies: number;
}

export interface AnalyzeOptions {
  /** Events between checkpoints (default 4096; doubled while checkpoints would exceed ~32 MiB). */
  readonly checkpointInterval?: number;
  /** log2 of the events per level-0 timeline bucket (default 6: 64 events). */
  readonly timelineBaseLog2?: number;
  /**
   * Events the stream will hold, when known before they are all there (a stream analysed while it is
   * written): sizes the timeline's first allocation. Default: the events there at the start.
   */
  readonly expectedEvents?: number;
}

/**
 * A TraceAnalysis's data: typed arrays, numbers and plain objects, without its events, so that an analysis
 * made on one thread can be taken up on another that holds the same events (structured clone, the arrays'
 * buffers transferred). Made by `TraceAnalysis.toParts`, taken back by `TraceAnalysis.fromParts`.
 */
export interface AnalysisParts {
  /** The layout the analysis was made for (fromParts refuses a device with another). */
  readonly layout: SeriesLayout;
  /** The replay state after the analysed events (its eventIndex: the events analysed). */
  readonly state: Checkpoint;
  readonly checkpoints: readonly Checkpoint[];
  readonly interval: number;
  readonly stored: number;
  readonly timeline: TimelineParts;
  readonly peakC: Float64Array;
  readonly peakCAt: Float64Array;
  readonly peakA: Float64Array;
  readonly peakAAt: Float64Array;
  readonly allocCount: Float64Array;
  readonly counts: Float64Array;
  readonly failures: readonly FailureRecord[];
  readonly budgets: readonly HeapBudget[];
  readonly budgetSteps: readonly (readonly BudgetStep[])[];
  readonly flagged: readonly BudgetFlag[];
  readonly retried: number;
  /** markedEvents's store: the marked event indices in [0, markedCount), in event order. */
  readonly marked: Float64Array;
  readonly markedCount: number;
}

function sameLayout(a: SeriesLayout, b: SeriesLayout): boolean {
  return (
    a.typeCount === b.typeCount &&
    a.heapCount === b.heapCount &&
    a.typeHeap.length === b.typeHeap.length &&
    a.typeHeap.every((h, t) => b.typeHeap[t] === h)
  );
}

/** Checkpoint entries (Uint32) kept at most before the interval doubles. */
const CHECKPOINT_BUDGET_ENTRIES = 8 * 1024 * 1024;

/**
 * The analysis of an event stream. Built in one pass; a stream that grows (a live recording) is extended by
 * its new events only (`extend()`): replay state, peaks, counts, failures, checkpoints and the timeline
 * pyramid all continue where they stopped, so the total work stays linear in the events.
 */
export class TraceAnalysis {
  readonly events: TraceEvents;
  readonly device: DeviceDescription;
  readonly layout: SeriesLayout;
  readonly timeline: Timeline;
  private checkpoints: Checkpoint[];
  private interval: number;
  private stored = 0;
  private readonly state: ReplayState;
  private readonly peakC: Float64Array;
  private readonly peakCAt: Float64Array;
  private readonly peakA: Float64Array;
  private readonly peakAAt: Float64Array;
  private readonly allocCount: Float64Array;
  /** Per event kind (a byte: captured applications add kinds 16 and up). */
  private readonly counts: Float64Array;
  private readonly failures: FailureRecord[] = [];
  private readonly budgets = new Map<number, HeapBudget>();
  /** Per heap index: the budget line as steps, in event order (a step only where the value changed). */
  private readonly budgetSteps: BudgetStep[][];
  private readonly flagged: BudgetFlag[] = [];
  private retried = 0;
  /** The events a timeline marks (markedEvents), in event order; capacity doubles. */
  private marked: Float64Array = new Float64Array(64);
  private markedCount = 0;
  private cachedSummary: AnalysisSummary | null = null;

  /** `restored`: fromParts's data (then nothing is analysed here). */
  constructor(
    events: TraceEvents,
    device: DeviceDescription,
    options: AnalyzeOptions = {},
    restored?: AnalysisParts,
  ) {
    this.events = events;
    this.device = device;
    const layout = seriesLayout(device);
    this.layout = layout;
    if (restored) {
      if (!sameLayout(layout, restored.layout))
        throw new Error('analysis parts: made for other memory types and heaps than this device has');
      if (restored.state.eventIndex > events.length)
        throw new Error(
          `analysis parts: ${restored.state.eventIndex} events analysed, the stream has ${events.length}`,
        );
      this.state = ReplayState.fromCheckpoint(events, layout, restored.state);
      this.timeline = Timeline.fromParts(layout, restored.timeline);
      this.interval = restored.interval;
      this.checkpoints = [...restored.checkpoints];
      this.stored = restored.stored;
      this.peakC = restored.peakC;
      this.peakCAt = restored.peakCAt;
      this.peakA = restored.peakA;
      this.peakAAt = restored.peakAAt;
      this.allocCount = restored.allocCount;
      this.counts = restored.counts;
      for (const f of restored.failures) this.failures.push(f);
      for (const b of restored.budgets) this.budgets.set(b.heapIndex, b);
      this.budgetSteps = restored.budgetSteps.map((steps) => [...steps]);
      for (const f of restored.flagged) this.flagged.push(f);
      this.retried = restored.retried;
      this.marked = restored.marked;
      this.markedCount = restored.markedCount;
      return;
    }
    const S = layout.seriesCount;
    this.state = new ReplayState(events, layout);
    this.timeline = new Timeline(
      layout,
      Math.max(events.length, options.expectedEvents ?? 0),
      options.timelineBaseLog2 ?? 6,
    );
    this.interval = Math.max(1, Math.floor(options.checkpointInterval ?? 4096));
    this.checkpoints = [this.state.checkpoint()];
    this.peakC = new Float64Array(S);
    this.peakCAt = new Float64Array(S).fill(-1);
    this.peakA = new Float64Array(S);
    this.peakAAt = new Float64Array(S).fill(-1);
    this.allocCount = new Float64Array(S);
    this.counts = new Float64Array(256);
    this.budgetSteps = Array.from({ length: layout.heapCount }, () => []);
    this.extend();
  }

  /**
   * The analysis's data (toParts) and the buffers to transfer with it. Its own arrays, not copies: once
   * they are transferred this analysis is unusable.
   */
  toParts(): { readonly parts: AnalysisParts; readonly transfer: ArrayBuffer[] } {
    const parts: AnalysisParts = {
      layout: this.layout,
      state: this.state.checkpoint(),
      checkpoints: this.checkpoints,
      interval: this.interval,
      stored: this.stored,
      timeline: this.timeline.toParts(),
      peakC: this.peakC,
      peakCAt: this.peakCAt,
      peakA: this.peakA,
      peakAAt: this.peakAAt,
      allocCount: this.allocCount,
      counts: this.counts,
      failures: this.failures,
      budgets: [...this.budgets.values()],
      budgetSteps: this.budgetSteps,
      flagged: this.flagged,
      retried: this.retried,
      marked: this.marked,
      markedCount: this.markedCount,
    };
    const buffers = new Set<ArrayBuffer>();
    const add = (a: ArrayBufferView | undefined): void => {
      // Shared memory is shared, not moved; two views of one buffer move it once.
      if (a && a.buffer instanceof ArrayBuffer) buffers.add(a.buffer);
    };
    for (const cp of [parts.state, ...parts.checkpoints])
      for (const a of [cp.allocations, cp.renames, cp.moves, cp.blocks, cp.committed, cp.allocated]) add(a);
    const t = parts.timeline;
    for (const a of [t.eventType, t.dCommitted, t.dAllocated]) add(a);
    for (const l of t.levels) for (const a of [l.cMin, l.cMax, l.cLast, l.aMin, l.aMax, l.aLast]) add(a);
    for (const a of [parts.peakC, parts.peakCAt, parts.peakA, parts.peakAAt, parts.allocCount, parts.counts])
      add(a);
    add(parts.marked);
    return { parts, transfer: [...buffers] };
  }

  /**
   * The analysis `parts` describe (toParts of an analysis of `events`, perhaps made on another thread),
   * for `device` (which must have the memory types and heaps it was made for). Its arrays are taken as
   * they are. Events appended since it was made are analysed by `extend`, as for any analysis.
   */
  static fromParts(events: TraceEvents, device: DeviceDescription, parts: AnalysisParts): TraceAnalysis {
    return new TraceAnalysis(events, device, {}, parts);
  }

  /** Events analyzed so far (the stream may have grown since: see `extend`). */
  get analyzedCount(): number {
    return this.state.position;
  }

  /**
   * Analyzes the events appended since the last call (none for a finished trace). Returns how many were
   * added. Queries answer for the analyzed prefix only.
   */
  extend(): number {
    const from = this.state.position;
    const n = this.events.length;
    if (n <= from) return 0;
    const layout = this.layout;
    const c = this.events.columns;
    const state = this.state;
    const strings = this.events.strings;
    const { peakC, peakCAt, peakA, peakAAt, allocCount, counts } = this;
    for (let i = from; i < n; i++) {
      const kind = c.kind[i]!;
      counts[kind]!++;
      state.apply(i);
      const t = state.lastType;
      if (t >= 0 && t < layout.typeCount) {
        const isAllocate = kind === EV_ALLOCATE;
        for (let k = 0; k < 3; k++) {
          const s = k === 0 ? t : k === 1 ? layout.typeCount + layout.typeHeap[t]! : layout.totalSeries;
          if (state.committed[s]! > peakC[s]!) {
            peakC[s] = state.committed[s]!;
            peakCAt[s] = i;
          }
          if (state.allocated[s]! > peakA[s]!) {
            peakA[s] = state.allocated[s]!;
            peakAAt[s] = i;
          }
          if (isAllocate) allocCount[s]!++;
        }
        if (isAllocate && (c.flags[i]! & FlagBits.usedRetry) !== 0) this.retried++;
      }
      this.timeline.record(i, t, state.lastCommitted, state.lastAllocated, state.committed, state.allocated);
      if (
        kind === EV_FRAME ||
        kind === EV_MARK ||
        kind === EV_FAILURE ||
        (kind === EV_MOVE && (i === 0 || c.kind[i - 1] !== EV_MOVE)) ||
        (kind === EV_BUDGET && (c.flags[i]! & (FlagBits.budgetCrossed | FlagBits.budgetRefused)) !== 0)
      )
        this.mark(i);
      if (kind === EV_FAILURE) {
        this.failures.push({
          eventIndex: i,
          time: c.time[i]!,
          name: strings[c.name[i]!] ?? '',
          size: c.size[i]!,
          alignment: c.alignment[i]!,
          location: flagsLocation(c.flags[i]!),
          linear: (c.flags[i]! & 3) === 0,
          code: strings[c.code[i]!] ?? '',
          message: strings[c.message[i]!] ?? '',
          decision: c.decision[i]!,
          stack: strings[c.stack[i]!] ?? '',
        });
      } else if (kind === EV_BUDGET) {
        // BudgetSample: id = heap index, offset = budget bytes, size = usage bytes (event-log.ts).
        const heap = c.id[i]!;
        if (heap >= 0 && heap < layout.heapCount) {
          const budget = c.offset[i]!;
          const usage = c.size[i]!;
          this.budgets.set(heap, { heapIndex: heap, budget, usage, eventIndex: i });
          const steps = this.budgetSteps[heap]!;
          if (steps.length === 0 || steps[steps.length - 1]!.budget !== budget)
            steps.push({ eventIndex: i, budget });
          const f = c.flags[i]!;
          if ((f & (FlagBits.budgetCrossed | FlagBits.budgetRefused)) !== 0) {
            const kind = (f & FlagBits.budgetRefused) !== 0 ? 'refused' : 'crossed';
            this.flagged.push({ eventIndex: i, heapIndex: heap, budget, usage, kind });
          }
        }
      }
      if ((i + 1) % this.interval === 0) this.storeCheckpoint();
    }
    this.cachedSummary = null;
    return n - from;
  }

  private mark(i: number): void {
    if (this.markedCount === this.marked.length)
      this.marked = grownFloat64(this.marked, this.marked.length * 2);
    this.marked[this.markedCount++] = i;
  }

  /**
   * The events a timeline marks in events [start, end), in event order (a view, valid until the analysis
   * is extended): frames, marks, failures, the first move of each defragmentation pass (a run of
   * consecutive moves), and budget samples flagged crossed or refused. O(log marked + the answer).
   */
  markedEvents(start = 0, end = Infinity): Float64Array {
    const n = this.markedCount;
    return this.marked.subarray(lowerBound(this.marked, n, start), lowerBound(this.marked, n, end));
  }

  private storeCheckpoint(): void {
    const cp = this.state.checkpoint();
    this.checkpoints.push(cp);
    this.stored += cp.allocations.length + cp.renames.length + cp.blocks.length;
    while (this.stored > CHECKPOINT_BUDGET_ENTRIES && this.checkpoints.length > 2) {
      this.interval *= 2;
      this.checkpoints = this.checkpoints.filter((k) => k.eventIndex % this.interval === 0);
      this.stored = 0;
      for (const k of this.checkpoints)
        this.stored += k.allocations.length + k.renames.length + k.blocks.length;
    }
  }

  /** Totals and peaks per heap/type, counts, failures, budgets over the analyzed events. */
  get summary(): AnalysisSummary {
    if (this.cachedSummary) return this.cachedSummary;
    const layout = this.layout;
    const state = this.state;
    const c = this.events.columns;
    const n = state.position;
    const { peakC, peakCAt, peakA, peakAAt, allocCount, counts } = this;
    const time = (i: number): number => (i >= 0 ? c.time[i]! : 0);
    const summarize = (s: number, index: number): SeriesSummary => ({
      index,
      final: { committed: state.committed[s]!, allocated: state.allocated[s]! },
      peakCommitted: { bytes: peakC[s]!, eventIndex: peakCAt[s]!, time: time(peakCAt[s]!) },
      peakAllocated: { bytes: peakA[s]!, eventIndex: peakAAt[s]!, time: time(peakAAt[s]!) },
      allocationCount: allocCount[s]!,
    });
    this.cachedSummary = {
      eventCount: n,
      durationMs: n > 0 ? c.time[n - 1]! : 0,
      counts: {
        allocations: counts[EV_ALLOCATE]!,
        frees: counts[EV_FREE]!,
        failures: counts[EV_FAILURE]!,
        blocksCreated: counts[EV_BLOCK_CREATE]!,
        blocksDestroyed: counts[EV_BLOCK_DESTROY]!,
        renames: counts[EV_RENAME]!,
        budgetSamples: counts[EV_BUDGET]!,
        frames: counts[EV_FRAME]!,
        marks: counts[EV_MARK]!,
      },
      types: Array.from({ length: layout.typeCount }, (_, t) => summarize(t, t)),
      heaps: Array.from({ length: layout.heapCount }, (_, h) => summarize(layout.typeCount + h, h)),
      total: summarize(layout.totalSeries, -1),
      budgets: [...this.budgets.values()].sort((x, y) => x.heapIndex - y.heapIndex),
      retriedAllocations: this.retried,
      budgetCrossings: this.flagged.filter((f) => f.kind === 'crossed').length,
      budgetRefusals: this.flagged.filter((f) => f.kind === 'refused').length,
      liveAllocations: state.live.size,
      liveBlocks: state.blocks.size,
      failures: [...this.failures],
      anomalies: state.anomalies,
    };
    return this.cachedSummary;
  }

  /**
   * Heap `heapIndex`'s budget line over events [start, end): the budget in force at `start` (the last
   * sample before it; none when no sample came yet) and every change inside the range. Bytes.
   */
  budgetLine(heapIndex: number, start: number, end: number): BudgetStep[] {
    const steps = this.budgetSteps[heapIndex];
    if (steps === undefined || steps.length === 0) return [];
    // First step at or after start.
    let lo = 0;
    let hi = steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (steps[mid]!.eventIndex < start) lo = mid + 1;
      else hi = mid;
    }
    const out: BudgetStep[] = [];
    if (lo > 0) out.push({ eventIndex: start, budget: steps[lo - 1]!.budget });
    for (let k = lo; k < steps.length && steps[k]!.eventIndex < end; k++) out.push(steps[k]!);
    return out;
  }

  /** Heaps with at least one budget sample, by index. */
  get budgetHeaps(): number[] {
    return this.budgetSteps.flatMap((s, h) => (s.length > 0 ? [h] : []));
  }

  /** The flagged budget samples (crossed / refused) in events [start, end), in event order. */
  budgetFlags(start = 0, end = Infinity): BudgetFlag[] {
    return this.flagged.filter((f) => f.eventIndex >= start && f.eventIndex < end);
  }

  /** Events analyzed (the state at eventCount is the end of what was analyzed). */
  get eventCount(): number {
    return this.state.position;
  }

  /** Events between stored checkpoints (4096 unless the trace holds very many live allocations). */
  get checkpointInterval(): number {
    return this.interval;
  }

  /** The state after events [0, eventIndex): nearest checkpoint at or before it, then replay. */
  snapshotAt(eventIndex: number): Snapshot {
    const k = Math.max(0, Math.min(this.eventCount, Math.floor(eventIndex)));
    if (k === this.eventCount) return snapshotOf(this.events, this.layout, this.state);
    let lo = 0;
    let hi = this.checkpoints.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.checkpoints[mid]!.eventIndex <= k) lo = mid;
      else hi = mid - 1;
    }
    const state = ReplayState.fromCheckpoint(this.events, this.layout, this.checkpoints[lo]!);
    state.advanceTo(k);
    return snapshotOf(this.events, this.layout, state);
  }

  /**
   * The number of events at or before `ms` (times are non-decreasing in a recording): the event index to
   * pass to snapshotAt / timeline.query for a point in time.
   */
  eventIndexAtTime(ms: number): number {
    return upperBound(this.events.columns.time, this.eventCount, ms);
  }

  /** Allocations live after events [0, eventIndex) — at the end of the trace, the leaks. */
  leaksAt(eventIndex: number = this.eventCount): LeakReport {
    return groupLeaks(this.snapshotAt(eventIndex));
  }

  fragmentationAt(eventIndex: number = this.eventCount): FragmentationReport {
    return fragmentationOf(this.snapshotAt(eventIndex));
  }

  /** Allocations that appeared / disappeared between the states after a and after b events. */
  diff(a: number, b: number): SnapshotDiff {
    return diffSnapshots(this.snapshotAt(a), this.snapshotAt(b));
  }
}

export function analyzeTrace(
  events: TraceEvents,
  device: DeviceDescription,
  options: AnalyzeOptions = {},
): TraceAnalysis {
  return new TraceAnalysis(events, device, options);
}

/** Reference replay from event 0 (no checkpoints): the state after events [0, eventIndex). */
export function replayTo(events: TraceEvents, device: DeviceDescription, eventIndex: number): Snapshot {
  const layout = seriesLayout(device);
  const state = new ReplayState(events, layout);
  state.advanceTo(Math.max(0, Math.min(events.length, Math.floor(eventIndex))));
  return snapshotOf(events, layout, state);
}
