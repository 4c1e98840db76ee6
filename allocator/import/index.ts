// Importers for other tools' memory dumps: format detection and one entry point. Pure (no Node APIs):
// the CLI feeds them a file through src-main/import/file-source.ts; a browser could feed a File.
import type { EventLog, EventLogOptions } from '../event-log.ts';
import type { DeviceDescription } from '../device.ts';
import { sniffTextEncoding, type ByteSource } from './byte-source.ts';
import { importGpuMemDump } from './gpumemdump.ts';
import {
  ImportError,
  importFormatNames,
  type ImportFormat,
  type ImportProgress,
  type ImportResult,
} from './model.ts';
import { importPytorchSnapshot, type EntryMemoryProvider } from './pytorch.ts';
import { detectRmv, importRmv } from './rmv.ts';

export * from './model.ts';
export { blobSource, bytesSource, type BlobLike, type ByteSource, type ChunkOptions } from './byte-source.ts';
export { endState, EndStateReplay, type EndState } from './end-state.ts';
export { importGpuMemDump } from './gpumemdump.ts';
export {
  importPytorchSnapshot,
  pytorchEntryColumnBytes,
  pytorchTimelineShape,
  type EntryMemoryProvider,
  type TimelineShape,
} from './pytorch.ts';
export { importRmv } from './rmv.ts';

export interface ImportOptions {
  /** Skip detection and read the file as this format (errors then name it). */
  readonly format?: ImportFormat;
  readonly onProgress?: ImportProgress;
  /** On a malformed file, keep what was read before the problem (with a warning) instead of failing. */
  readonly partial?: boolean;
  /**
   * Makes the event log a PyTorch snapshot's timeline is written into (default `new EventLog(options)`), so
   * the caller can watch it grow: the CLI encodes the trace on another thread meanwhile, the web server
   * analyses it. `device`: the device the import will describe, as far as it is known when the timeline
   * starts: its memory types and heaps are final, their sizes and names may not be. Other formats build
   * their logs themselves.
   */
  readonly eventLog?: (options: EventLogOptions, device: DeviceDescription) => EventLog;
  /** Where a PyTorch snapshot's per-entry columns live while it is read (EntryMemoryProvider). */
  readonly entryMemory?: EntryMemoryProvider;
}

const HEAD_BYTES = 4096;

/** Decodes the first bytes for sniffing (UTF-16 aware); never throws. */
function headText(head: Uint8Array): string {
  const { encoding, bomBytes } = sniffTextEncoding(head);
  return new TextDecoder(encoding).decode(head.subarray(bomBytes));
}

/**
 * Which format a file is, from its first bytes: an RMV trace (the RMT magic "MINI" or the RDF magic
 * "AMD_RDF "), a pickle opcode stream (protocol 2+ starts with 0x80;
 * protocols 0/1 with "(", "}" or "]"), or JSON whose first key says VMA/D3D12MA ("General", "Total",
 * "Heap N") or PyTorch ("segments", "device_traces"); a JSON array is PyTorch's bare segment list.
 */
export function detectFormat(head: Uint8Array): ImportFormat | null {
  if (head.length === 0) return null;
  if (detectRmv(head) !== null) return 'rmv';
  const b0 = head[0]!;
  if (b0 === 0x80 || b0 === 0x28 || b0 === 0x7d || b0 === 0x5d) return 'pytorch';
  const text = headText(head).trimStart();
  if (text.startsWith('[')) return 'pytorch';
  if (!text.startsWith('{')) return null;
  const key = /^\{\s*"([^"]*)"/.exec(text)?.[1];
  if (key === 'segments' || key === 'device_traces' || key === 'allocator_settings') return 'pytorch';
  if (key === 'General') {
    if (/"API"\s*:\s*"Direct3D 12"/.test(text)) return 'd3d12ma';
    return 'vma';
  }
  if (key === 'Total' || (key !== undefined && /^Heap \d+$/.test(key))) return 'vma';
  return null;
}

/**
 * Why the first bytes match no format: only the kind of start (empty, JSON of another shape, something
 * else), never the bytes themselves. Errors may reach a client that did not write the file.
 */
function describeHead(head: Uint8Array): string {
  if (head.length === 0) return 'it is empty';
  const text = headText(head.subarray(0, 64)).trimStart();
  if (text.startsWith('{')) return "it is JSON, but its first key is none of those formats' (at byte 0)";
  return 'its first bytes match none of those formats (at byte 0)';
}

/** Detects the format (unless given) and imports the source. Throws ImportError with one clear sentence. */
export async function importSource(source: ByteSource, options: ImportOptions = {}): Promise<ImportResult> {
  const head = await source.head(HEAD_BYTES);
  const format = options.format ?? detectFormat(head);
  if (format === null) {
    throw new ImportError(
      null,
      `${source.name} is not a VMA JSON dump, a D3D12MA JSON dump, a PyTorch memory snapshot or an RMV trace: ${describeHead(head)}`,
    );
  }
  if (head.length === 0)
    throw new ImportError(format, `${source.name} is empty; expected a ${importFormatNames[format]}`);
  const common = {
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    partial: options.partial ?? false,
  };
  try {
    if (format === 'rmv') return await importRmv(source, common);
    return format === 'pytorch'
      ? await importPytorchSnapshot(source, {
          ...common,
          ...(options.eventLog ? { eventLog: options.eventLog } : {}),
          ...(options.entryMemory ? { entryMemory: options.entryMemory } : {}),
        })
      : await importGpuMemDump(source, { ...common, expected: options.format ?? null, hint: format });
  } catch (error) {
    // Field-level messages ("X.Size should be ...") get the file and the format in front.
    if (error instanceof ImportError && !error.message.startsWith(source.name)) {
      const f = error.format ?? format;
      throw new ImportError(f, `${source.name} (read as a ${importFormatNames[f]}): ${error.message}`);
    }
    throw error;
  }
}
