// A trace file read on demand (TraceBytes over an open descriptor): the decoder asks for one record at a
// time, so loading holds one record of the file (≤ 65 MiB, typically a few MiB) instead of the whole file.
import { closeSync, readSync } from 'node:fs';
import type { TraceBytes } from '../../allocator/trace/index.ts';
import { openBoundedFileSync, type BoundedReadOptions } from '../import/file-source.ts';

/** Thrown when the file ends before `size` (it shrank while being read). */
export class TraceFileShrankError extends Error {
  constructor(position: number) {
    super(`the file ended at byte ${position} while being read (it shrank)`);
    this.name = 'TraceFileShrankError';
  }
}

/**
 * Bytes read ahead for short reads (record frames, small records): a trace of many small records (a live
 * recording flushes every second) costs one read per window instead of two per record.
 */
const WINDOW_BYTES = 1 << 20;

/**
 * Reads of `fd` by position (pread). A read of up to WINDOW_BYTES is served from a window read ahead from
 * its position; a longer one (a big chunk) goes into one buffer reused from read to read and grown to the
 * longest. `size`: the file's size when opened (bytes past it are never read, so a file that grows while
 * it is read is decoded as it was).
 */
export function fileTraceBytes(fd: number, size: number): TraceBytes {
  const fill = (into: Uint8Array, length: number, position: number): void => {
    for (let done = 0; done < length;) {
      const n = readSync(fd, into, done, length - done, position + done);
      if (n === 0) throw new TraceFileShrankError(position + done);
      done += n;
    }
  };
  const window = new Uint8Array(WINDOW_BYTES);
  let windowStart = 0;
  let windowEnd = 0; // [windowStart, windowEnd) of the file is in `window`
  let big = new Uint8Array(0);
  return {
    size,
    read(position, length) {
      if (length > WINDOW_BYTES) {
        if (length > big.length) big = new Uint8Array(length);
        fill(big, length, position);
        return big.subarray(0, length);
      }
      if (position < windowStart || position + length > windowEnd) {
        const n = Math.min(WINDOW_BYTES, size - position);
        fill(window, n, position);
        windowStart = position;
        windowEnd = position + n;
      }
      return window.subarray(position - windowStart, position - windowStart + length);
    },
  };
}

/**
 * A regular file within the cap (the checks and messages of src-main/import/file-source.ts) as TraceBytes,
 * for the trace worker; `close()` when decoding is done.
 */
export function openTraceFile(
  path: string,
  options: Pick<BoundedReadOptions, 'name' | 'maxBytes'>,
): TraceBytes & { close(): void } {
  const { fd, size } = openBoundedFileSync(path, options);
  return { ...fileTraceBytes(fd, size), close: () => closeSync(fd) };
}
