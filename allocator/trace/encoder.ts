// Trace v1 encoder: pure, produces the bytes of a trace file piece by piece (preamble + header record,
// chunk records as the event log grows, index record at the end). The writer in src-main does the I/O and
// injects the compressor. Layout: docs/trace-format.md.
import { allColumnBits, eventColumnNames } from '../event-log.ts';
import { ByteWriter, MAX_VARINT_BYTES, putSvar, putUvar } from './bytes.ts';
import { crc32 } from './crc32.ts';
import type { TraceEvents } from './events.ts';
import {
  ChunkEncoding,
  ColumnMode,
  ColumnTag,
  MAX_EVENT_KIND,
  RecordType,
  TRACE_FORMAT_VERSION,
  TRACE_MAGIC,
  V1_COLUMN_COUNT,
  kindColumnUse,
  limits,
  type TraceHeader,
} from './format.ts';

/** Raw-deflate compressor (RFC 1951), injected by the host (Node zlib, CompressionStream, ...). */
export type Deflate = (raw: Uint8Array) => Uint8Array;

const utf8 = new TextEncoder();

/** Frames a record: type, payload length, CRC-32 over the type byte and the payload, payload. */
export function frameRecord(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = type;
  const dv = new DataView(out.buffer);
  dv.setUint32(1, payload.length, true);
  const crc = crc32(payload, crc32(out, 0, 0, 1));
  dv.setUint32(5, crc, true);
  out.set(payload, 9);
  return out;
}

/** File preamble (magic + version) followed by the header record. */
export function encodePreambleAndHeader(header: TraceHeader): Uint8Array {
  const json = utf8.encode(JSON.stringify(header));
  const record = frameRecord(RecordType.Header, json);
  const out = new Uint8Array(12 + record.length);
  out.set(TRACE_MAGIC, 0);
  new DataView(out.buffer).setUint32(8, TRACE_FORMAT_VERSION, true);
  out.set(record, 12);
  return out;
}

type ValueCodec = 'u8' | 'uvar' | 'svar' | 'deltaSvar' | 'deltaPerKind' | 'timeMicros';

/** How each v1 column's values are written. */
export const columnCodecs: readonly ValueCodec[] = [
  'u8', // kind
  'timeMicros', // time: ms -> integer µs, signed delta from the previous event
  'deltaPerKind', // id: signed delta from the previous event of the same kind
  'deltaSvar', // block: signed delta from the previous value in the column
  'svar', // type (-1 = none)
  'uvar', // offset
  'uvar', // size
  'uvar', // alignment
  'u8', // flags
  'uvar', // name
  'svar', // decision (-1 = none)
  'uvar', // stack
  'uvar', // code
  'uvar', // message
  'uvar', // thread
  'uvar', // usage
  'uvar', // typeBits
  'uvar', // format
  'uvar', // address
  'uvar', // stream (+ 1)
];

/** Which columns must hold non-negative safe integers (bytes and ids). */
const nonNegativeColumns = new Set<number>([
  ColumnTag.id,
  ColumnTag.block,
  ColumnTag.offset,
  ColumnTag.size,
  ColumnTag.alignment,
  ColumnTag.usage,
  ColumnTag.typeBits,
  ColumnTag.address,
  ColumnTag.stream,
]);

function badValue(column: string, index: number, value: number): RangeError {
  return new RangeError(
    `event ${index}: column "${column}" holds ${value}, which a trace cannot store (needs a non-negative integer below 2^53)`,
  );
}

/** columnCodecs as small integers, for writeColumn's per-value switch. */
const enum Codec {
  U8,
  Uvar,
  Svar,
  Delta,
  DeltaPerKind,
  TimeMicros,
}
const codecNumbers: Readonly<Record<ValueCodec, Codec>> = {
  u8: Codec.U8,
  uvar: Codec.Uvar,
  svar: Codec.Svar,
  deltaSvar: Codec.Delta,
  deltaPerKind: Codec.DeltaPerKind,
  timeMicros: Codec.TimeMicros,
};
const columnCodecNumbers: readonly Codec[] = columnCodecs.map((c) => codecNumbers[c]);
/** The columns that hold string ids. */
const STRING_COLUMNS: readonly number[] = [
  ColumnTag.name,
  ColumnTag.stack,
  ColumnTag.code,
  ColumnTag.message,
];

/** kindColumnUse by event kind byte (every byte has an entry: no undefined read in the hot loop). */
const useByKind = new Int32Array(256);
kindColumnUse.forEach((use, kind) => (useByKind[kind] = use));

/** writeValues' answer when a sparse write meets a value in a row whose kind does not use the column. */
const NEEDS_DENSE = -1;

/**
 * Writes one column of a chunk's events in the mode it needs and returns the mode (Zero: nothing
 * written): Dense for kind and time, and where an event whose kind does not use the column holds a value;
 * else Sparse, or Zero when every value is 0. `values` and `kinds` hold the chunk's events from index 0
 * (`values` copied into a Float64Array: one element type, so the loop's element reads stay monomorphic);
 * `firstEvent` is the first one's index in the log (for messages).
 */
function writeColumn(
  w: ByteWriter,
  tag: number,
  values: Float64Array,
  kinds: Uint8Array,
  count: number,
  firstEvent: number,
): number {
  const start = w.length;
  if (tag !== ColumnTag.kind && tag !== ColumnTag.time) {
    // Sparse is tried first (one pass decides and writes); a dense column is written again.
    const sparse = writeValues(w, tag, values, kinds, count, false, firstEvent);
    if (sparse !== NEEDS_DENSE) {
      if (sparse > 0) return ColumnMode.Sparse;
      w.length = start;
      return ColumnMode.Zero;
    }
    w.length = start;
  }
  writeValues(w, tag, values, kinds, count, true, firstEvent);
  return ColumnMode.Dense;
}

/**
 * Writes a column's values, of every event (`dense`) or of the events whose kind uses the column. Returns
 * how many values were not 0, or NEEDS_DENSE (sparse only) at the first event that holds a value its
 * kind does not use. Hot (every column of every event of a written trace): room for the whole column is
 * reserved once and the varints are written by position.
 */
function writeValues(
  w: ByteWriter,
  tag: number,
  values: Float64Array,
  kinds: Uint8Array,
  count: number,
  dense: boolean,
  firstEvent: number,
): number {
  const codec = columnCodecNumbers[tag]!;
  const bit = 1 << tag;
  const checkNonNegative = nonNegativeColumns.has(tag);
  // Every value the column can hold takes at most MAX_VARINT_BYTES (checked columns hold safe integers,
  // the others int32 ids and codes).
  const b = w.reserve(count * MAX_VARINT_BYTES);
  let p = w.length;
  let nonZero = 0;
  let prev = 0;
  const prevPerKind = new Float64Array(MAX_EVENT_KIND + 1);
  for (let i = 0; i < count; i++) {
    const kind = kinds[i]!;
    let v = values[i]!;
    if (!dense && (useByKind[kind]! & bit) === 0) {
      if (v !== 0) return NEEDS_DENSE;
      continue;
    }
    if (v !== 0) nonZero++;
    if (codec === Codec.TimeMicros) {
      v = Math.round(v * 1000);
      if (!Number.isSafeInteger(v) || v < 0)
        throw badValue(eventColumnNames[tag]!, firstEvent + i, values[i]!);
    } else if (checkNonNegative && (!Number.isSafeInteger(v) || v < 0)) {
      throw badValue(eventColumnNames[tag]!, firstEvent + i, v);
    }
    switch (codec) {
      case Codec.U8:
        b[p++] = v;
        break;
      case Codec.Uvar:
        p = putUvar(b, p, v);
        break;
      case Codec.Svar:
        p = putSvar(b, p, v);
        break;
      case Codec.Delta:
      case Codec.TimeMicros:
        p = putSvar(b, p, v - prev);
        prev = v;
        break;
      case Codec.DeltaPerKind: {
        const k = kind <= MAX_EVENT_KIND ? kind : 0;
        p = putSvar(b, p, v - prevPerKind[k]!);
        prevPerKind[k] = v;
        break;
      }
    }
  }
  w.length = p;
  return nonZero;
}

export interface ChunkIndexEntry {
  /** Byte offset of the chunk record in the file. */
  readonly fileOffset: number;
  readonly firstEvent: number;
  readonly eventCount: number;
}

export interface TraceEncoderOptions {
  /** Compress chunk bodies with raw deflate; absent: chunks are stored raw. */
  readonly deflate?: Deflate | null;
  /** Events per chunk at most (default 16384). */
  readonly maxEventsPerChunk?: number;
}

/**
 * Stateful encoder of one trace: remembers how many events, strings and decision records it has written
 * so every chunk carries exactly what is new (a torn tail leaves a self-consistent prefix).
 */
export class TraceEncoder {
  private readonly deflate: Deflate | null;
  readonly maxEventsPerChunk: number;
  eventsWritten = 0;
  stringsWritten = 1; // id 0 ("") is implicit
  bytesWritten = 0;
  private started = false;
  private readonly decisionWritten: boolean[] = [];
  readonly index: ChunkIndexEntry[] = [];
  private readonly scratch = new ByteWriter(1 << 16);
  private readonly body = new ByteWriter(1 << 16);
  /** A chunk's values of one column, whatever the column's element type (see writeColumn). */
  private wide = new Float64Array(0);

  constructor(options: TraceEncoderOptions = {}) {
    this.deflate = options.deflate ?? null;
    this.maxEventsPerChunk = Math.max(1, Math.min(options.maxEventsPerChunk ?? 16384, 1 << 20));
  }

  /**
   * The preamble and header record, which come first in the file. Usually called first; it may also come
   * after chunks were encoded (an import's header depends on the whole log): their index offsets then move
   * behind the header, and the caller writes these bytes before those chunks.
   */
  start(header: TraceHeader): Uint8Array {
    if (this.started) throw new Error('TraceEncoder.start called twice');
    this.started = true;
    const bytes = encodePreambleAndHeader(header);
    for (let k = 0; k < this.index.length; k++) {
      const e = this.index[k]!;
      this.index[k] = { ...e, fileOffset: e.fileOffset + bytes.length };
    }
    this.bytesWritten += bytes.length;
    return bytes;
  }

  /**
   * Encodes events [eventsWritten, upTo) as chunk records of at most maxEventsPerChunk events. With
   * `onlyFull`, a final partial chunk is left for later. Returns the framed records, in file order.
   */
  encodePending(events: TraceEvents, upTo: number = events.length, onlyFull = false): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (this.eventsWritten < upTo) {
      let count = Math.min(this.maxEventsPerChunk, upTo - this.eventsWritten);
      if (onlyFull && count < this.maxEventsPerChunk) break;
      let record = this.encodeChunk(events, this.eventsWritten, this.eventsWritten + count);
      // A body past the reader's limit (huge strings): halve the chunk until it fits.
      while (record === null) {
        if (count === 1)
          throw new RangeError(
            `event ${this.eventsWritten} needs a chunk body larger than ${limits.maxChunkBodyBytes} bytes`,
          );
        count = Math.ceil(count / 2);
        record = this.encodeChunk(events, this.eventsWritten, this.eventsWritten + count);
      }
      out.push(record);
    }
    return out;
  }

  /** One chunk record, or null when its body would pass the reader's size limit. */
  private encodeChunk(events: TraceEvents, start: number, end: number): Uint8Array | null {
    const cols = events.columns;
    const body = this.body;
    body.length = 0;

    // Columns that are 0 for every event are not read at all (a reader of shared memory another thread
    // never wrote would fault each of its pages in).
    const written = events.columnsWritten ?? allColumnBits;

    // New strings: those with ids below the largest id these events name (ids are dense, interned in event
    // order), so a chunk carries what it needs and a later chunk the rest.
    const strings = events.strings;
    const firstStringId = this.stringsWritten;
    let stringEnd = firstStringId;
    for (const tag of STRING_COLUMNS) {
      if ((written & (1 << tag)) === 0) continue;
      const column = cols[eventColumnNames[tag]!];
      for (let i = start; i < end; i++) if (column[i]! >= stringEnd) stringEnd = column[i]! + 1;
    }
    if (stringEnd > strings.length)
      throw new RangeError(`events ${start}..${end - 1} name strings that do not exist`);
    for (let s = firstStringId; s < stringEnd; s++) {
      if (strings[s]!.length > limits.maxStringUnits)
        throw new RangeError(
          `string ${s} is longer than ${limits.maxStringUnits} UTF-16 units, more than a trace holds`,
        );
    }
    // Lengths in UTF-16 code units, then all of them as one UTF-8 run (one encode/decode call per chunk).
    body.uvar(stringEnd - firstStringId);
    for (let s = firstStringId; s < stringEnd; s++) body.uvar(strings[s]!.length);
    const joined = utf8.encode(strings.slice(firstStringId, stringEnd).join(''));
    body.uvar(joined.length);
    body.bytes(joined);

    // New decision records.
    const decisions = events.decisions;
    const fresh: number[] = [];
    for (let d = 0; d < decisions.length; d++) {
      if (decisions[d] !== undefined && !this.decisionWritten[d]) fresh.push(d);
    }
    body.uvar(fresh.length);
    for (const d of fresh) {
      const bytes = utf8.encode(JSON.stringify(decisions[d]));
      body.uvar(d);
      body.uvar(bytes.length);
      body.bytes(bytes);
    }

    // Columns.
    const count = end - start;
    const kinds = cols.kind.subarray(start, end);
    if (this.wide.length < count) this.wide = new Float64Array(count);
    const wide = this.wide;
    body.uvar(V1_COLUMN_COUNT);
    for (let tag = 0; tag < V1_COLUMN_COUNT; tag++) {
      this.scratch.length = 0;
      let mode: number = ColumnMode.Zero;
      if ((written & (1 << tag)) !== 0) {
        wide.set(cols[eventColumnNames[tag]!].subarray(start, end));
        mode = writeColumn(this.scratch, tag, wide, kinds, count, start);
      }
      body.u8(tag);
      body.u8(mode);
      body.uvar(this.scratch.length);
      body.bytes(this.scratch.view());
    }

    const raw = body.view();
    if (raw.length > limits.maxChunkBodyBytes) return null;
    let stored: Uint8Array = raw;
    let encoding: number = ChunkEncoding.Raw;
    if (this.deflate) {
      const packed = this.deflate(raw);
      if (packed.length < raw.length) {
        stored = packed;
        encoding = ChunkEncoding.DeflateRaw;
      }
    }
    const payload = new ByteWriter(stored.length + 32);
    payload.uvar(start);
    payload.uvar(end - start);
    payload.uvar(firstStringId);
    payload.u8(encoding);
    payload.uvar(raw.length);
    payload.bytes(stored);
    const record = frameRecord(RecordType.Chunk, payload.view());

    // Commit state only once the chunk is fully encoded (a throw above leaves the encoder unchanged).
    this.index.push({ fileOffset: this.bytesWritten, firstEvent: start, eventCount: end - start });
    this.bytesWritten += record.length;
    this.eventsWritten = end;
    this.stringsWritten = stringEnd;
    for (const d of fresh) this.decisionWritten[d] = true;
    return record;
  }

  /** The optional footer: chunk index and totals. Written once, last. */
  finish(): Uint8Array {
    const w = new ByteWriter(64 + this.index.length * 12);
    w.uvar(this.eventsWritten);
    w.uvar(this.stringsWritten);
    w.uvar(this.index.length);
    for (const e of this.index) {
      w.uvar(e.fileOffset);
      w.uvar(e.firstEvent);
      w.uvar(e.eventCount);
    }
    const record = frameRecord(RecordType.Index, w.view());
    this.bytesWritten += record.length;
    return record;
  }
}
