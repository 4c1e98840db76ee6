// The timeline's allocations mode, drawn as a pure function of its inputs: individual allocations as
// stacked bands, as PyTorch's memory_viz draws them. Per pixel column, the allocations not drawn
// individually (the engine's rest series) lie at the bottom, then every band alive in the column, in
// allocation order (older below, a new allocation on top; when one is freed, the ones above move down).
//
// Coordinates: event space (event index; event i spans [i, i + 1)) → CSS px through the timeline's x scale;
// a band [from, to) is drawn in every pixel column whose event span it touches, so a short-lived
// allocation never vanishes when zoomed out (the stack of a column can then hold allocations that were not
// alive at the same moment: zoomed out, a column is an envelope, like the totals view's maxima).
//
// Speed: the plot is rasterised into one ImageData (a Uint32Array view, one write per pixel) and put once:
// no path per band, no fillRect per column. Per frame the work is O(columns × bands alive in a column +
// pixels), whatever the trace length; the stack order and colours are prepared once per answer.
import type { ScaleLinear } from 'd3';
import type { AllocationBandsData } from '../data/source.ts';
import { seriesColors } from '../ui/colors.ts';
import { inverseOf } from './timeline-draw.ts';

export interface PreparedBands {
  readonly data: AllocationBandsData;
  /** Band indices (into data's arrays) in stack order: allocation order (from ascending). */
  readonly order: Int32Array;
  /** Colour of each band (by band index) as a little-endian RGBA pixel. */
  readonly color: Uint32Array;
  /** Highest stack (rest + bands) of any rest bucket of the answer, bytes: the y scale's domain. */
  readonly maxBytes: number;
}

/** A pixel (little-endian RGBA as an ImageData's Uint32Array holds it) from '#rrggbb' / 'rgb(a)(…)'. */
export function pixelOf(css: string, fallback = 0xff231e1b): number {
  let r: number;
  let g: number;
  let b: number;
  const hex = /^#([0-9a-f]{6})$/i.exec(css.trim());
  if (hex) {
    const n = parseInt(hex[1]!, 16);
    r = (n >> 16) & 255;
    g = (n >> 8) & 255;
    b = n & 255;
  } else {
    const m = /^rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)/i.exec(css.trim());
    if (!m) return fallback;
    r = Number(m[1]);
    g = Number(m[2]);
    b = Number(m[3]);
  }
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

function shade(pixel: number, factor: number): number {
  const r = Math.min(255, Math.round((pixel & 255) * factor));
  const g = Math.min(255, Math.round(((pixel >> 8) & 255) * factor));
  const b = Math.min(255, Math.round(((pixel >> 16) & 255) * factor));
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

const palette = seriesColors.slice(0, 7).map((c) => pixelOf(c));

/** Stack order, colours and the y extent of an answer (once per answer, not per frame). */
export function prepareBands(data: AllocationBandsData): PreparedBands {
  const n = data.id.length;
  const order = Int32Array.from({ length: n }, (_, k) => k).sort(
    (x, y) => data.from[x]! - data.from[y]! || x - y,
  );
  const color = new Uint32Array(n);
  // Neighbours in the stack get different hues; every 7th a darker shade, so equal hues rarely touch.
  order.forEach((k, pos) => {
    const base = palette[pos % palette.length]!;
    color[k] = shade(base, Math.floor(pos / palette.length) % 2 === 0 ? 1 : 0.72);
  });
  // Per rest bucket: rest + the bands touching it (a difference array over the buckets).
  const nb = data.restMax.length;
  const extra = new Float64Array(nb + 1);
  const bucketOf = (e: number): number => {
    let lo = 0;
    let hi = nb - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (data.restBoundaries[mid]! <= e) lo = mid;
      else hi = mid - 1;
    }
    return Math.max(0, lo);
  };
  let maxBytes = 0;
  if (nb > 0) {
    for (let k = 0; k < n; k++) {
      const a = bucketOf(Math.max(data.start, data.from[k]!));
      const b = bucketOf(Math.max(data.start, Math.min(data.end, data.to[k]!) - 1));
      extra[a]! += data.size[k]!;
      extra[b + 1]! -= data.size[k]!;
    }
    let v = 0;
    for (let j = 0; j < nb; j++) {
      v += extra[j]!;
      maxBytes = Math.max(maxBytes, v + data.restMax[j]!);
    }
  } else {
    for (let k = 0; k < n; k++) maxBytes += data.size[k]!;
  }
  return { data, order, color, maxBytes };
}

export interface BandsRaster {
  /** Bands with at least one pixel in this frame. */
  readonly visible: number;
}

export interface BandsFrame {
  /** Plot rectangle, CSS px. */
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly x: ScaleLinear<number, number>;
  /** y domain maximum, bytes (the y scale maps [0, yMax] onto [bottom, top]). */
  readonly yMax: number;
  readonly background: string;
  readonly restColor: string;
  /** Drawn bright (hovered or selected), or null. */
  readonly highlightId: number | null;
}

/**
 * Per-frame buffers, reused between frames (grown, never shrunk), so a frame allocates nothing: the
 * ImageData (its allocation is the slow part of a small frame) with its pixel view, and the per-band
 * scratch arrays.
 */
let scratch: { image: ImageData; pixels: Uint32Array } | null = null;
let seenScratch = new Uint8Array(0);
let activeScratch = new Int32Array(0);
/** Pixels of the last CSS colours asked (a theme has two: background and rest). */
const pixels = new Map<string, number>();
function cachedPixel(css: string, fallback: number): number {
  let p = pixels.get(css);
  if (p === undefined) pixels.set(css, (p = pixelOf(css, fallback)));
  return p;
}

/**
 * Rasterises the bands into the plot rectangle (device pixels; `dpr` = devicePixelRatio) with one
 * putImageData. Columns outside the answer's window are left as background.
 */
export function drawBandsRaster(
  ctx: CanvasRenderingContext2D,
  prepared: PreparedBands,
  f: BandsFrame,
  dpr: number,
): BandsRaster {
  const W = Math.max(1, Math.round((f.right - f.left) * dpr));
  const H = Math.max(1, Math.round((f.bottom - f.top) * dpr));
  if (!scratch || scratch.image.width !== W || scratch.image.height !== H) {
    const image = new ImageData(W, H);
    scratch = { image, pixels: new Uint32Array(image.data.buffer) };
  }
  const { image: img, pixels: buf } = scratch;
  buf.fill(cachedPixel(f.background, 0xff231e1b));
  const { data, order, color } = prepared;
  const restPixel = cachedPixel(f.restColor, 0xff808080);
  const highlight = 0xffffffff;
  const scale = f.yMax > 0 ? H / f.yMax : 0;
  const n = order.length;
  if (seenScratch.length < data.id.length) seenScratch = new Uint8Array(data.id.length);
  const seen = seenScratch;
  seen.fill(0, 0, data.id.length);
  let visible = 0;
  // Active bands (stack order kept: they are appended in `from` order and compacted in place).
  if (activeScratch.length < n) activeScratch = new Int32Array(n);
  const active = activeScratch;
  let activeCount = 0;
  let next = 0;
  let rb = 0;
  const nb = data.restMax.length;
  const invert = inverseOf(f.x);
  const fill = (col: number, lo: number, hi: number, pixel: number): boolean => {
    // Rows from the top: bytes hi → row H - hi * scale.
    const r0 = Math.max(0, Math.round(H - hi * scale));
    const r1 = Math.min(H, Math.round(H - lo * scale));
    for (let r = r0; r < r1; r++) buf[r * W + col] = pixel;
    return r1 > r0;
  };
  for (let col = 0; col < W; col++) {
    const e0 = invert(f.left + col / dpr);
    const e1 = invert(f.left + (col + 1) / dpr);
    if (e1 <= data.start || e0 >= data.end) continue;
    // Rest: the most of the rest buckets the column touches.
    while (rb + 1 < nb && data.restBoundaries[rb + 1]! <= e0) rb++;
    let rest = 0;
    for (let j = rb; j < nb && data.restBoundaries[j]! < e1; j++)
      if (data.restMax[j]! > rest) rest = data.restMax[j]!;
    // Bands starting before the column's end join the stack; those ended before its start leave it.
    while (next < n && data.from[order[next]!]! < e1) active[activeCount++] = order[next++]!;
    let w = 0;
    for (let a = 0; a < activeCount; a++) {
      const k = active[a]!;
      if (data.to[k]! > e0) active[w++] = k;
    }
    activeCount = w;
    let base = 0;
    if (rest > 0) {
      fill(col, 0, rest, restPixel);
      base = rest;
    }
    for (let a = 0; a < activeCount; a++) {
      const k = active[a]!;
      const size = data.size[k]!;
      const px = data.id[k] === f.highlightId ? highlight : color[k]!;
      if (fill(col, base, base + size, px) && seen[k] === 0) {
        seen[k] = 1;
        visible++;
      }
      base += size;
    }
  }
  ctx.putImageData(img, Math.round(f.left * dpr), Math.round(f.top * dpr));
  return { visible };
}

/**
 * What is under a point of the plot (CSS px): a band's index into data's arrays, 'rest', or null. The
 * same stack as drawBandsRaster builds for that pixel column.
 */
export function bandAt(
  prepared: PreparedBands,
  f: Pick<BandsFrame, 'left' | 'top' | 'bottom' | 'x' | 'yMax'>,
  px: number,
  py: number,
): number | 'rest' | null {
  const { data, order } = prepared;
  const e0 = f.x.invert(Math.floor(px));
  const e1 = f.x.invert(Math.floor(px) + 1);
  if (e1 <= data.start || e0 >= data.end || py < f.top || py > f.bottom) return null;
  const bytes = ((f.bottom - py) / Math.max(1, f.bottom - f.top)) * f.yMax;
  let rest = 0;
  for (let j = 0; j < data.restMax.length; j++) {
    if (data.restBoundaries[j + 1]! <= e0) continue;
    if (data.restBoundaries[j]! >= e1) break;
    if (data.restMax[j]! > rest) rest = data.restMax[j]!;
  }
  if (bytes < rest) return 'rest';
  let base = rest;
  for (let p = 0; p < order.length; p++) {
    const k = order[p]!;
    if (data.from[k]! >= e1) break;
    if (data.to[k]! <= e0) continue;
    base += data.size[k]!;
    if (bytes < base) return k;
  }
  return null;
}
