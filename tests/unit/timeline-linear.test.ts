// The timeline's plain linear maps (linearOf / inverseOf) against d3's scale and invert: the same float for
// every value, so a rect edge drawn through them lands on the same pixel as through the d3 scale.
import { scaleLinear } from 'd3';
import { describe, expect, it } from 'vitest';
import { inverseOf, linearOf } from '../../src-renderer/views/timeline-draw.ts';
import { rng } from '../support/rng.ts';

describe('linearOf / inverseOf', () => {
  it('give the d3 scale’s exact floats, forward and inverse, increasing and decreasing ranges', () => {
    const rand = rng(11);
    for (let s = 0; s < 200; s++) {
      const d0 = Math.floor(rand() * 1e6) + rand();
      const d1 = d0 + 1 + rand() * 1e6;
      const r0 = 78;
      const r1 = 78 + 100 + Math.floor(rand() * 2000);
      const x = scaleLinear().domain([d0, d1]).range([r0, r1]);
      // The y scale runs bottom → top and is niced.
      const y = scaleLinear()
        .domain([0, rand() * 1e10])
        .nice(5)
        .range([198, 30]);
      for (const scale of [x, y]) {
        const f = linearOf(scale);
        const inv = inverseOf(scale);
        const [a, b] = scale.domain() as [number, number];
        for (let k = 0; k < 50; k++) {
          const v = a + (b - a) * (rand() * 1.4 - 0.2);
          expect(f(v)).toBe(scale(v));
          const px = 20 + rand() * 2500;
          expect(inv(px)).toBe(scale.invert(px));
        }
      }
    }
  });

  it('a degenerate domain maps to the middle of the range, as d3 does', () => {
    const x = scaleLinear().domain([5, 5]).range([10, 30]);
    expect(linearOf(x)(123)).toBe(x(123));
    expect(linearOf(x)(123)).toBe(20);
  });
});
