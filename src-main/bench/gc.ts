// A handle on V8's garbage collector without starting node with --expose-gc.
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gcFunction = runInNewContext('gc') as () => void;

/** V8's heap spaces of compiled machine code (names as v8.getHeapSpaceStatistics() gives them). */
const codeSpaces = new Set(['code_space', 'code_large_object_space']);
/** Full collections at most per reading (see collectAndMeasureMemory); the bench's readings took 3–6. */
const MAX_COLLECTIONS = 10;

/** Bytes of the JS heap's data spaces in use now: every space but compiled code. */
function heapDataBytes(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (!codeSpaces.has(space.space_name)) bytes += space.space_used_size;
  }
  return bytes;
}

/**
 * Collects garbage and returns the bytes in use: of the JS heap, of its data (every space but compiled
 * code: objects, arrays, strings, bytecode), and of ArrayBuffer storage (typed arrays' contents, kept
 * outside the JS heap).
 *
 * `heapData` is the figure to difference around a workload, read right after a full collection and only
 * once another collection no longer changes it (at most MAX_COLLECTIONS). Two collections and
 * `process.memoryUsage().heapUsed` read afterwards moved the bench's bookkeeping figure by up to ±40 bytes
 * per allocation (4,500–6,000 allocations, so 200–250 KB): code TurboFan installs or drops between two
 * readings counts in heapUsed, and a reading taken a little after a collection, or after only two, differed
 * from the next one by up to a 256 KB heap page with nothing allocated in between.
 */
export function collectAndMeasureMemory(): { heapUsed: number; heapData: number; arrayBuffers: number } {
  gcFunction();
  let heapData = heapDataBytes();
  for (let i = 1; i < MAX_COLLECTIONS; i++) {
    gcFunction();
    const again = heapDataBytes();
    if (again === heapData) break;
    heapData = again;
  }
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heapUsed, heapData, arrayBuffers };
}
