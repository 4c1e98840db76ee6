// Raw deflate for trace chunks through Node's zlib (the pure codec in allocator/trace takes these injected).
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Deflate, Inflate } from '../../allocator/trace/index.ts';

/** zlib level 6: a good size/speed balance for chunk bodies of ~100 KiB. */
export const nodeDeflate: Deflate = (raw) => deflateRawSync(raw, { level: 6 });

/**
 * zlib level 1, for imported traces (docs/importers.md): on the 1M-entry PyTorch benchmark snapshot it
 * compresses the chunks in about a tenth of level 6's time (~15 ms against ~100 ms for all 667k events,
 * pinned core) for a 13% larger file (1.37 MB against 1.21 MB). Any level decodes the same.
 */
export const nodeDeflateFast: Deflate = (raw) => deflateRawSync(raw, { level: 1 });

/** Never produces more than `expectedLength` bytes (a hostile chunk cannot inflate without bound). */
export const nodeInflate: Inflate = (compressed, expectedLength) =>
  inflateRawSync(compressed, {
    maxOutputLength: Math.max(1, expectedLength),
    // One output buffer of the declared size (+1 so a longer stream is detected) instead of 16 KiB pieces
    // that zlib would concatenate afterwards; never more than deflate's ~1032:1 ratio allows for the input.
    chunkSize: Math.max(64, Math.min(expectedLength + 1, compressed.length * 1032 + 1024)),
  });
