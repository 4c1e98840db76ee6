// Trace v1 encoder: pure, produces the bytes of a trace file piece by piece (preamble + header record,
// chunk records as the event log grows, index record at the end). The writer in src-main does the I/O and
// injects the compressor. Layout: docs/trace-format.md.
import { eventColumnNames } from '../event-log.ts';
import { ByteWriter } from './bytes.ts';
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

/**
 * Writes one column of a chunk's events. `values` and `kinds` hold the chunk's events from index 0 (`values`
 * copied into a Float64Array: one element type, so the loop's element reads stay monomorphic);
 * `firstEvent` is the first one's index in the log (for messages).
 */
function writeColumn(
  w: ByteWriter,
  tag: number,
  values: Float64Array,
  kinds: Uint8Array,
  count: number,
  mode: number,
  firstEvent: number,
): void {
  const codec = columnCodecs[tag]!;
  const dense = mode === ColumnMode.Dense;
  const bit = 1 << tag;
  const name = eventColumnNames[tag]!;
  const checkNonNegative = nonNegativeColumns.has(tag);
  let prev = 0;
  const prevPerKind = new Float64Array(MAX_EVENT_KIND + 1);
  for (let i = 0; i < count; i++) {
    const kind = kinds[i]!;
    if (!dense && ((kindColumnUse[kind] ?? 0) & bit) === 0) continue;
    let v = values[i]!;
    if (codec === 'timeMicros') {
      v = Math.round(v * 1000);
      if (!Number.isSafeInteger(v) || v < 0) throw badValue(name, firstEvent + i, values[i]!);
    } else if (checkNonNegative && (!Number.isSafeInteger(v) || v < 0)) {
      throw badValue(name, firstEvent + i, v);
    }
    switch (codec) {
      case 'u8':
        w.u8(v);
        break;
      case 'uvar':
        w.uvar(v);
        break;
      case 'svar':
        w.svar(v);
        break;
      case 'deltaSvar':
      case 'timeMicros':
        w.svar(v - prev);
        prev = v;
        break;
      case 'deltaPerKind': {
        const k = kind <= MAX_EVENT_KIND ? kind : 0;
        w.svar(v - prevPerKind[k]!);
        prevPerKind[k] = v;
        break;
      }
    }
  }
}

/** How a column of a chunk's events is stored (`values`, `kinds`: as for writeColumn). */
function chooseMode(tag: number, values: Float64Array, kinds: Uint8Array, count: number): number {
  if (tag === ColumnTag.kind || tag === ColumnTag.time) return ColumnMode.Dense;
  const bit = 1 << tag;
  let used = false;
  for (let i = 0; i < count; i++) {
    if (values[i] !== 0) {
      if (((kindColumnUse[kinds[i]!] ?? 0) & bit) === 0) return ColumnMode.Dense;
      used = true;
    }
  }
  return used ? ColumnMode.Sparse : ColumnMode.Zero;
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

    // New strings: everything interned since the last chunk (ids are dense and only grow).
    // New strings: those with ids below the largest id these events name (ids are dense, interned in event
    // order), so a chunk carries what it needs and a later chunk the rest.
    const strings = events.strings;
    const firstStringId = this.stringsWritten;
    let stringEnd = firstStringId;
    for (const column of [cols.name, cols.stack, cols.code, cols.message]) {
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
      const values = cols[eventColumnNames[tag]!];
      wide.set(values.subarray(start, end));
      const mode = chooseMode(tag, wide, kinds, count);
      this.scratch.length = 0;
      if (mode !== ColumnMode.Zero) writeColumn(this.scratch, tag, wide, kinds, count, mode, start);
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
