// Loads a trace file (or bytes) record by record with progress. A file is read from disk one record at a
// time (file-bytes.ts): memory is what the decoded events take, not the file's size. Malformed input: a TraceFormatError when
// nothing can be loaded (bad magic, unknown version, bad header), otherwise the valid prefix plus one
// warning saying at which byte and event loading stopped. Data only: nothing in a trace is evaluated.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import { captureCompletenessWarning } from '../../allocator/analysis/capture.ts';
import {
  TraceDecoder,
  type DecodeProgress,
  type LoadedTrace,
  type TraceBytes,
  type TraceEvents,
} from '../../allocator/trace/index.ts';
import type { DeviceDescription } from '../../allocator/device.ts';
import { nodeInflate } from './codec.ts';
import { fileTraceBytes } from './file-bytes.ts';
import { assertWithinCap, fileLimits } from '../import/file-source.ts';

export {
  TraceFormatError,
  type LoadedTrace,
  type TraceWarning,
  type DecodeProgress,
} from '../../allocator/trace/index.ts';

export interface LoadTraceOptions {
  readonly onProgress?: (progress: DecodeProgress) => void;
  /** Throw on any problem instead of keeping the valid prefix with a warning. */
  readonly strict?: boolean;
  /**
   * Told of the events as they are decoded (loadTrace only): the columns are then in shared memory, so
   * that another thread can read them in place (the web server's analysis thread, analysis-follower.ts).
   */
  readonly follower?: DecodeFollower;
}

/** What loadTrace tells of the events while it decodes them. */
export interface DecodeFollower {
  /**
   * Once, before the first record: a live view of the events decoded so far (TraceDecoder.eventsSoFar),
   * the trace's device and about how many events it holds. False: not followed (nothing more is told).
   */
  start(events: TraceEvents, device: DeviceDescription, expectedEvents: number): boolean;
  /** After a record: events [0, final) are decoded and will not change. */
  advance(final: number): void;
}

/** Yields to the event loop about this often while decoding, so a main process stays responsive. */
const YIELD_EVERY_MS = 50;

/** A trace's path, its bytes in memory, or a TraceBytes (e.g. a descriptor the caller opened and closes). */
export type TraceInput = string | Uint8Array | TraceBytes;

/**
 * Opens a path for reading by position (errors keep their Node code: ENOENT, EACCES, EISDIR on the first
 * read); other inputs pass through. `close` releases what was opened here. A file over the trace cap
 * (fileLimits.trace, the same check as the API's trace worker) is refused before a byte is decoded with a
 * "too-large" FileReadError naming its base name.
 */
function openInput(input: TraceInput): { bytes: Uint8Array | TraceBytes; close: () => void } {
  if (typeof input !== 'string') return { bytes: input, close: () => undefined };
  const fd = openSync(input, 'r');
  try {
    const { size } = fstatSync(fd);
    assertWithinCap(size, fileLimits.trace, basename(input));
    return { bytes: fileTraceBytes(fd, size), close: () => closeSync(fd) };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

export async function loadTrace(input: TraceInput, options: LoadTraceOptions = {}): Promise<LoadedTrace> {
  const { bytes, close } = openInput(input);
  try {
    const follower = options.follower;
    const decoder = new TraceDecoder(bytes, {
      inflate: nodeInflate,
      strict: options.strict ?? false,
      sharedMemory: follower !== undefined,
    });
    const following =
      follower?.start(decoder.eventsSoFar, decoder.header.device, decoder.expectedEvents) ?? false;
    let told = 0;
    let lastYield = performance.now();
    while (decoder.step()) {
      if (following && decoder.length > told) follower?.advance((told = decoder.length));
      options.onProgress?.(decoder.progress);
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    options.onProgress?.(decoder.progress);
    return withCaptureWarning(decoder.result());
  } finally {
    close();
  }
}

/**
 * A captured application's trace (header.capture) whose application did not exit cleanly loads with one more
 * warning saying so (docs/capture.md); other traces keep at most the one format warning.
 */
function withCaptureWarning(trace: LoadedTrace): LoadedTrace {
  if (trace.header.capture === undefined) return trace;
  const warning = captureCompletenessWarning(trace.events);
  if (warning !== null)
    trace.warnings.push({ message: warning, position: trace.fileBytes, eventIndex: null });
  return trace;
}

/** Synchronous variant (CLI, tests, workers). */
export function loadTraceSync(input: TraceInput, options: LoadTraceOptions = {}): LoadedTrace {
  const { bytes, close } = openInput(input);
  try {
    const decoder = new TraceDecoder(bytes, { inflate: nodeInflate, strict: options.strict ?? false });
    while (decoder.step()) options.onProgress?.(decoder.progress);
    options.onProgress?.(decoder.progress);
    return withCaptureWarning(decoder.result());
  } finally {
    close();
  }
}
