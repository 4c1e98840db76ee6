// Draws the timeline on a canvas as a pure function of its inputs. Coordinate spaces: event space (event
// index, the cursor's unit) → plot space (CSS pixels inside the plot rectangle) through `x`; bytes → plot
// space through `y`. The canvas backing store is dpr times larger; the context is pre-scaled.
import { scaleLinear } from 'd3';
import type { ScaleLinear } from 'd3';
import { bucketOfEvent } from '../data/source.ts';
import type { TimelineBuckets } from '../data/source.ts';
import type { EventRange } from '../store/cursor-slice.ts';
import { budgetLineColor, markerColors, seriesColor, withAlpha } from '../ui/colors.ts';
import type { CanvasTheme } from '../ui/colors.ts';
import { formatBytes, formatCount, formatMs } from '../ui/format.ts';

export const timelineMargin = { top: 30, right: 12, bottom: 22, left: 78 } as const;

export interface TimelineFrame {
  readonly width: number;
  readonly height: number;
  readonly range: EventRange;
  readonly buckets: TimelineBuckets | null;
  readonly cursor: number;
  readonly brush: EventRange | null;
  readonly showCommitted: boolean;
  readonly showAllocated: boolean;
  readonly theme: CanvasTheme;
  /** Bytes at the top of the y axis, instead of the buckets' maximum (the allocations mode's stack). */
  readonly yMax?: number;
  /** Draws the plot instead of the stacked totals (the allocations mode), inside the plot's clip. */
  readonly drawPlot?: (ctx: CanvasRenderingContext2D, scales: TimelineScales) => void;
  /**
   * Where a pan frame can copy the stacked totals' plot (background, grid, bands) from instead of drawing
   * them; `blit` returns false when it cannot serve this frame (timeline-pan-cache.ts).
   */
  readonly panCache?: {
    blit(ctx: CanvasRenderingContext2D, frame: TimelineFrame, x: ScaleLinear<number, number>): boolean;
  };
}

/**
 * The grid's horizontal lines at the y ticks, from `left` to `right` (CSS px): one-pixel rows filled, not
 * stroked (a long anti-aliased stroke leaves a few columns at slightly less than full coverage, which a
 * copy of the plot drawn in pieces — timeline-pan-cache.ts — could not reproduce).
 */
export function drawGridLines(
  ctx: CanvasRenderingContext2D,
  y: ScaleLinear<number, number>,
  left: number,
  right: number,
  theme: CanvasTheme,
): void {
  ctx.fillStyle = theme.grid;
  for (const t of y.ticks(5)) ctx.fillRect(left, Math.round(y(t)), right - left, 1);
}

export interface TimelineScales {
  readonly x: ScaleLinear<number, number>;
  readonly y: ScaleLinear<number, number>;
}

/** x: event index → CSS px; y: bytes → CSS px (0 at the bottom of the plot). */
export function timelineScales(
  frame: Pick<TimelineFrame, 'width' | 'height' | 'range' | 'buckets' | 'yMax'>,
): TimelineScales {
  const m = timelineMargin;
  const x = scaleLinear()
    .domain([frame.range.start, Math.max(frame.range.start + 1, frame.range.end)])
    .range([m.left, Math.max(m.left + 1, frame.width - m.right)]);
  let maxBytes = frame.yMax ?? 0;
  const b = frame.buckets;
  if (b && frame.yMax === undefined)
    for (let i = 0; i < b.count; i++)
      maxBytes = Math.max(maxBytes, b.committedTotal[i] ?? 0, b.allocatedTotal[i] ?? 0);
  const y = scaleLinear()
    .domain([0, maxBytes > 0 ? maxBytes : 1])
    .nice(5)
    .range([Math.max(m.top + 1, frame.height - m.bottom), m.top]);
  return { x, y };
}

/** What drawTimeline drew that a test can look for: budget lines and budget markers, CSS px. */
export interface TimelineDrawn {
  /** One entry per horizontal segment of a budget line: heap, y, x from/to. */
  readonly budgetLines: { heap: number; y: number; x0: number; x1: number }[];
  /** Budget markers: x, and the top of the marker. */
  readonly budgetMarkers: { x: number; y: number }[];
}

export function drawTimeline(ctx: CanvasRenderingContext2D, frame: TimelineFrame): TimelineDrawn {
  const drawn: TimelineDrawn = { budgetLines: [], budgetMarkers: [] };
  const { width, height, theme } = frame;
  const m = timelineMargin;
  const { x, y } = timelineScales(frame);
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, width, height);
  const plotRight = width - m.right;
  const plotBottom = height - m.bottom;

  // Horizontal grid and byte labels (the labels left of the plot, the lines inside it: they never meet).
  drawGridLines(ctx, y, m.left, plotRight, theme);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  ctx.fillStyle = theme.muted;
  for (const t of y.ticks(5)) ctx.fillText(formatBytes(t), m.left - 6, Math.round(y(t)) + 0.5);

  const b = frame.buckets;
  if (frame.drawPlot) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(m.left, m.top, plotRight - m.left, plotBottom - m.top);
    ctx.clip();
    frame.drawPlot(ctx, { x, y });
    ctx.restore();
  }
  if (b && b.count > 0) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(m.left, m.top, plotRight - m.left, plotBottom - m.top);
    ctx.clip();
    if (!frame.drawPlot && !frame.panCache?.blit(ctx, frame, x))
      drawBands(ctx, b, x, y, frame.showCommitted, frame.showAllocated, frame.range);
    drawBudgetLines(ctx, b, x, y, m.left, plotRight, drawn);
    ctx.restore();
    drawMarkers(ctx, b, x, m.top - 8, frame.range, drawn);
  }

  // Event-index axis (bottom) and wall-time axis (top): the same tick positions, the top one labelled with
  // the time of the event at that index.
  ctx.fillStyle = theme.muted;
  ctx.strokeStyle = theme.grid;
  ctx.textAlign = 'center';
  // Event indices are whole numbers: no fractional ticks when zoomed in to a few events.
  const ticks = x
    .ticks(Math.max(2, Math.floor((plotRight - m.left) / 110)))
    .filter((t) => Number.isInteger(t));
  for (const t of ticks) {
    const px = Math.round(x(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(px, plotBottom);
    ctx.lineTo(px, plotBottom + 4);
    ctx.stroke();
    ctx.textBaseline = 'top';
    ctx.fillText(`#${formatCount(Math.round(t))}`, px, plotBottom + 6);
    if (b && b.count > 0) {
      const bi = bucketOfEvent(b, t);
      ctx.textBaseline = 'top';
      ctx.fillText(formatMs(b.time[bi] ?? 0), px, 2);
    }
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText('event', 4, plotBottom + 6);
  ctx.fillText('time', 4, 2);

  // Brush and cursor on top.
  if (frame.brush) {
    const x0 = Math.max(m.left, x(frame.brush.start));
    const x1 = Math.min(plotRight, x(frame.brush.end));
    if (x1 > x0) {
      ctx.fillStyle = withAlpha('#2f80ed', 0.18);
      ctx.fillRect(x0, m.top, x1 - x0, plotBottom - m.top);
    }
  }
  const cx = x(frame.cursor);
  if (cx >= m.left - 0.5 && cx <= plotRight + 0.5) {
    ctx.strokeStyle = theme.cursor;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(Math.round(cx) + 0.5, m.top - 10);
    ctx.lineTo(Math.round(cx) + 0.5, plotBottom);
    ctx.stroke();
    ctx.lineWidth = 1;
  }
  return drawn;
}

/**
 * Each heap's budget as a dashed step line (the budget in force from each point on), over the bands. The
 * bands stack heaps, so a heap's line compares with its own band only when grouped by heap and the heap is
 * the lowest band; the value is what the driver (or the session's emulated budget) reported.
 */
function drawBudgetLines(
  ctx: CanvasRenderingContext2D,
  b: TimelineBuckets,
  x: ScaleLinear<number, number>,
  y: ScaleLinear<number, number>,
  left: number,
  right: number,
  drawn: TimelineDrawn,
): void {
  const [, yMax] = y.domain() as [number, number];
  ctx.strokeStyle = budgetLineColor;
  ctx.lineWidth = 2;
  ctx.setLineDash([6, 4]);
  for (const line of b.budgets ?? []) {
    const pts = line.points;
    for (let k = 0; k < pts.length; k++) {
      const p = pts[k]!;
      // Off the top of the scale: nothing to see (a budget far above the usage).
      if (p.budget > yMax) continue;
      const x0 = Math.max(left, x(p.index));
      const x1 = Math.min(right, k + 1 < pts.length ? x(pts[k + 1]!.index) : right);
      if (x1 <= x0) continue;
      const py = Math.round(y(p.budget)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x0, py);
      ctx.lineTo(x1, py);
      ctx.stroke();
      drawn.budgetLines.push({ heap: line.heapIndex, y: py, x0, x1 });
    }
  }
  ctx.setLineDash([]);
  ctx.lineWidth = 1;
}

/**
 * Stacked bands per group: the light band is the group's committed bytes, the solid part inside it the
 * allocated (requested) bytes, so the gap between them is what the allocator holds but does not use.
 */
export function drawBands(
  ctx: CanvasRenderingContext2D,
  b: TimelineBuckets,
  x: ScaleLinear<number, number>,
  y: ScaleLinear<number, number>,
  showCommitted: boolean,
  showAllocated: boolean,
  range: EventRange,
): void {
  const groups = b.committed.length;
  // Only the buckets in view (an answer covers the view and one view width on either side).
  const first = bucketOfEvent(b, range.start);
  const last = Math.min(b.count, bucketOfEvent(b, range.end) + 1);
  const base = baseScratch(b.count);
  base.fill(0, first, last);
  const xf = linearOf(x);
  const yf = linearOf(y);
  for (let g = 0; g < groups; g++) {
    const committed = b.committed[g] as Float64Array;
    const allocated = b.allocated[g] as Float64Array;
    const color = seriesColor(g);
    if (showCommitted) {
      ctx.fillStyle = fillOf(color, 0.28);
      fillStep(ctx, b, xf, yf, base, committed, first, last);
    }
    if (showAllocated) {
      ctx.fillStyle = fillOf(color, 0.85);
      fillStep(ctx, b, xf, yf, base, allocated, first, last);
    }
    const top = showCommitted ? committed : allocated;
    for (let i = first; i < last; i++) base[i] = (base[i] ?? 0) + (top[i] ?? 0);
  }
}

/**
 * The stack's running base per bucket, reused between frames (grown, never shrunk): a frame allocates
 * nothing here. Only [first, last) is valid, cleared by the caller.
 */
let baseBuffer = new Float64Array(0);
function baseScratch(count: number): Float64Array {
  if (baseBuffer.length < count) baseBuffer = new Float64Array(count);
  return baseBuffer;
}

/** The fill styles of the bands, by colour and alpha (built once, not per frame). */
const fills = new Map<string, string>();
function fillOf(color: string, alpha: number): string {
  const key = `${color}/${alpha}`;
  let f = fills.get(key);
  if (f === undefined) fills.set(key, (f = withAlpha(color, alpha)));
  return f;
}

/**
 * A d3 linear scale (no clamp, numeric interpolation: the only kind the timeline builds) as a plain
 * function with d3's own arithmetic (normalize, then interpolateNumber), so every pixel edge is the same
 * float as `scale(v)` returns, without d3's per-call checks and closure chain (thousands of calls a frame).
 */
export function linearOf(scale: ScaleLinear<number, number>): (v: number) => number {
  return bimap(scale.domain() as [number, number], scale.range() as [number, number]);
}

/** `scale.invert` the same way (d3 inverts with the range and domain swapped). */
export function inverseOf(scale: ScaleLinear<number, number>): (px: number) => number {
  return bimap(scale.range() as [number, number], scale.domain() as [number, number]);
}

/** d3-scale's bimap over d3-interpolate's interpolateNumber, for a two-element domain and range. */
function bimap([d0, d1]: [number, number], [r0, r1]: [number, number]): (v: number) => number {
  if (d1 < d0) {
    [d0, d1] = [d1, d0];
    [r0, r1] = [r1, r0];
  }
  const span = d1 - d0;
  if (span === 0 || Number.isNaN(span)) {
    // d3: a degenerate domain maps everything to t = 0.5 (NaN for a NaN domain).
    const t = Number.isNaN(span) ? NaN : 0.5;
    return () => r0 * (1 - t) + r1 * t;
  }
  return (v) => {
    const t = (v - d0) / span;
    return r0 * (1 - t) + r1 * t;
  };
}

/** One filled step band between base[i] and base[i] + values[i] for every bucket. */
function fillStep(
  ctx: CanvasRenderingContext2D,
  b: TimelineBuckets,
  x: (v: number) => number,
  y: (v: number) => number,
  base: Float64Array,
  values: Float64Array,
  first: number,
  last: number,
): void {
  const firstEvent = b.firstEvent;
  // fillRect per bucket: the canvas fast path (a single path of thousands of rects rasterises slowly).
  for (let i = first; i < last && i < b.count; i++) {
    const e0 = firstEvent[i] ?? 0;
    const e1 = firstEvent[i + 1] ?? 0;
    const v = values[i] ?? 0;
    // A bucket without events (a quiet stretch of wall time) has no width on the event axis.
    if (v <= 0 || e1 <= e0) continue;
    const lo = base[i] ?? 0;
    const x0 = x(e0);
    const x1 = x(e1);
    const yTop = y(lo + v);
    const yBot = y(lo);
    // At least one pixel wide so a zoomed-out bucket never vanishes; snapped to whole pixels.
    const left = Math.floor(x0);
    ctx.fillRect(
      left,
      Math.floor(yTop),
      Math.max(1, Math.ceil(x1) - left),
      Math.max(1, Math.ceil(yBot) - Math.floor(yTop)),
    );
  }
}

/** Markers as small rectangles (frames: a short tick; marks, failures, leaks: a block), one fillRect each. */
function drawMarkers(
  ctx: CanvasRenderingContext2D,
  b: TimelineBuckets,
  x: ScaleLinear<number, number>,
  top: number,
  range: EventRange,
  drawn: TimelineDrawn,
): void {
  for (const mk of b.markers) {
    if (mk.index < range.start || mk.index >= range.end) continue;
    const px = Math.round(x(mk.index + 0.5));
    ctx.fillStyle = markerColors[mk.kind];
    if (mk.kind === 'frame') ctx.fillRect(px, top + 3, 1, 5);
    else if (mk.kind === 'budget') {
      // A taller bar than the others, so a budget flag stands out among failures and marks.
      ctx.fillRect(px - 2, top - 4, 4, 11);
      drawn.budgetMarkers.push({ x: px, y: top - 4 });
    } else ctx.fillRect(px - 2, top, 4, 7);
  }
}

/** Legend entries for the current buckets (group label and colour). */
export function timelineLegend(b: TimelineBuckets | null): { label: string; color: string }[] {
  if (!b) return [];
  return b.groups.map((label, g) => ({ label, color: seriesColor(g) }));
}
