// Timeline view: committed vs allocated bytes over the event stream, stacked per heap or memory type, or
// (allocations mode) individual allocations as stacked bands, as PyTorch's memory_viz draws them; on a
// canvas. d3-zoom owns zoom/pan (wheel, drag), shift-drag brushes a range, a click moves the cursor.
// The view asks the source for as many buckets as the plot has pixels (level of detail), keeps one request
// per kind in flight and draws the last answer in the current coordinates while the next one is coming.
//
// Input to frame: a zoom or pan event draws the frame synchronously in its handler from what is already
// here (refs, no React render); the store's range (which other views and the data requests follow) is
// updated at most every `rangeUpdateMs`, so React re-renders a few times per second while dragging, not
// once per frame.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { scaleLinear, select, zoom, zoomIdentity } from 'd3';
import type { ZoomBehavior, ZoomTransform } from 'd3';
import { maxTimelineBuckets } from '../../src-main/api/contract.ts';
import type {
  AllocationDetail,
  BandsQuery,
  TimelineBuckets,
  TimelineMarker,
  TimelineQuery,
} from '../data/source.ts';
import { bandDetailMax, bandDetailMin } from '../store/bands-slice.ts';
import type { EventRange } from '../store/cursor-slice.ts';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { fitCanvas, useElementWidth } from '../ui/canvas.ts';
import { readCanvasTheme } from '../ui/colors.ts';
import type { CanvasTheme } from '../ui/colors.ts';
import { formatBytes, formatCount, sourcePlaceText } from '../ui/format.ts';
import { StackView } from '../ui/stack-view.tsx';
import { AllocationSearch } from './allocation-search.tsx';
import { bandAt, drawBandsRaster, prepareBands } from './timeline-bands.ts';
import type { PreparedBands } from './timeline-bands.ts';
import { drawTimeline, timelineLegend, timelineMargin, timelineScales } from './timeline-draw.ts';
import { AnswerGate } from './timeline-answer-gate.ts';
import { expectedTimelineWidth, minTimelineWidth, timelinePlotWidth } from './timeline-first-view.ts';
import { PanCache } from './timeline-pan-cache.ts';
import type { TimelineFrame } from './timeline-draw.ts';

const height = 220;
/**
 * The store's range (which other views and the data requests follow) is updated during a drag or wheel
 * only when the view needs data the last answers do not hold, at most every `rangeUpdateMs`; otherwise
 * once, `rangeIdleMs` after the last input. The canvas follows every input at once.
 */
const rangeUpdateMs = 80;
const rangeIdleMs = 150;

/**
 * How far the covered answer's resolution may be from the plot's before the view needs a new one: buckets
 * up to `coarser` times wider than a pixel, or `finer` times narrower (more rects to draw). Between inputs,
 * 1.5x either way. During a burst of wheel steps, the frames draw from what is here up to 4x coarser
 * (each bucket's maxima drawn over a few pixels: still exactly the data at hand) and 2x finer, and the query
 * for the plot's resolution goes out once the wheel pauses (`rangeIdleMs`): a new answer applied mid-burst
 * (a React render and a second draw) shared the next step's frame.
 */
interface DetailSlack {
  readonly coarser: number;
  readonly finer: number;
}
const settledSlack: DetailSlack = { coarser: 1.5, finer: 1.5 };
const wheelBurstSlack: DetailSlack = { coarser: 4, finer: 2 };

/** What the draw needs besides the view range, kept in a ref so an input event can draw without React. */
interface DrawInputs extends Omit<TimelineFrame, 'range' | 'drawPlot' | 'yMax'> {
  readonly mode: 'totals' | 'allocations';
  readonly bands: PreparedBands | null;
  readonly highlightId: number | null;
}

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
  const mode = useInspector((s) => s.timelineMode);
  const bandDetail = useInspector((s) => s.bandDetail);
  const zoomRequest = useInspector((s) => s.zoomRequest);
  const selectedId = useInspector((s) => s.selectedId);
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const wrapRef = useRef<HTMLDivElement | null>(null);
  // Laid out, the canvas spans the app: start at that width so that the first query is the primed one.
  const width = useElementWidth(wrapRef, () => expectedTimelineWidth(document), minTimelineWidth);
  const [buckets, setBuckets] = useState<TimelineBuckets | null>(null);
  /** Applied defragmentation passes in the shown range (markers of kind defrag). */
  const defragPasses = useMemo(
    () => (buckets ? buckets.markers.filter((m) => m.kind === 'defrag') : []),
    [buckets],
  );
  const [bands, setBands] = useState<PreparedBands | null>(null);
  /** The source's leak markers (all of them, by event index), fetched after the first buckets came. */
  const [leakMarkers, setLeakMarkers] = useState<readonly TimelineMarker[]>([]);
  const [hover, setHover] = useState<{ index: number | 'rest'; x: number; y: number } | null>(null);
  const zoomRef = useRef<ZoomBehavior<HTMLCanvasElement, unknown> | null>(null);
  const transformRef = useRef<ZoomTransform>(zoomIdentity);
  const drawsRef = useRef(0);
  const brushStart = useRef<number | null>(null);
  /** The readout's "events a–b", written by each draw (the store's range lags a drag on purpose). */
  const rangeTextRef = useRef<HTMLSpanElement | null>(null);
  const dragging = useRef(false);
  const eventCount = overview?.eventCount ?? 0;
  const title = overview?.title ?? '';

  // The range drawn: exact (fractional) from the zoom transform, or the store's when something else moved
  // it. `pushed` is the last range this view gave the store (so its own updates are not taken as moves).
  const viewRef = useRef<EventRange>(range);
  const pushed = useRef<EventRange | null>(null);
  const rangeTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const rangeDue = useRef(0);
  const pushRange = (): void => {
    rangeDue.current = performance.now() + rangeUpdateMs;
    const v = viewRef.current;
    store.getState().setRange(v);
    pushed.current = store.getState().range;
  };

  // Drawing. `drawNow` draws the current inputs and view range at once; other changes mark the frame dirty
  // for an animation-frame loop that stops after half a second without changes.
  const inputsRef = useRef<DrawInputs | null>(null);
  const themeRef = useRef<{ name: string; colors: CanvasTheme } | null>(null);
  /** The totals plot at the current zoom, copied by pan frames (made in idle time). */
  const panCache = useRef(new PanCache());
  // Level-of-detail queries, one pump per kind (see Pump and lodWindow below). Each sent query is counted
  // on the canvas (`data-lod-queries`, read by the tests and the benchmark).
  const countQuery = (): void => {
    const canvas = canvasRef.current;
    if (canvas) canvas.dataset['lodQueries'] = String(totalsPump.current.sent + bandsPump.current.sent);
  };
  const totalsPump = useRef(new Pump<TimelineQuery, TimelineBuckets>(countQuery));
  const bandsPump = useRef(new Pump<BandsQuery, PreparedBands>(countQuery));
  /**
   * Holds what re-renders the Timeline during a burst of wheel steps for idle time: arriving answers, and
   * the store's range update that asks for one (timeline-answer-gate.ts).
   */
  const answerGate = useRef(new AnswerGate());
  const pushRangeSoon = (): void => answerGate.current.apply('range', pushRange);
  const dirtyRef = useRef(false);
  const loopRef = useRef<number | null>(null);
  const idleRef = useRef(0);
  const drawNow = (): void => {
    const canvas = canvasRef.current;
    const inputs = inputsRef.current;
    if (!canvas || !inputs) return;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    dirtyRef.current = false;
    fitCanvas(ctx, inputs.width, inputs.height);
    const t0 = performance.now();
    const frame: TimelineFrame = { ...inputs, range: viewRef.current };
    let visible = 0;
    const prepared = inputs.mode === 'allocations' ? inputs.bands : null;
    let drawn;
    if (inputs.mode === 'allocations') {
      const m = timelineMargin;
      const dpr = window.devicePixelRatio || 1;
      drawn = drawTimeline(ctx, {
        ...frame,
        yMax: prepared?.maxBytes ?? 0,
        drawPlot: (c, { x, y }) => {
          if (!prepared) return;
          visible = drawBandsRaster(
            c,
            prepared,
            {
              left: m.left,
              top: m.top,
              right: inputs.width - m.right,
              bottom: inputs.height - m.bottom,
              x,
              yMax: y.domain()[1] ?? 1,
              background: inputs.theme.background,
              restColor: '#7f7f7f',
              highlightId: inputs.highlightId,
            },
            dpr,
          ).visible;
        },
      });
    } else drawn = drawTimeline(ctx, { ...frame, panCache: panCache.current });
    drawsRef.current++;
    // Read by the e2e tests and the benchmark: frames drawn, the last one's cost, what the bands mode shows.
    const d = canvas.dataset;
    d['draws'] = String(drawsRef.current);
    // Read by the e2e budget check: where each budget line and budget marker was drawn (CSS px).
    d['budgetLines'] = JSON.stringify(drawn.budgetLines);
    d['budgetMarkers'] = JSON.stringify(drawn.budgetMarkers);
    const text = rangeTextRef.current;
    if (text)
      text.textContent = `events ${formatCount(Math.floor(frame.range.start))}–${formatCount(Math.ceil(frame.range.end))}`;
    d['drawMs'] = (performance.now() - t0).toFixed(2);
    // Pixels per bucket of the totals drawn (1 = the plot's resolution); updates held for idle time.
    // Set by frames that draw the timeline's buckets only (not the empty plot before they arrive): the
    // benchmarks' and e2e tests' first drawn timeline.
    const b = inputs.buckets;
    if (b && b.count > 0) {
      const plot = Math.max(1, inputs.width - timelineMargin.left - timelineMargin.right);
      const perPixel = Math.max(1e-9, frame.range.end - frame.range.start) / plot;
      d['bucketPx'] = ((b.end - b.start) / b.count / perPixel).toFixed(3);
    }
    d['heldUpdates'] = String(answerGate.current.appliedLater);
    d['panCacheHits'] = String(panCache.current.hits);
    d['mode'] = inputs.mode;
    if (prepared) {
      d['bands'] = String(prepared.data.id.length);
      d['bandsVisible'] = String(visible);
      d['bandsAlive'] = String(prepared.data.alive);
      d['bandsWindow'] = `${prepared.data.start}-${prepared.data.end}`;
      d['bandIds'] = Array.from(prepared.data.id.subarray(0, 20)).join(',');
    }
  };
  const requestDraw = (): void => {
    dirtyRef.current = true;
    idleRef.current = 0;
    if (loopRef.current !== null) return;
    const loop = (): void => {
      if (dirtyRef.current) drawNow();
      else if (++idleRef.current > 30) {
        loopRef.current = null;
        return;
      }
      loopRef.current = requestAnimationFrame(loop);
    };
    loopRef.current = requestAnimationFrame(loop);
  };

  // Zoom/pan: the transform maps the whole trace [0, eventCount] onto the plot; the visible range is its
  // inverse. Re-created when the trace or the width changes.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || eventCount === 0) return undefined;
    const m = timelineMargin;
    const x0 = scaleLinear()
      .domain([0, eventCount])
      .range([m.left, width - m.right]);
    const applyTransform = (t: ZoomTransform, wheel: boolean): void => {
      if (wheel) answerGate.current.noteWheel();
      transformRef.current = t;
      const [start, end] = t.rescaleX(x0).domain() as [number, number];
      viewRef.current = { start: Math.max(0, start), end: Math.min(eventCount, end) };
      drawNow();
      if (rangeTimer.current !== null) clearTimeout(rangeTimer.current);
      rangeTimer.current = null;
      const slack = answerGate.current.inWheelBurst() ? wheelBurstSlack : settledSlack;
      if (!dataNeeded(viewRef.current, slack)) rangeTimer.current = setTimeout(pushRange, rangeIdleMs);
      else if (performance.now() >= rangeDue.current) pushRangeSoon();
      else rangeTimer.current = setTimeout(pushRangeSoon, rangeDue.current - performance.now());
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
      .on('start', () => {
        dragging.current = true;
        setHover(null);
      })
      .on('end', () => {
        dragging.current = false;
      })
      .on('zoom', (e: { transform: ZoomTransform; sourceEvent: Event | null }) =>
        applyTransform(e.transform, e.sourceEvent?.type === 'wheel'),
      );
    zoomRef.current = behavior;
    const sel = select(canvas);
    sel.call(behavior).on('dblclick.zoom', null);
    sel.call(behavior.transform, transformRef.current);
    return () => {
      sel.on('.zoom', null);
      if (rangeTimer.current !== null) clearTimeout(rangeTimer.current);
      rangeTimer.current = null;
    };
    // drawNow, pushRange and pushRangeSoon read refs only.
  }, [store, eventCount, width]);

  // A range set from outside this view (a trace loaded, a live trace grew): draw that.
  useLayoutEffect(() => {
    const p = pushed.current;
    if (p && p.start === range.start && p.end === range.end) return;
    viewRef.current = range;
    requestDraw();
  }, [range]);

  // A different trace: back to the whole range.
  useEffect(() => {
    panCache.current.reset();
    transformRef.current = zoomIdentity;
    const canvas = canvasRef.current;
    if (canvas && zoomRef.current) select(canvas).call(zoomRef.current.transform, zoomIdentity);
  }, [title]);

  // Level-of-detail queries: one in flight per kind, the newest wanted one sent when it returns. Each query
  // covers the visible range plus one view width on either side at the same resolution, so panning draws
  // from what is already here and asks again only near the edges or when the zoom level changed.
  const plotWidth = timelinePlotWidth(width);
  useEffect(() => {
    const pump = totalsPump.current;
    if (!source || eventCount === 0) {
      setBuckets(null);
      pump.reset();
      answerGate.current.reset();
      return;
    }
    const window = lodWindow(
      range,
      eventCount,
      plotWidth,
      pump.covered,
      source,
      (q) => q.groupBy === groupBy,
    );
    if (!window) return;
    const cached = pump.fromCache(range, eventCount, plotWidth, source, (q) => q.groupBy === groupBy);
    if (cached) {
      setBuckets(cached);
      return;
    }
    // A file just opened: its first totals were asked for with its overview (takePrimedTimeline); they
    // are this view's first answer where they serve it, else they are dropped and this view asks.
    const primed = source.takePrimedTimeline?.() ?? null;
    const covers = primed && { query: primed.query, source, eventCount };
    if (
      primed &&
      lodWindow(range, eventCount, plotWidth, covers, source, (q) => q.groupBy === groupBy) === null
    )
      pump.want(
        primed.query,
        source,
        eventCount,
        () => primed.answer,
        (r) => answerGate.current.apply('totals', () => setBuckets(r)),
      );
    else
      pump.want(
        { ...window, groupBy },
        source,
        eventCount,
        (q) => source.timeline(q),
        (r) => answerGate.current.apply('totals', () => setBuckets(r)),
      );
  }, [source, range, plotWidth, groupBy, eventCount]);
  // Leak markers: asked for once the first buckets of this source are here (drawn or about to be), so the
  // first frame never waits for them; again when the source, its length or its liveness changes.
  const live = overview?.live ?? false;
  const haveBuckets = buckets !== null;
  useEffect(() => {
    setLeakMarkers([]);
    if (!source?.leakMarkers || !haveBuckets || live || eventCount === 0) return;
    let current = true;
    source.leakMarkers().then(
      (markers) => {
        if (current) setLeakMarkers(markers);
      },
      () => undefined, // markers are an extra: a failed query leaves the timeline without them
    );
    return () => {
      current = false;
    };
  }, [source, haveBuckets, live, eventCount, title]);
  /** The buckets with the leak markers in their range, in event order (what is drawn). */
  const shownBuckets = useMemo(() => {
    if (!buckets || leakMarkers.length === 0) return buckets;
    const inRange = leakMarkers.filter((m) => m.index >= buckets.start && m.index < buckets.end);
    const markers = [...buckets.markers, ...inRange].sort((a, b) => a.index - b.index);
    return { ...buckets, markers };
  }, [buckets, leakMarkers]);
  useEffect(() => {
    const pump = bandsPump.current;
    if (!source?.bands || eventCount === 0 || mode !== 'allocations') {
      if (!source?.bands || eventCount === 0) setBands(null);
      pump.reset();
      return;
    }
    const fetchBands = (q: BandsQuery): Promise<PreparedBands> =>
      source.bands ? source.bands(q).then(prepareBands) : Promise.reject(new Error('no bands'));
    const window = lodWindow(
      range,
      eventCount,
      plotWidth,
      pump.covered,
      source,
      (q) => q.limit === bandDetail,
    );
    if (!window) return;
    const cached = pump.fromCache(range, eventCount, plotWidth, source, (q) => q.limit === bandDetail);
    if (cached) setBands(cached);
    else
      pump.want(
        { start: window.start, end: window.end, buckets: window.buckets, limit: bandDetail },
        source,
        eventCount,
        fetchBands,
        (r) => answerGate.current.apply('bands', () => setBands(r)),
      );
  }, [source, range, plotWidth, eventCount, mode, bandDetail]);

  // Whether a view range needs data the last answers (or the ones asked for) do not hold.
  const settings = { source, eventCount, plotWidth, groupBy, mode, bandDetail };
  const settingsRef = useRef(settings);
  settingsRef.current = settings;
  const dataNeeded = (view: EventRange, slack: DetailSlack): boolean => {
    const s = settingsRef.current;
    if (!s.source || s.eventCount === 0) return false;
    const totals = totalsPump.current.covered;
    if (lodWindow(view, s.eventCount, s.plotWidth, totals, s.source, (q) => q.groupBy === s.groupBy, slack))
      return true;
    if (s.mode !== 'allocations' || !s.source.bands) return false;
    const b = bandsPump.current.covered;
    const sameDetail = (q: BandsQuery): boolean => q.limit === s.bandDetail;
    return lodWindow(view, s.eventCount, s.plotWidth, b, s.source, sameDetail, slack) !== null;
  };

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const hovered =
      hover !== null && hover.index !== 'rest' && bands ? (bands.data.id[hover.index] ?? null) : null;
    // The canvas colours change only with the theme: read them (getComputedStyle, which flushes style)
    // once per theme, not on every data answer.
    if (themeRef.current?.name !== theme) themeRef.current = { name: theme, colors: readCanvasTheme(canvas) };
    // The first buckets of a source are drawn at once, in this commit, not at the next animation frame:
    // that frame came 40-50 ms later (median) when a file had just been opened, behind the other answers
    // and requests of the open (issue 11: pick -> first frame with data).
    const firstBuckets = shownBuckets !== null && !inputsRef.current?.buckets;
    inputsRef.current = {
      width,
      height,
      buckets: shownBuckets,
      cursor,
      brush,
      showCommitted,
      showAllocated,
      theme: themeRef.current.colors,
      mode,
      bands,
      highlightId: hovered ?? selectedId,
    };
    if (firstBuckets) drawNow();
    else requestDraw();
    // requestDraw reads refs only.
  }, [
    width,
    shownBuckets,
    cursor,
    brush,
    showCommitted,
    showAllocated,
    theme,
    mode,
    bands,
    hover,
    selectedId,
  ]);
  useEffect(
    () => () => {
      // StrictMode mounts twice: a cancelled loop must not look running to the next mount.
      if (loopRef.current !== null) cancelAnimationFrame(loopRef.current);
      loopRef.current = null;
    },
    [],
  );

  const scales = () => {
    const inputs = inputsRef.current;
    return timelineScales({
      width,
      height,
      range: viewRef.current,
      buckets,
      ...(inputs?.mode === 'allocations' ? { yMax: inputs.bands?.maxBytes ?? 0 } : {}),
    });
  };
  const eventAt = (clientX: number): number => {
    const canvas = canvasRef.current;
    if (!canvas) return 0;
    const rect = canvas.getBoundingClientRect();
    return scales().x.invert(clientX - rect.left);
  };
  const bandUnder = (clientX: number, clientY: number): number | 'rest' | null => {
    const canvas = canvasRef.current;
    if (!canvas || mode !== 'allocations' || !bands) return null;
    const rect = canvas.getBoundingClientRect();
    const { x, y } = scales();
    const m = timelineMargin;
    return bandAt(
      bands,
      { left: m.left, top: m.top, bottom: height - m.bottom, x, yMax: y.domain()[1] ?? 1 },
      clientX - rect.left,
      clientY - rect.top,
    );
  };

  const onClick = (e: React.MouseEvent<HTMLCanvasElement>): void => {
    if (e.shiftKey) return;
    store.getState().setCursor(Math.round(eventAt(e.clientX)));
    const hit = bandUnder(e.clientX, e.clientY);
    if (typeof hit === 'number' && bands) void store.getState().select(bands.data.id[hit] ?? null);
  };
  const onMouseDown = (e: React.MouseEvent<HTMLCanvasElement>): void => {
    if (!e.shiftKey || e.button !== 0) return;
    brushStart.current = eventAt(e.clientX);
    store.getState().setBrush(null);
  };
  const onMouseMove = (e: React.MouseEvent<HTMLCanvasElement>): void => {
    if (brushStart.current === null) {
      if (dragging.current || mode !== 'allocations') return;
      const hit = bandUnder(e.clientX, e.clientY);
      const index = hit === null ? null : hit;
      if (index === null) {
        if (hover !== null) setHover(null);
      } else if (hover?.index !== index || Math.abs(hover.x - e.clientX) + Math.abs(hover.y - e.clientY) > 24)
        setHover({ index, x: e.clientX, y: e.clientY });
      return;
    }
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

  // Search results and other views ask to show an allocation's lifetime.
  const zoomSeq = zoomRequest?.seq ?? 0;
  useEffect(() => {
    const r = store.getState().zoomRequest;
    if (r) zoomTo(r.range.start, r.range.end);
    // zoomTo reads refs and the current width.
  }, [zoomSeq]);

  const legend = timelineLegend(buckets);
  return (
    <section className="timeline" aria-label="Timeline">
      <div className="toolbar">
        <strong>Timeline</strong>
        <label>
          show{' '}
          <select
            value={mode}
            onChange={(e) =>
              store.getState().setTimelineMode(e.target.value === 'allocations' ? 'allocations' : 'totals')
            }
            aria-label="Timeline mode"
            data-testid="timeline-mode"
          >
            <option value="totals">totals</option>
            <option value="allocations" disabled={!source?.bands}>
              allocations
            </option>
          </select>
        </label>
        {mode === 'allocations' ? (
          <label title="How many allocations are drawn individually (the largest first); the rest is one grey band">
            detail{' '}
            <input
              type="range"
              min={Math.log10(bandDetailMin)}
              max={Math.log10(bandDetailMax)}
              step={0.01}
              value={Math.log10(bandDetail)}
              onChange={(e) => {
                // Log scale; the ends exactly (the step would miss them), two significant digits between.
                const v = Number(e.target.value);
                const top = Math.log10(bandDetailMax);
                const n = v >= top - 0.006 ? bandDetailMax : 10 ** v;
                const unit = 10 ** Math.max(0, Math.floor(Math.log10(n)) - 1);
                store.getState().setBandDetail(Math.round(n / unit) * unit);
              }}
              aria-label="Detail"
              data-testid="band-detail"
            />{' '}
            {formatCount(bandDetail)}
          </label>
        ) : (
          <>
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
          </>
        )}
        <button type="button" disabled={!brush} onClick={() => brush && zoomTo(brush.start, brush.end)}>
          Zoom to brush
        </button>
        <button type="button" onClick={() => zoomTo(0, eventCount)} disabled={eventCount === 0}>
          Reset zoom
        </button>
        <span className="legend">
          {mode === 'totals' &&
            legend.map((l) => (
              <span key={l.label} className="legend-item">
                <span className="swatch" style={{ background: l.color }} />
                {l.label}
              </span>
            ))}
          {mode === 'allocations' && (
            <span className="legend-item">
              <span className="swatch" style={{ background: '#7f7f7f' }} />
              smaller allocations (not drawn one by one)
            </span>
          )}
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
          <span ref={rangeTextRef}>
            events {formatCount(range.start)}–{formatCount(range.end)}
          </span>
          {brush ? ` · brush ${formatCount(brush.start)}–${formatCount(brush.end)}` : ''}
          {mode === 'totals' && buckets ? ` · ${formatCount(buckets.count)} buckets` : ''}
          {mode === 'totals' && buckets && buckets.count > 0
            ? ` · max ${formatBytes(maxOf(buckets.committedTotal))}`
            : ''}
          {mode === 'allocations' && bands
            ? ` · ${formatCount(bands.data.id.length)} of ${formatCount(bands.data.alive)} allocations drawn`
            : ''}
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
          // Read by the tests: leak markers the source gave (they come after the first buckets).
          data-leak-markers={leakMarkers.length}
          style={{ width: `${width}px`, height: `${height}px` }}
          onClick={onClick}
          onMouseDown={onMouseDown}
          onMouseMove={onMouseMove}
          onMouseUp={onMouseUp}
          onMouseLeave={() => setHover(null)}
          aria-label="Timeline plot: click to move the cursor, wheel to zoom, drag to pan, shift-drag to brush"
        />
      </div>
      {hover && bands && mode === 'allocations' && <BandTooltip hover={hover} bands={bands} />}
      {source?.searchAllocations && <AllocationSearch />}
    </section>
  );
}

interface Covered<Q> {
  readonly query: Q & { start: number; end: number; buckets: number };
  readonly source: unknown;
  readonly eventCount: number;
}

/** Answers kept per kind (a few zoom levels and places), newest last. */
const cachedAnswers = 6;

/**
 * One request in flight; the newest wanted query sent when it returns; the covered window remembered; the
 * last few answers kept, so zooming back to a level (or panning back to a place) seen before draws at once.
 */
class Pump<Q, R> {
  covered: Covered<Q> | null = null;
  /** Queries sent so far. */
  sent = 0;
  /** Called after each query is sent. */
  private readonly onSent: () => void;
  constructor(onSent: () => void = () => undefined) {
    this.onSent = onSent;
  }
  private inFlight = false;
  private wanted: { run: () => Promise<void> } | null = null;
  private cache: (Covered<Q> & { readonly result: R })[] = [];
  reset(): void {
    this.covered = null;
    this.wanted = null;
  }
  /** A kept answer that serves the view (see lodWindow), which becomes the covered one; null if none. */
  fromCache(
    range: EventRange,
    eventCount: number,
    plotWidth: number,
    source: unknown,
    same: (q: Q) => boolean,
  ): R | null {
    for (let k = this.cache.length - 1; k >= 0; k--) {
      const entry = this.cache[k]!;
      if (lodWindow(range, eventCount, plotWidth, entry, source, same) === null) {
        this.covered = entry;
        this.wanted = null;
        return entry.result;
      }
    }
    return null;
  }
  want(
    query: Q & { start: number; end: number; buckets: number },
    source: unknown,
    eventCount: number,
    fetch: (q: Q) => Promise<R>,
    done: (r: R) => void,
  ): void {
    const covered = { query, source, eventCount };
    this.covered = covered;
    this.wanted = {
      run: () =>
        fetch(query).then(
          (result) => {
            this.cache.push({ ...covered, result });
            if (this.cache.length > cachedAnswers) this.cache.shift();
            done(result);
          },
          () => {
            this.covered = null;
          },
        ),
    };
    this.next();
  }
  private next(): void {
    if (this.inFlight || !this.wanted) return;
    const w = this.wanted;
    this.wanted = null;
    this.inFlight = true;
    this.sent++;
    const running = w.run();
    this.onSent();
    void running.finally(() => {
      this.inFlight = false;
      this.next();
    });
  }
}

/**
 * The window to ask for (the view plus one view width on either side, at the plot's resolution), or null
 * when the covered one still serves: same source and trace length, `same` settings, the view inside it
 * and its buckets within `slack` of the plot's resolution (1.5x either way unless told).
 */
function lodWindow<Q extends { start: number; end: number; buckets: number }>(
  range: EventRange,
  eventCount: number,
  plotWidth: number,
  covered: { query: Q; source: unknown; eventCount: number } | null,
  source: unknown,
  same: (q: Q) => boolean,
  slack: DetailSlack = settledSlack,
): { start: number; end: number; buckets: number } | null {
  const visible = Math.max(1, range.end - range.start);
  const c = covered;
  if (
    c &&
    c.source === source &&
    c.eventCount === eventCount &&
    same(c.query) &&
    c.query.start <= range.start &&
    range.end <= c.query.end
  ) {
    const ratio = (c.query.end - c.query.start) / c.query.buckets / (visible / plotWidth);
    // ratio > 1: a bucket is wider than a pixel.
    if (ratio > 1 / slack.finer && ratio < slack.coarser) return null;
  }
  const start = Math.max(0, Math.floor(range.start - visible));
  const end = Math.min(eventCount, Math.ceil(range.end + visible));
  const buckets = Math.max(
    1,
    Math.min(maxTimelineBuckets, Math.round((plotWidth * (end - start)) / visible)),
  );
  return { start, end, buckets };
}

/** The hovered allocation: size, address, lifetime and its stack (fetched), Python frames first. */
function BandTooltip(props: {
  hover: { index: number | 'rest'; x: number; y: number };
  bands: PreparedBands;
}): ReactNode {
  const source = useInspector((s) => s.source);
  const { hover, bands } = props;
  const d = bands.data;
  const k = hover.index;
  const id = k === 'rest' ? null : (d.id[k] ?? null);
  const [detail, setDetail] = useState<AllocationDetail | null>(null);
  useEffect(() => {
    setDetail(null);
    if (id === null || !source) return undefined;
    let current = true;
    source.allocation(id).then(
      (r) => current && setDetail(r),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [id, source]);
  const style = { position: 'fixed' as const, left: hover.x + 16, top: hover.y + 16 };
  if (k === 'rest')
    return (
      <div className="tooltip" role="tooltip" style={style} data-testid="timeline-tooltip">
        <strong>smaller allocations</strong>: {formatCount(d.alive - d.id.length)} allocations alive in this
        window are not drawn one by one (raise the detail to draw more)
      </div>
    );
  const a = detail?.allocation;
  const sourcePlace = a ? sourcePlaceText(a) : null;
  const to = d.to[k] ?? 0;
  return (
    <div className="tooltip" role="tooltip" style={style} data-testid="timeline-tooltip">
      <div>
        <strong data-testid="timeline-tooltip-size">{formatBytes(d.size[k] ?? 0)}</strong> #{id}
        {a?.name ? ` ${a.name}` : ''}
      </div>
      <div data-testid="timeline-tooltip-address">
        block {d.block[k]} + 0x{(d.offset[k] ?? 0).toString(16)} ({formatCount(d.offset[k] ?? 0)})
        {a ? ` · type ${a.memoryTypeIndex} (heap ${a.heapIndex})` : ''}
      </div>
      {sourcePlace !== null && <div data-testid="timeline-tooltip-source-place">{sourcePlace}</div>}
      <div>
        alive from event {formatCount(d.from[k] ?? 0)} to{' '}
        {a && a.freedAt === null ? 'the end (never freed)' : `event ${formatCount(to)}`}
      </div>
      {detail?.stack ? (
        <StackView stack={detail.stack} testId="timeline-tooltip-stack" />
      ) : detail ? (
        <div className="muted">no stack recorded</div>
      ) : (
        <div className="muted">…</div>
      )}
    </div>
  );
}

function maxOf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if ((a[i] ?? 0) > m) m = a[i] ?? 0;
  return m;
}
