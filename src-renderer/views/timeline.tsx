// Timeline view: committed vs allocated bytes over the event stream, stacked per heap or memory type,
// on a canvas. d3-zoom owns zoom/pan (wheel, drag), shift-drag brushes a range, a click moves the cursor.
// The view asks the source for as many buckets as the plot has pixels (level of detail), keeps one request
// in flight and draws the last answer in the current coordinates while the next one is coming.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { scaleLinear, select, zoom, zoomIdentity } from 'd3';
import type { ZoomBehavior, ZoomTransform } from 'd3';
import type { TimelineBuckets, TimelineQuery } from '../data/source.ts';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { fitCanvas, useElementWidth } from '../ui/canvas.ts';
import { readCanvasTheme } from '../ui/colors.ts';
import { formatBytes, formatCount } from '../ui/format.ts';
import { drawTimeline, timelineLegend, timelineMargin, timelineScales } from './timeline-draw.ts';
import type { TimelineFrame } from './timeline-draw.ts';

const height = 220;

export function Timeline(): ReactNode {
  const store = useInspectorStore();
  const source = useInspector((s) => s.source);
  const overview = useInspector((s) => s.overview);
  const range = useInspector((s) => s.range);
  const cursor = useInspector((s) => s.cursor);
  const brush = useInspector((s) => s.brush);
  const groupBy = useInspector((s) => s.groupBy);
  const showCommitted = useInspector((s) => s.showCommitted);
  const showAllocated = useInspector((s) => s.showAllocated);
  const theme = useInspector((s) => s.theme);
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const wrapRef = useRef<HTMLDivElement | null>(null);
  const width = useElementWidth(wrapRef, 800, 200);
  const [buckets, setBuckets] = useState<TimelineBuckets | null>(null);
  /** Applied defragmentation passes in the shown range (markers of kind defrag). */
  const defragPasses = useMemo(
    () => (buckets ? buckets.markers.filter((m) => m.kind === 'defrag') : []),
    [buckets],
  );
  const zoomRef = useRef<ZoomBehavior<HTMLCanvasElement, unknown> | null>(null);
  const transformRef = useRef<ZoomTransform>(zoomIdentity);
  const drawsRef = useRef(0);
  const brushStart = useRef<number | null>(null);
  const eventCount = overview?.eventCount ?? 0;
  const title = overview?.title ?? '';

  // Zoom/pan: the transform maps the whole trace [0, eventCount] onto the plot; the visible range is its
  // inverse. Re-created when the trace or the width changes.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || eventCount === 0) return undefined;
    const m = timelineMargin;
    const x0 = scaleLinear()
      .domain([0, eventCount])
      .range([m.left, width - m.right]);
    const applyTransform = (t: ZoomTransform): void => {
      transformRef.current = t;
      const [start, end] = t.rescaleX(x0).domain() as [number, number];
      store.getState().setRange({ start, end });
    };
    const behavior = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([1, Math.max(1, eventCount / 8)])
      .extent([
        [m.left, 0],
        [width - m.right, height],
      ])
      .translateExtent([
        [m.left, 0],
        [width - m.right, height],
      ])
      .filter((e: Event) => {
        const me = e as MouseEvent;
        return !me.shiftKey && (e.type === 'wheel' || me.button === 0 || e.type.startsWith('touch'));
      })
      .on('zoom', (e: { transform: ZoomTransform }) => applyTransform(e.transform));
    zoomRef.current = behavior;
    const sel = select(canvas);
    sel.call(behavior).on('dblclick.zoom', null);
    sel.call(behavior.transform, transformRef.current);
    return () => {
      sel.on('.zoom', null);
    };
  }, [store, eventCount, width]);

  // A different trace: back to the whole range.
  useEffect(() => {
    transformRef.current = zoomIdentity;
    const canvas = canvasRef.current;
    if (canvas && zoomRef.current) select(canvas).call(zoomRef.current.transform, zoomIdentity);
  }, [title]);

  // Level-of-detail query: one in flight, the newest wanted one sent when it returns. Each query covers
  // the visible range plus one view width on either side at the same resolution, so panning draws from
  // what is already here and asks again only near the edges or when the zoom level changed.
  const inFlight = useRef(false);
  const wanted = useRef<TimelineQuery | null>(null);
  const covered = useRef<{ query: TimelineQuery; source: unknown; eventCount: number } | null>(null);
  useEffect(() => {
    if (!source || eventCount === 0) {
      setBuckets(null);
      covered.current = null;
      return;
    }
    const plotWidth = Math.max(1, width - timelineMargin.left - timelineMargin.right);
    const visible = Math.max(1, range.end - range.start);
    const c = covered.current;
    if (
      c &&
      c.source === source &&
      c.eventCount === eventCount &&
      c.query.groupBy === groupBy &&
      c.query.start <= range.start &&
      range.end <= c.query.end
    ) {
      // Same zoom level (events per bucket within 1.5x): nothing to ask.
      const ratio = (c.query.end - c.query.start) / c.query.buckets / (visible / plotWidth);
      if (ratio > 1 / 1.5 && ratio < 1.5) return;
    }
    const start = Math.max(0, Math.floor(range.start - visible));
    const end = Math.min(eventCount, Math.ceil(range.end + visible));
    const buckets = Math.max(1, Math.min(20_000, Math.round((plotWidth * (end - start)) / visible)));
    const query: TimelineQuery = { start, end, buckets, groupBy };
    covered.current = { query, source, eventCount };
    wanted.current = query;
    const pump = (): void => {
      if (inFlight.current || !wanted.current) return;
      const q = wanted.current;
      wanted.current = null;
      inFlight.current = true;
      source.timeline(q).then(
        (b) => {
          inFlight.current = false;
          setBuckets(b);
          pump();
        },
        () => {
          inFlight.current = false;
          covered.current = null;
          pump();
        },
      );
    };
    pump();
  }, [source, range.start, range.end, width, groupBy, eventCount]);

  // Drawing: inputs go into a ref and mark the frame dirty; a requestAnimationFrame loop draws a dirty
  // frame once per display frame and stops after half a second without changes. (Requesting one frame
  // per change would miss every other frame when changes arrive inside animation-frame callbacks, as
  // drags do.)
  const frameRef = useRef<TimelineFrame | null>(null);
  const dirtyRef = useRef(false);
  const loopRef = useRef<number | null>(null);
  const idleRef = useRef(0);
  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    frameRef.current = {
      width,
      height,
      range,
      buckets,
      cursor,
      brush,
      showCommitted,
      showAllocated,
      theme: readCanvasTheme(canvas),
    };
    dirtyRef.current = true;
    idleRef.current = 0;
    if (loopRef.current !== null) return;
    const loop = (): void => {
      const frame = frameRef.current;
      if (dirtyRef.current && frame) {
        dirtyRef.current = false;
        const ctx = canvas.getContext('2d');
        if (ctx) {
          fitCanvas(ctx, frame.width, frame.height);
          const t0 = performance.now();
          const drawn = drawTimeline(ctx, frame);
          // Read by the e2e budget check: where each budget line and budget marker was drawn (CSS px).
          canvas.dataset['budgetLines'] = JSON.stringify(drawn.budgetLines);
          canvas.dataset['budgetMarkers'] = JSON.stringify(drawn.budgetMarkers);
          drawsRef.current++;
          // Read by the e2e performance check: how many frames were drawn and what the last one cost.
          canvas.dataset['draws'] = String(drawsRef.current);
          canvas.dataset['drawMs'] = (performance.now() - t0).toFixed(2);
        }
      } else if (++idleRef.current > 30) {
        loopRef.current = null;
        return;
      }
      loopRef.current = requestAnimationFrame(loop);
    };
    loopRef.current = requestAnimationFrame(loop);
  }, [width, range, buckets, cursor, brush, showCommitted, showAllocated, theme]);
  useEffect(
    () => () => {
      // StrictMode mounts twice: a cancelled loop must not look running to the next mount.
      if (loopRef.current !== null) cancelAnimationFrame(loopRef.current);
      loopRef.current = null;
    },
    [],
  );

  const eventAt = (clientX: number): number => {
    const canvas = canvasRef.current;
    if (!canvas) return 0;
    const rect = canvas.getBoundingClientRect();
    const { x } = timelineScales({ width, height, range, buckets });
    return x.invert(clientX - rect.left);
  };

  const onClick = (e: React.MouseEvent<HTMLCanvasElement>): void => {
    if (e.shiftKey) return;
    store.getState().setCursor(Math.round(eventAt(e.clientX)));
  };
  const onMouseDown = (e: React.MouseEvent<HTMLCanvasElement>): void => {
    if (!e.shiftKey || e.button !== 0) return;
    brushStart.current = eventAt(e.clientX);
    store.getState().setBrush(null);
  };
  const onMouseMove = (e: React.MouseEvent<HTMLCanvasElement>): void => {
    if (brushStart.current === null) return;
    const here = eventAt(e.clientX);
    const a = Math.max(0, Math.min(brushStart.current, here));
    const b = Math.min(eventCount, Math.max(brushStart.current, here));
    store.getState().setBrush({ start: Math.floor(a), end: Math.ceil(b) });
  };
  const onMouseUp = (): void => {
    brushStart.current = null;
    const b = store.getState().brush;
    if (b && b.end - b.start < 1) store.getState().setBrush(null);
  };

  const zoomTo = (start: number, end: number): void => {
    const canvas = canvasRef.current;
    const behavior = zoomRef.current;
    if (!canvas || !behavior || eventCount === 0 || end <= start) return;
    const m = timelineMargin;
    const plot = width - m.left - m.right;
    const k = eventCount / (end - start);
    // rescaled x(v) = k * x0(v) + tx; choose tx so that x(start) lands on the plot's left edge.
    const x0 = m.left + (start / eventCount) * plot;
    const t = zoomIdentity.translate(m.left - k * x0, 0).scale(k);
    select(canvas).call(behavior.transform, t);
  };

  const legend = timelineLegend(buckets);
  return (
    <section className="timeline" aria-label="Timeline">
      <div className="toolbar">
        <strong>Timeline</strong>
        <label>
          stack by{' '}
          <select
            value={groupBy}
            onChange={(e) => store.getState().setGroupBy(e.target.value === 'type' ? 'type' : 'heap')}
            aria-label="Stack by"
          >
            <option value="heap">heap</option>
            <option value="type">memory type</option>
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={showCommitted}
            onChange={(e) => store.getState().setShown('committed', e.target.checked)}
          />{' '}
          committed
        </label>
        <label>
          <input
            type="checkbox"
            checked={showAllocated}
            onChange={(e) => store.getState().setShown('allocated', e.target.checked)}
          />{' '}
          allocated
        </label>
        <button type="button" disabled={!brush} onClick={() => brush && zoomTo(brush.start, brush.end)}>
          Zoom to brush
        </button>
        <button type="button" onClick={() => zoomTo(0, eventCount)} disabled={eventCount === 0}>
          Reset zoom
        </button>
        <span className="legend">
          {legend.map((l) => (
            <span key={l.label} className="legend-item">
              <span className="swatch" style={{ background: l.color }} />
              {l.label}
            </span>
          ))}
          <span className="legend-item">
            <span className="swatch marker-failure" />
            failure
          </span>
          <span className="legend-item">
            <span className="swatch marker-leak" />
            leak
          </span>
          <span className="legend-item">
            <span className="swatch marker-mark" />
            mark
          </span>
          <span className="legend-item">
            <span className="swatch marker-defrag" />
            defragmentation pass
          </span>
          {(buckets?.budgets?.length ?? 0) > 0 && (
            <span className="legend-item" data-testid="legend-budget">
              <span className="swatch marker-budget" />
              budget (line: each heap's budget; marker: a block past it or refused by it)
            </span>
          )}
        </span>
        <span className="range-readout" data-testid="timeline-range">
          events {formatCount(range.start)}–{formatCount(range.end)}
          {brush ? ` · brush ${formatCount(brush.start)}–${formatCount(brush.end)}` : ''}
          {buckets ? ` · ${formatCount(buckets.count)} buckets` : ''}
          {buckets && buckets.count > 0 ? ` · max ${formatBytes(maxOf(buckets.committedTotal))}` : ''}
        </span>
        {defragPasses.length > 0 && (
          <span
            className="defrag-passes"
            data-testid="timeline-defrag"
            title={defragPasses.map((m) => `event ${formatCount(m.index)}: ${m.label}`).join('\n')}
          >
            {`${formatCount(defragPasses.length)} defragmentation passes`}
          </span>
        )}
      </div>
      <div ref={wrapRef} className="timeline-canvas-wrap">
        <canvas
          ref={canvasRef}
          data-testid="timeline-canvas"
          style={{ width: `${width}px`, height: `${height}px` }}
          onClick={onClick}
          onMouseDown={onMouseDown}
          onMouseMove={onMouseMove}
          onMouseUp={onMouseUp}
          aria-label="Timeline plot: click to move the cursor, wheel to zoom, drag to pan, shift-drag to brush"
        />
      </div>
    </section>
  );
}

function maxOf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if ((a[i] ?? 0) > m) m = a[i] ?? 0;
  return m;
}
