// The benchmark workload format of ../shared/bench/gen-workload.mjs, one op per line:
//   a <id> <size> <alignment> <buffer|image> <gpu|upload|readback>
//   f <id>
// Lines starting with '#' and blank lines are ignored. Parsed into flat typed arrays so replaying touches
// no strings: gpu → GpuOnly, upload → CpuToGpu, readback → GpuToCpu, image → non-linear.
import type { MemoryLocation } from './types.ts';

export const enum WorkloadOp {
  Allocate = 0,
  Free = 1,
}

export const workloadLocations: readonly MemoryLocation[] = ['GpuOnly', 'CpuToGpu', 'GpuToCpu'];
const locationCodes: Record<string, number> = { gpu: 0, upload: 1, readback: 2 };

export interface Workload {
  readonly length: number;
  readonly op: Uint8Array;
  /** The workload's allocation id (free ops name the id they free). */
  readonly id: Float64Array;
  /** Bytes (allocate ops). */
  readonly size: Float64Array;
  /** Bytes (allocate ops). */
  readonly alignment: Float64Array;
  /** 1 = linear (buffer), 0 = image. */
  readonly linear: Uint8Array;
  /** Index into workloadLocations. */
  readonly location: Uint8Array;
  /** Largest allocation id + 1. */
  readonly idLimit: number;
}

export class WorkloadParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'WorkloadParseError';
  }
}

function parseCount(text: string | undefined, line: number, what: string, min: number): number {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new WorkloadParseError(line, `expected ${what}`);
  }
  return n;
}

export function parseWorkload(text: string): Workload {
  const lines = text.split('\n');
  const n = lines.length;
  const op = new Uint8Array(n);
  const id = new Float64Array(n);
  const size = new Float64Array(n);
  const alignment = new Float64Array(n);
  const linear = new Uint8Array(n);
  const location = new Uint8Array(n);
  const live = new Set<number>();
  let length = 0;
  let idLimit = 0;
  for (let i = 0; i < n; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const f = raw.split(/\s+/);
    const lineNo = i + 1;
    const theId = parseCount(f[1], lineNo, 'an allocation id', 0);
    if (f[0] === 'a') {
      if (f.length !== 6)
        throw new WorkloadParseError(lineNo, `an allocate line has 6 fields, got ${f.length}`);
      if (live.has(theId)) throw new WorkloadParseError(lineNo, `allocation id ${theId} is already live`);
      op[length] = WorkloadOp.Allocate;
      size[length] = parseCount(f[2], lineNo, 'a size in bytes > 0', 1);
      const a = parseCount(f[3], lineNo, 'an alignment', 1);
      if ((a & (a - 1)) !== 0 && a < 2 ** 31)
        throw new WorkloadParseError(lineNo, `alignment ${a} is not a power of two`);
      alignment[length] = a;
      if (f[4] !== 'buffer' && f[4] !== 'image')
        throw new WorkloadParseError(lineNo, `expected buffer or image (field 5)`);
      linear[length] = f[4] === 'buffer' ? 1 : 0;
      const loc = locationCodes[f[5]!];
      if (loc === undefined)
        throw new WorkloadParseError(lineNo, `expected gpu, upload or readback (field 6)`);
      location[length] = loc;
      live.add(theId);
    } else if (f[0] === 'f') {
      if (f.length !== 2) throw new WorkloadParseError(lineNo, `a free line has 2 fields, got ${f.length}`);
      if (!live.delete(theId))
        throw new WorkloadParseError(lineNo, `free of allocation id ${theId}, which is not live`);
      op[length] = WorkloadOp.Free;
    } else {
      throw new WorkloadParseError(lineNo, `expected "a" or "f" (field 1)`);
    }
    id[length] = theId;
    idLimit = Math.max(idLimit, theId + 1);
    length++;
  }
  return { length, op, id, size, alignment, linear, location, idLimit };
}
