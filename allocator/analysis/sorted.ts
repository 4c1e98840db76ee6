// Binary searches over the sorted Float64Array columns the analysis keeps (event indices, event times):
// the two bounds in one place instead of a loop in each caller.

/** How many of sorted[0, n) are below `value`: the first k with sorted[k] >= value (n when none). */
export function lowerBound(sorted: Float64Array, n: number, value: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many of sorted[0, n) are at or below `value`: the first k with sorted[k] > value (n when none). */
export function upperBound(sorted: Float64Array, n: number, value: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
