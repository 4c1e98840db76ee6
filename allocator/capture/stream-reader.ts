// Incremental reader of the capture stream (docs/capture.md "Stream format"): bytes in, in any chunking,
// decoded records out, in stream order. Pure and data-only. Unknown kinds and bytes past the fields this
// reader knows are skipped by the record's `bytes`; a partial record at the end is dropped with a warning.
import {
  CAPTURE_FORMAT_VERSION,
  CAPTURE_MAGIC,
  MAX_RECORD_BYTES,
  RECORD_HEADER_BYTES,
  STREAM_HEADER_BYTES,
  recordNameByKind,
  recordSpecs,
  type CaptureRecord,
  type CaptureStreamHeader,
  type FieldSpec,
} from './stream-format.ts';

/** The stream cannot be read on from `position` (bad magic, unknown version, an impossible record size). */
export class CaptureStreamError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.name = 'CaptureStreamError';
    this.position = position;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

const fieldBytes: Readonly<Record<FieldSpec[1], number>> = { u16: 2, u32: 4, i32: 4, u64: 8, f32: 4 };

/** Bytes of a kind's fixed payload (after the 24-byte record header). */
export function payloadBytes(fields: readonly FieldSpec[]): number {
  let n = 0;
  for (const [, type, count] of fields) n += fieldBytes[type] * (count ?? 1);
  return n;
}

/** payloadBytes of each known kind, by kind number (computed once, not per record). */
const fixedBytes: number[] = [];
for (const [kind, name] of recordNameByKind) fixedBytes[kind] = payloadBytes(recordSpecs[name].fields);

function readValue(dv: DataView, at: number, type: FieldSpec[1]): number | bigint {
  switch (type) {
    case 'u16':
      return dv.getUint16(at, true);
    case 'u32':
      return dv.getUint32(at, true);
    case 'i32':
      return dv.getInt32(at, true);
    case 'f32':
      return dv.getFloat32(at, true);
    case 'u64':
      return dv.getBigUint64(at, true);
  }
}

export interface StreamReaderStats {
  readonly bytes: number;
  readonly records: number;
  /** Records of kinds this reader does not know (skipped). */
  readonly unknownRecords: number;
}

/**
 * Feed bytes with `push`; each call returns the records completed by those bytes. `end()` says the stream
 * is over: a partial record left over becomes a warning. After a CaptureStreamError nothing more is read.
 */
export class CaptureStreamReader {
  header: CaptureStreamHeader | null = null;
  readonly warnings: string[] = [];
  private pending = new Uint8Array(0);
  /** Stream offset of pending[0]. */
  private offset = 0;
  private failed: CaptureStreamError | null = null;
  private records = 0;
  private unknown = 0;
  private readonly unknownKinds = new Set<number>();

  get stats(): StreamReaderStats {
    return { bytes: this.offset + this.pending.length, records: this.records, unknownRecords: this.unknown };
  }

  get error(): CaptureStreamError | null {
    return this.failed;
  }

  push(chunk: Uint8Array): CaptureRecord[] {
    if (this.failed) return [];
    if (this.pending.length === 0) this.pending = chunk.slice();
    else {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending);
      joined.set(chunk, this.pending.length);
      this.pending = joined;
    }
    const out: CaptureRecord[] = [];
    let at = 0;
    const buf = this.pending;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    try {
      if (this.header === null) {
        if (buf.length < STREAM_HEADER_BYTES) return out;
        this.header = this.readHeader(dv);
        at = STREAM_HEADER_BYTES;
      }
      while (buf.length - at >= RECORD_HEADER_BYTES) {
        const bytes = dv.getUint32(at + 4, true);
        if (bytes < RECORD_HEADER_BYTES || bytes % 8 !== 0 || bytes > MAX_RECORD_BYTES)
          throw new CaptureStreamError(
            `the record at byte ${this.offset + at} claims ${bytes} bytes (must be a multiple of 8, 24 to ${MAX_RECORD_BYTES})`,
            this.offset + at,
          );
        if (buf.length - at < bytes) break;
        const record = this.readRecord(dv, at, bytes);
        if (record) out.push(record);
        at += bytes;
      }
    } catch (error) {
      if (!(error instanceof CaptureStreamError)) throw error;
      this.failed = error;
      this.warnings.push(`${error.message}; the stream is read up to there`);
    }
    this.pending = this.pending.subarray(at);
    this.offset += at;
    return out;
  }

  /** The stream is over. Returns the warnings (a torn final record, unknown kinds). */
  end(): string[] {
    if (!this.failed) {
      if (this.header === null)
        this.warnings.push(
          this.pending.length === 0
            ? 'the capture stream is empty (the layer wrote nothing)'
            : `the capture stream ends inside its ${STREAM_HEADER_BYTES}-byte header`,
        );
      else if (this.pending.length > 0)
        this.warnings.push(
          `the capture stream ends inside a record at byte ${this.offset} (${this.pending.length} bytes of a torn final record were dropped)`,
        );
    }
    if (this.unknown > 0)
      this.warnings.push(
        `${this.unknown} record${this.unknown === 1 ? '' : 's'} of unknown kind ${[...this.unknownKinds].join(', ')} skipped (a newer layer?)`,
      );
    this.pending = new Uint8Array(0);
    return this.warnings;
  }

  private readHeader(dv: DataView): CaptureStreamHeader {
    for (let i = 0; i < CAPTURE_MAGIC.length; i++)
      if (dv.getUint8(i) !== CAPTURE_MAGIC[i])
        throw new CaptureStreamError('not a VRAMscope capture stream (bad magic)', 0);
    const version = dv.getUint32(8, true);
    if (version !== CAPTURE_FORMAT_VERSION)
      throw new CaptureStreamError(
        `capture stream version ${version}; this reader understands version ${CAPTURE_FORMAT_VERSION}`,
        8,
      );
    const headerBytes = dv.getUint32(12, true);
    if (headerBytes !== STREAM_HEADER_BYTES)
      throw new CaptureStreamError(`capture stream header of ${headerBytes} bytes (expected 32)`, 12);
    return { version, pid: dv.getUint32(16, true), startMonotonicNs: dv.getBigUint64(24, true) };
  }

  private readRecord(dv: DataView, at: number, bytes: number): CaptureRecord | null {
    const kind = dv.getUint16(at, true);
    const name = recordNameByKind.get(kind);
    const position = this.offset + at;
    if (name === undefined) {
      this.unknown++;
      this.unknownKinds.add(kind);
      return null;
    }
    const spec = recordSpecs[name];
    const end = at + bytes;
    let p = at + RECORD_HEADER_BYTES;
    if (p + fixedBytes[kind]! > end) {
      this.warnings.push(`the ${name} record at byte ${position} is shorter than its fields; skipped`);
      return null;
    }
    const fields: Record<string, number | bigint | (number | bigint)[]> = {};
    for (const [field, type, count] of spec.fields) {
      if (count === undefined) {
        fields[field] = readValue(dv, p, type);
        p += fieldBytes[type];
      } else {
        const values: (number | bigint)[] = [];
        for (let k = 0; k < count; k++, p += fieldBytes[type]) values.push(readValue(dv, p, type));
        fields[field] = values;
      }
    }
    const strings: Record<string, string> = {};
    for (const s of spec.strings) {
      if (p + 4 > end) {
        strings[s] = '';
        continue;
      }
      const n = dv.getUint32(p, true);
      p += 4;
      if (n > end - p) {
        this.warnings.push(`a string of the ${name} record at byte ${position} passes the record's end`);
        strings[s] = '';
        p = end;
        continue;
      }
      strings[s] = utf8.decode(new Uint8Array(dv.buffer, dv.byteOffset + p, n));
      p += n;
      p = at + Math.ceil((p - at) / 4) * 4;
    }
    const pcs: bigint[] = [];
    if ('pcs' in spec) {
      const count = fields.frameCount as number;
      for (let k = 0; k < count && p + 8 <= end; k++, p += 8) pcs.push(dv.getBigUint64(p, true));
    }
    this.records++;
    return {
      name,
      kind,
      flags: dv.getUint16(at + 2, true),
      threadId: dv.getUint32(at + 8, true),
      sequence: dv.getUint32(at + 12, true),
      timeNs: dv.getBigUint64(at + 16, true),
      position,
      fields,
      strings,
      pcs,
    } as unknown as CaptureRecord;
  }
}
