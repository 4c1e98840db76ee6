// Loads a trace file (or bytes) record by record with progress. Malformed input: a TraceFormatError when
// nothing can be loaded (bad magic, unknown version, bad header), otherwise the valid prefix plus one
// warning saying at which byte and event loading stopped. Data only: nothing in a trace is evaluated.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { captureCompletenessWarning } from '../../allocator/analysis/capture.ts';
import { TraceDecoder, type DecodeProgress, type LoadedTrace } from '../../allocator/trace/index.ts';
import { nodeInflate } from './codec.ts';

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
}

/** Yields to the event loop about this often while decoding, so a main process stays responsive. */
const YIELD_EVERY_MS = 50;

export async function loadTrace(
  pathOrBytes: string | Uint8Array,
  options: LoadTraceOptions = {},
): Promise<LoadedTrace> {
  const bytes = typeof pathOrBytes === 'string' ? await readFile(pathOrBytes) : pathOrBytes;
  const decoder = new TraceDecoder(bytes, { inflate: nodeInflate, strict: options.strict ?? false });
  let lastYield = performance.now();
  while (decoder.step()) {
    options.onProgress?.(decoder.progress);
    if (performance.now() - lastYield > YIELD_EVERY_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  }
  options.onProgress?.(decoder.progress);
  return withCaptureWarning(decoder.result());
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
export function loadTraceSync(pathOrBytes: string | Uint8Array, options: LoadTraceOptions = {}): LoadedTrace {
  const bytes = typeof pathOrBytes === 'string' ? readFileSync(pathOrBytes) : pathOrBytes;
  const decoder = new TraceDecoder(bytes, { inflate: nodeInflate, strict: options.strict ?? false });
  while (decoder.step()) options.onProgress?.(decoder.progress);
  options.onProgress?.(decoder.progress);
  return withCaptureWarning(decoder.result());
}
