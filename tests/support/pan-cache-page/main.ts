// A page for tests/e2e/timeline-pan-cache.test.ts: the timeline's totals drawn directly and through the pan
// cache, for the same views, on two canvases in real Chromium; reports how many pixels differ.
import { scaleLinear, zoomIdentity } from 'd3';
import type { TimelineBuckets } from '../../../src-renderer/data/source.ts';
import { drawTimeline, timelineMargin } from '../../../src-renderer/views/timeline-draw.ts';
import type { TimelineFrame } from '../../../src-renderer/views/timeline-draw.ts';
import { PanCache } from '../../../src-renderer/views/timeline-pan-cache.ts';
import { rng } from '../rng.ts';

const width = 1500;
const height = 220;

/** Buckets over [0, eventCount): uneven widths, some empty, two groups of steps with plateaus. */
function buckets(eventCount: number, count: number, seed: number): TimelineBuckets {
  const rand = rng(seed);
  const firstEvent = new Float64Array(count + 1);
  for (let i = 1; i < count; i++)
    firstEvent[i] = Math.min(eventCount, firstEvent[i - 1]! + Math.floor(rand() * 2 * (eventCount / count)));
  firstEvent[count] = eventCount;
  const series = (scale: number): Float64Array => {
    const a = new Float64Array(count);
    let v = scale / 2;
    for (let i = 0; i < count; i++) {
      if (rand() < 0.3) v = Math.max(0, v + (rand() - 0.5) * scale * 0.2);
      a[i] = v;
    }
    return a;
  };
  const committed = [series(4e9), series(1e9)];
  const allocated = committed.map((c) => c.map((v) => v * (0.5 + rand() * 0.5)));
  const total = (s: readonly Float64Array[]): Float64Array => s[0]!.map((v, i) => v + s[1]![i]!);
  return {
    start: 0,
    end: eventCount,
    count,
    firstEvent,
    groups: ['heap 0', 'heap 1'],
    committed,
    allocated,
    committedTotal: total(committed),
    allocatedTotal: total(allocated),
    time: new Float64Array(count).map((_, i) => i * 0.5),
    markers: [],
  };
}

function frameOf(b: TimelineBuckets, range: { start: number; end: number }): TimelineFrame {
  return {
    width,
    height,
    range,
    buckets: b,
    cursor: -1,
    brush: null,
    showCommitted: true,
    showAllocated: true,
    theme: {
      background: '#1b1e23',
      foreground: '#e6e6e6',
      muted: '#9aa3ad',
      grid: 'rgba(128,128,128,0.25)',
      cursor: '#ff5370',
      free: 'rgba(128,128,128,0.12)',
      padding: 'rgba(255,200,0,0.55)',
    },
  };
}

function context(id: string): CanvasRenderingContext2D {
  const canvas = document.getElementById(id) as HTMLCanvasElement;
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2d context');
  return ctx;
}

/**
 * A gap between frames, as a user's gestures leave them: at least 60 ms, and until the copy under way is
 * finished (5 s at most), so that how many frames it serves does not depend on how loaded the machine is.
 */
async function idle(cache: PanCache): Promise<void> {
  const until = performance.now() + 5000;
  await new Promise((resolve) => setTimeout(resolve, 60));
  while (cache.building && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Zooms to `k` (as d3-zoom does for the timeline), then pans by whole pixels `shifts` times; per pan frame
 * draws directly and through the cache. Returns frames served from the cache and pixels that differed.
 */
async function check(
  seed: number,
  k: number,
  shifts: number,
): Promise<{ hits: number; frames: number; differing: number; where: string[] }> {
  const eventCount = 1_000_000;
  const b = buckets(eventCount, 4000, seed);
  const m = timelineMargin;
  const x0 = scaleLinear()
    .domain([0, eventCount])
    .range([m.left, width - m.right]);
  const direct = context('direct');
  const cached = context('cached');
  const cache = new PanCache();
  let tx = -(k - 1) * (width / 2) + 0.37; // a fractional start, as a wheel zoom leaves it
  let differing = 0;
  const where: string[] = [];
  for (let i = 0; i < shifts; i++) {
    const [start, end] = zoomIdentity.translate(tx, 0).scale(k).rescaleX(x0).domain() as [number, number];
    const frame = frameOf(b, { start, end });
    drawTimeline(direct, frame);
    drawTimeline(cached, { ...frame, panCache: cache });
    const a = direct.getImageData(0, 0, width, height).data;
    const c = cached.getImageData(0, 0, width, height).data;
    const hits = cache.hits;
    for (let p = 0; p < a.length; p += 4)
      if (a[p] !== c[p] || a[p + 1] !== c[p + 1] || a[p + 2] !== c[p + 2] || a[p + 3] !== c[p + 3]) {
        const at = `x ${(p / 4) % width} y ${Math.floor(p / 4 / width)}`;
        if (where.length < 12)
          where.push(
            `frame ${i} (hits ${hits}) ${at}: ${a.slice(p, p + 4).join('/')} vs ${c.slice(p, p + 4).join('/')}`,
          );
        differing++;
      }
    // Let the idle callbacks make the copy now and then, as the gaps between a user's frames do.
    if (i % 5 === 1) await idle(cache);
    tx += i % 2 === 0 ? 7 : -3;
  }
  return { hits: cache.hits, frames: shifts, differing, where };
}

Object.assign(window, { panCacheCheck: check });
