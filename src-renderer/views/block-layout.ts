// Block-map geometry as a pure function: every block at the cursor becomes one row whose bar length is
// proportional to its bytes (relative to the largest block), and each allocation a segment at its offset.
// Coordinate spaces: block space (bytes from the block start) → row space (CSS px from the bar's left).
import type { AllocationRecord, BlockSnapshot, Snapshot } from '../data/source.ts';

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
  readonly allocation: AllocationRecord | null;
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

/** Allocations, alignment padding in front of them, and overlapping (aliased) ranges, in bar pixels. */
export function blockSegments(block: BlockSnapshot, barWidth: number): Segment[] {
  const scale = barWidth / Math.max(1, block.size);
  const out: Segment[] = [];
  let end = 0;
  for (const a of block.allocations) {
    const gap = a.offset - end;
    if (gap > 0 && gap < a.alignment) {
      out.push({ kind: 'padding', x: end * scale, w: gap * scale, offset: end, size: gap, allocation: a });
    }
    out.push({ kind: 'allocation', x: a.offset * scale, w: a.size * scale, offset: a.offset, size: a.size, allocation: a });
    if (a.offset < end) {
      // Overlaps the previous allocation: aliasing (or a corrupt trace); drawn as its own outlined segment.
      const overlap = Math.min(end, a.offset + a.size) - a.offset;
      out.push({ kind: 'alias', x: a.offset * scale, w: overlap * scale, offset: a.offset, size: overlap, allocation: a });
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
