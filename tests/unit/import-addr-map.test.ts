import { describe, expect, test } from 'vitest';
import { AddrMap, type Addr } from '../../allocator/import/addr-map.ts';

/** A small deterministic generator (xorshift32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

describe('AddrMap', () => {
  test('does what a Map does over random inserts, updates, takes and deletes, in the same order', () => {
    const random = rng(7);
    const map = new AddrMap(4); // small: it grows many times, and deletes shift runs back across its wrap
    const reference = new Map<Addr, number>();
    // Addresses as a caching allocator hands them out: few segments, multiples of 512, some reused; a few
    // above 2^53 (bigints).
    const pool: Addr[] = [];
    for (let i = 0; i < 3000; i++) pool.push(0x7f0000000000 + Math.floor(random() * 4096) * 512);
    for (let i = 0; i < 20; i++) pool.push((1n << 60n) + BigInt(i) * 512n);
    pool.push(0, 512, 2 ** 53 - 1);
    for (let step = 0; step < 60_000; step++) {
      const a = pool[Math.floor(random() * pool.length)]!;
      const r = random();
      if (r < 0.3) {
        const v = Math.floor(random() * 1e6);
        map.set(a, v);
        reference.set(a, v);
      } else if (r < 0.45) {
        const v = Math.floor(random() * 1e6);
        const absent = !reference.has(a);
        if (absent) reference.set(a, v);
        expect(map.setIfAbsent(a, v)).toBe(absent);
      } else if (r < 0.7) {
        expect(map.delete(a)).toBe(reference.delete(a));
      } else if (r < 0.9) {
        const had = reference.get(a) ?? -1;
        reference.delete(a);
        expect(map.take(a)).toBe(had);
      } else {
        expect(map.has(a)).toBe(reference.has(a));
      }
      expect(map.get(a)).toBe(reference.get(a) ?? -1);
      expect(map.size).toBe(reference.size);
    }
    expect(map.entries()).toEqual([...reference]);
    // Every address, present or not, is still found where it is (a delete's shift broke no probe run).
    for (const a of pool) expect(map.get(a)).toBe(reference.get(a) ?? -1);
    // A filter keeps the insertion order of what it accepts (addresses of one 1 MiB range, bigints too).
    const inRange = (x: Addr): boolean => x >= 0x7f0000000000 + 2 ** 20 && x < 0x7f0000000000 + 2 ** 21;
    const accepted = [...reference].filter(([x]) => inRange(x));
    expect(accepted.length).toBeGreaterThan(0);
    expect(map.entries(inRange)).toEqual(accepted);
    expect(map.entries((x) => typeof x === 'bigint')).toEqual(
      [...reference].filter(([x]) => typeof x === 'bigint'),
    );
  });

  test('setting a present key keeps its place; deleting and setting again moves it last', () => {
    const map = new AddrMap();
    map.set(1024, 1);
    map.set(2048, 2);
    map.set(1n << 60n, 3);
    map.set(1024, 4);
    expect(map.entries()).toEqual([
      [1024, 4],
      [2048, 2],
      [1n << 60n, 3],
    ]);
    map.delete(1024);
    map.set(1024, 5);
    expect(map.entries()).toEqual([
      [2048, 2],
      [1n << 60n, 3],
      [1024, 5],
    ]);
    expect(map.get(4096)).toBe(-1);
    // setIfAbsent leaves a present key's value and place; take removes it (setting it again moves it last).
    expect(map.setIfAbsent(2048, 9)).toBe(false);
    expect(map.setIfAbsent(1n << 60n, 9)).toBe(false);
    expect(map.take(2048)).toBe(2);
    expect(map.take(2048)).toBe(-1);
    expect(map.take(1n << 60n)).toBe(3);
    expect(map.setIfAbsent(2048, 6)).toBe(true);
    expect(map.entries()).toEqual([
      [1024, 5],
      [2048, 6],
    ]);
  });
});
