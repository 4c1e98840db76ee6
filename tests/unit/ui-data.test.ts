// The inspector's in-memory source against brute force over the same event stream: timeline maxima per
// bucket, snapshots, allocation queries, leaks and diffs.
import { describe, expect, test } from 'vitest';
import { TraceEventKind } from '../../allocator/index.ts';
import { eventToTime, parseReport } from '../../src-renderer/data/api-source.ts';
import { MemorySource } from '../../src-renderer/data/memory-source.ts';
import { bucketOfEvent, fragmentation } from '../../src-renderer/data/source.ts';
import { buildWorkload } from '../support/ui-trace.ts';

const work = buildWorkload({ ops: 6000, seed: 7, frameEvery: 500 });
const source = new MemorySource({ title: 'unit', device: work.device, data: work.log });
const n = work.log.length;

/** Committed and allocated totals after each event, by a plain replay. */
function bruteTotals(): { committed: Float64Array; allocated: Float64Array } {
  const c = work.log.columns;
  const committed = new Float64Array(n + 1);
  const allocated = new Float64Array(n + 1);
  const sizes = new Map<number, number>();
  const blocks = new Map<number, number>();
  let ct = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const k = c.kind[i];
    if (k === TraceEventKind.Allocate) {
      sizes.set(c.id[i] ?? 0, c.size[i] ?? 0);
      at += c.size[i] ?? 0;
    } else if (k === TraceEventKind.Free) {
      at -= sizes.get(c.id[i] ?? 0) ?? 0;
    } else if (k === TraceEventKind.BlockCreate) {
      blocks.set(c.id[i] ?? 0, c.size[i] ?? 0);
      ct += c.size[i] ?? 0;
    } else if (k === TraceEventKind.BlockDestroy) {
      ct -= blocks.get(c.id[i] ?? 0) ?? 0;
    }
    committed[i + 1] = ct;
    allocated[i + 1] = at;
  }
  return { committed, allocated };
}

describe('MemorySource', () => {
  const brute = bruteTotals();

  test('overview peaks and counts equal a plain replay', async () => {
    const o = await source.overview();
    expect(o).not.toBeNull();
    if (!o) return;
    expect(o.eventCount).toBe(n);
    expect(o.peakCommittedBytes).toBe(Math.max(...brute.committed));
    expect(o.peakAllocatedBytes).toBe(Math.max(...brute.allocated));
    expect(brute.committed[o.peakCommittedAt]).toBe(o.peakCommittedBytes);
    expect(o.liveAllocationsAtEnd).toBe(work.leaked.length);
    expect(o.types.reduce((s, t) => s + (t.allocationCount ?? 0), 0)).toBe(o.allocationCount);
  });

  test('a live stream that grows keeps the pyramid and the replay path in agreement', () => {
    const grow = buildWorkload({ ops: 500, seed: 5 });
    const live = new MemorySource({ title: 'grow', device: grow.device, data: grow.log, live: true });
    const before = live.timelineSync({ start: 0, end: grow.log.length, buckets: 10, groupBy: 'type' });
    grow.log.mark('later');
    live.refresh();
    const after = live.timelineSync({ start: 0, end: grow.log.length, buckets: 10, groupBy: 'type' });
    expect(Math.max(...after.committedTotal)).toBe(Math.max(...before.committedTotal));
    const fine = live.timelineSync({
      start: 0,
      end: grow.log.length,
      buckets: grow.log.length,
      groupBy: 'type',
    });
    expect(Math.max(...fine.committedTotal)).toBe(Math.max(...after.committedTotal));
  });

  test.each([1, 7, 333, 5000])('timeline with %i buckets holds the per-bucket maxima', (buckets) => {
    const start = 100;
    const end = n - 50;
    const b = source.timelineSync({ start, end, buckets, groupBy: 'heap' });
    // Zoomed out, buckets are chunk-aligned and at most twice as wide as asked; they cover [start, end).
    expect(b.count).toBeLessThanOrEqual(Math.min(buckets, end - start) + 1);
    expect(b.count).toBeGreaterThanOrEqual(Math.min(buckets, end - start) / 2 - 1);
    expect(b.firstEvent[0]).toBeLessThanOrEqual(start);
    expect(b.firstEvent[b.count]).toBeGreaterThanOrEqual(end);
    for (let k = 1; k <= b.count; k++)
      expect(b.firstEvent[k]).toBeGreaterThanOrEqual(b.firstEvent[k - 1] ?? 0);
    for (let k = 0; k < b.count; k++) {
      let maxC = 0;
      let maxA = 0;
      // Bucket k holds events [firstEvent[k], firstEvent[k+1]): states after each of them.
      for (let i = b.firstEvent[k] ?? 0; i < (b.firstEvent[k + 1] ?? 0); i++) {
        maxC = Math.max(maxC, brute.committed[i + 1] ?? 0);
        maxA = Math.max(maxA, brute.allocated[i + 1] ?? 0);
      }
      expect(b.committedTotal[k]).toBe(maxC);
      expect(b.allocatedTotal[k]).toBe(maxA);
      // Per heap: the stacked groups never exceed the total's maximum by more than their own maxima.
      let heapSum = 0;
      for (const g of b.committed) heapSum += g[k] ?? 0;
      expect(heapSum).toBeGreaterThanOrEqual(maxC);
    }
    const mid = Math.floor((start + end) / 2);
    const k = bucketOfEvent(b, mid);
    expect(b.firstEvent[k]).toBeLessThanOrEqual(mid);
    expect(b.firstEvent[k + 1]).toBeGreaterThan(mid);
  });

  test('snapshots hold exactly the live blocks and allocations at the cursor', () => {
    for (const at of [0, 1, 777, 3001, n]) {
      const s = source.snapshotSync(at);
      expect(s.committedBytes).toBe(brute.committed[at]);
      expect(s.allocatedBytes).toBe(brute.allocated[at]);
      for (const block of s.blocks) {
        let prevEnd = 0;
        for (const a of block.allocations) {
          expect(a.offset).toBeGreaterThanOrEqual(prevEnd);
          prevEnd = a.offset + a.size;
        }
        expect(prevEnd).toBeLessThanOrEqual(block.size);
        const f = fragmentation(block);
        expect(f).toBeGreaterThanOrEqual(0);
        expect(f).toBeLessThan(1);
      }
    }
    expect(source.snapshotSync(0).blocks).toHaveLength(0);
  });

  test('allocation queries filter, sort and page', () => {
    const all = source.allocationsSync({
      name: 'texture',
      memoryTypeIndex: null,
      location: null,
      minSize: 4096,
      maxSize: null,
      liveAt: null,
      sort: 'size',
      descending: true,
      offset: 0,
      limit: 10_000,
    });
    expect(all.total).toBeGreaterThan(0);
    for (const r of all.rows) {
      expect(r.name).toContain('texture');
      expect(r.size).toBeGreaterThanOrEqual(4096);
    }
    for (let i = 1; i < all.rows.length; i++)
      expect(all.rows[i - 1]?.size).toBeGreaterThanOrEqual(all.rows[i]?.size ?? 0);
    const page = source.allocationsSync({
      name: 'texture',
      memoryTypeIndex: null,
      location: null,
      minSize: 4096,
      maxSize: null,
      liveAt: null,
      sort: 'size',
      descending: true,
      offset: 5,
      limit: 3,
    });
    expect(page.total).toBe(all.total);
    expect(page.rows.map((r) => r.id)).toEqual(all.rows.slice(5, 8).map((r) => r.id));
    const liveAt = 2500;
    const live = source.allocationsSync({
      ...page,
      name: '',
      minSize: null,
      sort: 'id',
      descending: false,
      offset: 0,
      limit: 100_000,
      memoryTypeIndex: null,
      location: null,
      maxSize: null,
      liveAt,
    });
    const snap = source.snapshotSync(liveAt);
    expect(live.total).toBe(snap.blocks.reduce((s, b) => s + b.allocations.length, 0));
  });

  test('leaks at the end are exactly the allocations never freed, grouped', () => {
    const r = source.leaksSync(n, 'origin');
    expect(r.count).toBe(work.leaked.length);
    const ids = r.groups.flatMap((g) => g.allocationIds).sort((a, b) => a - b);
    expect(ids).toEqual([...work.leaked].sort((a, b) => a - b));
    for (const g of r.groups) expect(g.key).toContain('leaky-path');
    const byName = source.leaksSync(n, 'name');
    expect(byName.groups.reduce((s, g) => s + g.count, 0)).toBe(work.leaked.length);
  });

  test('a diff lists what appeared and what disappeared between two positions', async () => {
    const d = await source.diff(1000, 2000);
    const a = source.snapshotSync(1000);
    const b = source.snapshotSync(2000);
    const idsA = new Set(a.blocks.flatMap((x) => x.allocations.map((y) => y.id)));
    const idsB = new Set(b.blocks.flatMap((x) => x.allocations.map((y) => y.id)));
    expect(d.appeared.count).toBe([...idsB].filter((id) => !idsA.has(id)).length);
    expect(d.disappeared.count).toBe([...idsA].filter((id) => !idsB.has(id)).length);
    expect(d.appeared.bytes - d.disappeared.bytes).toBe(b.allocatedBytes - a.allocatedBytes);
  });

  test('each allocation carries the real decision record that chose its type', async () => {
    const detail = await source.allocation(1);
    expect(detail).not.toBeNull();
    if (!detail?.decision) throw new Error('no decision record');
    expect(detail.decision.winner).toBe(detail.allocation.memoryTypeIndex);
    expect(detail.decision.reason.length).toBeGreaterThan(10);
  });
});

describe('API source helpers', () => {
  test('event index to wall time interpolates inside the time index and clamps outside', () => {
    const ix = {
      eventCount: 100,
      startTime: 10,
      endTime: 50,
      bucketStart: [10, 20, 30, 40],
      bucketFirstEvent: [0, 10, 10, 60],
    };
    expect(eventToTime(ix, -5)).toBe(10);
    expect(eventToTime(ix, 0)).toBe(10);
    expect(eventToTime(ix, 5)).toBe(15);
    // Events 10..59 sit in bucket 2 (bucket 1 holds none), from 30 ms towards 40 ms.
    expect(eventToTime(ix, 35)).toBe(35);
    expect(eventToTime(ix, 80)).toBe(45);
    expect(eventToTime(ix, 100)).toBe(50);
  });

  test('the JSON report is read only when it has the counts, peaks and leaks the overview shows', () => {
    const good = {
      counts: { allocations: 3, frees: 2, failures: 0, blocksCreated: 1 },
      heaps: [],
      types: [],
      total: {
        index: -1,
        final: { committed: 0, allocated: 0 },
        peakCommitted: { bytes: 10, eventIndex: 4 },
        peakAllocated: { bytes: 5, eventIndex: 3 },
      },
      leaks: { count: 1, bytes: 5 },
    };
    expect(parseReport(JSON.stringify(good)).total.peakCommitted.eventIndex).toBe(4);
    expect(() => parseReport(JSON.stringify({ ...good, leaks: {} }))).toThrow(
      /lacks the counts, peaks or leaks/,
    );
    expect(() => parseReport('not json')).toThrow();
  });
});
