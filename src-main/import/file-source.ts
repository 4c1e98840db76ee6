// A ByteSource over a file: each pass streams it in 1 MiB chunks, so importers hold one chunk at a time.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ByteSource } from '../../allocator/import/index.ts';

const CHUNK_BYTES = 1 << 20;

export async function fileSource(path: string, chunkBytes = CHUNK_BYTES): Promise<ByteSource> {
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`${path} is not a file`);
  return {
    name: basename(path),
    size: info.size,
    async *chunks() {
      const stream = createReadStream(path, { highWaterMark: chunkBytes });
      for await (const chunk of stream) {
        const b = chunk as Buffer;
        yield new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      }
    },
    async head(n: number) {
      const handle = await open(path, 'r');
      try {
        const buf = new Uint8Array(Math.min(n, info.size));
        const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}
