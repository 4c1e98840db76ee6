// A trace file read on demand (TraceBytes over an open descriptor): the decoder asks for one record at a
// time, so loading holds one record of the file (≤ 65 MiB, typically a few MiB) instead of the whole file.
import { readSync } from 'node:fs';
import type { TraceBytes } from '../../allocator/trace/index.ts';

/** Thrown when the file ends before `size` (it shrank while being read). */
export class TraceFileShrankError extends Error {
  constructor(position: number) {
    super(`the file ended at byte ${position} while being read (it shrank)`);
    this.name = 'TraceFileShrankError';
  }
}

/**
 * Reads of `fd` by position (pread), into one buffer reused from read to read and grown to the longest
 * one; `size`: the file's size when opened (bytes past it are never read, so a file that grows while it
 * is read is decoded as it was).
 */
export function fileTraceBytes(fd: number, size: number): TraceBytes {
  let buffer = new Uint8Array(64 * 1024);
  return {
    size,
    read(position, length) {
      if (length > buffer.length) buffer = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buffer, done, length - done, position + done);
        if (n === 0) throw new TraceFileShrankError(position + done);
        done += n;
      }
      return buffer.subarray(0, length);
    },
  };
}
