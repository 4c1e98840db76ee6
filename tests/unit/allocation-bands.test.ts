// The engine's allocation bands and allocation search (allocator/analysis/allocation-bands.ts) against
// brute-force answers computed from the same random event stream.
import { describe, expect, test } from 'vitest';
import { EventLog } from '../../allocator/event-log.ts';
import { AllocationKind } from '../../allocator/types.ts';
import { traceEventsOf } from '../../allocator/trace/index.ts';
import { AllocationLifetimes, parseAddressQuery } from '../../allocator/analysis/index.ts';
import { rng } from '../support/rng.ts';

interface Truth {
  id: number;
  block: number;
  offset: number;
  size: number;
  from: number;
  /** Free event index, or null. */
  free: number | null;
  stack: string;
}

/** A random stream: 3 blocks, allocations of random sizes (with ties) freed in random order, stacks. */
function makeStream(seed: number, ops: number) {
  const random = rng(seed);
  const log = new EventLog();
  for (let b = 1; b <= 3; b++)
    log.blockCreate({ blockId: b, memoryTypeIndex: 0, size: 1 << 30, dedicated: false });
  const truth: Truth[] = [];
  const live: Truth[] = [];
  let id = 1;
  for (let k = 0; k < ops; k++) {
    if (live.length > 0 && random() < 0.45) {
      const x = live.splice(Math.floor(random() * live.length), 1)[0]!;
      x.free = log.length;
      log.free(x.id);
    } else {
      const block = 1 + Math.floor(random() * 3);
      // Sizes from a small set: many ties, which the ranking must break by allocation order.
      const size = [512, 4096, 65536, 1 << 20, 3 << 20][Math.floor(random() * 5)]!;
      const offset = Math.floor(random() * 1000) * 4096;
      const line = 10 + Math.floor(random() * 5);
      const stack = `alloc_impl c10/CUDACachingAllocator.cpp:1301\nforward /work/model.py:${line}\ntrain_step /work/train.py:99`;
      const x: Truth = { id, block, offset, size, from: log.length, free: null, stack };
      log.allocate({
        allocationId: id,
        blockId: block,
        memoryTypeIndex: 0,
        offset,
        size,
        alignment: 256,
        kind: AllocationKind.Linear,
        location: 'GpuOnly',
        name: `buf${id}`,
        decisionId: -1,
        usedRetry: false,
        stack,
      });
      truth.push(x);
      live.push(x);
      id++;
    }
    if (k % 50 === 0) log.mark(`step ${k}`);
  }
  return { events: traceEventsOf(log), truth };
}

describe('allocation bands', () => {
  const { events, truth } = makeStream(11, 3000);
  const n = events.length;
  const index = new AllocationLifetimes(events);
  const to = (t: Truth): number => t.free ?? n;

  test.each([
    [0, n, 50, 200],
    [Math.floor(n / 3), Math.floor(n / 2), 20, 37],
    [Math.floor(n / 2), Math.floor(n / 2) + 40, 5000, 40],
    [n - 10, n, 3, 10],
  ])(
    'window [%i, %i) limit %i: the largest alive, in order, and the rest per bucket',
    (start, end, limit, buckets) => {
      const r = index.bands({ start, end, limit, buckets }, n);
      const alive = truth.filter((t) => t.from < end && to(t) > start);
      expect(r.alive).toBe(alive.length);
      const ranked = [...alive].sort((x, y) => y.size - x.size || x.from - y.from);
      const top = ranked.slice(0, limit);
      expect(Array.from(r.id)).toEqual(top.map((t) => t.id));
      expect(Array.from(r.size)).toEqual(top.map((t) => t.size));
      expect(Array.from(r.from)).toEqual(top.map((t) => t.from));
      expect(Array.from(r.to)).toEqual(top.map(to));
      expect(Array.from(r.block)).toEqual(top.map((t) => t.block));
      expect(Array.from(r.offset)).toEqual(top.map((t) => t.offset));
      // Zoomed in far enough (fewer alive than the limit): every allocation is a band.
      if (alive.length <= limit) expect(r.id.length).toBe(alive.length);
      // The rest: per bucket, the max over its events of the bytes alive and not shown.
      const shown = new Set(top.map((t) => t.id));
      const rest = alive.filter((t) => !shown.has(t.id));
      const span = end - start;
      const nb = Math.min(buckets, span);
      expect(r.restMax.length).toBe(nb);
      for (let j = 0; j < nb; j++) {
        const a = start + Math.floor((j * span) / nb);
        const b = start + Math.floor(((j + 1) * span) / nb);
        expect(r.restBoundaries[j]).toBe(a);
        let max = 0;
        for (let e = a; e < b; e++) {
          const v = rest.filter((t) => t.from <= e && e < to(t)).reduce((s, t) => s + t.size, 0);
          max = Math.max(max, v);
        }
        expect(r.restMax[j], `bucket ${j}`).toBe(max);
      }
      expect(r.restBoundaries[nb]).toBe(end);
    },
  );

  test('a growing stream: the index extends and answers for the analysed prefix only', () => {
    const grown = new AllocationLifetimes(events);
    const half = Math.floor(n / 2);
    const early = grown.bands({ start: 0, end: half, limit: 10, buckets: 10 }, half);
    const aliveEarly = truth.filter((t) => t.from < half);
    expect(early.alive).toBe(aliveEarly.length);
    // Freed after `half`: still alive to the end of what was analysed.
    const stillOpen = truth.find((t) => t.from < half && t.free !== null && t.free >= half);
    if (!stillOpen) throw new Error('the stream has no allocation freed after its middle');
    const all = grown.bands({ start: 0, end: half, limit: 100_000, buckets: 1 }, half);
    const k = Array.from(all.id).indexOf(stillOpen.id);
    expect(all.to[k]).toBe(half);
    const full = grown.bands({ start: 0, end: n, limit: 100_000, buckets: 1 }, n);
    expect(full.to[Array.from(full.id).indexOf(stillOpen.id)]).toBe(stillOpen.free);
  });
});

describe('allocation search', () => {
  const { events, truth } = makeStream(5, 2000);
  const n = events.length;
  const index = new AllocationLifetimes(events);
  const ids = (r: { ordinals: number[] }): number[] =>
    r.ordinals.map((o) => events.columns.id[index.allocEvent[o]!]!);

  test('by block and offset: the allocations whose bytes hold the address', () => {
    const x = truth[truth.length >> 1]!;
    const address = { block: x.block, offset: x.offset + Math.floor(x.size / 2) };
    const r = index.search({ address, limit: 1000 }, n);
    const expected = truth.filter(
      (t) => t.block === address.block && t.offset <= address.offset && address.offset < t.offset + t.size,
    );
    expect(r.total).toBe(expected.length);
    expect(ids(r)).toEqual(expected.map((t) => t.id));
    expect(ids(r)).toContain(x.id);
    // Any block: more (or as many) matches.
    const any = index.search({ address: { block: null, offset: address.offset }, limit: 1000 }, n);
    expect(any.total).toBe(
      truth.filter((t) => t.offset <= address.offset && address.offset < t.offset + t.size).length,
    );
  });

  test('by frame text, in the recorded and the shown form, case-insensitive; limited', () => {
    const raw = index.search({ text: 'MODEL.PY:12', limit: 5 }, n);
    const expected = truth.filter((t) => t.stack.includes('model.py:12'));
    expect(raw.total).toBe(expected.length);
    expect(ids(raw)).toEqual(expected.slice(0, 5).map((t) => t.id));
    // The shown form "file:line function" of the same frame.
    const shown = index.search({ text: '/work/model.py:12 forward', limit: 10_000 }, n);
    expect(shown.total).toBe(expected.length);
    expect(index.search({ text: 'no such frame', limit: 10 }, n).total).toBe(0);
    // Address and text together: both must hold.
    const x = expected[0]!;
    const both = index.search(
      { text: 'model.py:12', address: { block: x.block, offset: x.offset }, limit: 10 },
      n,
    );
    expect(ids(both)).toContain(x.id);
    for (const id of ids(both)) expect(truth.find((t) => t.id === id)!.stack).toContain('model.py:12');
  });

  test('addresses as typed', () => {
    expect(parseAddressQuery('block 3 + 0x1000')).toEqual({ block: 3, offset: 4096 });
    expect(parseAddressQuery('3:4096')).toEqual({ block: 3, offset: 4096 });
    expect(parseAddressQuery('b12+0X10')).toEqual({ block: 12, offset: 16 });
    expect(parseAddressQuery(' 0x7f00 ')).toEqual({ block: null, offset: 0x7f00 });
    expect(parseAddressQuery('0xffffffffffffffff')).toBeNull();
    expect(parseAddressQuery('model.py')).toBeNull();
  });
});
