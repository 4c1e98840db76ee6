// Growing a Float64Array column (the analysis keeps event indices, bytes and aggregates in such columns and
// grows them as a stream gets longer); grownInt32 is its Int32Array twin.

/** A copy of `a` in a new array of `length` (>= a.length) elements, those past `a` set to `fill`. */
export function grownFloat64(a: Float64Array, length: number, fill = 0): Float64Array<ArrayBuffer> {
  const out = new Float64Array(length);
  out.set(a);
  if (fill !== 0) out.fill(fill, a.length);
  return out;
}
