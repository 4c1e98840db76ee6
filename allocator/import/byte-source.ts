// Where importers read from: a re-readable stream of byte chunks. The CLI reads files through
// src-main/import/file-source.ts; a browser can wrap a File (Blob.stream()); tests wrap bytes in memory.
// Re-readable because the pickle reader makes two passes (see pickle.ts); each pass holds one chunk.

export interface ChunkOptions {
  readonly recycle?: boolean;
}

export interface ByteSource {
  /** File name or description, used in messages. */
  readonly name: string;
  /** Total bytes when known (for progress). */
  readonly size: number | null;
  /**
   * A fresh pass over the bytes, from the start. With `recycle` the consumer promises to keep no chunk (nor
   * any view of one) past the one after it: the source may then read into the memory of the chunk before
   * last instead of fresh memory (at hundreds of MB, fresh pages cost more than reading them).
   */
  chunks(options?: ChunkOptions): AsyncIterable<Uint8Array>;
  /** The first bytes (up to `n`), for format detection. */
  head(n: number): Promise<Uint8Array>;
}

/** A source over bytes already in memory, served in chunks of `chunkSize` (tests use small ones). */
export function bytesSource(name: string, bytes: Uint8Array, chunkSize = 1 << 20): ByteSource {
  return {
    name,
    size: bytes.length,
    async *chunks() {
      for (let i = 0; i < bytes.length; i += chunkSize)
        yield bytes.subarray(i, Math.min(bytes.length, i + chunkSize));
    },
    head(n: number) {
      return Promise.resolve(bytes.subarray(0, Math.min(n, bytes.length)));
    },
  };
}

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be';

/**
 * Text encoding of a JSON file from its first bytes: a BOM decides; without one, a NUL in the first two
 * bytes means UTF-16 (JSON text starts with an ASCII character); otherwise UTF-8.
 */
export function sniffTextEncoding(head: Uint8Array): { encoding: TextEncodingName; bomBytes: number } {
  const [a, b, c] = [head[0], head[1], head[2]];
  if (a === 0xef && b === 0xbb && c === 0xbf) return { encoding: 'utf-8', bomBytes: 3 };
  if (a === 0xff && b === 0xfe) return { encoding: 'utf-16le', bomBytes: 2 };
  if (a === 0xfe && b === 0xff) return { encoding: 'utf-16be', bomBytes: 2 };
  if (head.length >= 2 && a !== 0 && b === 0) return { encoding: 'utf-16le', bomBytes: 0 };
  if (head.length >= 2 && a === 0 && b !== 0) return { encoding: 'utf-16be', bomBytes: 0 };
  return { encoding: 'utf-8', bomBytes: 0 };
}

/**
 * Decodes a source as text, chunk by chunk (TextDecoder in streaming mode keeps split characters whole).
 * Invalid sequences become U+FFFD: VMA copies allocation names byte for byte ("ANSI"), so a name may not
 * be valid UTF-8, and that must not make the whole dump unreadable.
 */
export async function* textChunks(
  source: ByteSource,
  encoding: TextEncodingName,
  onBytes?: (done: number) => void,
): AsyncIterable<string> {
  // TextDecoder drops a leading BOM by default (ignoreBOM: false).
  const decoder = new TextDecoder(encoding);
  let done = 0;
  // The decoder keeps a copy of an unfinished character, never the chunk: chunks may be recycled.
  for await (const chunk of source.chunks({ recycle: true })) {
    done += chunk.length;
    const text = decoder.decode(chunk, { stream: true });
    onBytes?.(done);
    if (text.length > 0) yield text;
  }
  const tail = decoder.decode();
  if (tail.length > 0) yield tail;
}

/** What importers need of a browser File / Blob (structural, so allocator/ stays free of DOM types). */
export interface BlobLike {
  readonly size: number;
  readonly name?: string;
  stream(): ReadableStream<Uint8Array>;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/** A source over a File or Blob (drag and drop in the renderer): each pass streams it again. */
export function blobSource(blob: BlobLike, name = blob.name ?? 'dropped file'): ByteSource {
  return {
    name,
    size: blob.size,
    async *chunks() {
      const reader = blob.stream().getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          if (value !== undefined && value.length > 0) yield value;
        }
      } finally {
        reader.releaseLock();
      }
    },
    async head(n: number) {
      return new Uint8Array(await blob.slice(0, Math.min(n, blob.size)).arrayBuffer());
    },
  };
}
