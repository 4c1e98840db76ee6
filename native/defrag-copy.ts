// The bytes of a defragmentation move on a real Vulkan device: Allocator.applyDefragmentation calls the
// function made here once per move, right after the allocator has moved the allocation (block and offset
// already the new ones), and before the next move.
// - mapped: both blocks are mapped host memory: read the source range, write the destination, with
//   invalidate / flush around it for non-coherent memory.
// - transfer: a VkBuffer bound at the source range and one bound at the destination range, and a
//   vkCmdCopyBuffer between them, submitted and waited for (VulkanContext.copyBuffer). This is how memory
//   the host cannot map (device-local) moves. Both buffers are destroyed after the copy.
// - auto: mapped when both blocks are mapped, else transfer.
// A move within one block may overlap its old bytes (an allocation sliding down): the mapped path reads
// everything before it writes; the transfer path copies in pieces no longer than the distance (in the
// order that never reads a byte already overwritten), or through a temporary block when that would take
// more than maxPieces submissions.
import { DeviceError, type DefragmentationMove, type DeviceMemoryBlock } from '../allocator/index.ts';
import {
  BufferUsage,
  isCodedError,
  type BufferHandle,
  type MemoryHandle,
  type VulkanContext,
} from './index.ts';

export type DefragmentCopyMode = 'auto' | 'transfer' | 'mapped';
export const defragmentCopyModes: readonly DefragmentCopyMode[] = ['auto', 'transfer', 'mapped'];

/** What the copier did so far (moves by path; device submissions; bytes copied). */
export interface DefragmentCopyStats {
  mappedMoves: number;
  transferMoves: number;
  /** vkQueueSubmit calls (each waited for). */
  transferSubmits: number;
  /** Bytes copied (requested sizes). */
  bytes: number;
}

export type DefragmentCopy = (
  move: DefragmentationMove,
  from: DeviceMemoryBlock,
  to: DeviceMemoryBlock,
) => void;

/** Overlapping moves copied in more pieces than this go through a temporary block instead. */
const maxPieces = 8;

function deviceError(error: unknown): unknown {
  if (error instanceof DeviceError) return error;
  if (isCodedError(error)) return new DeviceError(error.code, error.message);
  return error;
}

export function createDefragmentCopy(
  context: VulkanContext,
  mode: DefragmentCopyMode,
  stats: DefragmentCopyStats = { mappedMoves: 0, transferMoves: 0, transferSubmits: 0, bytes: 0 },
): DefragmentCopy {
  if (!defragmentCopyModes.includes(mode))
    throw new RangeError(`copy must be one of ${defragmentCopyModes.join(', ')}, got ${String(mode)}`);

  /** A buffer of `size` bytes bound to `memory` so that byte `offset` of the memory is at the returned shift. */
  const bufferAt = (
    memory: MemoryHandle,
    offset: number,
    size: number,
    usage: number,
  ): { buffer: BufferHandle; shift: number } => {
    // Binding offsets must be multiples of the buffer's required alignment: bind at the offset rounded down
    // and copy from `shift` bytes in. The alignment is known once a buffer exists, so a misaligned offset
    // costs a second buffer.
    let made = context.createBuffer(size, usage);
    const alignment = Math.max(1, made.requirements.alignment);
    const shift = offset % alignment;
    if (shift !== 0) {
      context.destroyBuffer(made.handle);
      made = context.createBuffer(size + shift, usage);
    }
    try {
      context.bindBufferMemory(made.handle, memory, offset - shift);
    } catch (error) {
      context.destroyBuffer(made.handle);
      throw error;
    }
    return { buffer: made.handle, shift };
  };

  const copy = (
    fromMemory: MemoryHandle,
    fromOffset: number,
    toMemory: MemoryHandle,
    toOffset: number,
    size: number,
  ): void => {
    const src = bufferAt(fromMemory, fromOffset, size, BufferUsage.TRANSFER_SRC);
    try {
      const dst = bufferAt(toMemory, toOffset, size, BufferUsage.TRANSFER_DST);
      try {
        const distance = Math.abs(fromOffset - toOffset);
        if (fromMemory !== toMemory || distance >= size) {
          context.copyBuffer(src.buffer, src.shift, dst.buffer, dst.shift, size);
          stats.transferSubmits++;
          return;
        }
        // Overlap in one block: pieces of at most `distance` bytes, lowest first when moving down (each
        // piece's source lies above everything written so far), highest first when moving up.
        const pieces = Math.ceil(size / distance);
        for (let n = 0; n < pieces; n++) {
          const p = toOffset < fromOffset ? n : pieces - 1 - n;
          const at = p * distance;
          const length = Math.min(distance, size - at);
          context.copyBuffer(src.buffer, src.shift + at, dst.buffer, dst.shift + at, length);
          stats.transferSubmits++;
        }
      } finally {
        context.destroyBuffer(dst.buffer);
      }
    } finally {
      context.destroyBuffer(src.buffer);
    }
  };

  const transfer = (move: DefragmentationMove, from: DeviceMemoryBlock, to: DeviceMemoryBlock): void => {
    const fromMemory = from.handle as MemoryHandle;
    const toMemory = to.handle as MemoryHandle;
    const distance = Math.abs(move.fromOffset - move.toOffset);
    if (fromMemory === toMemory && distance < move.size && Math.ceil(move.size / distance) > maxPieces) {
      // Through a temporary block of the same memory type: two copies, whatever the distance.
      const temp = context.allocateMemory(from.memoryTypeIndex, move.size);
      try {
        copy(fromMemory, move.fromOffset, temp, 0, move.size);
        copy(temp, 0, toMemory, move.toOffset, move.size);
      } finally {
        context.freeMemory(temp);
      }
      return;
    }
    copy(fromMemory, move.fromOffset, toMemory, move.toOffset, move.size);
  };

  return (move, from, to) => {
    const mapped = from.mapped !== null && to.mapped !== null;
    const path = mode === 'auto' ? (mapped ? 'mapped' : 'transfer') : mode;
    try {
      if (path === 'mapped') {
        if (from.mapped === null || to.mapped === null)
          throw new DeviceError(
            'ERR_VRAMSCOPE_UNSUPPORTED',
            `allocation ${move.allocationId} lives in memory type ${move.memoryTypeIndex}, which is not mapped: copy it with 'transfer' or 'auto'`,
          );
        from.mapped.invalidate(move.fromOffset, move.size);
        // read() returns a copy, so an overlapping destination cannot clobber what is still to be read.
        const bytes = from.mapped.read(move.fromOffset, move.size);
        to.mapped.write(move.toOffset, bytes);
        to.mapped.flush(move.toOffset, move.size);
        stats.mappedMoves++;
      } else {
        transfer(move, from, to);
        stats.transferMoves++;
      }
      stats.bytes += move.size;
    } catch (error) {
      throw deviceError(error);
    }
  };
}
