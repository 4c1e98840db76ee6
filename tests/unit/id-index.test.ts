// IdIndex (allocator/id-index.ts): ids of any number -> small integers, dense ids in a typed array, others
// in a Map; the end-state replay and the API's allocation table stand on it. And the analysis replay's
// LiveAllocations built on it.
import { describe, expect, test } from 'vitest';
import { IdIndex } from '../../allocator/id-index.ts';
import { LiveAllocations } from '../../allocator/analysis/replay.ts';

/** A repeatable integer in [0, n) per call (a linear congruential generator). */
function seededRandom(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}

describe('IdIndex', () => {
  test('dense ids, ids past the first slots, and ids that are no small integers keep their values', () => {
    const index = new IdIndex();
    const ids = [0, 1, 2, 1023, 1024, 5000, 2 ** 24 - 1, 2 ** 24, 2 ** 40, -1, -7, 0.5, 2 ** 53 - 1];
    ids.forEach((id, k) => index.set(id, k * 3));
    ids.forEach((id, k) => expect(index.get(id)).toBe(k * 3));
    // 0 is a value like any other (the slots store value + 1); absent ids answer -1.
    expect(index.get(0)).toBe(0);
    for (const absent of [3, 1022, 4999, 2 ** 24 + 1, -2, 1.5]) expect(index.get(absent)).toBe(-1);
  });

  test('set again replaces; delete answers whether the id had a value and forgets it', () => {
    const index = new IdIndex();
    index.set(7, 1);
    index.set(7, 2);
    index.set(-3, 4);
    expect(index.get(7)).toBe(2);
    expect(index.delete(7)).toBe(true);
    expect(index.delete(7)).toBe(false);
    expect(index.get(7)).toBe(-1);
    expect(index.delete(-3)).toBe(true);
    expect(index.delete(-3)).toBe(false);
    expect(index.delete(99_999_999)).toBe(false);
  });

  test('forEachValue visits each value once: dense ids in id order, then the others', () => {
    const index = new IdIndex();
    index.set(2 ** 30, 10);
    index.set(5, 11);
    index.set(1, 12);
    index.set(-4, 13);
    index.set(3000, 14);
    index.delete(5);
    const seen: number[] = [];
    index.forEachValue((v) => seen.push(v));
    expect(seen).toEqual([12, 14, 10, 13]);
  });

  test('slots grow with ids numbered 1, 2, 3, ... but not for a few large ones, which stay in the Map', () => {
    const sequential = new IdIndex();
    for (let id = 1; id <= 200_000; id++) sequential.set(id, id);
    expect(sequential.slotCapacity).toBeGreaterThanOrEqual(200_001);
    expect(sequential.get(200_000)).toBe(200_000);

    const few = new IdIndex();
    for (let id = 1; id <= 1000; id++) few.set(id, id);
    few.set(10_000_000, 7);
    few.set(5_000_000, 8);
    expect(few.slotCapacity).toBeLessThanOrEqual(1 << 13);
    expect(few.get(10_000_000)).toBe(7);
    expect(few.get(5_000_000)).toBe(8);
    expect(few.delete(5_000_000)).toBe(true);
    expect(few.get(5_000_000)).toBe(-1);
  });

  test('an id kept in the Map moves to its slot once the slots reach it: one value, the latest', () => {
    const index = new IdIndex();
    index.set(100_000, 1); // beyond the slots' first reach: the Map
    for (let id = 1; id <= 70_000; id++) index.set(id, 0);
    expect(index.slotCapacity).toBeGreaterThan(100_000);
    expect(index.get(100_000)).toBe(1);
    index.set(100_000, 2); // now a slot; the Map's entry goes
    expect(index.get(100_000)).toBe(2);
    const values: number[] = [];
    index.forEachValue((v) => values.push(v));
    expect(values.filter((v) => v !== 0)).toEqual([2]);
    expect(index.delete(100_000)).toBe(true);
    expect(index.get(100_000)).toBe(-1);
    expect(index.delete(100_000)).toBe(false);
  });

  test('agrees with a Map over a random sequence of sets and deletes', () => {
    const random = seededRandom(12345);
    const index = new IdIndex();
    const model = new Map<number, number>();
    const pool = [...Array.from({ length: 200 }, (_, i) => i * 37), 70_000, 300_000, 2 ** 25, -9, 0.25];
    for (let step = 0; step < 5000; step++) {
      const id = pool[random(pool.length)]!;
      if (random(3) === 0) expect(index.delete(id)).toBe(model.delete(id));
      else {
        const value = random(1_000_000);
        index.set(id, value);
        model.set(id, value);
      }
      expect(index.get(id)).toBe(model.get(id) ?? -1);
    }
    const values: number[] = [];
    index.forEachValue((v) => values.push(v));
    expect(values.sort((a, b) => a - b)).toEqual([...model.values()].sort((a, b) => a - b));
  });
});

describe('LiveAllocations (the analysis replay: live allocations in allocation order)', () => {
  test('agrees with an insertion-ordered Map over random allocations and frees, slots used again', () => {
    const random = seededRandom(99);
    const live = new LiveAllocations();
    const model = new Map<number, number>();
    for (let event = 0; event < 20_000; event++) {
      const id = random(3) === 0 ? -1 - random(50) : random(400) * 3;
      if (model.has(id) && random(2) === 0) {
        expect(live.remove(id)).toBe(model.get(id));
        model.delete(id);
      } else if (!model.has(id)) {
        live.add(id, event);
        model.set(id, event);
      }
      expect(live.size).toBe(model.size);
      if (event % 997 === 0) expect(Array.from(live.eventIndices())).toEqual([...model.values()]);
    }
    for (const [id, at] of model) expect(live.get(id)).toBe(at);
    expect(live.get(1)).toBe(-1);
    expect(live.remove(1)).toBe(-1);
    expect(Array.from(live.eventIndices())).toEqual([...model.values()]);
    for (const id of [...model.keys()]) live.remove(id);
    expect(live.size).toBe(0);
    expect(live.eventIndices()).toHaveLength(0);
  });
});
