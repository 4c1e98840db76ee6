// The totals plot of one answer at one zoom level, drawn once over the answer's whole window into a canvas
// of its own, so that a pan frame copies it (one drawImage) instead of drawing thousands of rects again.
//
// Why it draws the same pixels: a pan moves the x scale by whole CSS pixels (a mouse moves by whole pixels)
// at an unchanged zoom. The copy holds what drawTimeline puts inside the plot rectangle before the budget
// lines — background, grid lines, stacked bands — drawn by the same functions with the x scale of the
// moment it was made; rect edges are snapped to whole CSS pixels, so a scale shifted by whole CSS pixels
// snaps them to the same pixels shifted. A frame uses the copy only when its x scale is the copy's shifted
// by a whole number of CSS pixels (to 1e-6 px: an edge closer than that to a pixel boundary could round the
// other way) and every other input (answer, y scale, series shown, theme, size, devicePixelRatio) is the
// same; otherwise it draws directly, as before. The copy replaces the plot rectangle's pixels ('copy').
//
// When: the copy is made off the gesture, in idle callbacks (requestIdleCallback; one chunk of columns per
// callback while the deadline leaves time, each clipped to its columns so every pixel sees the same rects in
// the same order as a full draw), once `runFrames` frames in a row had the same zoom (a pan) or a frame's
// zoom stayed for `settleMs` (a view at rest). A zoom changes the scale every frame: it draws directly and
// makes no copy (two frames at one zoom happen in a zoom too, when a data answer's draw and an input's
// draw meet in one frame: three do not).
//
// Units: CSS px unless "device" is said; the copy has devicePixelRatio device pixels per CSS px (only whole
// ratios are served: a fractional one would not move by whole device pixels).
import type { ScaleLinear } from 'd3';
import type { TimelineBuckets } from '../data/source.ts';
import type { CanvasTheme } from '../ui/colors.ts';
import { drawBands, drawGridLines, timelineMargin, timelineScales } from './timeline-draw.ts';
import type { TimelineFrame } from './timeline-draw.ts';

/** Columns drawn per idle-callback step (CSS px): about a fifth of a wide plot's bands. */
const chunkColumns = 256;
/** An idle callback draws another chunk while at least this much of its deadline is left, ms. */
const chunkBudgetMs = 4;
/** How far from a whole CSS pixel a shift may be and still count as one. */
const shiftTolerance = 1e-6;
/** A view whose zoom stayed this long (ms) gets a copy, ready for the next pan. */
const settleMs = 200;
/** Frames in a row at one zoom that start a copy (a pan under way). */
const runFrames = 3;

/** Everything besides the x offset that the plot's pixels depend on. */
interface PlotKey {
  readonly firstEvent: Float64Array;
  readonly committed: readonly Float64Array[];
  readonly showCommitted: boolean;
  readonly showAllocated: boolean;
  readonly background: string;
  readonly grid: string;
  readonly width: number;
  readonly height: number;
  readonly dpr: number;
  /** The y domain's top (bytes) and the x scale's pixels per event. */
  readonly yMax: number;
  readonly pxPerEvent: number;
}

function keyOf(
  frame: TimelineFrame,
  b: TimelineBuckets,
  x: ScaleLinear<number, number>,
  dpr: number,
): PlotKey {
  const { y } = timelineScales(frame);
  const [d0, d1] = x.domain() as [number, number];
  const [r0, r1] = x.range() as [number, number];
  return {
    firstEvent: b.firstEvent,
    committed: b.committed,
    showCommitted: frame.showCommitted,
    showAllocated: frame.showAllocated,
    background: frame.theme.background,
    grid: frame.theme.grid,
    width: frame.width,
    height: frame.height,
    dpr,
    yMax: (y.domain() as [number, number])[1],
    pxPerEvent: (r1 - r0) / (d1 - d0),
  };
}

function sameKey(a: PlotKey, b: PlotKey): boolean {
  return (
    a.firstEvent === b.firstEvent &&
    a.committed === b.committed &&
    a.showCommitted === b.showCommitted &&
    a.showAllocated === b.showAllocated &&
    a.background === b.background &&
    a.grid === b.grid &&
    a.width === b.width &&
    a.height === b.height &&
    a.dpr === b.dpr &&
    a.yMax === b.yMax &&
    // Pans keep the zoom: the same pixels per event up to rounding of the range's ends.
    Math.abs(a.pxPerEvent / b.pxPerEvent - 1) < 1e-12
  );
}

/** An OffscreenCanvas and idle callbacks (Chromium, Electron; not the unit tests' DOM). */
function supported(): boolean {
  return typeof OffscreenCanvas !== 'undefined' && typeof requestIdleCallback === 'function';
}

type Surface = { canvas: OffscreenCanvas; ctx: OffscreenCanvasRenderingContext2D };

/** A copy being made or made: its key, the frame it draws, and where its column 0 lies. */
interface Copy {
  readonly key: PlotKey;
  readonly frame: TimelineFrame;
  readonly buckets: TimelineBuckets;
  /** The x scale it is drawn with. */
  readonly x: ScaleLinear<number, number>;
  /** View x (CSS px, whole) of the copy's column 0, and its width (CSS px). */
  readonly origin: number;
  readonly columns: number;
  readonly surface: Surface;
  /** Columns [0, done) are drawn. */
  done: number;
}

export class PanCache {
  private copy: Copy | null = null;
  private last: { key: PlotKey; frame: TimelineFrame; x: ScaleLinear<number, number> } | null = null;
  /** Frames in a row drawn at the last one's key. */
  private run = 0;
  private idle: number | null = null;
  private settle: ReturnType<typeof setTimeout> | null = null;
  /** Frames served from the copy (read by the benchmark and the tests through the canvas's dataset). */
  hits = 0;

  /** Whether a copy is being drawn (idle callbacks still to come). */
  get building(): boolean {
    return this.copy !== null && this.copy.done < this.copy.columns;
  }

  /**
   * Draws the plot from the copy when it serves this frame (see the header); else notes the frame, and
   * after `runFrames` frames in a row at the same zoom, or `settleMs` without another, starts a copy.
   */
  blit(ctx: CanvasRenderingContext2D, frame: TimelineFrame, x: ScaleLinear<number, number>): boolean {
    const b = frame.buckets;
    const dpr = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
    if (!b || b.count === 0 || !Number.isInteger(dpr) || !supported()) return false;
    const key = keyOf(frame, b, x, dpr);
    const c = this.copy;
    if (c && c.done >= c.columns && sameKey(c.key, key) && this.draw(ctx, c, frame, x, dpr)) {
      this.hits++;
      return true;
    }
    const copying = c !== null && sameKey(c.key, key);
    this.run = this.last && sameKey(this.last.key, key) ? this.run + 1 : 1;
    if (!copying && this.run >= runFrames) this.start(frame, b, x, key);
    this.last = { key, frame, x: x.copy() };
    if (this.settle !== null) clearTimeout(this.settle);
    this.settle = copying
      ? null
      : setTimeout(() => {
          this.settle = null;
          const l = this.last;
          if (l && l.key === key && !(this.copy && sameKey(this.copy.key, key)))
            this.start(l.frame, b, l.x, key);
        }, settleMs);
    return false;
  }

  /** Copies the plot rectangle from `c` if `c` covers it at a whole CSS-pixel shift. */
  private draw(
    ctx: CanvasRenderingContext2D,
    c: Copy,
    frame: TimelineFrame,
    x: ScaleLinear<number, number>,
    dpr: number,
  ): boolean {
    const m = timelineMargin;
    const plotRight = frame.width - m.right;
    const ref = c.buckets.start;
    const shift = x(ref) - c.x(ref);
    if (Math.abs(shift - Math.round(shift)) > shiftTolerance) return false;
    const at = c.origin + Math.round(shift); // view x of the copy's column 0 now
    if (at > m.left || at + c.columns < plotRight) return false;
    const top = m.top;
    const bottom = frame.height - m.bottom;
    // Device pixels, no scaling: a copy of whole pixels (the caller's clip is the plot rectangle).
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalCompositeOperation = 'copy';
    const sx = Math.round((m.left - at) * dpr);
    const w = Math.round((plotRight - m.left) * dpr);
    const sy = Math.round(top * dpr);
    const h = Math.round((bottom - top) * dpr);
    ctx.drawImage(c.surface.canvas, sx, sy, w, h, Math.round(m.left * dpr), sy, w, h);
    ctx.restore();
    return true;
  }

  /** Starts a copy of this frame's plot over the answer's whole window, drawn in idle callbacks. */
  private start(
    frame: TimelineFrame,
    b: TimelineBuckets,
    x: ScaleLinear<number, number>,
    key: PlotKey,
  ): void {
    const m = timelineMargin;
    const origin = Math.floor(Math.min(m.left, x(b.start))) - 1;
    const right = Math.ceil(Math.max(frame.width - m.right, x(b.end))) + 1;
    const columns = right - origin;
    const dpr = key.dpr;
    const surface = this.surface(Math.round(columns * dpr), Math.round(frame.height * dpr));
    if (!surface) return;
    this.copy = { key, frame, buckets: b, x: x.copy(), origin, columns, surface, done: 0 };
    this.schedule();
  }

  private spare: Surface | null = null;
  /** A canvas of at least this size (device px), reused between copies. */
  private surface(width: number, height: number): Surface | null {
    const s = this.spare;
    if (s && s.canvas.width >= width && s.canvas.height === height) return s;
    const canvas = new OffscreenCanvas(width, height);
    // Read back once per chunk (to rasterise it in the idle time, not in a pan frame): a CPU canvas.
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return null;
    this.spare = { canvas, ctx };
    return this.spare;
  }

  private schedule(): void {
    if (this.idle !== null) return;
    const run = (deadline: IdleDeadline): void => {
      this.idle = null;
      const c = this.copy;
      if (!c) return;
      do this.drawChunk(c);
      while (c.done < c.columns && deadline.timeRemaining() > chunkBudgetMs);
      if (c.done < c.columns) this.schedule();
    };
    this.idle = requestIdleCallback(run);
  }

  /** Draws the copy's next columns, clipped to them, and rasterises them (a one-pixel read). */
  private drawChunk(c: Copy): void {
    const { ctx } = c.surface;
    const { frame, buckets: b, x } = c;
    const { y } = timelineScales(frame);
    const dpr = c.key.dpr;
    const c0 = c.origin + c.done;
    const c1 = Math.min(c.origin + c.columns, c0 + chunkColumns);
    const m = timelineMargin;
    ctx.setTransform(dpr, 0, 0, dpr, -c.origin * dpr, 0);
    ctx.save();
    ctx.beginPath();
    ctx.rect(c0, m.top, c1 - c0, frame.height - m.bottom - m.top);
    ctx.clip();
    // As drawTimeline: cleared, background, grid, bands.
    ctx.clearRect(c0, 0, c1 - c0, frame.height);
    ctx.fillStyle = frame.theme.background;
    ctx.fillRect(c0, 0, c1 - c0, frame.height);
    const view = { start: x.invert(c0 - 1), end: x.invert(c1 + 1) };
    const plot = ctx as unknown as CanvasRenderingContext2D;
    drawGridLines(plot, y, c0 - 1, c1 + 1, frame.theme as CanvasTheme);
    drawBands(plot, b, x, y, frame.showCommitted, frame.showAllocated, view);
    ctx.restore();
    ctx.getImageData(Math.max(0, Math.round((c0 - c.origin) * dpr)), 0, 1, 1);
    c.done = c1 - c.origin;
  }

  /** Forgets the copy (a different trace). */
  reset(): void {
    if (this.idle !== null) cancelIdleCallback(this.idle);
    if (this.settle !== null) clearTimeout(this.settle);
    this.idle = null;
    this.settle = null;
    this.copy = null;
    this.last = null;
    this.run = 0;
  }
}
