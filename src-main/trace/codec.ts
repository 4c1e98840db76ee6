// Raw deflate for trace chunks through Node's zlib (the pure codec in allocator/trace takes these injected).
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Deflate, Inflate } from '../../allocator/trace/index.ts';

/** zlib level 6: a good size/speed balance for chunk bodies of ~100 KiB. */
export const nodeDeflate: Deflate = (raw) => deflateRawSync(raw, { level: 6 });

/** Never produces more than `expectedLength` bytes (a hostile chunk cannot inflate without bound). */
export const nodeInflate: Inflate = (compressed, expectedLength) =>
  inflateRawSync(compressed, { maxOutputLength: Math.max(1, expectedLength) });
