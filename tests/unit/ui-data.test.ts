// The inspector's data source (ApiSource over the real backend: the workload's trace loaded by the
// AppBackend, analysed by allocator/analysis) against brute force over the same event stream: timeline
// maxima per bucket, snapshots, padding, allocation queries, leaks, diffs, budgets, retries and counts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TraceEventKind } from '../../allocator/index.ts';
import { eventToTime } from '../../src-renderer/data/api-source.ts';
import type { AllocationQuery, InspectorSource } from '../../src-renderer/data/source.ts';
import { bucketOfEvent, fragmentation } from '../../src-renderer/data/source.ts';
import { backendSource, type BackendSource } from '../support/ui-backend.ts';
import { buildWorkload } from '../support/ui-trace.ts';

const work = buildWorkload({ ops: 6000, seed: 7, frameEvery: 500 });
const n = work.log.length;
const everything: AllocationQuery = {
  name: '',
  memoryTypeIndex: null,
  location: null,
  minSize: null,
  maxSize: null,
  liveAt: null,
  sort: 'id',
  descending: false,
  offset: 0,
  limit: 5_000,
};
let backend: BackendSource;
let source: InspectorSource;

beforeAll(async () => {
  backend = await backendSource(work, 'unit.trace');
  source = backend.source;
}, 60_000);

afterAll(async () => {
  await backend?.close();
});

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

describe('the data source over the real backend', () => {
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

  test.each([1, 7, 333, 5000])('timeline with %i buckets holds the per-bucket maxima', async (buckets) => {
    const start = 100;
    const end = n - 50;
    const b = await source.timeline({ start, end, buckets, groupBy: 'heap' });
    // The buckets cover [start, end) (widened to whole wall-time steps) and never outnumber the request.
    expect(b.count).toBeLessThanOrEqual(buckets);
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

  test('snapshots hold exactly the live blocks and allocations at the cursor', async () => {
    for (const at of [0, 1, 777, 3001, n]) {
      const s = await source.snapshot(at);
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
    expect((await source.snapshot(0)).blocks).toHaveLength(0);
  });

  test("gaps smaller than the next allocation's alignment are padding, not free space", async () => {
    // The workload aligns textures to 64 KiB after buffers aligned to 256 B: padding appears.
    const s = await source.snapshot(Math.floor(n / 2));
    let padding = 0;
    for (const block of s.blocks) {
      const covered = block.allocations.reduce((t, a) => t + a.size, 0);
      const free = block.freeRanges.reduce((t, r) => t + r.size, 0);
      // Allocations never overlap in this workload: what is neither allocated nor free is padding.
      padding += block.size - covered - free;
      // Every gap between neighbours that is not free is shorter than the largest alignment (64 KiB).
      let end = 0;
      for (const a of block.allocations) {
        const gap = a.offset - end;
        const free = block.freeRanges.some((r) => r.offset === end && r.size === gap);
        if (gap > 0 && !free) expect(gap).toBeLessThan(65536);
        end = Math.max(end, a.offset + a.size);
      }
    }
    expect(padding).toBeGreaterThan(0);
  });

  test('allocation queries filter, sort and page', async () => {
    const all = await source.allocations({
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
    const page = await source.allocations({
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
    const live = await source.allocations({ ...everything, liveAt, limit: 5_000 });
    const snap = await source.snapshot(liveAt);
    expect(live.total).toBe(snap.blocks.reduce((s, b) => s + b.allocations.length, 0));
  });

  test('leaks at the end are exactly the allocations never freed, grouped', async () => {
    const r = await source.leaks(n, 'origin');
    expect(r.count).toBe(work.leaked.length);
    const ids = r.groups.flatMap((g) => g.allocationIds).sort((a, b) => a - b);
    expect(ids).toEqual([...work.leaked].sort((a, b) => a - b));
    for (const g of r.groups) expect(g.key).toContain('leaky-path');
    const byName = await source.leaks(n, 'name');
    expect(byName.groups.reduce((s, g) => s + g.count, 0)).toBe(work.leaked.length);
  });

  test('a diff lists what appeared and what disappeared between two positions', async () => {
    const d = await source.diff(1000, 2000);
    const a = await source.snapshot(1000);
    const b = await source.snapshot(2000);
    const idsA = new Set(a.blocks.flatMap((x) => x.allocations.map((y) => y.id)));
    const idsB = new Set(b.blocks.flatMap((x) => x.allocations.map((y) => y.id)));
    expect(d.appeared.count).toBe([...idsB].filter((id) => !idsA.has(id)).length);
    expect(d.disappeared.count).toBe([...idsA].filter((id) => !idsB.has(id)).length);
    expect(d.appeared.bytes - d.disappeared.bytes).toBe(b.allocatedBytes - a.allocatedBytes);
  });

  test('budgets, retries and per-type counts reach the overview and the rows', async () => {
    const o = await source.overview();
    if (!o) throw new Error('no overview');
    const c = work.log.columns;
    // The last budget sample of each heap, by a plain scan.
    for (const h of o.heaps) {
      let budget: number | null = null;
      let usage: number | null = null;
      for (let i = 0; i < n; i++) {
        if (c.kind[i] === TraceEventKind.BudgetSample && c.id[i] === h.index) {
          budget = c.offset[i] ?? null;
          usage = c.size[i] ?? null;
        }
      }
      expect(budget).not.toBeNull();
      expect(h.budget).toBe(budget);
      expect(h.usage).toBe(usage);
    }
    for (const t of o.types) {
      let count = 0;
      for (let i = 0; i < n; i++) if (c.kind[i] === TraceEventKind.Allocate && c.type[i] === t.index) count++;
      expect(t.allocationCount).toBe(count);
    }
    const rows = await source.allocations(everything);
    const retried = rows.rows.filter((r) => r.usedRetry);
    expect(retried.length).toBe(work.retried.length);
    expect(retried.map((r) => r.id)).toEqual([...work.retried].sort((a, b) => a - b));
    expect(o.retriedAllocations).toBe(work.retried.length);
    const detail = await source.allocation(work.retried[0] ?? -1);
    expect(detail?.allocation.usedRetry).toBe(true);
    expect(detail?.allocation.memoryTypeIndex).toBe(detail?.decision?.retryTypeIndex);
  });

  test('each allocation carries the real decision record that chose its type', async () => {
    const detail = await source.allocation(1);
    expect(detail).not.toBeNull();
    if (!detail?.decision) throw new Error('no decision record');
    expect(detail.allocation.memoryTypeIndex).toBe(
      detail.allocation.usedRetry ? detail.decision.retryTypeIndex : detail.decision.winner,
    );
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
});
