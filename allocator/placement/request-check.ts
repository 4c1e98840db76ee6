// Cheap sanity check of a placement request. The allocator validates user input (and reports
// InvalidAllocationCreateDesc); reaching a sub-allocator with a bad request is a bug of ours: Internal.
import { InternalError } from '../errors.ts';

const TWO_POW_31 = 2147483648;

/** Is `v` a power of two in [1, 2^53]? Exact for every safe integer. */
export function isPowerOfTwo(v: number): boolean {
  if (v >= 1 && v < TWO_POW_31) return (v | 0) === v && (v & (v - 1)) === 0;
  if (!(v >= TWO_POW_31 && v <= 9007199254740992)) return false;
  return 2 ** Math.round(Math.log2(v)) === v;
}

/** Is `v` a power of two below 2^31? (A few comparisons: the hot paths' test, before isPowerOfTwo.) */
export function isInt32PowerOfTwo(v: number): boolean {
  return (v | 0) === v && v > 0 && (v & (v - 1)) === 0;
}

/**
 * The common valid request, in a few comparisons small enough for V8 to inline into a hot path: int32
 * size > 0, alignment and granularity powers of two below 2^31, kind 0 or 1. False says nothing (the
 * request may still be valid: checkPlacementRequest decides).
 */
export function isSmallPlacementRequest(
  size: number,
  alignment: number,
  kind: number,
  granularity: number,
): boolean {
  return (
    (size | 0) === size &&
    size > 0 &&
    isInt32PowerOfTwo(alignment) &&
    isInt32PowerOfTwo(granularity) &&
    (kind === 0 || kind === 1)
  );
}

/** Throws InternalError unless size is a positive safe integer, alignment and granularity powers of two and kind 0 or 1. */
export function checkPlacementRequest(
  size: number,
  alignment: number,
  kind: number,
  granularity: number,
): void {
  if (
    !Number.isSafeInteger(size) ||
    size <= 0 ||
    !isPowerOfTwo(alignment) ||
    !isPowerOfTwo(granularity) ||
    (kind !== 0 && kind !== 1)
  ) {
    throw new InternalError(
      `Bad placement request: size ${size}, alignment ${alignment}, kind ${kind}, granularity ${granularity} ` +
        '(need a positive safe-integer size, power-of-two alignment and granularity, kind 0 or 1).',
    );
  }
}

/**
 * allocateAt's first test, before any chunk is looked at: whether `size` bytes can start at `offset` of a
 * region of `capacity` bytes with `allocated` already in use (offset a non-negative safe integer and a
 * multiple of `alignment`, the range inside the region, and that many bytes still unallocated). All bytes.
 */
export function placementAtMayFit(
  offset: number,
  size: number,
  alignment: number,
  capacity: number,
  allocated: number,
): boolean {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % alignment !== 0) return false;
  return offset + size <= capacity && size <= capacity - allocated;
}
