// Byte-level building blocks of the trace format: a growable writer and a bounds-checked reader with
// unsigned LEB128 varints and a sign-magnitude signed varint. Both are exact for every safe integer
// (|v| <= 2^53 - 1): above 2^31 they use multiplication/division, never 32-bit bit operations.

/** Thrown by ByteReader; `offset` is relative to the reader's buffer. Decoders turn it into TraceFormatError. */
export class ByteFault extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ByteFault';
    this.offset = offset;
  }
}

const TWO_31 = 0x80000000;
const TWO_32 = 0x100000000;

/** Bytes a uvar or svar of a safe integer takes at most (53 bits: 8 groups of 7; svar: 6 + 7 × 7). */
export const MAX_VARINT_BYTES = 8;

/**
 * Writes `v` as an unsigned LEB128 varint at b[p] and returns the position after it; `b` has room for
 * MAX_VARINT_BYTES there. Exact for every non-negative safe integer.
 */
export function putUvar(b: Uint8Array, p: number, v: number): number {
  if (v >= TWO_31) {
    // Above 2^31 (addresses, large sizes): the low 32 bits exactly (ToUint32 of an integer is it modulo
    // 2^32) give the first four groups with integer operations; the rest, v / 2^28 (< 2^25), follows.
    // Floating-point % and Math.floor per group cost several times more.
    const low = v >>> 0;
    b[p++] = (low & 0x7f) | 0x80;
    b[p++] = ((low >>> 7) & 0x7f) | 0x80;
    b[p++] = ((low >>> 14) & 0x7f) | 0x80;
    b[p++] = ((low >>> 21) & 0x7f) | 0x80;
    v = ((v - low) / TWO_32) * 16 + (low >>> 28);
  }
  while (v >= 0x80) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

/**
 * Writes `v` as a signed varint, sign-magnitude, at b[p] and returns the position after it (room as for
 * putUvar): first byte = continuation bit 7, magnitude bits 0-5 in bits 1-6, sign in bit 0; the rest of
 * the magnitude (divided by 64) follows as uvar. Exact for |v| <= 2^53 - 1, where plain zigzag (2|v| +
 * sign) would overflow the safe range.
 */
export function putSvar(b: Uint8Array, p: number, v: number): number {
  let sign = 0;
  if (v < 0) {
    sign = 1;
    v = -v;
  }
  if (v < 64) {
    b[p] = (v << 1) | sign;
    return p + 1;
  }
  if (v < TWO_31) {
    b[p] = ((v & 63) << 1) | sign | 0x80;
    return putUvar(b, p + 1, v >>> 6);
  }
  const high = Math.floor(v / 64);
  b[p] = ((v - high * 64) << 1) | sign | 0x80;
  return putUvar(b, p + 1, high);
}

export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  /** Little-endian unsigned 32-bit. */
  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    let p = this.length;
    b[p++] = v & 0xff;
    b[p++] = (v >>> 8) & 0xff;
    b[p++] = (v >>> 16) & 0xff;
    b[p++] = (v >>> 24) & 0xff;
    this.length = p;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  /** Unsigned LEB128 of a non-negative safe integer (at most 8 bytes). */
  uvar(v: number): void {
    this.ensure(MAX_VARINT_BYTES);
    this.length = putUvar(this.buf, this.length, v);
  }

  /** Signed varint (see putSvar). */
  svar(v: number): void {
    this.ensure(MAX_VARINT_BYTES);
    this.length = putSvar(this.buf, this.length, v);
  }

  /**
   * Room for `extra` more bytes; returns the buffer to write them into from `length` on (valid until the
   * next call that may grow it). A caller writing many varints reserves once and advances `length` itself.
   */
  reserve(extra: number): Uint8Array {
    this.ensure(extra);
    return this.buf;
  }

  /** A copy of the written bytes. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** A view of the written bytes (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

const MAX_UVAR_HIGH = Math.floor(Number.MAX_SAFE_INTEGER / 64);

export class ByteReader {
  pos: number;
  readonly end: number;
  readonly buf: Uint8Array;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.pos >= this.end) throw new ByteFault('unexpected end of data', this.pos);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    if (this.pos + 4 > this.end) throw new ByteFault('unexpected end of data', this.pos);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
  }

  bytes(n: number): Uint8Array {
    if (n > this.end - this.pos)
      throw new ByteFault(`needs ${n} bytes but only ${this.end - this.pos} remain`, this.pos);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Unsigned LEB128; rejects more than 8 bytes and values past 2^53 - 1. */
  uvar(): number {
    const b = this.buf;
    const end = this.end;
    const start = this.pos;
    let p = start;
    if (p >= end) throw new ByteFault('unexpected end of data in a varint', p);
    let byte = b[p++]!;
    if (byte < 0x80) {
      this.pos = p;
      return byte;
    }
    let value = byte & 0x7f;
    let scale = 128;
    for (let i = 1; ; i++) {
      if (p >= end) throw new ByteFault('unexpected end of data in a varint', p);
      byte = b[p++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      if (i >= 7) throw new ByteFault('varint longer than 8 bytes', start);
      scale *= 128;
    }
    if (value > Number.MAX_SAFE_INTEGER) throw new ByteFault('value past 2^53 - 1', start);
    this.pos = p;
    return value;
  }

  /** Inverse of ByteWriter.svar. */
  svar(): number {
    const start = this.pos;
    const first = this.u8();
    let magnitude = (first >> 1) & 0x3f;
    if (first & 0x80) {
      const high = this.uvar();
      if (high > MAX_UVAR_HIGH) throw new ByteFault('value past 2^53 - 1', start);
      magnitude += high * 64;
      if (magnitude > Number.MAX_SAFE_INTEGER) throw new ByteFault('value past 2^53 - 1', start);
    }
    return first & 1 ? 0 - magnitude : magnitude;
  }
}
