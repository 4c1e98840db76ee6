// The bytes of a move on a real Vulkan device, for defragmentation and for relocation before growth.
// - mapped: both blocks are mapped host memory: one host memmove from the source range to the destination
//   (VulkanContext.copyMappedMemory), with invalidate / flush around it for non-coherent memory.
// - transfer: vkCmdCopyBuffer between VkBuffers bound over the source and destination ranges, submitted
//   and waited for (VulkanContext.copyBuffers). This is how memory the host cannot map (device-local) moves.
//   The buffers are destroyed after the copy.
// - auto: mapped when both blocks are mapped and the source's memory type is HOST_CACHED, else transfer. A
//   mapping of uncached memory (a resizable-BAR type: DEVICE_LOCAL | HOST_VISIBLE without HOST_CACHED) is
//   write-combined: the CPU reads it over the bus, uncached, at tens of MB/s (what made seed 5 with
//   relocation cost 2,653 ns/op on the H200: 24 moves, 11.7 MiB of such reads; docs/allocator.md).
//
// createDefragmentCopy: Allocator.applyDefragmentation calls it once per move, right after the allocator
// has moved the allocation and before the next move (a later move may read what an earlier one wrote), so
// each transfer move is submitted on its own. A move within one block may overlap its old bytes (an
// allocation sliding down): the mapped path's memmove copies as if through a temporary; the transfer path copies in
// pieces no longer than the distance, in the order that never reads a byte already overwritten, in one
// submission with a barrier between pieces, or through a temporary block (its own vkAllocateMemory,
// counted in tempBlocks) when that would take more than maxOrderedPieces pieces.
//
// createRelocationCopy: the copy and flush of RelocationOptions. A relocation's moves never overlap one
// another (no destination overlaps any source), so transfer moves are queued by copy() and flush() copies
// them all in one submission, through one buffer per block involved (bound over the whole block).
import {
  DeviceError,
  MemoryPropertyFlags,
  type DefragmentationMove,
  type DeviceMemoryBlock,
} from '../allocator/index.ts';
import {
  BufferUsage,
  isCodedError,
  type BufferCopy,
  type BufferHandle,
  type MemoryHandle,
  type VulkanContext,
} from './index.ts';

export type DefragmentCopyMode = 'auto' | 'transfer' | 'mapped';
export const defragmentCopyModes: readonly DefragmentCopyMode[] = ['auto', 'transfer', 'mapped'];

/** What the copier did so far (moves by path; device work; bytes copied). */
export interface DefragmentCopyStats {
  mappedMoves: number;
  transferMoves: number;
  /** vkQueueSubmit calls (each waited for). */
  transferSubmits: number;
  /** VkBuffers created to copy through. */
  buffers: number;
  /** vkAllocateMemory calls for temporary blocks (overlapping slides of more than maxOrderedPieces pieces). */
  tempBlocks: number;
  /** Bytes copied (requested sizes). */
  bytes: number;
}

export function newDefragmentCopyStats(): DefragmentCopyStats {
  return { mappedMoves: 0, transferMoves: 0, transferSubmits: 0, buffers: 0, tempBlocks: 0, bytes: 0 };
}

export type DefragmentCopy = (
  move: DefragmentationMove,
  from: DeviceMemoryBlock,
  to: DeviceMemoryBlock,
) => void;

/** RelocationOptions' copy and flush (allocator/types.ts). */
export interface RelocationCopy {
  readonly copy: DefragmentCopy;
  readonly flush: () => void;
}

/**
 * An overlapping slide copied in more pieces than this goes through a temporary block instead (two
 * copies): one submission either way, but each piece is a command and a barrier.
 */
export const maxOrderedPieces = 1024;

function deviceError(error: unknown): unknown {
  if (error instanceof DeviceError) return error;
  if (isCodedError(error)) return new DeviceError(error.code, error.message);
  return error;
}

/** Moves and submissions of one copier; what createDefragmentCopy and createRelocationCopy share. */
class DeviceCopier {
  /** HOST_CACHED per memory type index. */
  private readonly cached: readonly boolean[];
  /** Transfer moves queued until flush() (relocation only). */
  private readonly queued: { move: DefragmentationMove; from: DeviceMemoryBlock; to: DeviceMemoryBlock }[] =
    [];

  constructor(
    private readonly context: VulkanContext,
    private readonly mode: DefragmentCopyMode,
    readonly stats: DefragmentCopyStats,
    /** Queue transfer moves for flush() instead of submitting each at once. */
    private readonly batch: boolean,
  ) {
    if (!defragmentCopyModes.includes(mode))
      throw new RangeError(`copy must be one of ${defragmentCopyModes.join(', ')}, got ${String(mode)}`);
    this.cached = context.info.types.map((t) => (t.propertyFlags & MemoryPropertyFlags.HOST_CACHED) !== 0);
  }

  /** A buffer of `size` bytes bound to `memory` so that byte `offset` of the memory is at the returned shift. */
  private bufferAt(
    memory: MemoryHandle,
    offset: number,
    size: number,
    usage: number,
  ): { buffer: BufferHandle; shift: number } {
    // Binding offsets must be multiples of the buffer's required alignment: bind at the offset rounded down
    // and copy from `shift` bytes in. The alignment is known once a buffer exists, so a misaligned offset
    // costs a second buffer.
    const context = this.context;
    let made = context.createBuffer(size, usage);
    this.stats.buffers++;
    const alignment = Math.max(1, made.requirements.alignment);
    const shift = offset % alignment;
    if (shift !== 0) {
      context.destroyBuffer(made.handle);
      made = context.createBuffer(size + shift, usage);
      this.stats.buffers++;
    }
    try {
      context.bindBufferMemory(made.handle, memory, offset - shift);
    } catch (error) {
      context.destroyBuffer(made.handle);
      throw error;
    }
    return { buffer: made.handle, shift };
  }

  /** One range to another, now: pieces in one submission when they overlap in one block. */
  private copyNow(
    fromMemory: MemoryHandle,
    fromOffset: number,
    toMemory: MemoryHandle,
    toOffset: number,
    size: number,
  ): void {
    const context = this.context;
    const src = this.bufferAt(fromMemory, fromOffset, size, BufferUsage.TRANSFER_SRC);
    try {
      const dst = this.bufferAt(toMemory, toOffset, size, BufferUsage.TRANSFER_DST);
      try {
        const distance = Math.abs(fromOffset - toOffset);
        const copies: BufferCopy[] = [];
        if (fromMemory !== toMemory || distance >= size) {
          copies.push({ src: src.buffer, srcOffset: src.shift, dst: dst.buffer, dstOffset: dst.shift, size });
        } else {
          // Overlap in one block: pieces of at most `distance` bytes, lowest first when moving down (each
          // piece's source lies above everything written so far), highest first when moving up.
          const pieces = Math.ceil(size / distance);
          for (let n = 0; n < pieces; n++) {
            const p = toOffset < fromOffset ? n : pieces - 1 - n;
            const at = p * distance;
            const length = Math.min(distance, size - at);
            copies.push({
              src: src.buffer,
              srcOffset: src.shift + at,
              dst: dst.buffer,
              dstOffset: dst.shift + at,
              size: length,
            });
          }
        }
        context.copyBuffers(copies, true);
        this.stats.transferSubmits++;
      } finally {
        context.destroyBuffer(dst.buffer);
      }
    } finally {
      context.destroyBuffer(src.buffer);
    }
  }

  private transferNow(move: DefragmentationMove, from: DeviceMemoryBlock, to: DeviceMemoryBlock): void {
    const fromMemory = from.handle as MemoryHandle;
    const toMemory = to.handle as MemoryHandle;
    const distance = Math.abs(move.fromOffset - move.toOffset);
    if (
      fromMemory === toMemory &&
      distance < move.size &&
      Math.ceil(move.size / distance) > maxOrderedPieces
    ) {
      // Through a temporary block of the same memory type: two copies, whatever the distance.
      const temp = this.context.allocateMemory(from.memoryTypeIndex, move.size);
      this.stats.tempBlocks++;
      try {
        this.copyNow(fromMemory, move.fromOffset, temp, 0, move.size);
        this.copyNow(temp, 0, toMemory, move.toOffset, move.size);
      } finally {
        this.context.freeMemory(temp);
      }
      return;
    }
    this.copyNow(fromMemory, move.fromOffset, toMemory, move.toOffset, move.size);
  }

  private usesMapping(from: DeviceMemoryBlock, to: DeviceMemoryBlock): boolean {
    if (this.mode !== 'auto') return this.mode === 'mapped';
    return from.mapped !== null && to.mapped !== null && this.cached[from.memoryTypeIndex] === true;
  }

  readonly copy: DefragmentCopy = (move, from, to) => {
    try {
      if (this.usesMapping(from, to)) {
        if (from.mapped === null || to.mapped === null)
          throw new DeviceError(
            'ERR_VRAMSCOPE_UNSUPPORTED',
            `allocation ${move.allocationId} lives in memory type ${move.memoryTypeIndex}, which is not mapped: copy it with 'transfer' or 'auto'`,
          );
        from.mapped.invalidate(move.fromOffset, move.size);
        // One host memmove between the mappings: an overlapping destination (a slide within the block)
        // cannot clobber what is still to be read, and no JS copy of the bytes is made.
        this.context.copyMappedMemory(
          from.handle as MemoryHandle,
          move.fromOffset,
          to.handle as MemoryHandle,
          move.toOffset,
          move.size,
        );
        to.mapped.flush(move.toOffset, move.size);
        this.stats.mappedMoves++;
      } else {
        const overlaps = from === to && Math.abs(move.fromOffset - move.toOffset) < move.size;
        if (this.batch && !overlaps) this.queued.push({ move, from, to });
        else this.transferNow(move, from, to);
        this.stats.transferMoves++;
      }
      this.stats.bytes += move.size;
    } catch (error) {
      // The allocator makes no flush call after a copy that threw: moves queued for this request would
      // otherwise be copied with the next one's, over ranges reused by then.
      this.queued.length = 0;
      throw deviceError(error);
    }
  };

  /** Copies the queued transfer moves in one submission, through one buffer per block involved. */
  readonly flush = (): void => {
    if (this.queued.length === 0) return;
    const context = this.context;
    const moves = this.queued.splice(0);
    const buffers = new Map<DeviceMemoryBlock, BufferHandle>();
    try {
      const over = (block: DeviceMemoryBlock): BufferHandle => {
        let buffer = buffers.get(block);
        if (buffer === undefined) {
          // Bound at offset 0, so no alignment shift: buffer offsets are block offsets.
          buffer = this.bufferAt(
            block.handle as MemoryHandle,
            0,
            block.size,
            BufferUsage.TRANSFER_SRC | BufferUsage.TRANSFER_DST,
          ).buffer;
          buffers.set(block, buffer);
        }
        return buffer;
      };
      context.copyBuffers(
        moves.map(({ move, from, to }) => ({
          src: over(from),
          srcOffset: move.fromOffset,
          dst: over(to),
          dstOffset: move.toOffset,
          size: move.size,
        })),
        false,
      );
      this.stats.transferSubmits++;
    } catch (error) {
      throw deviceError(error);
    } finally {
      for (const buffer of buffers.values()) context.destroyBuffer(buffer);
    }
  };
}

export function createDefragmentCopy(
  context: VulkanContext,
  mode: DefragmentCopyMode,
  stats: DefragmentCopyStats = newDefragmentCopyStats(),
): DefragmentCopy {
  return new DeviceCopier(context, mode, stats, false).copy;
}

/**
 * RelocationOptions.copy and .flush on a real device: mapped moves are copied at once, transfer moves
 * queued and copied together (one submission per relocating request) when the allocator calls flush.
 */
export function createRelocationCopy(
  context: VulkanContext,
  mode: DefragmentCopyMode,
  stats: DefragmentCopyStats = newDefragmentCopyStats(),
): RelocationCopy {
  const copier = new DeviceCopier(context, mode, stats, true);
  return { copy: copier.copy, flush: copier.flush };
}
