// Block-map geometry as a pure function: every block at the cursor becomes one row whose bar length is
// proportional to its bytes (relative to the largest block), and each allocation a segment at its offset.
// Coordinate spaces: block space (bytes from the block start) → row space (CSS px from the bar's left).
import type { BlockAllocation, BlockSnapshot, ByteRange, Snapshot } from '../data/source.ts';

export const blockRowHeight = 22;
export const blockLabelWidth = 250;
/** Shortest bar, so a 4 KiB dedicated block next to a 256 MiB one stays visible and hoverable. */
export const minBarWidth = 24;

export type SegmentKind = 'allocation' | 'padding' | 'alias';

export interface Segment {
  readonly kind: SegmentKind;
  /** CSS px from the bar's left edge. */
  readonly x: number;
  readonly w: number;
  /** Bytes in the block. */
  readonly offset: number;
  readonly size: number;
  /** The allocation (for padding: the one the padding precedes). */
  readonly allocation: BlockAllocation | null;
}

export interface BlockRow {
  readonly block: BlockSnapshot;
  readonly y: number;
  readonly barWidth: number;
  readonly segments: readonly Segment[];
}

export function layoutBlocks(snapshot: Snapshot | null, barAreaWidth: number): BlockRow[] {
  if (!snapshot) return [];
  let maxSize = 1;
  for (const b of snapshot.blocks) maxSize = Math.max(maxSize, b.size);
  return snapshot.blocks.map((block, i) => {
    const barWidth = Math.max(minBarWidth, (block.size / maxSize) * barAreaWidth);
    return { block, y: i * blockRowHeight, barWidth, segments: blockSegments(block, barWidth) };
  });
}

/**
 * Allocations, alignment padding (bytes between allocations that are neither allocated nor in a free
 * range) and overlapping (aliased) ranges, in bar pixels.
 */
export function blockSegments(block: BlockSnapshot, barWidth: number): Segment[] {
  const scale = barWidth / Math.max(1, block.size);
  const out: Segment[] = [];
  const free = block.freeRanges;
  let f = 0;
  let end = 0;
  const padding = (from: number, to: number, before: BlockAllocation): void => {
    // Subtract the free ranges that fall inside [from, to); what remains is padding.
    let at = from;
    while (f < free.length && (free[f]?.offset ?? 0) + (free[f]?.size ?? 0) <= at) f++;
    for (let k = f; k < free.length && at < to; k++) {
      const r = free[k] as ByteRange;
      if (r.offset >= to) break;
      if (r.offset > at) out.push(seg('padding', at, r.offset - at, before));
      at = Math.max(at, r.offset + r.size);
    }
    if (at < to) out.push(seg('padding', at, to - at, before));
  };
  const seg = (kind: SegmentKind, offset: number, size: number, a: BlockAllocation): Segment => ({
    kind,
    x: offset * scale,
    w: size * scale,
    offset,
    size,
    allocation: a,
  });
  for (const a of block.allocations) {
    if (a.offset > end) padding(end, a.offset, a);
    out.push(seg('allocation', a.offset, a.size, a));
    if (a.offset < end) {
      // Overlaps the previous allocation: aliasing (or a corrupt trace); drawn as its own outlined segment.
      out.push(seg('alias', a.offset, Math.min(end, a.offset + a.size) - a.offset, a));
    }
    end = Math.max(end, a.offset + a.size);
  }
  return out;
}

/** The segment under a point in row space (x from the bar's left), allocations before padding. */
export function hitSegment(row: BlockRow, x: number): Segment | null {
  if (x < 0 || x > row.barWidth) return null;
  let hit: Segment | null = null;
  for (const s of row.segments) {
    // Tiny segments get a 2 px target so they can be hovered.
    const w = Math.max(2, s.w);
    if (x >= s.x && x <= s.x + w) {
      if (s.kind === 'allocation') return s;
      hit ??= s;
    }
  }
  return hit;
}
