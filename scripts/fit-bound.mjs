#!/usr/bin/env node
// What placement alone can reach on the bench workloads: each request is placed in an unbounded address
// space per class (no blocks, so no block quantisation and no driver calls), never moved, and the space's
// extent (highest end offset, bytes) is the memory it would need. Prints the peak extent summed over the
// spaces ÷ the live peak, for workload-a (seed 7) and generator seeds 1–6, per policy:
//   best    best fit (smallest free range that fits), one space per location (gpu / upload / readback)
//   first   address-ordered first fit, same spaces
//   split8  best fit, requests of 8 MiB and more in their own space per location (size segregation)
// Usage: node scripts/fit-bound.mjs [ops=200000] [budgetMiB=1024]. docs/allocator.md quotes its output.
import { generateWorkload } from '../bench/workload-a.mjs';

const ops = Number(process.argv[2] ?? 200000);
const budgetMiB = Number(process.argv[3] ?? 1024);
const MiB = 1024 * 1024;

/** Free ranges [offset, size] sorted by offset, merged; `end` only grows (bytes). */
class Space {
  free = [];
  end = 0;

  alloc(size, align, policy) {
    let best = -1;
    let bestWaste = Infinity;
    for (let i = 0; i < this.free.length; i++) {
      const [o, s] = this.free[i];
      const a = Math.ceil(o / align) * align;
      if (a + size > o + s) continue;
      if (policy === 'first') {
        best = i;
        break;
      }
      if (s - size < bestWaste) {
        best = i;
        bestWaste = s - size;
      }
    }
    let o;
    let s;
    if (best >= 0) [o, s] = this.free.splice(best, 1)[0];
    else {
      // Grow the space, reusing a free range that ends at the top.
      const last = this.free[this.free.length - 1];
      o = this.end;
      if (last && last[0] + last[1] === this.end) o = this.free.pop()[0];
      s = Infinity;
    }
    const a = Math.ceil(o / align) * align;
    if (a > o) this.release(o, a - o);
    if (s === Infinity) this.end = a + size;
    else if (a + size < o + s) this.release(a + size, o + s - a - size);
    return a;
  }

  release(o, s) {
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.free[m][0] < o) lo = m + 1;
      else hi = m;
    }
    this.free.splice(lo, 0, [o, s]);
    const f = this.free;
    if (lo + 1 < f.length && f[lo][0] + f[lo][1] === f[lo + 1][0]) {
      f[lo][1] += f[lo + 1][1];
      f.splice(lo + 1, 1);
    }
    if (lo > 0 && f[lo - 1][0] + f[lo - 1][1] === f[lo][0]) {
      f[lo - 1][1] += f[lo][1];
      f.splice(lo, 1);
    }
  }
}

function ratio(text, policy) {
  const spaces = new Map();
  const live = new Map();
  let liveBytes = 0;
  let livePeak = 0;
  for (const line of text.split('\n')) {
    const p = line.split(' ');
    if (p[0] === 'a') {
      const size = Number(p[2]);
      const large = policy === 'split8' && size >= 8 * MiB;
      const key = `${p[5]}${large ? ':large' : ''}`;
      let space = spaces.get(key);
      if (!space) spaces.set(key, (space = new Space()));
      live.set(p[1], [space, space.alloc(size, Number(p[3]), policy), size]);
      liveBytes += size;
      livePeak = Math.max(livePeak, liveBytes);
    } else if (p[0] === 'f') {
      const e = live.get(p[1]);
      if (!e) continue;
      live.delete(p[1]);
      e[0].release(e[1], e[2]);
      liveBytes -= e[2];
    }
  }
  let extent = 0;
  for (const s of spaces.values()) extent += s.end;
  return extent / livePeak;
}

const policies = ['best', 'first', 'split8'];
console.log(`seed  ${policies.map((p) => p.padStart(7)).join(' ')}`);
for (const seed of [7, 1, 2, 3, 4, 5, 6]) {
  const text = generateWorkload([seed, ops, budgetMiB]);
  console.log(
    `${String(seed).padEnd(5)} ${policies.map((p) => ratio(text, p).toFixed(3).padStart(7)).join(' ')}`,
  );
}
