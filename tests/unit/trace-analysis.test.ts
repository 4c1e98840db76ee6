import { describe, expect, test } from 'vitest';
import { EventLog, FlagBits, TraceEventKind } from '../../allocator/event-log.ts';
import { AllocationKind } from '../../allocator/types.ts';
import { traceEventsOf, type TraceEvents } from '../../allocator/trace/index.ts';
import {
  TraceAnalysis,
  analyzeTrace,
  replayTo,
  seriesLayout,
  snapMinBaseBuckets,
  type AnalysisParts,
  type TimelineGroup,
} from '../../allocator/analysis/index.ts';
import { rng } from '../support/rng.ts';
import { generateWorkload, microClock, testDevice } from '../support/trace-fixtures.ts';

const MiB = 2 ** 20;

function handLog(): EventLog {
  const { clock, advance } = microClock();
  const log = new EventLog({ clock });
  const alloc = (
    id: number,
    block: number,
    type: number,
    offset: number,
    size: number,
    name: string,
    stack: string | null,
  ): void => {
    advance(10);
    log.allocate({
      allocationId: id,
      blockId: block,
      memoryTypeIndex: type,
      offset,
      size,
      alignment: 256,
      kind: AllocationKind.Linear,
      location: 'GpuOnly',
      name,
      decisionId: 0,
      usedRetry: false,
      stack,
    });
  };
  log.blockCreate({ blockId: 1, memoryTypeIndex: 1, size: 64 * MiB, dedicated: false }); // 0
  alloc(1, 1, 1, 0, 10 * MiB, 'vertex', 'load.mjs:10'); // 1
  alloc(2, 1, 1, 10 * MiB, 20 * MiB, 'index', 'load.mjs:10'); // 2
  log.blockCreate({ blockId: 2, memoryTypeIndex: 2, size: 16 * MiB, dedicated: false }); // 3  (type 2 -> heap 1)
  alloc(3, 2, 2, 0, 4 * MiB, 'staging', 'upload.mjs:5'); // 4
  log.free(1); // 5
  alloc(4, 1, 1, 40 * MiB, 5 * MiB, 'vertex', 'load.mjs:10'); // 6
  log.rename(2, 'index (lod 0)'); // 7
  log.failure({
    name: 'huge',
    size: 2 ** 40,
    alignment: 256,
    location: 'GpuOnly',
    linear: true,
    code: 'OutOfMemory',
    message: 'no room',
    decisionId: 0,
    stack: 'load.mjs:99',
  }); // 8
  log.free(3); // 9
  log.blockDestroy(2); // 10
  alloc(5, 1, 1, 50 * MiB, 1 * MiB, 'vertex', null); // 11
  log.frame(1); // 12
  return log;
}

describe('analysis on a hand-built sequence', () => {
  const log = handLog();
  const analysis = analyzeTrace(traceEventsOf(log), testDevice);
  const s = analysis.summary;

  test('counts, final totals and peaks per type, heap and total', () => {
    expect(s.eventCount).toBe(13);
    expect(s.counts).toMatchObject({
      allocations: 5,
      frees: 2,
      failures: 1,
      blocksCreated: 2,
      blocksDestroyed: 1,
      renames: 1,
      frames: 1,
    });
    // Final: block 1 (64 MiB) live; allocations 2 (20), 4 (5), 5 (1) live = 26 MiB.
    expect(s.total.final).toEqual({ committed: 64 * MiB, allocated: 26 * MiB });
    expect(s.types[1]!.final).toEqual({ committed: 64 * MiB, allocated: 26 * MiB });
    expect(s.types[2]!.final).toEqual({ committed: 0, allocated: 0 });
    expect(s.heaps[0]!.final).toEqual({ committed: 64 * MiB, allocated: 26 * MiB });
    // Peaks: committed total 80 MiB after event 3; allocated total 34 MiB after event 4 (10+20+4).
    expect(s.total.peakCommitted).toMatchObject({ bytes: 80 * MiB, eventIndex: 3 });
    expect(s.total.peakAllocated).toMatchObject({ bytes: 34 * MiB, eventIndex: 4 });
    expect(s.heaps[1]!.peakCommitted).toMatchObject({ bytes: 16 * MiB, eventIndex: 3 });
    expect(s.heaps[1]!.peakAllocated).toMatchObject({ bytes: 4 * MiB, eventIndex: 4 });
    expect(s.types[1]!.peakAllocated).toMatchObject({ bytes: 30 * MiB, eventIndex: 2 });
    expect(s.failures).toHaveLength(1);
    expect(s.failures[0]).toMatchObject({
      eventIndex: 8,
      name: 'huge',
      code: 'OutOfMemory',
      message: 'no room',
      stack: 'load.mjs:99',
      linear: true,
    });
    expect(s.anomalies).toBe(0);
  });

  test('leaks at the end are grouped by origin and by name, with renames applied', () => {
    const leaks = analysis.leaksAt();
    expect(leaks.count).toBe(3);
    expect(leaks.bytes).toBe(26 * MiB);
    expect(leaks.byOrigin.map((g) => [g.key, g.count, g.bytes, g.allocationIds])).toEqual([
      ['load.mjs:10', 2, 25 * MiB, [2, 4]],
      ['', 1, 1 * MiB, [5]],
    ]);
    expect(leaks.byName.map((g) => [g.key, g.count, g.bytes])).toEqual([
      ['index (lod 0)', 1, 20 * MiB],
      ['vertex', 2, 6 * MiB],
    ]);
    expect(leaks.byNamePattern.map((g) => [g.key, g.count])).toEqual([
      ['index (lod #)', 1],
      ['vertex', 2],
    ]);
    // Leaks at an earlier point: after event 5 (allocations 2 and 3 live, no rename yet).
    const early = analysis.leaksAt(6);
    expect(early.byName.map((g) => g.key)).toEqual(['index', 'staging']);
  });

  test('fragmentation per block and overall follows 1 - largest free range / free', () => {
    const f = analysis.fragmentationAt();
    expect(f.blocks).toHaveLength(1);
    const b = f.blocks[0]!;
    // Block 1, 64 MiB: used [10,30) [40,45) [50,51) -> free [0,10) [30,40) [45,50) [51,64).
    expect(b).toMatchObject({
      usedBytes: 26 * MiB,
      freeBytes: 38 * MiB,
      largestFreeRange: 13 * MiB,
      freeRangeCount: 4,
    });
    expect(b.fragmentation).toBeCloseTo(1 - 13 / 38, 12);
    expect(f.fragmentation).toBeCloseTo(1 - 13 / 38, 12);
    // After event 2: [0,30) used, one free range -> 0.
    expect(analysis.fragmentationAt(3).fragmentation).toBe(0);
  });

  test('diff lists allocations that appeared, disappeared and were renamed', () => {
    const d = analysis.diff(5, 13);
    expect(d.appeared.map((a) => a.id)).toEqual([4, 5]);
    expect(d.disappeared.map((a) => a.id)).toEqual([1, 3]);
    expect(d.renamed).toEqual([{ id: 2, from: 'index', to: 'index (lod 0)' }]);
    expect(d.total).toEqual({ committed: 64 * MiB - 80 * MiB, allocated: 26 * MiB - 34 * MiB });
  });

  test('eventIndexAtTime maps a time to the number of events at or before it', () => {
    // Each allocate advances the clock by 10 µs (0.01 ms) first; other events share the previous time.
    expect(analysis.eventIndexAtTime(-1)).toBe(0);
    expect(analysis.eventIndexAtTime(0)).toBe(1);
    expect(analysis.eventIndexAtTime(0.01)).toBe(2);
    expect(analysis.eventIndexAtTime(0.02)).toBe(4);
    expect(analysis.eventIndexAtTime(1e9)).toBe(13);
  });

  test('a snapshot carries the state at that event, names and blocks included', () => {
    const snap = analysis.snapshotAt(5);
    expect(snap.allocations.map((a) => [a.id, a.name, a.heapIndex])).toEqual([
      [1, 'vertex', 0],
      [2, 'index', 0],
      [3, 'staging', 1],
    ]);
    expect(snap.blocks.map((b) => [b.id, b.allocationCount, b.allocatedBytes])).toEqual([
      [1, 2, 30 * MiB],
      [2, 1, 4 * MiB],
    ]);
    expect(snap.heaps[1]).toEqual({ committed: 16 * MiB, allocated: 4 * MiB });
  });

  test('frees of unknown ids are counted as anomalies, not crashes', () => {
    const bad = new EventLog();
    bad.free(42);
    bad.blockDestroy(7);
    bad.rename(9, 'x');
    const a = analyzeTrace(traceEventsOf(bad), testDevice);
    expect(a.summary.anomalies).toBe(3);
    expect(a.summary.total.final).toEqual({ committed: 0, allocated: 0 });
  });
});

describe('analysis on generated workloads', () => {
  const log = generateWorkload({ events: 20_000, seed: 99, liveTarget: 300, nameVariety: 50 });
  const events = traceEventsOf(log);

  test('snapshotAt (checkpoints + replay) equals a replay from event 0', () => {
    const analysis = analyzeTrace(events, testDevice, { checkpointInterval: 512 });
    const r = rng(5);
    const points = [0, 1, 511, 512, 513, log.length - 1, log.length];
    for (let k = 0; k < 25; k++) points.push(Math.floor(r() * (log.length + 1)));
    for (const p of points)
      expect(analysis.snapshotAt(p), `snapshot at ${p}`).toEqual(replayTo(events, testDevice, p));
  });

  test('timeline queries equal brute force over per-event values, for every group and many ranges', () => {
    const analysis = analyzeTrace(events, testDevice, { timelineBaseLog2: 3 });
    const layout = seriesLayout(testDevice);
    const S = layout.seriesCount;
    // Brute force: the value of every series after every event, from full snapshots' bookkeeping.
    const n = log.length;
    const committed = new Float64Array(n * S);
    const allocated = new Float64Array(n * S);
    const live = new Map<number, number>();
    const blocks = new Map<number, number>();
    const curC = new Float64Array(S);
    const curA = new Float64Array(S);
    const c = log.columns;
    const bump = (cur: Float64Array, type: number, bytes: number): void => {
      cur[type]! += bytes;
      cur[layout.typeCount + layout.typeHeap[type]!]! += bytes;
      cur[layout.totalSeries]! += bytes;
    };
    for (let i = 0; i < n; i++) {
      const kind = c.kind[i];
      if (kind === 1) {
        live.set(c.id[i]!, i);
        bump(curA, c.type[i]!, c.size[i]!);
      } else if (kind === 2) {
        const at = live.get(c.id[i]!)!;
        live.delete(c.id[i]!);
        bump(curA, c.type[at]!, -c.size[at]!);
      } else if (kind === 4) {
        blocks.set(c.id[i]!, i);
        bump(curC, c.type[i]!, c.size[i]!);
      } else if (kind === 5) {
        const at = blocks.get(c.id[i]!)!;
        blocks.delete(c.id[i]!);
        bump(curC, c.type[at]!, -c.size[at]!);
      }
      committed.set(curC, i * S);
      allocated.set(curA, i * S);
    }
    const r = rng(11);
    const cases: [number, number, number, TimelineGroup][] = [
      [0, n, 7, 'type'],
      [0, n, n, 'heap'],
      [0, n, 1, 'heap'],
      [5, 6, 3, 'type'],
    ];
    for (let k = 0; k < 40; k++) {
      const a = Math.floor(r() * n);
      const b = a + Math.floor(r() * (n - a + 1));
      cases.push([a, b, 1 + Math.floor(r() * 300), r() < 0.5 ? 'heap' : 'type']);
    }
    let compared = 0;
    let mismatch: string | null = null;
    for (const [a, b, buckets, group] of cases) {
      const q = analysis.timeline.query(a, b, buckets, group);
      const nb = Math.min(buckets, b - a);
      expect(q.boundaries.length).toBe(nb + 1);
      const first = group === 'type' ? 0 : layout.typeCount;
      const all = [
        ...q.series.map((x, k) => [x, first + k] as const),
        [q.total, layout.totalSeries] as const,
      ];
      for (let j = 0; j < nb && mismatch === null; j++) {
        const lo = q.boundaries[j]!;
        const hi = q.boundaries[j + 1]!;
        if (hi <= lo) mismatch = `query [${a}, ${b}) x${buckets}: empty bucket ${j}`;
        for (const [series, s] of all) {
          let cMin = Infinity;
          let cMax = -Infinity;
          let aMin = Infinity;
          let aMax = -Infinity;
          for (let i = lo; i < hi; i++) {
            cMin = Math.min(cMin, committed[i * S + s]!);
            cMax = Math.max(cMax, committed[i * S + s]!);
            aMin = Math.min(aMin, allocated[i * S + s]!);
            aMax = Math.max(aMax, allocated[i * S + s]!);
          }
          const want = [cMin, cMax, committed[(hi - 1) * S + s], aMin, aMax, allocated[(hi - 1) * S + s]];
          const got = [
            series.committed.min[j],
            series.committed.max[j],
            series.committed.last[j],
            series.allocated.min[j],
            series.allocated.max[j],
            series.allocated.last[j],
          ];
          compared++;
          if (want.some((w, k) => w !== got[k]))
            mismatch = `query [${a}, ${b}) x${buckets} ${group}, bucket ${j}, series ${s}: want ${want.join(',')} got ${got.join(',')}`;
        }
      }
    }
    expect(mismatch).toBeNull();
    expect(compared).toBeGreaterThan(20_000);
  });

  test('slices of many level-0 buckets start on level-0 bucket edges; boundaries() lists what query() uses', () => {
    const log = generateWorkload({ events: 50_000, seed: 5, liveTarget: 300 });
    const timeline = analyzeTrace(traceEventsOf(log), testDevice).timeline;
    const base = 64; // the default timelineBaseLog2, 6
    const r = rng(3);
    let snapped = 0;
    let even = 0;
    for (let k = 0; k < 200; k++) {
      const a = Math.floor(r() * log.length);
      const b = a + Math.floor(r() * (log.length - a + 1));
      const buckets = 1 + Math.floor(r() * 400);
      const edges = timeline.boundaries(a, b, buckets);
      expect(Array.from(edges)).toEqual(Array.from(timeline.query(a, b, buckets, 'heap').boundaries));
      const n = b - a;
      const nb = edges.length - 1;
      expect(nb).toBe(Math.min(buckets, n));
      if (nb === 0) continue;
      expect(edges[0]).toBe(a);
      expect(edges[nb]).toBe(b);
      const longSlices = n >= snapMinBaseBuckets * base * nb;
      for (let j = 1; j < nb; j++) {
        const evenEdge = a + Math.floor((j * n) / nb);
        expect(edges[j]!).toBeGreaterThan(edges[j - 1]!);
        if (longSlices) {
          expect(edges[j]! % base).toBe(0);
          expect(Math.abs(edges[j]! - evenEdge)).toBeLessThanOrEqual(base / 2);
          snapped++;
        } else {
          expect(edges[j]).toBe(evenEdge);
          even++;
        }
      }
      expect(edges[nb]!).toBeGreaterThan(edges[nb - 1]!);
    }
    expect(snapped).toBeGreaterThan(100);
    expect(even).toBeGreaterThan(100);
  });

  test('a pixel-wide query over the whole trace touches a bounded number of buckets', () => {
    const big = generateWorkload({ events: 200_000, seed: 3, liveTarget: 1000 });
    const analysis = analyzeTrace(traceEventsOf(big), testDevice);
    const q = analysis.timeline.query(0, big.length, 1000, 'type');
    // Each output bucket: at most two edge runs plus O(log) stored buckets.
    expect(q.bucketsTouched).toBeLessThanOrEqual(1000 * (2 + 2 * Math.log2(big.length / 64)));
    expect(q.total.committed.last[999]).toBe(analysis.summary.total.final.committed);
  });
});

/** The first `shown()` of `events`, as a stream that is still being written shows them. */
function growingPrefix(events: TraceEvents, shown: () => number): TraceEvents {
  return {
    get length() {
      return shown();
    },
    columns: events.columns,
    strings: events.strings,
    decisions: events.decisions,
  };
}

describe('incremental analysis of a growing stream', () => {
  test('extending by new events only equals analysing the whole stream at once', () => {
    const full = generateWorkload({ events: 30_000, seed: 11, liveTarget: 300 });
    const fullEvents = traceEventsOf(full);
    // A "live" view of the same events that grows in uneven batches.
    let copied = 0;
    const growing = growingPrefix(fullEvents, () => copied);
    const analysis = analyzeTrace(growing, testDevice, { checkpointInterval: 512, timelineBaseLog2: 3 });
    const random = rng(5);
    let extensions = 0;
    while (copied < full.length) {
      const k = Math.min(full.length - copied, 1 + Math.floor(random() * 4000));
      copied += k;
      expect(analysis.extend()).toBe(k);
      extensions++;
      // Queries between extensions see exactly the analysed prefix.
      expect(analysis.eventCount).toBe(copied);
      expect(analysis.timeline.query(0, copied, 7, 'heap').endIndex).toBe(copied);
    }
    expect(extensions).toBeGreaterThan(5);
    expect(analysis.extend()).toBe(0);
    const once = analyzeTrace(fullEvents, testDevice, { checkpointInterval: 512, timelineBaseLog2: 3 });
    expect(analysis.summary).toEqual(once.summary);
    for (const group of ['heap', 'type'] as const) {
      for (const [a, b, n] of [
        [0, full.length, 333],
        [17, 29_000, 1000],
        [5000, 5100, 100],
      ] as const) {
        const x = analysis.timeline.query(a, b, n, group);
        const y = once.timeline.query(a, b, n, group);
        expect(x.total).toEqual(y.total);
        expect(x.series).toEqual(y.series);
      }
    }
    for (const at of [0, 1, 4097, 20_000, full.length]) {
      expect(analysis.snapshotAt(at)).toEqual(once.snapshotAt(at));
    }
    expect(analysis.leaksAt()).toEqual(once.leaksAt());
    expect(analysis.fragmentationAt()).toEqual(once.fragmentationAt());
  });
});

describe('an analysis taken up from its parts (made on another thread)', () => {
  /** What a postMessage does to the parts: a structured clone with their buffers moved. */
  function sent(analysis: ReturnType<typeof analyzeTrace>): AnalysisParts {
    const { parts, transfer } = analysis.toParts();
    const copy = structuredClone(parts, { transfer });
    // Moved, not copied: the sender's arrays are gone.
    expect(transfer.length).toBeGreaterThan(0);
    expect(transfer.every((b) => b.byteLength === 0)).toBe(true);
    return copy;
  }

  test('made over part of a stream, taken up over all of it: the same as analysing it all here', () => {
    const full = generateWorkload({ events: 30_000, seed: 23, liveTarget: 300 });
    const fullEvents = traceEventsOf(full);
    let shown = 12_345;
    const growing = growingPrefix(fullEvents, () => shown);
    const options = { checkpointInterval: 512, timelineBaseLog2: 3 };
    const there = analyzeTrace(growing, testDevice, { ...options, expectedEvents: full.length });
    // As the analysis thread does after each batch: the upper levels made while the stream is short.
    there.timeline.updateLevels();
    const levelsEarly = there.timeline.levelCount;
    shown = 20_000;
    there.extend();
    there.timeline.updateLevels();
    expect(there.timeline.levelCount).toBeGreaterThan(levelsEarly);
    const parts = sent(there);
    const here = TraceAnalysis.fromParts(fullEvents, testDevice, parts);
    expect(here.eventCount).toBe(20_000);
    // The rest of the stream is analysed here, as it would be there.
    expect(here.extend()).toBe(full.length - 20_000);
    const once = analyzeTrace(fullEvents, testDevice, options);
    expect(here.summary).toEqual(once.summary);
    for (const group of ['heap', 'type'] as const)
      for (const [a, b, n] of [
        [0, full.length, 333],
        [17, 29_000, 1000],
        [19_990, 20_010, 20],
      ] as const) {
        const x = here.timeline.query(a, b, n, group);
        const y = once.timeline.query(a, b, n, group);
        expect(x.total).toEqual(y.total);
        expect(x.series).toEqual(y.series);
      }
    for (const at of [0, 1, 4097, 19_999, 20_000, 25_000, full.length])
      expect(here.snapshotAt(at)).toEqual(once.snapshotAt(at));
    expect(here.leaksAt()).toEqual(once.leaksAt());
    for (const heap of [0, 1]) {
      expect(here.budgetLine(heap, 0, full.length)).toEqual(once.budgetLine(heap, 0, full.length));
      expect(here.budgetLine(heap, 0, full.length).length).toBeGreaterThan(0);
    }
    expect(here.summary.failures.length).toBeGreaterThan(0);
  });

  test('failures and renames come across; a device with other memory types is refused', () => {
    const events = traceEventsOf(handLog());
    const parts = sent(analyzeTrace(events, testDevice));
    const here = TraceAnalysis.fromParts(events, testDevice, parts);
    const once = analyzeTrace(events, testDevice);
    expect(here.summary).toEqual(once.summary);
    expect(here.summary.failures.length).toBeGreaterThan(0);
    expect(here.leaksAt()).toEqual(once.leaksAt());
    const fewer = { ...testDevice, types: testDevice.types.slice(0, 1) };
    expect(() => TraceAnalysis.fromParts(events, fewer, parts)).toThrow(/other memory types and heaps/);
  });
});

describe('the events a timeline marks', () => {
  /** A workload (frames, marks, failures, plain budget samples) with defragmentation passes and flagged budget samples spread through it. */
  function markedWorkload(): EventLog {
    const log = generateWorkload({ events: 20_000, seed: 31, liveTarget: 300 });
    const random = rng(8);
    for (let round = 0; round < 40; round++) {
      const run = 1 + Math.floor(random() * 5);
      for (let k = 0; k < run; k++)
        log.move({
          allocationId: 1 + Math.floor(random() * 100),
          blockId: 1,
          memoryTypeIndex: 0,
          offset: 256 * k,
        });
      log.budgetSample({
        heapIndex: round % 2,
        budget: testDevice.heaps[round % 2]!.size,
        usage: 2 ** 30,
        flags: round % 3 === 0 ? FlagBits.budgetRefused : round % 3 === 1 ? FlagBits.budgetCrossed : 0,
      });
      log.frame(100_000 + round);
    }
    return log;
  }

  /** What the timeline marks, found by looking at every event of [start, end). */
  function scanned(events: TraceEvents, start: number, end: number): number[] {
    const c = events.columns;
    const found: number[] = [];
    for (let i = start; i < end; i++) {
      const k = c.kind[i];
      if (k === TraceEventKind.Frame || k === TraceEventKind.Mark || k === TraceEventKind.Failure)
        found.push(i);
      else if (k === TraceEventKind.Move && (i === 0 || c.kind[i - 1] !== TraceEventKind.Move)) found.push(i);
      else if (
        k === TraceEventKind.BudgetSample &&
        (c.flags[i]! & (FlagBits.budgetCrossed | FlagBits.budgetRefused)) !== 0
      )
        found.push(i);
    }
    return found;
  }

  test('markedEvents lists every marked event of a range, whole, grown or taken up from its parts', () => {
    const log = markedWorkload();
    const events = traceEventsOf(log);
    const n = events.length;
    let shown = 7_777;
    const growing = analyzeTrace(
      growingPrefix(events, () => shown),
      testDevice,
    );
    shown = 20_010;
    growing.extend();
    const { parts, transfer } = growing.toParts();
    const taken = TraceAnalysis.fromParts(events, testDevice, structuredClone(parts, { transfer }));
    taken.extend();
    const once = analyzeTrace(events, testDevice);
    const all = scanned(events, 0, n);
    // Each kind is there: frames, marks, failures, first moves of a run (not the others), flagged budgets.
    const kinds = new Set(all.map((i) => events.columns.kind[i]));
    expect([...kinds].sort((a, b) => a - b)).toEqual([3, 7, 8, 9, 10]);
    expect(all.filter((i) => events.columns.kind[i] === TraceEventKind.Move).length).toBe(40);
    for (const analysis of [once, taken])
      for (const [a, b] of [
        [0, n],
        [0, Infinity],
        [5, 6],
        [1234, 17_000],
        [20_000, n],
        [n - 30, n - 1],
        [n, n],
      ] as const)
        expect(Array.from(analysis.markedEvents(a, b))).toEqual(scanned(events, a, Math.min(b, n)));
  });
});
