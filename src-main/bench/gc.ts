// A handle on V8's garbage collector without starting node with --expose-gc.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gcFunction = runInNewContext('gc') as () => void;

/**
 * Collects garbage (twice, so weak references and finalization leave nothing behind) and returns the bytes
 * in use: of the JS heap, and of ArrayBuffer storage (typed arrays' contents, kept outside the JS heap).
 */
export function collectAndMeasureMemory(): { heapUsed: number; arrayBuffers: number } {
  gcFunction();
  gcFunction();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heapUsed, arrayBuffers };
}
