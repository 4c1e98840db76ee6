// Bounded file reading, the only way the API's workers read a file: regular files only (a FIFO, a device
// such as /dev/zero, a socket or a folder is refused before a byte is read), a size cap per kind of file,
// reads in chunks that stop at the cap even when the file grows, and a cancel check between chunks.
// Every failure is one of three messages that name the file (its display name) and never its content;
// missing and unreadable read the same, so an error tells nothing about what exists.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ByteSource, ChunkOptions } from '../../allocator/import/index.ts';

const CHUNK_BYTES = 1 << 20;

/** Caps by kind of file, bytes. Traces are decoded record by record; dumps and workloads are streamed. */
export const fileLimits = {
  /** A VRAMscope trace: decoded from disk one record at a time (src-main/trace/file-bytes.ts). */
  trace: 2 * 1024 ** 3,
  /** A VMA / D3D12MA JSON dump or a PyTorch snapshot: streamed in 1 MiB chunks. */
  dump: 8 * 1024 ** 3,
  /** An allocation workload (replay-workload): streamed line by line. */
  workload: 4 * 1024 ** 3,
} as const;

/** Longest line a line-oriented file (a workload) may have, bytes. */
export const maxLineBytes = 4096;

export type FileReadProblem = 'unreadable' | 'too-large' | 'cancelled' | 'line-too-long' | 'stalled';

/** Why a file could not be read. The message names the file and never quotes it. */
export class FileReadError extends Error {
  constructor(
    readonly problem: FileReadProblem,
    message: string,
  ) {
    super(message);
    this.name = 'FileReadError';
  }
}

export interface BoundedReadOptions {
  /** The name used in messages (default: the path's base name). */
  readonly name?: string;
  /** Bytes; the file is refused when larger. */
  readonly maxBytes: number;
  /** Checked before every chunk: true stops the read with a "cancelled" FileReadError. */
  readonly isCancelled?: () => boolean;
  readonly chunkBytes?: number;
  /**
   * The file is an upload still arriving (upload-arrival.ts): reads wait for its bytes and stop at its
   * declared size, which the cap is checked against.
   */
  readonly arrival?: Arrival;
}

/** How far a file being written by someone else (an upload) has arrived. */
export interface Arrival {
  /** The size the file will have, bytes. */
  readonly bytes: number;
  /** Whether the upload was dropped (its file is deleted then, so reads fail). */
  dropped(): boolean;
  /**
   * Resolves once more than `position` bytes are on disk (or all `bytes` are): how many are. 'dropped':
   * the upload is gone (or `isCancelled` said stop); 'stalled': no byte arrived for a long time.
   */
  beyond(position: number, isCancelled?: () => boolean): Promise<number | 'dropped' | 'stalled'>;
}

function unreadable(name: string): FileReadError {
  return new FileReadError(
    'unreadable',
    `${name} cannot be read: it is missing, unreadable or not a regular file`,
  );
}

function tooLarge(name: string, maxBytes: number): FileReadError {
  return new FileReadError(
    'too-large',
    `${name} is larger than ${maxBytes} bytes (${(maxBytes / 1024 ** 3).toFixed(0)} GiB), the most VRAMscope reads for this kind of file`,
  );
}

/**
 * The one size check of every cap (the API's workers and the CLI alike): a "too-large" FileReadError
 * naming the file when `size` bytes exceed `maxBytes`.
 */
export function assertWithinCap(size: number, maxBytes: number, name: string): void {
  if (size > maxBytes) throw tooLarge(name, maxBytes);
}

function cancelled(name: string): FileReadError {
  return new FileReadError('cancelled', `reading ${name} was cancelled`);
}

/** A read that failed because a dropped upload's file was deleted under it is a cancelled one. */
function unreadableOrDropped(name: string, arrival: Arrival | undefined): FileReadError {
  return arrival?.dropped() === true ? cancelled(name) : unreadable(name);
}

function stalled(name: string): FileReadError {
  return new FileReadError(
    'stalled',
    `${name} stopped arriving: its upload sent nothing for a minute and was given up`,
  );
}

/** Waits until every byte of an arriving file is on disk (a trace, decoded from disk afterwards). */
export async function untilArrived(
  arrival: Arrival,
  name: string,
  isCancelled?: () => boolean,
): Promise<void> {
  let have = 0;
  while (have < arrival.bytes)
    have = await arrived(arrival, have, name, { maxBytes: arrival.bytes, isCancelled });
}

/** Waits until more than `position` bytes of an arriving file are on disk; answers how many are. */
async function arrived(
  arrival: Arrival,
  position: number,
  name: string,
  options: BoundedReadOptions,
): Promise<number> {
  const now = await arrival.beyond(position, options.isCancelled);
  if (now === 'dropped') throw cancelled(name);
  if (now === 'stalled') throw stalled(name);
  return now;
}

// O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused right after, by fstat).
const openFlags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Opens `path` if it is a regular file within the cap; the checks run on the open descriptor. */
async function openRegular(
  path: string,
  name: string,
  maxBytes: number,
  arrival?: Arrival,
): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, openFlags);
  } catch {
    throw unreadableOrDropped(name, arrival);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw unreadable(name);
    const size = arrival?.bytes ?? info.size;
    assertWithinCap(size, maxBytes, name);
    return { handle, size };
  } catch (error) {
    await handle.close();
    throw error instanceof FileReadError ? error : unreadable(name);
  }
}

/**
 * Reads chunks of an open handle from the start, at most `maxBytes` in all (a growing file too). A file that
 * is all there (not an arriving upload) is read one chunk ahead: the read of the next chunk is under way
 * while the consumer works on this one. With `recycle` (ByteSource.chunks: the consumer keeps at most the
 * last two chunks), full chunks are read into three buffers in turn (two held, one being read ahead).
 */
async function* readChunks(
  handle: FileHandle,
  name: string,
  options: BoundedReadOptions,
  recycle = false,
): AsyncGenerator<Uint8Array> {
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const { arrival } = options;
  const buffers = recycle ? [0, 1, 2].map(() => new Uint8Array(chunkBytes)) : [];
  let turn = 0;
  let total = 0;
  /** The next chunk, or null at the end. One read at a time: the next starts once this one is done. */
  const readNext = async (): Promise<Uint8Array | null> => {
    if (options.isCancelled?.()) throw cancelled(name);
    // An arriving file: wait for bytes past `total`, read no further than they go, end at its size.
    if (arrival !== undefined && total >= arrival.bytes) return null;
    const room = arrival === undefined ? chunkBytes : (await arrived(arrival, total, name, options)) - total;
    const want = Math.min(chunkBytes, room);
    const buffer =
      want === chunkBytes && buffers.length > 0 ? buffers[turn++ % buffers.length]! : new Uint8Array(want);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, want, total));
    } catch {
      throw unreadableOrDropped(name, arrival);
    }
    // An upload's bytes were written before they were counted: missing ones mean the file was cut.
    if (bytesRead === 0 && arrival !== undefined) throw unreadableOrDropped(name, arrival);
    if (bytesRead === 0) return null;
    total += bytesRead;
    assertWithinCap(total, options.maxBytes, name);
    return buffer.subarray(0, bytesRead);
  };
  // An upload is not read ahead: waiting for its bytes in the background could outlast the consumer.
  const ahead = arrival === undefined;
  let next: Promise<Uint8Array | null> | null = ahead ? readNext() : null;
  try {
    for (;;) {
      const chunk = await (next ?? readNext());
      next = null;
      if (chunk === null) return;
      if (ahead) {
        next = readNext();
        // Awaited at the next step or in `finally`; a consumer that stops early never sees its error.
        next.catch(() => {});
      }
      yield chunk;
    }
  } finally {
    // The caller closes the handle next: no read may still be using it.
    if (next !== null) await next.catch(() => null);
  }
}

/**
 * Opens a regular file within the cap for synchronous positional reads (a trace, decoded record by record):
 * the descriptor and the size it had when opened. The caller closes the descriptor.
 */
export function openBoundedFileSync(
  path: string,
  options: Pick<BoundedReadOptions, 'name' | 'maxBytes'>,
): { fd: number; size: number } {
  const name = options.name ?? basename(path);
  let fd: number;
  try {
    fd = openSync(path, openFlags);
  } catch {
    throw unreadable(name);
  }
  try {
    let info;
    try {
      info = fstatSync(fd);
    } catch {
      throw unreadable(name);
    }
    if (!info.isFile()) throw unreadable(name);
    assertWithinCap(info.size, options.maxBytes, name);
    return { fd, size: info.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * A ByteSource over a regular file (an importer's input): each pass streams it in 1 MiB chunks, so
 * importers hold one chunk at a time. The file is checked (regular, within the cap) when the source is
 * made, and each pass re-checks it.
 */
export async function fileSource(
  path: string,
  options: Partial<BoundedReadOptions> = {},
): Promise<ByteSource> {
  const name = options.name ?? basename(path);
  const bounded: BoundedReadOptions = { ...options, maxBytes: options.maxBytes ?? fileLimits.dump };
  const { arrival } = bounded;
  const first = await openRegular(path, name, bounded.maxBytes, arrival);
  await first.handle.close();
  return {
    name,
    size: first.size,
    async *chunks(chunkOptions?: ChunkOptions) {
      const { handle } = await openRegular(path, name, bounded.maxBytes, arrival);
      try {
        yield* readChunks(handle, name, bounded, chunkOptions?.recycle === true);
      } finally {
        await handle.close();
      }
    },
    async head(n: number) {
      const want = Math.min(n, first.size);
      for (let now = 0; arrival !== undefined && now < want;)
        now = await arrived(arrival, now, name, bounded);
      const { handle } = await openRegular(path, name, bounded.maxBytes, arrival);
      try {
        const buf = new Uint8Array(want);
        const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
        return buf.subarray(0, bytesRead);
      } catch {
        throw unreadableOrDropped(name, arrival);
      } finally {
        await handle.close();
      }
    },
  };
}

/** One line of a line-oriented file: 1-based number, byte offset of its first byte, text without "\n". */
export interface FileLine {
  readonly line: number;
  readonly offset: number;
  readonly text: string;
}

/**
 * The lines of a regular file (a workload), read synchronously in chunks (for a scenario worker, whose
 * script is synchronous). Each line is at most {@link maxLineBytes} bytes; `isCancelled` is checked
 * before every chunk, so a cancelled run stops mid-file.
 */
export function* readLinesSync(path: string, options: BoundedReadOptions): Generator<FileLine> {
  const name = options.name ?? basename(path);
  const { fd } = openBoundedFileSync(path, { name, maxBytes: options.maxBytes });
  try {
    const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
    const decoder = new TextDecoder('utf-8');
    const buffer = new Uint8Array(chunkBytes);
    let carry = new Uint8Array(0);
    let carryOffset = 0;
    let position = 0;
    let lineNumber = 0;
    for (;;) {
      if (options.isCancelled?.()) throw cancelled(name);
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, buffer, 0, chunkBytes, position);
      } catch {
        throw unreadable(name);
      }
      const chunk = buffer.subarray(0, bytesRead);
      const data = carry.length === 0 ? chunk : concat(carry, chunk);
      const dataOffset = carry.length === 0 ? position : carryOffset;
      position += bytesRead;
      assertWithinCap(position, options.maxBytes, name);
      let start = 0;
      for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, start)) {
        if (i - start > maxLineBytes) throw lineTooLong(name, lineNumber + 1, dataOffset + start);
        lineNumber++;
        yield { line: lineNumber, offset: dataOffset + start, text: decoder.decode(data.subarray(start, i)) };
        start = i + 1;
      }
      const rest = data.subarray(start);
      if (rest.length > maxLineBytes) throw lineTooLong(name, lineNumber + 1, dataOffset + start);
      if (bytesRead === 0) {
        if (rest.length > 0) {
          lineNumber++;
          yield { line: lineNumber, offset: dataOffset + start, text: decoder.decode(rest) };
        }
        return;
      }
      carry = rest.slice();
      carryOffset = dataOffset + start;
    }
  } finally {
    closeSync(fd);
  }
}

function lineTooLong(name: string, line: number, offset: number): FileReadError {
  return new FileReadError(
    'line-too-long',
    `${name} line ${line} (at byte ${offset}) is longer than ${maxLineBytes} bytes`,
  );
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
