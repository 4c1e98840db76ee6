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
