// Raw inflate through the web platform's DecompressionStream ("deflate-raw"): available in browsers, workers
// and Node ≥ 20, so a renderer can load traces without Node's zlib. Output is capped at the declared size.
import type { AsyncInflate } from './decoder.ts';

export const webInflate: AsyncInflate = async (compressed, expectedLength) => {
  const input = new Blob([compressed.slice() as Uint8Array<ArrayBuffer>]);
  const reader = input.stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const out = new Uint8Array(expectedLength);
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (n + value.length > expectedLength) {
      await reader.cancel();
      throw new Error(`the body inflates to more than the ${expectedLength} bytes it claims`);
    }
    out.set(value, n);
    n += value.length;
  }
  return n === expectedLength ? out : out.subarray(0, n);
};
