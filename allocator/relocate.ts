// Relocation before growth (opt-in, AllocatorCreateDesc.relocation): when a request fits no free range of
// its memory type although the type has the free bytes, the allocator can move a few live allocations
// out of the way instead of creating a block. This module finds where: in each block, the byte range
// whose clearing moves the fewest bytes. The allocator (Allocator.relocateFor) carries it out.
//
// A window is a run of consecutive chunks of one block (the victims) whose removal leaves a free range
// that takes the request: victims are chunks first..end-1 of the block's address-ordered chunks, and the
// freed range is [rangeStart, rangeEnd) — from the end of chunk first-1's data (or the block start) to
// the region start of chunk `end` (or the block end). Bytes throughout.
import { fitInRange } from './defragment.ts';

/** One live chunk of a block as the window search reads it (ChunkInfo's fields it needs). */
export interface RelocationChunk {
  /** Start of the region (alignment padding included). */
  readonly regionOffset: number;
  /** Data offset; the region ends at offset + size. */
  readonly offset: number;
  readonly size: number;
  /** 0 linear, 1 non-linear (AllocationKind). */
  readonly kind: number;
}

export interface RelocationWindow {
  /** Index of the block (in the caller's list). */
  readonly block: number;
  /** Victims: chunks first .. end - 1 of the block. */
  readonly first: number;
  readonly end: number;
  /** Sum of the victims' requested bytes (what is copied). */
  readonly movedBytes: number;
  /** The free range the victims leave behind. */
  readonly rangeStart: number;
  readonly rangeEnd: number;
  /** Where the request's data goes inside it. */
  readonly offset: number;
}

export interface RelocationRequest {
  readonly size: number;
  readonly alignment: number;
  /** 0 linear, 1 non-linear. */
  readonly kind: number;
  /** bufferImageGranularity (>= 1). */
  readonly granularity: number;
  /** Windows that would move more bytes than this are not returned. */
  readonly maxMovedBytes: number;
}

/**
 * The cheapest windows of one block (fewest bytes moved, then fewest moves), at most `keep` of them, added
 * to `out` (kept sorted, cheapest first, at most `keep` long). `movable(i)` is false for chunks that must
 * stay (they bound windows). O(chunks): one pass with two cursors.
 */
export function findRelocationWindows(
  block: number,
  blockSize: number,
  chunks: readonly RelocationChunk[],
  movable: (i: number) => boolean,
  request: RelocationRequest,
  keep: number,
  out: RelocationWindow[],
): void {
  const { size, alignment, kind, granularity, maxMovedBytes } = request;
  const n = chunks.length;
  // prefix[i]: requested bytes of chunks 0 .. i - 1.
  const prefix = new Float64Array(n + 1);
  // pinned[i]: chunks among 0 .. i - 1 that must stay.
  const pinned = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    prefix[i + 1] = prefix[i]! + chunks[i]!.size;
    pinned[i + 1] = pinned[i]! + (movable(i) ? 0 : 1);
  }
  let end = 0;
  // first: index of the first victim; the range starts where chunk first - 1's data ends.
  for (let first = 0; first < n; first++) {
    const prev = first > 0 ? chunks[first - 1]! : null;
    const from = prev === null ? 0 : prev.offset + prev.size;
    const prevKind = prev === null ? -1 : prev.kind;
    if (end < first + 1) end = first + 1;
    let offset = -1;
    for (;;) {
      const next = end < n ? chunks[end]! : null;
      offset = fitInRange(
        size,
        alignment,
        kind,
        from,
        prevKind,
        next === null ? blockSize : next.regionOffset,
        next === null ? -1 : next.kind,
        granularity,
      );
      if (offset >= 0 || next === null) break;
      if (prefix[end + 1]! - prefix[first]! > maxMovedBytes) break;
      end++;
    }
    if (offset < 0) continue;
    if (pinned[end] !== pinned[first]) continue;
    const movedBytes = prefix[end]! - prefix[first]!;
    if (movedBytes > maxMovedBytes) continue;
    const moves = end - first;
    if (out.length === keep) {
      const worst = out[keep - 1]!;
      if (movedBytes > worst.movedBytes) continue;
      if (movedBytes === worst.movedBytes && moves >= worst.end - worst.first) continue;
    }
    const next = end < n ? chunks[end]! : null;
    const window: RelocationWindow = {
      block,
      first,
      end,
      movedBytes,
      rangeStart: from,
      rangeEnd: next === null ? blockSize : next.regionOffset,
      offset,
    };
    let at = out.length;
    while (
      at > 0 &&
      (out[at - 1]!.movedBytes > movedBytes ||
        (out[at - 1]!.movedBytes === movedBytes && out[at - 1]!.end - out[at - 1]!.first > moves))
    )
      at--;
    out.splice(at, 0, window);
    if (out.length > keep) out.pop();
  }
}
