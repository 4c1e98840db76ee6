// Block map: every device-memory block alive at the cursor as a row proportional to its bytes, drawn on a
// canvas that covers only the visible rows (the scroll area holds a spacer of the full height). Hover shows
// name, offset, size, type and stack; a click selects the allocation.
// "Defragment here" asks main for the defragmentation plan of the state at the cursor (the one engine,
// allocator/analysis, through the contract's defragmentPlan) and draws each move over the map: the
// destination outlined and a line from the allocation's place to it; the toolbar says bytes moved, blocks
// freed and fragmentation before/after. The preview belongs to its event index and hides when the cursor
// moves.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { MouseEvent as ReactMouseEvent, ReactNode } from 'react';
import { fragmentation } from '../data/source.ts';
import type { AllocationDetail, AllocationKindName, DefragPreview } from '../data/source.ts';
import { useInspector, useInspectorStore } from '../store/store.ts';
import { fitCanvas, useElementWidth } from '../ui/canvas.ts';
import { kindColors, readCanvasTheme, seriesColor } from '../ui/colors.ts';
import type { CanvasTheme } from '../ui/colors.ts';
import { formatBytes, formatCount, formatPercent, propertyFlagsText } from '../ui/format.ts';
import { blockLabelWidth, blockRowHeight, hitSegment, layoutBlocks } from './block-layout.ts';
import type { BlockRow, Segment } from './block-layout.ts';

const viewportHeight = 420;

export function BlockMap(): ReactNode {
  const store = useInspectorStore();
  const snapshot = useInspector((s) => s.snapshot);
  const colorBy = useInspector((s) => s.colorBy);
  const selectedId = useInspector((s) => s.selectedId);
  const theme = useInspector((s) => s.theme);
  const overview = useInspector((s) => s.overview);
  const wrapRef = useRef<HTMLDivElement | null>(null);
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const width = useElementWidth(wrapRef, 900, 400);
  const [scrollTop, setScrollTop] = useState(0);
  const [hover, setHover] = useState<{ seg: Segment; row: BlockRow; x: number; y: number } | null>(null);
  const source = useInspector((s) => s.source);
  const [algorithm, setAlgorithm] = useState<'full' | 'fast'>('full');
  const [preview, setPreview] = useState<DefragPreview | null>(null);
  const [previewState, setPreviewState] = useState<'idle' | 'planning' | string>('idle');
  const shownPreview =
    preview !== null && snapshot !== null && preview.eventIndex === snapshot.at ? preview : null;
  const planHere = (): void => {
    if (!snapshot || !source?.defragmentPlan) return;
    setPreviewState('planning');
    source.defragmentPlan(snapshot.at, algorithm).then(
      (plan) => {
        setPreview(plan);
        setPreviewState('idle');
      },
      (error: unknown) => setPreviewState(error instanceof Error ? error.message : String(error)),
    );
  };

  const barArea = width - blockLabelWidth - 16;
  const rows = useMemo(() => layoutBlocks(snapshot, barArea), [snapshot, barArea]);
  const totalHeight = rows.length * blockRowHeight;
  const canvasHeight = Math.min(viewportHeight, Math.max(blockRowHeight, totalHeight));

  // Drawn synchronously after each commit: only the visible rows, so it is cheap, and scrolling can never
  // starve it the way a cancelled animation frame could.
  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    fitCanvas(ctx, width, canvasHeight);
    drawBlocks(ctx, rows, {
      width,
      height: canvasHeight,
      scrollTop,
      colorBy,
      selectedId,
      theme: readCanvasTheme(canvas),
    });
    const drawn = shownPreview ? drawMoves(ctx, rows, shownPreview, scrollTop) : 0;
    canvas.dataset.defragMovesDrawn = String(drawn);
  }, [rows, width, canvasHeight, scrollTop, colorBy, selectedId, theme, shownPreview]);

  const rowAt = (e: ReactMouseEvent<HTMLCanvasElement>): { row: BlockRow; x: number } | null => {
    const rect = e.currentTarget.getBoundingClientRect();
    const y = e.clientY - rect.top + scrollTop;
    const row = rows[Math.floor(y / blockRowHeight)];
    if (!row) return null;
    return { row, x: e.clientX - rect.left - blockLabelWidth };
  };
  const onMove = (e: ReactMouseEvent<HTMLCanvasElement>): void => {
    const hit = rowAt(e);
    const seg = hit ? hitSegment(hit.row, hit.x) : null;
    if (!hit || !seg) {
      setHover(null);
      return;
    }
    setHover({ seg, row: hit.row, x: e.clientX, y: e.clientY });
  };
  const onClick = (e: ReactMouseEvent<HTMLCanvasElement>): void => {
    const hit = rowAt(e);
    const seg = hit ? hitSegment(hit.row, hit.x) : null;
    if (seg?.allocation) void store.getState().select(seg.allocation.id);
  };

  const liveAllocs = snapshot ? snapshot.blocks.reduce((n, b) => n + b.allocations.length, 0) : 0;
  return (
    <section className="block-map" aria-label="Block map">
      <div className="toolbar">
        <strong>Block map</strong>
        <span data-testid="blockmap-summary">
          {snapshot
            ? `at event ${formatCount(snapshot.at)}: ${formatCount(snapshot.blocks.length)} blocks, ${formatBytes(
                snapshot.committedBytes,
              )} committed, ${formatCount(liveAllocs)} allocations, ${formatBytes(snapshot.allocatedBytes)} allocated`
            : 'no snapshot'}
        </span>
        <span className="defrag-controls">
          <select
            aria-label="Defragmentation algorithm"
            value={algorithm}
            onChange={(e) => setAlgorithm(e.target.value === 'fast' ? 'fast' : 'full')}
          >
            <option value="full">full (fewest blocks)</option>
            <option value="fast">fast (empty the emptiest blocks)</option>
          </select>
          <button
            type="button"
            onClick={planHere}
            disabled={!snapshot || !source?.defragmentPlan || previewState === 'planning'}
          >
            Defragment here
          </button>
          {shownPreview && (
            <button type="button" onClick={() => setPreview(null)}>
              Hide plan
            </button>
          )}
        </span>
        <label>
          colour by{' '}
          <select
            aria-label="Colour by"
            value={colorBy}
            onChange={(e) => store.getState().setColorBy(e.target.value === 'type' ? 'type' : 'kind')}
          >
            <option value="kind">kind (linear / non-linear / dedicated)</option>
            <option value="type">memory type</option>
          </select>
        </label>
        <span className="legend">
          {colorBy === 'kind'
            ? (Object.keys(kindColors) as (keyof typeof kindColors)[]).map((k) => (
                <span key={k} className="legend-item">
                  <span className="swatch" style={{ background: kindColors[k] }} />
                  {kindLabel(k)}
                </span>
              ))
            : (overview?.types ?? []).map((t) => (
                <span key={t.index} className="legend-item" title={propertyFlagsText(t.propertyFlags)}>
                  <span className="swatch" style={{ background: seriesColor(t.index) }} />
                  type {t.index}
                </span>
              ))}
          <span className="legend-item">
            <span className="swatch swatch-padding" />
            padding
          </span>
          <span className="legend-item">
            <span className="swatch swatch-free" />
            free
          </span>
          <span className="legend-item">
            <span className="swatch swatch-alias" />
            aliased
          </span>
        </span>
      </div>
      <div
        ref={wrapRef}
        className="block-scroll"
        style={{ height: `${canvasHeight}px` }}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      >
        <div style={{ height: `${totalHeight}px`, position: 'relative' }}>
          <canvas
            ref={canvasRef}
            data-testid="blockmap-canvas"
            data-blocks={rows.length}
            style={{ position: 'sticky', top: 0, width: `${width}px`, height: `${canvasHeight}px` }}
            onMouseMove={onMove}
            onMouseLeave={() => setHover(null)}
            onClick={onClick}
          />
        </div>
      </div>
      {shownPreview && <DefragSummary plan={shownPreview} />}
      {previewState !== 'idle' && previewState !== 'planning' && (
        <p className="error" role="alert">
          Defragmentation plan failed: {previewState}
        </p>
      )}
      {rows.length === 0 && <p className="empty">No blocks are alive at the cursor.</p>}
      {hover && <BlockTooltip seg={hover.seg} row={hover.row} x={hover.x} y={hover.y} />}
    </section>
  );
}

function kindLabel(k: AllocationKindName): string {
  return k === 'nonLinear' ? 'non-linear' : k;
}

function BlockTooltip(props: { seg: Segment; row: BlockRow; x: number; y: number }): ReactNode {
  const { seg, row } = props;
  const a = seg.allocation;
  const source = useInspector((s) => s.source);
  const [detail, setDetail] = useState<AllocationDetail | null>(null);
  // Alignment, location and stack are not part of the snapshot: fetched for the hovered allocation.
  const id = a?.id ?? null;
  useEffect(() => {
    setDetail(null);
    if (id === null || !source || seg.kind === 'padding') return undefined;
    let current = true;
    source.allocation(id).then(
      (d) => current && setDetail(d),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [id, source, seg.kind]);
  const full = detail?.allocation;
  return (
    <div
      className="tooltip"
      role="tooltip"
      style={{ position: 'fixed', left: props.x + 16, top: props.y + 16 }}
      data-testid="blockmap-tooltip"
    >
      {seg.kind === 'padding' ? (
        <div>
          <strong>alignment padding</strong> {formatBytes(seg.size)} at offset {formatCount(seg.offset)}{' '}
          before {a?.name}
        </div>
      ) : a ? (
        <>
          <div>
            <strong>{a.name || '(unnamed)'}</strong> #{a.id}
            {seg.kind === 'alias' ? ' — overlaps the previous allocation (aliased)' : ''}
          </div>
          <div>
            offset {formatCount(a.offset)} ({formatBytes(a.offset)}) · size {formatBytes(a.size)}
            {full ? ` · align ${formatBytes(full.alignment)}` : ''}
          </div>
          <div>
            type {row.block.memoryTypeIndex} (heap {row.block.heapIndex}) · {kindLabel(a.kind)}
            {full ? ` · ${full.location}` : ''}
          </div>
          <div>
            block #{row.block.id} · {formatBytes(row.block.size)}
          </div>
          {detail?.stack && <pre className="stack">{detail.stack}</pre>}
        </>
      ) : null}
    </div>
  );
}

interface BlockDrawOptions {
  readonly width: number;
  readonly height: number;
  readonly scrollTop: number;
  readonly colorBy: 'kind' | 'type';
  readonly selectedId: number | null;
  readonly theme: CanvasTheme;
}

/** Draws the rows intersecting [scrollTop, scrollTop + height) only. */
function drawBlocks(ctx: CanvasRenderingContext2D, rows: readonly BlockRow[], o: BlockDrawOptions): void {
  ctx.clearRect(0, 0, o.width, o.height);
  ctx.fillStyle = o.theme.background;
  ctx.fillRect(0, 0, o.width, o.height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  const first = Math.max(0, Math.floor(o.scrollTop / blockRowHeight));
  const last = Math.min(rows.length, Math.ceil((o.scrollTop + o.height) / blockRowHeight));
  for (let r = first; r < last; r++) {
    const row = rows[r];
    if (!row) continue;
    const y = row.y - o.scrollTop;
    const b = row.block;
    ctx.fillStyle = o.theme.foreground;
    ctx.textAlign = 'left';
    ctx.fillText(
      `#${b.id} t${b.memoryTypeIndex}${b.dedicated ? ' ded.' : ''} ${formatBytes(b.size)} · frag ${formatPercent(
        fragmentation(b),
      )}`,
      4,
      y + blockRowHeight / 2,
    );
    const x0 = blockLabelWidth;
    const top = y + 3;
    const h = blockRowHeight - 6;
    ctx.fillStyle = o.theme.free;
    ctx.fillRect(x0, top, row.barWidth, h);
    ctx.strokeStyle = o.theme.grid;
    ctx.strokeRect(x0 + 0.5, top + 0.5, row.barWidth - 1, h - 1);
    for (const s of row.segments) {
      const w = Math.max(1, s.w);
      if (s.kind === 'padding') {
        ctx.fillStyle = o.theme.padding;
        ctx.fillRect(x0 + s.x, top + h - 4, w, 4);
      } else if (s.kind === 'alias') {
        ctx.strokeStyle = '#eb3b3b';
        ctx.strokeRect(x0 + s.x + 0.5, top + 0.5, Math.max(1, w - 1), h - 1);
      } else if (s.allocation) {
        const a = s.allocation;
        ctx.fillStyle = o.colorBy === 'kind' ? kindColors[a.kind] : seriesColor(b.memoryTypeIndex);
        ctx.fillRect(x0 + s.x, top, w, h);
        // A thin separator so neighbours stay distinguishable.
        if (s.w > 3) {
          ctx.fillStyle = o.theme.background;
          ctx.fillRect(x0 + s.x + w - 1, top, 1, h);
        }
        if (a.id === o.selectedId) {
          ctx.strokeStyle = o.theme.cursor;
          ctx.lineWidth = 2;
          ctx.strokeRect(x0 + s.x, top - 1, Math.max(2, w), h + 2);
          ctx.lineWidth = 1;
        }
      }
    }
  }
}

/** Bytes moved, blocks freed, fragmentation before/after, and the moves as text (the first 200). */
function DefragSummary({ plan }: { plan: DefragPreview }): ReactNode {
  const listed = plan.moves.slice(0, 200);
  return (
    <div className="defrag-preview" aria-label="Defragmentation plan">
      <p data-testid="defrag-summary">
        {`defragment (${plan.algorithm}) at event ${formatCount(plan.eventIndex)}: ${formatCount(plan.moveCount)} moves, ${formatBytes(
          plan.bytesMoved,
        )} moved, ${formatCount(plan.emptiedBlocks.length)} blocks freed (${formatCount(plan.blocksBefore)} → ${formatCount(
          plan.blocksAfter,
        )}), fragmentation ${formatPercent(plan.fragmentationBefore)} → ${formatPercent(plan.fragmentationAfter)}`}
      </p>
      {listed.length > 0 && (
        <details>
          <summary>
            moves{plan.moveCount > listed.length ? ` (first ${formatCount(listed.length)})` : ''}
          </summary>
          <ol data-testid="defrag-moves">
            {listed.map((m) => (
              <li key={m.allocationId}>
                {`${m.name}: #${m.fromBlock} @${m.fromOffset} → #${m.toBlock} @${m.toOffset} (${formatBytes(m.size)})`}
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}

/**
 * The plan's moves over the map: the destination range outlined, a line from the source range's middle to
 * the destination's, a dot at the destination end. Only rows on screen are drawn; returns how many moves
 * were drawn (both ends' blocks present in the map).
 */
function drawMoves(
  ctx: CanvasRenderingContext2D,
  rows: readonly BlockRow[],
  plan: DefragPreview,
  scrollTop: number,
): number {
  const rowOf = new Map<number, BlockRow>();
  for (const r of rows) rowOf.set(r.block.id, r);
  const x = (row: BlockRow, offset: number): number =>
    blockLabelWidth + (offset / Math.max(1, row.block.size)) * row.barWidth;
  let drawn = 0;
  ctx.save();
  ctx.lineWidth = 1;
  for (const m of plan.moves) {
    const from = rowOf.get(m.fromBlock);
    const to = rowOf.get(m.toBlock);
    if (!from || !to) continue;
    drawn++;
    const fy = from.y - scrollTop + blockRowHeight / 2;
    const ty = to.y - scrollTop + blockRowHeight / 2;
    const fx = x(from, m.fromOffset + m.size / 2);
    const tx0 = x(to, m.toOffset);
    const tw = Math.max(1, x(to, m.toOffset + m.size) - tx0);
    ctx.strokeStyle = defragColor;
    ctx.strokeRect(tx0 + 0.5, to.y - scrollTop + 2.5, tw, blockRowHeight - 5);
    ctx.beginPath();
    ctx.moveTo(fx, fy);
    ctx.lineTo(tx0 + tw / 2, ty);
    ctx.stroke();
    ctx.fillStyle = defragColor;
    ctx.fillRect(tx0 + tw / 2 - 1.5, ty - 1.5, 3, 3);
  }
  ctx.restore();
  return drawn;
}

const defragColor = '#00c8c8';
