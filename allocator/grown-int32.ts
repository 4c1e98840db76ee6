// Growing an Int32Array column (the indexes over a trace's ids and events keep their state in such
// columns and grow them as a stream gets longer).

/** A copy of `a` in a new array of `length` (>= a.length) elements, those past `a` set to `fill`. */
export function grownInt32(a: Int32Array, length: number, fill = 0): Int32Array<ArrayBuffer> {
  const out = new Int32Array(length);
  out.set(a);
  if (fill !== 0) out.fill(fill, a.length);
  return out;
}
