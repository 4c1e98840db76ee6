// Writes an imported dump as a VRAMscope trace through the trace writer. The file appears only when it is
// complete: it is written under a temporary name beside the target and renamed at the end.
import { renameSync, rmSync, statSync } from 'node:fs';
import type { ImportResult } from '../../allocator/import/index.ts';
import type { TraceHeader } from '../../allocator/trace/index.ts';
import { createTraceHeader } from '../trace/header.ts';
import { nodeDeflateFast } from '../trace/codec.ts';
import { TraceWriter } from '../trace/writer.ts';

export interface WrittenTrace {
  readonly path: string;
  readonly events: number;
  readonly bytes: number;
}

export interface ImportedTraceOptions {
  /** When the trace was made, as its header says (default: now). */
  readonly createdAt?: Date;
}

/** The trace header of an import: its device, where it came from and the foreign allocator's settings. */
export function importedTraceHeader(result: ImportResult, options: ImportedTraceOptions = {}): TraceHeader {
  const from = result.header.importedFrom;
  // The trace header's importedFrom is {format, source}; the layout version rides along.
  const importedFrom = { format: from.format, source: from.file, version: from.version };
  const params: Record<string, string> = { allocator: result.header.allocator.allocator };
  for (const [k, v] of Object.entries(result.header.allocator.settings)) params[k] = v;
  return createTraceHeader({
    device: result.header.device,
    importedFrom,
    session: { scenario: `import:${from.format}`, params },
    ...(options.createdAt ? { createdAt: options.createdAt } : {}),
  });
}

/** How an imported trace's chunks are compressed (the streamed writer uses the same: identical files). */
export const importDeflate = nodeDeflateFast;

/** The temporary name an import's trace is written under, beside `outPath` (renamed once complete). */
export function importTempPath(outPath: string): string {
  return `${outPath}.import-${process.pid}.tmp`;
}

export function writeImportedTrace(
  result: ImportResult,
  outPath: string,
  options: ImportedTraceOptions = {},
): WrittenTrace {
  const header = importedTraceHeader(result, options);
  const temp = importTempPath(outPath);
  try {
    const writer = new TraceWriter(temp, result.log, {
      header,
      flushIntervalMs: 0,
      deflate: importDeflate,
    });
    writer.close();
    renameSync(temp, outPath);
    return { path: outPath, events: writer.eventsWritten, bytes: statSync(outPath).size };
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
