// A handle on V8's garbage collector without starting node with --expose-gc.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gcFunction = runInNewContext('gc') as () => void;

/** Collects garbage (twice, so weak references and finalization leave nothing behind) and returns heap bytes in use. */
export function collectAndMeasureHeap(): number {
  gcFunction();
  gcFunction();
  return process.memoryUsage().heapUsed;
}
