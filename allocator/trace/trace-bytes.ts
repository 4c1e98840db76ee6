// Where the decoder reads a trace from: random access by byte range, so a file can be decoded record by
// record without holding it whole (src-main/trace/file-bytes.ts reads one record at a time from disk;
// memoryTraceBytes serves bytes already in memory without copying).

export interface TraceBytes {
  /** Total bytes of the trace. */
  readonly size: number;
  /**
   * Bytes [position, position + length), which the caller keeps within `size`. The view may be reused by
   * the next read: a caller copies (or decodes) what it keeps before reading again.
   */
  read(position: number, length: number): Uint8Array;
}

/** Bytes already in memory: every read is a view, nothing is copied. */
export function memoryTraceBytes(bytes: Uint8Array): TraceBytes {
  // A plain Uint8Array view (a Node Buffer subclass would make every element access polymorphic).
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    size: plain.length,
    read: (position, length) => plain.subarray(position, position + length),
  };
}

/** true for a TraceBytes, false for a byte array. */
export function isTraceBytes(input: Uint8Array | TraceBytes): input is TraceBytes {
  return !(input instanceof Uint8Array);
}
