// One source of events the UI can inspect (a loaded trace, or a session's recording) and the answers to the
// contract's queries over it. The heavy lifting is allocator/analysis (checkpoints, LOD timeline, leaks,
// diffs); this module adds what the API needs on top: time ranges, markers, free gaps, the allocation
// table for filtering/sorting/paging, and the report. Analysis is rebuilt only when the event count grew.
import {
  flagsLocation,
  formatBytes,
  memoryHeapFlagNames,
  memoryPropertyFlagNames,
  type DeviceDescription,
} from '../../allocator/index.ts';
import {
  AllocationLifetimes,
  analyzeTrace,
  parseAddressQuery,
  freeRangesOf,
  planDefragmentationOfSnapshot,
  traceReport,
  type LiveAllocation,
  type TraceAnalysis,
  type TraceReport,
  analyzeCapture,
  formatStack,
  isCapturedTrace,
  lowerBound,
  upperBound,
  type CaptureAnalysis,
  type CaptureProblem,
} from '../../allocator/analysis/index.ts';
import { grownInt32 } from '../../allocator/grown-int32.ts';
import { IdIndex } from '../../allocator/id-index.ts';
import { FlagBits } from '../../allocator/event-log.ts';
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
} from '../../allocator/analysis/replay.ts';
import type { LoadedTrace, TraceEvents } from '../../allocator/trace/index.ts';
import { printable } from '../../allocator/text/printable.ts';
import { ApiFailure, notFound } from './api-failure.ts';
import type {
  AllocationRow,
  CaptureProblemDto,
  RequestResult,
  TraceSummary,
  ValidatedParams,
} from './contract.ts';
import { captureReportLines } from '../capture/report-lines.ts';
import { decisionDto, deviceDto } from './dto.ts';

/** Longest name (trace, allocation, origin, device) printed in a text report; longer ones end in "…". */
const maxPrintedNameLength = 200;

const kindNames = ['linear', 'nonLinear', 'dedicated'] as const;

export interface SourceInit {
  readonly sourceId: string;
  /** File name, or the session's label. */
  readonly name: string;
  readonly device: DeviceDescription;
  readonly strategy: string;
  readonly warnings: readonly string[];
  readonly loadMs: number;
  /** The events now (a live session's grow). */
  readonly events: () => TraceEvents;
}

/**
 * Per-allocation index over the event stream: where each allocation was made, freed, renamed. Extended by
 * the new events of a growing stream.
 */
interface AllocationTable {
  /** Events indexed so far. */
  length: number;
  /** Allocations indexed: ordinals [0, count). */
  count: number;
  /** Allocate event index by ordinal (allocation order); [0, count) used. */
  allocEvent: Int32Array;
  /** Free event index by ordinal; -1 while never freed. */
  freeEvent: Int32Array;
  /** Allocation id -> its latest ordinal (an id freed and used again names the later allocation). */
  readonly ordinalOfId: IdIndex;
  /** Rename events by ordinal: [eventIndex, nameStringId, ...]. */
  readonly renames: Map<number, number[]>;
}

/** A table of no events yet, with room for `capacity` allocations. */
function emptyTable(capacity: number): AllocationTable {
  return {
    length: 0,
    count: 0,
    allocEvent: new Int32Array(capacity),
    freeEvent: new Int32Array(capacity).fill(-1),
    ordinalOfId: new IdIndex(),
    renames: new Map<number, number[]>(),
  };
}

export class AnalyzedSource {
  readonly sourceId: string;
  readonly name: string;
  readonly device: DeviceDescription;
  readonly strategy: string;
  readonly warnings: readonly string[];
  /** ms to read and analyze it (set once the first analysis is done). */
  loadMs: number;
  private readonly eventsNow: () => TraceEvents;
  private cachedAnalysis: TraceAnalysis | null = null;
  private cachedTable: AllocationTable | null = null;
  private cachedLifetimes: AllocationLifetimes | null = null;
  private cachedCapture: { readonly events: number; readonly analysis: CaptureAnalysis | null } | null = null;

  constructor(init: SourceInit) {
    this.sourceId = init.sourceId;
    this.name = init.name;
    this.device = init.device;
    this.strategy = init.strategy;
    this.warnings = init.warnings;
    this.loadMs = init.loadMs;
    this.eventsNow = init.events;
  }

  /**
   * Takes `analysis` (of this source's events, made elsewhere: TraceAnalysis.fromParts) as its analysis;
   * analysis() extends it by any events it has not seen.
   */
  adoptAnalysis(analysis: TraceAnalysis): void {
    if (analysis.events !== this.eventsNow()) throw new Error('adoptAnalysis: an analysis of other events');
    this.cachedAnalysis = analysis;
    this.cachedTable = null;
  }

  /** A source over a loaded trace file (its header, events and warnings); loadMs is set by the caller. */
  static ofLoadedTrace(sourceId: string, name: string, loaded: LoadedTrace): AnalyzedSource {
    const events = loaded.events;
    return new AnalyzedSource({
      sourceId,
      name,
      device: loaded.header.device,
      strategy: loaded.header.allocator.strategy,
      warnings: loaded.warnings.map((w) => w.message),
      loadMs: 0,
      events: () => events,
    });
  }

  get events(): TraceEvents {
    return this.eventsNow();
  }

  /**
   * The analysis of every event so far. A growing stream (a live session's recording) is extended by its
   * new events only: the work over a whole run stays linear in its events.
   */
  analysis(): TraceAnalysis {
    const events = this.eventsNow();
    if (this.cachedAnalysis === null || this.cachedAnalysis.events !== events) {
      this.cachedAnalysis = analyzeTrace(events, this.device);
      this.cachedTable = null;
    } else this.cachedAnalysis.extend();
    return this.cachedAnalysis;
  }

  /** What a captured application did wrong or differently (docs/capture.md); null for other traces. */
  capture(): CaptureAnalysis | null {
    const events = this.eventsNow();
    if (this.cachedCapture === null || this.cachedCapture.events !== events.length) {
      this.cachedCapture = {
        events: events.length,
        analysis: isCapturedTrace(events) ? analyzeCapture(events, this.device) : null,
      };
    }
    return this.cachedCapture.analysis;
  }

  private table(): AllocationTable {
    const analysis = this.analysis();
    const events = analysis.events;
    const end = analysis.eventCount;
    // Room for the allocations analysed so far at once (a growing stream's later ones double it).
    const table = (this.cachedTable ??= emptyTable(Math.max(1024, analysis.summary.counts.allocations)));
    const c = events.columns;
    const { ordinalOfId, renames } = table;
    let { allocEvent, freeEvent, count } = table;
    for (let i = table.length; i < end; i++) {
      const kind = c.kind[i]!;
      if (kind === EV_ALLOCATE) {
        if (count === allocEvent.length) {
          allocEvent = grownInt32(allocEvent, 2 * count);
          freeEvent = grownInt32(freeEvent, 2 * count, -1);
        }
        ordinalOfId.set(c.id[i]!, count);
        allocEvent[count++] = i;
      } else if (kind === EV_FREE) {
        const o = ordinalOfId.get(c.id[i]!);
        if (o >= 0 && freeEvent[o] === -1) freeEvent[o] = i;
      } else if (kind === EV_RENAME) {
        const o = ordinalOfId.get(c.id[i]!);
        if (o >= 0) {
          let list = renames.get(o);
          if (!list) renames.set(o, (list = []));
          list.push(i, c.name[i]!);
        }
      }
    }
    table.allocEvent = allocEvent;
    table.freeEvent = freeEvent;
    table.count = count;
    table.length = end;
    return table;
  }

  private clampIndex(index: number | undefined): number {
    const n = this.analysis().eventCount;
    return index === undefined ? n : Math.min(index, n);
  }

  private heapOf(typeIndex: number): number {
    return this.device.types[typeIndex]?.heapIndex ?? -1;
  }

  summary(): TraceSummary {
    const a = this.analysis();
    const s = a.summary;
    return {
      sourceId: this.sourceId,
      name: this.name,
      device: deviceDto(this.device),
      strategy: this.strategy,
      eventCount: s.eventCount,
      durationMs: Math.max(0, s.durationMs),
      allocationCount: s.counts.allocations,
      failureCount: s.counts.failures,
      peakCommittedBytes: s.total.peakCommitted.bytes,
      peakAllocatedBytes: s.total.peakAllocated.bytes,
      warnings: [...this.warnings],
      loadMs: this.loadMs,
    };
  }

  // ---- timeline --------------------------------------------------------------------------------------

  timeline(p: ValidatedParams<'queryTimeline'>): RequestResult<'queryTimeline'> {
    const a = this.analysis();
    const events = a.events;
    const n = events.length;
    const time = events.columns.time;
    const durationMs = n > 0 ? time[n - 1]! : 0;
    const startTime = Math.min(p.startTime ?? 0, durationMs);
    const endTime = Math.max(startTime, Math.min(p.endTime ?? durationMs, durationMs));
    if (p.startTime !== undefined && p.endTime !== undefined && p.endTime < p.startTime) {
      throw new ApiFailure('InvalidRequest', 'queryTimeline: endTime is before startTime.');
    }
    const startIndex = lowerBound(time, n, startTime);
    const endIndex = upperBound(time, n, endTime);
    if (p.boundariesOnly) {
      const edges = a.timeline.boundaries(startIndex, endIndex, p.buckets);
      const firstEvents = Array.from(edges.subarray(0, edges.length - 1));
      return {
        startTime,
        endTime,
        buckets: firstEvents.length,
        bucketStart: firstEvents.map((i) => time[i] ?? durationMs),
        bucketFirstEvent: firstEvents,
        series: [],
        markers: [],
        budgets: [],
        eventCount: n,
        durationMs,
      };
    }
    const q = a.timeline.query(startIndex, endIndex, p.buckets, p.groupBy === 'type' ? 'type' : 'heap');
    const nb = q.boundaries.length - 1;
    const bucketFirstEvent = Array.from(q.boundaries.subarray(0, nb));
    const bucketStart = bucketFirstEvent.map((i) => time[i] ?? durationMs);
    const label = (index: number): string => {
      if (index < 0) return 'Total';
      if (p.groupBy === 'type') {
        const t = this.device.types[index];
        const flags = t ? memoryPropertyFlagNames(t.propertyFlags).join(' | ') || 'no flags' : '?';
        return `Type ${index} (${flags}${t?.heapKind ? `, ${t.heapKind}` : ''}, heap ${t?.heapIndex ?? '?'})`;
      }
      const h = this.device.heaps[index];
      const flags = h ? memoryHeapFlagNames(h.flags).join(' | ') || 'host' : '?';
      return `Heap ${index} (${flags}, ${h ? formatBytes(h.size) : '?'})`;
    };
    const series = (p.groupBy === 'total' ? [q.total] : [...q.series, q.total]).map((s) => ({
      key: s.index,
      label: label(s.index),
      committedMin: Array.from(s.committed.min),
      committedMax: Array.from(s.committed.max),
      committedLast: Array.from(s.committed.last),
      allocatedMin: Array.from(s.allocated.min),
      allocatedMax: Array.from(s.allocated.max),
      allocatedLast: Array.from(s.allocated.last),
    }));
    return {
      startTime,
      endTime,
      buckets: nb,
      bucketStart,
      bucketFirstEvent,
      series,
      markers: this.markers(startIndex, endIndex, p.maxMarkers),
      budgets: a.budgetHeaps.map((h) => {
        const hp = this.device.heaps[h];
        return {
          heapIndex: h,
          label: `Heap ${h} budget${hp ? ` (${formatBytes(hp.size)} heap)` : ''}`,
          points: a.budgetLine(h, startIndex, endIndex).map((s) => ({
            eventIndex: s.eventIndex,
            time: time[s.eventIndex] ?? durationMs,
            budget: s.budget,
          })),
        };
      }),
      eventCount: n,
      durationMs,
    };
  }

  private markers(start: number, end: number, max: number): RequestResult<'queryTimeline'>['markers'] {
    if (max === 0) return [];
    const analysis = this.analysis();
    const events = analysis.events;
    const c = events.columns;
    // Frames, marks, failures, each defragmentation pass's first move, flagged budget samples.
    const found = Array.from(analysis.markedEvents(start, end));
    // Evenly thinned, failures and budget flags first-class: keep every one of them when they alone fit.
    const flagged = (i: number): boolean => c.kind[i] === EV_FAILURE || c.kind[i] === EV_BUDGET;
    let keep = found;
    if (found.length > max) {
      const failures = found.filter(flagged);
      if (failures.length >= max)
        keep = failures.filter((_, j) => j % Math.ceil(failures.length / max) === 0);
      else {
        const others = found.filter((i) => !flagged(i));
        const room = max - failures.length;
        const step = others.length / room;
        const picked = Array.from({ length: room }, (_, j) => others[Math.floor(j * step)]!);
        keep = [...failures, ...picked].sort((x, y) => x - y);
      }
    }
    return keep.slice(0, max).map((i) => {
      if (c.kind[i] === EV_BUDGET) {
        const refused = (c.flags[i]! & FlagBits.budgetRefused) !== 0;
        const label = refused
          ? `budget refused a block: heap ${c.id[i]} would use ${formatBytes(c.size[i]!)} > budget ${formatBytes(c.offset[i]!)}`
          : `past budget: heap ${c.id[i]} uses ${formatBytes(c.size[i]!)} > budget ${formatBytes(c.offset[i]!)}`;
        return { eventIndex: i, time: c.time[i]!, kind: 'budget' as const, label };
      }
      if (c.kind[i] === EV_MOVE) {
        let moves = 0;
        while (i + moves < events.length && c.kind[i + moves] === EV_MOVE) moves++;
        return {
          eventIndex: i,
          time: c.time[i]!,
          kind: 'defrag' as const,
          label: `defragmentation pass: ${moves} moves`,
        };
      }
      const kind = c.kind[i] === EV_FRAME ? 'frame' : c.kind[i] === EV_MARK ? 'mark' : 'failure';
      const name = events.strings[c.name[i]!] ?? '';
      const label =
        kind === 'frame'
          ? name || `frame ${c.id[i]}`
          : kind === 'failure'
            ? `${events.strings[c.code[i]!] ?? 'failure'}: ${name}`
            : name;
      return { eventIndex: i, time: c.time[i]!, kind, label };
    });
  }

  // ---- defragmentation plan ---------------------------------------------------------------------------

  defrag(p: ValidatedParams<'defragmentPlan'>): RequestResult<'defragmentPlan'> {
    const at = this.clampIndex(p.eventIndex);
    const plan = planDefragmentationOfSnapshot(this.analysis().snapshotAt(at), this.device, {
      algorithm: p.algorithm,
      ...(p.maxMovesPerPass !== undefined ? { maxMovesPerPass: p.maxMovesPerPass } : {}),
      ...(p.maxBytesPerPass !== undefined ? { maxBytesPerPass: p.maxBytesPerPass } : {}),
      ...(p.memoryTypes !== undefined ? { memoryTypes: p.memoryTypes } : {}),
    });
    return {
      eventIndex: at,
      algorithm: plan.algorithm,
      moves: plan.moves.slice(0, p.limit).map((m) => ({
        allocationId: m.allocationId,
        name: m.name,
        memoryTypeIndex: m.memoryTypeIndex,
        size: m.size,
        fromBlock: m.fromBlock,
        fromOffset: m.fromOffset,
        toBlock: m.toBlock,
        toOffset: m.toOffset,
      })),
      moveCount: plan.moves.length,
      bytesMoved: plan.bytesMoved,
      emptiedBlocks: [...plan.emptiedBlocks],
      blocksBefore: plan.blocksBefore,
      blocksAfter: plan.blocksAfter,
      liveBytes: plan.liveBytes,
      fragmentationBefore: plan.fragmentationBefore,
      fragmentationAfter: plan.fragmentationAfter,
      complete: plan.complete,
    };
  }

  // ---- snapshot --------------------------------------------------------------------------------------

  snapshot(p: ValidatedParams<'snapshotAt'>): RequestResult<'snapshotAt'> {
    const at = this.clampIndex(p.eventIndex);
    const snap = this.analysis().snapshotAt(at);
    const wanted = p.blockIds ? new Set(p.blockIds) : null;
    const byBlock = new Map<number, LiveAllocation[]>();
    for (const x of snap.allocations) {
      if (wanted && !wanted.has(x.block)) continue;
      let list = byBlock.get(x.block);
      if (!list) byBlock.set(x.block, (list = []));
      list.push(x);
    }
    const blocks = snap.blocks
      .filter((b) => !wanted || wanted.has(b.id))
      .map((b) => {
        const allocations = (byBlock.get(b.id) ?? []).sort((x, y) => x.offset - y.offset);
        const freeRanges = freeRangesOf(b.size, allocations);
        return {
          id: b.id,
          memoryTypeIndex: b.memoryTypeIndex,
          heapIndex: b.heapIndex,
          size: b.size,
          dedicated: b.dedicated,
          allocatedBytes: b.allocatedBytes,
          allocations: allocations.map((x) => ({
            id: x.id,
            name: x.name,
            offset: x.offset,
            size: x.size,
            kind: kindNames[x.kind] ?? 'linear',
          })),
          freeRanges,
        };
      });
    return {
      eventIndex: at,
      time: Math.max(0, snap.time),
      blocks,
      committedBytes: snap.total.committed,
      allocatedBytes: snap.total.allocated,
      allocationCount: snap.allocations.length,
    };
  }

  // ---- allocations -----------------------------------------------------------------------------------

  private nameAt(ordinal: number, allocEventIndex: number, at: number): string {
    const events = this.analysis().events;
    let nameId = events.columns.name[allocEventIndex]!;
    const renames = this.cachedTable?.renames.get(ordinal);
    if (renames) {
      for (let k = 0; k < renames.length; k += 2) {
        if (renames[k]! < at) nameId = renames[k + 1]!;
      }
    }
    return events.strings[nameId] ?? '';
  }

  private row(ordinal: number, at: number): AllocationRow {
    const table = this.table();
    const events = this.analysis().events;
    const c = events.columns;
    const i = table.allocEvent[ordinal]!;
    const freed = table.freeEvent[ordinal]!;
    const origin = events.strings[c.stack[i]!] ?? '';
    return {
      id: c.id[i]!,
      name: this.nameAt(ordinal, i, at),
      size: c.size[i]!,
      alignment: c.alignment[i]!,
      offset: c.offset[i]!,
      blockId: c.block[i]!,
      memoryTypeIndex: c.type[i]!,
      heapIndex: this.heapOf(c.type[i]!),
      location: flagsLocation(c.flags[i]!),
      kind: kindNames[c.flags[i]! & 3] ?? 'linear',
      decisionId: c.decision[i]!,
      allocatedAt: i,
      allocatedTime: Math.max(0, c.time[i]!),
      freedAt: freed >= 0 && freed < at ? freed : null,
      origin: origin === '' ? null : origin,
      usedRetry: (c.flags[i]! & FlagBits.usedRetry) !== 0,
      budgetRefusal: (c.flags[i]! & FlagBits.usedRetry) !== 0 ? this.budgetRefusalBefore(i) : null,
      // memoryTypeBits is never 0 for a real resource (a driver must allow at least one type).
      driverTypeBits: c.typeBits[i]! !== 0 ? c.typeBits[i]! : null,
      address: c.address[i]! !== 0 ? c.address[i]! : null,
      stream: c.stream[i]! !== 0 ? c.stream[i]! - 1 : null,
    };
  }

  /**
   * The budget refusal that sent allocate event `i` to its fallback type: the allocator reports it (a
   * budget sample flagged refused) just before it retries, so only block events and budget samples lie
   * between the two (spare blocks released, the fallback's new block).
   */
  private budgetRefusalBefore(i: number): AllocationRow['budgetRefusal'] {
    const c = this.analysis().events.columns;
    for (let k = i - 1; k >= 0 && k >= i - 64; k--) {
      const kind = c.kind[k];
      if (kind === EV_BUDGET) {
        if ((c.flags[k]! & FlagBits.budgetRefused) !== 0)
          return { heapIndex: c.id[k]!, budget: c.offset[k]!, usage: c.size[k]! };
      } else if (kind !== EV_BLOCK_CREATE && kind !== EV_BLOCK_DESTROY) return null;
    }
    return null;
  }

  allocations(p: ValidatedParams<'listAllocations'>): RequestResult<'listAllocations'> {
    const at = this.clampIndex(p.eventIndex);
    const table = this.table();
    const c = this.analysis().events.columns;
    const f = p.filter;
    const needle = f.nameContains?.toLowerCase();
    const ordinals: number[] = [];
    for (let o = 0; o < table.count; o++) {
      const i = table.allocEvent[o]!;
      if (i >= at) break;
      const freed = table.freeEvent[o]!;
      const live = freed < 0 || freed >= at;
      if (f.status === 'live' && !live) continue;
      if (f.status === 'freed' && live) continue;
      const type = c.type[i]!;
      if (f.memoryTypeIndex !== undefined && type !== f.memoryTypeIndex) continue;
      if (f.heapIndex !== undefined && this.heapOf(type) !== f.heapIndex) continue;
      if (f.location !== undefined && flagsLocation(c.flags[i]!) !== f.location) continue;
      const size = c.size[i]!;
      if (f.minSize !== undefined && size < f.minSize) continue;
      if (f.maxSize !== undefined && size > f.maxSize) continue;
      if (needle !== undefined && !this.nameAt(o, i, at).toLowerCase().includes(needle)) continue;
      ordinals.push(o);
    }
    const dir = p.sort.dir === 'asc' ? 1 : -1;
    const ev = (o: number): number => table.allocEvent[o]!;
    let compare: (x: number, y: number) => number;
    switch (p.sort.key) {
      case 'id':
        compare = (x, y) => c.id[ev(x)]! - c.id[ev(y)]!;
        break;
      case 'size':
        compare = (x, y) => c.size[ev(x)]! - c.size[ev(y)]! || x - y;
        break;
      case 'offset':
        compare = (x, y) => c.block[ev(x)]! - c.block[ev(y)]! || c.offset[ev(x)]! - c.offset[ev(y)]!;
        break;
      case 'memoryType':
        compare = (x, y) => c.type[ev(x)]! - c.type[ev(y)]! || x - y;
        break;
      case 'allocatedAt':
        compare = (x, y) => x - y;
        break;
      case 'name': {
        const names = new Map(ordinals.map((o) => [o, this.nameAt(o, ev(o), at)]));
        compare = (x, y) => {
          const a = names.get(x)!;
          const b = names.get(y)!;
          return a < b ? -1 : a > b ? 1 : x - y;
        };
        break;
      }
    }
    ordinals.sort((x, y) => dir * compare(x, y));
    const page = ordinals.slice(p.offset, p.offset + p.limit);
    return { total: ordinals.length, rows: page.map((o) => this.row(o, at)) };
  }

  detail(p: ValidatedParams<'allocationDetail'>): RequestResult<'allocationDetail'> {
    const table = this.table();
    const events = this.analysis().events;
    const c = events.columns;
    const o = table.ordinalOfId.get(p.allocationId);
    if (o < 0) throw notFound(`allocation in ${this.sourceId}`, p.allocationId);
    const i = table.allocEvent[o]!;
    const history: RequestResult<'allocationDetail'>['history'] = [
      {
        eventIndex: i,
        time: Math.max(0, c.time[i]!),
        kind: 'allocate',
        name: events.strings[c.name[i]!] ?? '',
      },
    ];
    const renames = table.renames.get(o) ?? [];
    for (let k = 0; k < renames.length; k += 2) {
      const e = renames[k]!;
      history.push({
        eventIndex: e,
        time: Math.max(0, c.time[e]!),
        kind: 'rename',
        name: events.strings[renames[k + 1]!] ?? '',
      });
    }
    const freed = table.freeEvent[o]!;
    if (freed >= 0)
      history.push({ eventIndex: freed, time: Math.max(0, c.time[freed]!), kind: 'free', name: '' });
    const decision = events.decisions[c.decision[i]!];
    const stack = events.strings[c.stack[i]!] ?? '';
    const allocation = this.row(o, events.length);
    const blockDetails = this.capture()?.blockDetails.find((b) => b.blockId === allocation.blockId)?.text;
    return {
      allocation,
      decision: decision ? decisionDto(decision) : null,
      stack: stack === '' ? null : stack,
      history,
      ...(blockDetails ? { blockDetails } : {}),
    };
  }

  // ---- individual allocations: bands and search (issue 11) ----------------------------------------------

  private lifetimes(): AllocationLifetimes {
    const events = this.analysis().events;
    if (this.cachedLifetimes === null || this.cachedLifetimes.events !== events)
      this.cachedLifetimes = new AllocationLifetimes(events);
    return this.cachedLifetimes;
  }

  bands(p: ValidatedParams<'allocationBands'>): RequestResult<'allocationBands'> {
    if (p.endIndex < p.startIndex) {
      throw new ApiFailure('InvalidRequest', 'allocationBands: endIndex is before startIndex.');
    }
    const n = this.analysis().eventCount;
    const r = this.lifetimes().bands(
      { start: p.startIndex, end: p.endIndex, limit: p.limit, buckets: p.buckets },
      n,
    );
    return {
      startIndex: r.start,
      endIndex: r.end,
      eventCount: n,
      alive: r.alive,
      id: r.id,
      size: r.size,
      from: r.from,
      to: r.to,
      block: r.block,
      offset: r.offset,
      restBoundaries: r.restBoundaries,
      restMax: r.restMax,
    };
  }

  search(p: ValidatedParams<'searchAllocations'>): RequestResult<'searchAllocations'> {
    const address = p.address === undefined ? null : parseAddressQuery(p.address);
    if (p.address !== undefined && address === null) {
      throw new ApiFailure(
        'InvalidRequest',
        'searchAllocations: the address should read "block 3 + 0x1000", "3:4096" or "0x1000".',
      );
    }
    const n = this.analysis().eventCount;
    const lifetimes = this.lifetimes();
    const r = lifetimes.search(
      { address, ...(p.text === undefined ? {} : { text: p.text }), limit: p.limit },
      n,
    );
    // The table's ordinals are the same allocation order (one per allocate event).
    return { total: r.total, rows: r.ordinals.map((o) => this.row(o, n)) };
  }

  // ---- leaks, diff, report ---------------------------------------------------------------------------

  leaks(p: ValidatedParams<'leaks'>): RequestResult<'leaks'> {
    const at = this.clampIndex(p.eventIndex);
    const a = this.analysis();
    let groups: { key: string; count: number; bytes: number; allocationIds: readonly number[] }[];
    let count: number;
    let bytes: number;
    if (p.groupBy === 'type') {
      const snap = a.snapshotAt(at);
      const byType = new Map<number, { count: number; bytes: number; ids: number[] }>();
      for (const x of snap.allocations) {
        let g = byType.get(x.memoryTypeIndex);
        if (!g) byType.set(x.memoryTypeIndex, (g = { count: 0, bytes: 0, ids: [] }));
        g.count++;
        g.bytes += x.size;
        g.ids.push(x.id);
      }
      groups = [...byType]
        .map(([t, g]) => ({ key: `type ${t}`, count: g.count, bytes: g.bytes, allocationIds: g.ids }))
        .sort((x, y) => y.bytes - x.bytes || y.count - x.count);
      count = snap.allocations.length;
      bytes = snap.total.allocated;
    } else {
      const report = a.leaksAt(at);
      groups = [...(p.groupBy === 'origin' ? report.byOrigin : report.byName)];
      count = report.count;
      bytes = report.bytes;
    }
    const capture = this.capture();
    return {
      eventIndex: at,
      count,
      bytes,
      groups: groups.map((g) => ({
        key: g.key === '' ? '(no origin recorded)' : g.key,
        count: g.count,
        bytes: g.bytes,
        allocationIds: g.allocationIds.slice(0, 100),
      })),
      ...(capture ? { problems: capture.problems.slice(0, MAX_PROBLEMS).map(problemDto) } : {}),
    };
  }

  diff(p: ValidatedParams<'diff'>): RequestResult<'diff'> {
    if (p.fromIndex > p.toIndex) {
      throw new ApiFailure('InvalidRequest', 'diff: fromIndex must not be after toIndex.');
    }
    const from = this.clampIndex(p.fromIndex);
    const to = this.clampIndex(p.toIndex);
    const a = this.analysis();
    const d = a.diff(from, to);
    const table = this.table();
    const rows = (list: readonly LiveAllocation[], at: number): AllocationRow[] =>
      list.slice(0, p.limit).map((x) => this.row(table.ordinalOfId.get(x.id), at));
    const c = a.events.columns;
    let blocksCreated = 0;
    let blocksDestroyed = 0;
    for (let i = from; i < to; i++) {
      if (c.kind[i] === EV_BLOCK_CREATE) blocksCreated++;
      else if (c.kind[i] === EV_BLOCK_DESTROY) blocksDestroyed++;
    }
    const sum = (list: readonly LiveAllocation[]): number => list.reduce((s, x) => s + x.size, 0);
    return {
      fromIndex: from,
      toIndex: to,
      allocated: { count: d.appeared.length, bytes: sum(d.appeared), rows: rows(d.appeared, to) },
      freed: { count: d.disappeared.length, bytes: sum(d.disappeared), rows: rows(d.disappeared, to) },
      blocksCreated,
      blocksDestroyed,
      perType: d.types.map((t, i) => ({
        memoryTypeIndex: i,
        committedDelta: t.committed,
        allocatedDelta: t.allocated,
      })),
    };
  }

  /** The report `vramscope report --json` prints for the same events (allocator/analysis/report.ts). */
  reportObject(): TraceReport {
    return traceReport(this.analysis(), {
      name: this.name,
      strategy: this.strategy,
      warnings: this.warnings,
    });
  }

  report(format: 'json' | 'text'): string {
    const a = this.analysis();
    const s = a.summary;
    const leaks = a.leaksAt();
    const frag = a.fragmentationAt();
    const capture = this.capture();
    // getReport's JSON; a captured application's findings beside it (not yet part of getReport's shape).
    if (format === 'json')
      return `${JSON.stringify(
        {
          ...this.reportObject(),
          ...(capture ? { capture: { ...capture, problems: capture.problems.slice(0, MAX_PROBLEMS) } } : {}),
        },
        null,
        2,
      )}\n`;
    // Names are data (from the trace file or a client): each is capped and every line has its control
    // characters escaped, so no name can start a line of its own in the written report.
    const n = (text: string): string => printable(text, maxPrintedNameLength);
    const lines: string[] = [
      `VRAMscope report: ${n(this.name)} (${this.sourceId})`,
      `Device: ${n(this.device.name)} [${this.device.api}, ${n(this.device.source)}], strategy ${n(this.strategy)}`,
      `Events: ${s.eventCount} over ${(s.durationMs / 1000).toFixed(3)} s; ${s.counts.allocations} allocations, ${s.counts.frees} frees, ${s.counts.failures} failures, ${s.counts.blocksCreated} blocks created`,
      `Total: committed ${formatBytes(s.total.final.committed)} (peak ${formatBytes(s.total.peakCommitted.bytes)}), allocated ${formatBytes(s.total.final.allocated)} (peak ${formatBytes(s.total.peakAllocated.bytes)})`,
      'Heaps:',
      ...s.heaps.map(
        (h) =>
          `  heap ${h.index}: committed peak ${formatBytes(h.peakCommitted.bytes)}, allocated peak ${formatBytes(h.peakAllocated.bytes)}`,
      ),
      'Memory types:',
      ...s.types
        .filter((t) => t.peakCommitted.bytes > 0)
        .map(
          (t) =>
            `  type ${t.index}: committed peak ${formatBytes(t.peakCommitted.bytes)}, allocated peak ${formatBytes(t.peakAllocated.bytes)}`,
        ),
      `Fragmentation at the end: ${(frag.fragmentation * 100).toFixed(1)}% of ${formatBytes(frag.freeBytes)} free is outside each block's largest hole`,
      `Failures: ${s.failures.length}`,
      ...s.failures
        .slice(0, 10)
        .map(
          (f) =>
            `  event ${f.eventIndex}: ${n(f.code)} for "${n(f.name)}" (${formatBytes(f.size)}, ${f.location})`,
        ),
      `Leaks (live at the end): ${leaks.count} allocations, ${formatBytes(leaks.bytes)}`,
      ...leaks.byOrigin.slice(0, 10).flatMap((g) => [
        `  ${g.key === '' ? '(no origin recorded)' : n(g.key)}: ${g.count} allocations, ${formatBytes(g.bytes)}`,
        // The stack below its origin: Python frames first, C++ frames folded into one line.
        ...(g.stack === '' || g.stack === g.key ? [] : formatStack(g.stack, { indent: '      ' }).map(n)),
      ]),
      ...(capture ? captureReportLines(capture) : []),
      ...this.warnings.map((w) => `Warning: ${n(w)}`),
    ];
    return `${lines.map((line) => printable(line, 10_000)).join('\n')}\n`;
  }
}

/** Problems returned at most (a leaking game can have thousands; the counts stay exact in the analysis). */
const MAX_PROBLEMS = 1000;

function problemDto(p: CaptureProblem): CaptureProblemDto {
  return {
    kind: p.kind,
    message: p.message,
    eventIndex: p.eventIndex,
    resources: p.resources.slice(0, 100),
    blocks: p.blocks.slice(0, 100),
    bytes: p.bytes,
    stack: p.stack === '' ? null : p.stack,
  };
}
