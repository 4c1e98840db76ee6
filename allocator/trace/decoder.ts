// Trace v1 decoder: pure and data-only (JSON.parse and integer arithmetic; nothing is evaluated). It walks
// the file record by record so a caller can report progress; every malformed input becomes one
// TraceFormatError (fatal: nothing loadable) or one warning (the valid prefix is kept and loading stops).
import {
  allocateEventColumns,
  columnBits,
  eventColumnNames,
  grownEventColumns,
  type EventColumns,
  type MutableEventColumns,
} from '../event-log.ts';
import type { MemoryTypeDecision } from '../types.ts';
import { ByteFault, ByteReader } from './bytes.ts';
import { crc32 } from './crc32.ts';
import type { TraceEvents } from './events.ts';
import { isTraceBytes, memoryTraceBytes, type TraceBytes } from './trace-bytes.ts';
import {
  ChunkEncoding,
  ColumnMode,
  ColumnTag,
  FILE_PREAMBLE_BYTES,
  MAX_EVENT_KIND,
  RECORD_FRAME_BYTES,
  RecordType,
  TRACE_FORMAT_VERSION,
  TRACE_MAGIC,
  V1_COLUMN_COUNT,
  TraceFormatError,
  kindColumnUse,
  knownEventKinds,
  limits,
  validateDecision,
  validateHeader,
  type TraceHeader,
} from './format.ts';

/** Raw-inflate (RFC 1951), injected by the host; must throw on bad data and never return more than asked. */
export type Inflate = (compressed: Uint8Array, expectedLength: number) => Uint8Array;

export interface TraceWarning {
  readonly message: string;
  /** Byte offset in the file. */
  readonly position: number;
  readonly eventIndex: number | null;
}

export interface LoadedEvents extends TraceEvents {
  readonly columns: EventColumns;
  readonly strings: string[];
  readonly decisions: (MemoryTypeDecision | undefined)[];
}

export interface LoadedTrace {
  readonly header: TraceHeader;
  readonly events: LoadedEvents;
  /**
   * At most one from the decoder: loading stops at the first problem after the header. loadTrace adds one
   * for a captured application that did not exit cleanly (docs/capture.md).
   */
  readonly warnings: TraceWarning[];
  /** true when the end-of-trace index was found and agrees (the writer closed the file). */
  readonly complete: boolean;
  readonly fileBytes: number;
  readonly chunkCount: number;
}

export interface DecodeOptions {
  readonly inflate?: Inflate | null;
  /** Throw TraceFormatError for problems after the header instead of keeping the prefix with a warning. */
  readonly strict?: boolean;
  /**
   * Most events the columns are sized for before decoding (from the records' event counts, which a hostile
   * file can inflate); a longer trace grows them by doubling. Default 4,194,304 (~440 MB of columns).
   */
  readonly maxInitialEvents?: number;
  /**
   * Columns in SharedArrayBuffers, so that another thread can read the events decoded so far in place
   * (`eventsSoFar`) while the rest is decoded.
   */
  readonly sharedMemory?: boolean;
}

const DEFAULT_MAX_INITIAL_EVENTS = 1 << 22;

export interface DecodeProgress {
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly events: number;
}

interface Frame {
  readonly type: number;
  /** Offset of the record (its type byte). */
  readonly position: number;
  readonly payloadStart: number;
  readonly payloadEnd: number;
  /** The payload (a view that the next read may reuse); null when longer than MAX_WHOLE_RECORD. */
  readonly payload: Uint8Array | null;
}

/**
 * Longest record payload read in one piece, bytes: a chunk's largest body plus room for its leading
 * fields and deflate's overhead on incompressible data. A longer record cannot be a valid chunk or header:
 * its checksum is computed piece by piece and only its leading bytes are read, so a file source never holds
 * more than this of the file at once.
 */
const MAX_WHOLE_RECORD = limits.maxChunkBodyBytes + (1 << 20);
/** Piece size for the checksum of a record longer than MAX_WHOLE_RECORD. */
const CRC_PIECE_BYTES = 1 << 20;
/** A chunk's leading fields: three uvars, the encoding byte and one uvar, each uvar at most 8 bytes. */
const CHUNK_HEAD_BYTES = 4 * 8 + 1;
/** The end-of-trace index's three uvars. */
const INDEX_HEAD_BYTES = 3 * 8;

/** Little-endian u32 at `at` of `b`. */
function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

/** Runs `read` over bytes that start at file offset `base`, so a ByteFault it throws names the file offset. */
function atFileOffset<T>(base: number, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ByteFault) throw new ByteFault(error.message, base + error.offset);
    throw error;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

type NumericColumn = Float64Array | Int32Array | Uint32Array | Int16Array | Uint8Array;

// Local copies of imported constants: hot loops below read them per event.
const USE: readonly number[] = kindColumnUse.slice();
const KNOWN_KIND: Uint8Array = knownEventKinds.slice();
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const K_ALLOCATE = 1;
const K_FREE = 2;
const K_FAILURE = 3;
const K_BLOCK_CREATE = 4;
const K_BLOCK_DESTROY = 5;
const K_RENAME = 6;
const K_MOVE = 10;
const K_BUDGET = 7;
const MAX_STRING_UNITS = limits.maxStringUnits;
const TAG_TIME = ColumnTag.time;
const TAG_ID = ColumnTag.id;
const TAG_BLOCK = ColumnTag.block;
const TAG_TYPE = ColumnTag.type;
const TAG_OFFSET = ColumnTag.offset;
const TAG_SIZE = ColumnTag.size;
const TAG_ALIGNMENT = ColumnTag.alignment;
const TAG_FLAGS = ColumnTag.flags;
const TAG_DECISION = ColumnTag.decision;
const TAG_THREAD = ColumnTag.thread;
const TAG_USAGE = ColumnTag.usage;
const TAG_TYPE_BITS = ColumnTag.typeBits;
const TAG_FORMAT = ColumnTag.format;
const TAG_ADDRESS = ColumnTag.address;
const TAG_STREAM = ColumnTag.stream;

/** Ids below this are kept in a byte map (fast); larger ones in a Set. Bounds what a hostile id costs. */
const DENSE_IDS = 1 << 24;

/** A set of non-negative integer ids, dense for the small ids that allocators hand out. */
class IdSet {
  private dense = new Uint8Array(1024);
  private readonly sparse = new Set<number>();

  has(id: number): boolean {
    if (id < DENSE_IDS && Number.isInteger(id)) return id < this.dense.length && this.dense[id] === 1;
    return this.sparse.has(id);
  }

  add(id: number): void {
    if (id < DENSE_IDS && Number.isInteger(id)) {
      if (id >= this.dense.length) {
        let n = this.dense.length * 2;
        while (n <= id) n *= 2;
        const next = new Uint8Array(Math.min(n, DENSE_IDS));
        next.set(this.dense);
        this.dense = next;
      }
      this.dense[id] = 1;
    } else this.sparse.add(id);
  }

  /** Removes; returns false when it was not there. */
  delete(id: number): boolean {
    if (id < DENSE_IDS && Number.isInteger(id)) {
      if (id >= this.dense.length || this.dense[id] !== 1) return false;
      this.dense[id] = 0;
      return true;
    }
    return this.sparse.delete(id);
  }
}

interface ValueFailure {
  readonly index: number;
  readonly what: string;
  readonly fault: ByteFault | null;
}

/** Reads one signed varint at the cursor: one-byte values inline, longer ones through the reader. */
interface Cursor {
  readonly buf: Uint8Array;
  readonly stop: number;
  pos: number;
}

const SPARSE_SKIP = (dense: boolean, kind: number, bit: number): boolean =>
  !dense && (USE[kind]! & bit) === 0;

function slowS(c: Cursor, r: ByteReader): number {
  r.pos = c.pos;
  const v = r.svar();
  c.pos = r.pos;
  return v;
}
function slowU(c: Cursor, r: ByteReader): number {
  r.pos = c.pos;
  const v = r.uvar();
  c.pos = r.pos;
  return v;
}

function decodeFlags(
  out: Uint8Array,
  r: ByteReader,
  kinds: Uint8Array,
  first: number,
  end: number,
  dense: boolean,
  bit: number,
): ValueFailure | null {
  const buf = r.buf;
  const stop = r.end;
  let pos = r.pos;
  for (let i = first; i < end; i++) {
    if (SPARSE_SKIP(dense, kinds[i]!, bit)) continue;
    if (pos >= stop)
      return {
        index: i,
        what: 'unexpected end of data',
        fault: new ByteFault('unexpected end of data', pos),
      };
    out[i] = buf[pos++]!;
  }
  r.pos = pos;
  return null;
}

function decodeTime(out: Float64Array, r: ByteReader, first: number, end: number): ValueFailure | null {
  const c: Cursor = { buf: r.buf, stop: r.end, pos: r.pos };
  const buf = c.buf;
  let micros = 0;
  for (let i = first; i < end; i++) {
    const b = c.pos < c.stop ? buf[c.pos]! : 0x80;
    if (b < 0x80) {
      c.pos++;
      micros += b & 1 ? 0 - (b >> 1) : b >> 1;
    } else micros += slowS(c, r);
    if (micros < 0 || micros > MAX_SAFE)
      return { index: i, what: `${micros} µs is negative or past 2^53 - 1`, fault: null };
    out[i] = micros / 1000;
  }
  r.pos = c.pos;
  return null;
}

/** Signed deltas; `perKind`: from the previous value of the same event kind, else of the column. */
function decodeDeltas(
  out: Float64Array,
  r: ByteReader,
  kinds: Uint8Array,
  first: number,
  end: number,
  dense: boolean,
  bit: number,
  perKind: boolean,
): ValueFailure | null {
  const c: Cursor = { buf: r.buf, stop: r.end, pos: r.pos };
  const buf = c.buf;
  const prev = new Float64Array(MAX_EVENT_KIND + 1);
  for (let i = first; i < end; i++) {
    const kind = kinds[i]!;
    if (SPARSE_SKIP(dense, kind, bit)) continue;
    const b = c.pos < c.stop ? buf[c.pos]! : 0x80;
    let d: number;
    if (b < 0x80) {
      c.pos++;
      d = b & 1 ? 0 - (b >> 1) : b >> 1;
    } else d = slowS(c, r);
    const k = perKind ? kind : 0;
    const v = prev[k]! + d;
    if (v < 0 || v > MAX_SAFE) return { index: i, what: `${v} is negative or past 2^53 - 1`, fault: null };
    prev[k] = v;
    out[i] = v;
  }
  r.pos = c.pos;
  return null;
}

function decodeSigned(
  out: Int16Array | Int32Array,
  r: ByteReader,
  kinds: Uint8Array,
  first: number,
  end: number,
  dense: boolean,
  bit: number,
  max: number,
): ValueFailure | null {
  const c: Cursor = { buf: r.buf, stop: r.end, pos: r.pos };
  const buf = c.buf;
  for (let i = first; i < end; i++) {
    if (SPARSE_SKIP(dense, kinds[i]!, bit)) continue;
    const b = c.pos < c.stop ? buf[c.pos]! : 0x80;
    let v: number;
    if (b < 0x80) {
      c.pos++;
      v = b & 1 ? 0 - (b >> 1) : b >> 1;
    } else v = slowS(c, r);
    if (v < -1 || v > max) return { index: i, what: `${v} is out of range`, fault: null };
    out[i] = v;
  }
  r.pos = c.pos;
  return null;
}

/**
 * Unsigned LEB128 values (bytes: offsets, sizes, alignments), decoded inline: these are mostly 2-4 bytes long,
 * so the multi-byte loop is the hot path. Same limits as ByteReader.uvar (≤ 8 bytes, ≤ 2^53 - 1).
 */
function decodeBytes(
  out: Float64Array,
  r: ByteReader,
  kinds: Uint8Array,
  first: number,
  end: number,
  dense: boolean,
  bit: number,
): ValueFailure | null {
  const buf = r.buf;
  const stop = r.end;
  let pos = r.pos;
  for (let i = first; i < end; i++) {
    if (SPARSE_SKIP(dense, kinds[i]!, bit)) continue;
    const start = pos;
    if (pos >= stop)
      return {
        index: i,
        what: 'unexpected end of data',
        fault: new ByteFault('unexpected end of data', pos),
      };
    let x = buf[pos++]!;
    let v = x & 0x7f;
    let scale = 128;
    while (x >= 0x80) {
      if (pos >= stop || pos - start >= 8)
        return {
          index: i,
          what: 'bad varint',
          fault: new ByteFault(
            pos >= stop ? 'unexpected end of data in a varint' : 'varint longer than 8 bytes',
            start,
          ),
        };
      x = buf[pos++]!;
      v += (x & 0x7f) * scale;
      scale *= 128;
    }
    if (v > MAX_SAFE)
      return { index: i, what: 'value past 2^53 - 1', fault: new ByteFault('value past 2^53 - 1', start) };
    out[i] = v;
  }
  r.pos = pos;
  return null;
}

/** Unsigned 32-bit values (thread ids, VkFormat). */
function decodeU32(
  out: Uint32Array,
  r: ByteReader,
  kinds: Uint8Array,
  first: number,
  end: number,
  dense: boolean,
  bit: number,
): ValueFailure | null {
  const c: Cursor = { buf: r.buf, stop: r.end, pos: r.pos };
  for (let i = first; i < end; i++) {
    if (SPARSE_SKIP(dense, kinds[i]!, bit)) continue;
    const v = slowU(c, r);
    if (v > 0xffffffff) return { index: i, what: `${v} does not fit in 32 bits`, fault: null };
    out[i] = v;
  }
  r.pos = c.pos;
  return null;
}

/** String ids: unsigned, each below the number of strings known so far. */
function decodeStringIds(
  out: Uint32Array,
  r: ByteReader,
  kinds: Uint8Array,
  first: number,
  end: number,
  dense: boolean,
  bit: number,
  limit: number,
): ValueFailure | null {
  const c: Cursor = { buf: r.buf, stop: r.end, pos: r.pos };
  const buf = c.buf;
  for (let i = first; i < end; i++) {
    if (SPARSE_SKIP(dense, kinds[i]!, bit)) continue;
    const b = c.pos < c.stop ? buf[c.pos]! : 0x80;
    let v: number;
    if (b < 0x80) {
      c.pos++;
      v = b;
    } else v = slowU(c, r);
    if (v >= limit)
      return { index: i, what: `names string ${v}, but only ${limit} strings exist`, fault: null };
    out[i] = v;
  }
  r.pos = c.pos;
  return null;
}

/**
 * Decodes the values of one column for events [first, end) (dense: every event; sparse: the events whose
 * kind uses the column), one small function per codec. Returns null, or where and why the data is impossible.
 */
function decodeValues(
  tag: number,
  out: NumericColumn,
  r: ByteReader,
  kinds: Uint8Array,
  first: number,
  end: number,
  dense: boolean,
  stringCount: number,
): ValueFailure | null {
  const bit = 1 << tag;
  try {
    switch (tag) {
      case TAG_FLAGS:
        return decodeFlags(out as Uint8Array, r, kinds, first, end, dense, bit);
      case TAG_TIME:
        return decodeTime(out as Float64Array, r, first, end);
      case TAG_ID:
        return decodeDeltas(out as Float64Array, r, kinds, first, end, dense, bit, true);
      case TAG_BLOCK:
        return decodeDeltas(out as Float64Array, r, kinds, first, end, dense, bit, false);
      case TAG_TYPE:
        return decodeSigned(out as Int16Array, r, kinds, first, end, dense, bit, 0x7fff);
      case TAG_DECISION:
        return decodeSigned(out as Int32Array, r, kinds, first, end, dense, bit, 0x7fffffff);
      case TAG_OFFSET:
      case TAG_SIZE:
      case TAG_ALIGNMENT:
        return decodeBytes(out as Float64Array, r, kinds, first, end, dense, bit);
      case TAG_USAGE:
      case TAG_TYPE_BITS:
      case TAG_ADDRESS:
      case TAG_STREAM:
        return decodeBytes(out as Float64Array, r, kinds, first, end, dense, bit);
      case TAG_THREAD:
      case TAG_FORMAT:
        return decodeU32(out as Uint32Array, r, kinds, first, end, dense, bit);
      default:
        return decodeStringIds(out as Uint32Array, r, kinds, first, end, dense, bit, stringCount);
    }
  } catch (error) {
    if (error instanceof ByteFault) return { index: first, what: error.message, fault: error };
    throw error;
  }
}

/** A problem inside a record; `where` is a file position or a description of where in a compressed body. */
class Problem extends Error {
  readonly position: number;
  readonly eventIndex: number | null;
  constructor(message: string, position: number, eventIndex: number | null = null) {
    super(message);
    this.position = position;
    this.eventIndex = eventIndex;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** Decodes one trace, record by record. Call step() until it returns false, then result(). */
export class TraceDecoder {
  readonly header: TraceHeader;
  private readonly source: TraceBytes;
  private readonly size: number;
  private readonly inflate: Inflate | null;
  private readonly strict: boolean;
  /** The next record, read ahead by nextCompressedBody(); null when not read yet. */
  private pending: Frame | Problem | null = null;
  /** File offset of the next record. */
  private position = 0;
  private done = false;
  private complete = false;
  private readonly warnings: TraceWarning[] = [];
  private cols: MutableEventColumns;
  private capacity: number;
  length = 0;
  private readonly strings: string[] = [''];
  private readonly decisions: (MemoryTypeDecision | undefined)[] = [];
  private readonly liveAllocations = new IdSet();
  private readonly liveBlocks = new IdSet();
  private chunkCount = 0;
  private bytesDone = 0;
  /** Columns that some chunk held values for; the others are still all zero (not copied when growing). */
  private readonly columnsWritten = new Set<keyof EventColumns>(['kind']);
  private readonly sharedMemory: boolean;
  /** The events the columns were sized for at the start (the records' own count, capped): a hint. */
  readonly expectedEvents: number;

  /**
   * `input`: the whole trace in memory, or a TraceBytes that reads it on demand (a file: then at most one
   * record is held at a time, see MAX_WHOLE_RECORD).
   */
  constructor(input: Uint8Array | TraceBytes, options: DecodeOptions = {}) {
    this.source = isTraceBytes(input) ? input : memoryTraceBytes(input);
    this.size = this.source.size;
    this.inflate = options.inflate ?? null;
    this.strict = options.strict ?? false;
    this.header = this.readPreambleAndHeader();
    this.position = this.bytesDone;
    const most = options.maxInitialEvents ?? DEFAULT_MAX_INITIAL_EVENTS;
    this.capacity = Math.max(16, Math.min(this.eventCountHint(), most));
    this.expectedEvents = this.capacity;
    this.sharedMemory = options.sharedMemory ?? false;
    this.cols = allocateEventColumns(this.capacity, this.sharedMemory);
  }

  private readPreambleAndHeader(): TraceHeader {
    const size = this.size;
    const b = this.source.read(0, Math.min(size, FILE_PREAMBLE_BYTES));
    if (b.length < TRACE_MAGIC.length || TRACE_MAGIC.some((m, i) => b[i] !== m)) {
      throw new TraceFormatError(
        'not a VRAMscope trace: the file does not start with the trace magic bytes',
        0,
      );
    }
    if (size < FILE_PREAMBLE_BYTES)
      throw new TraceFormatError('the file ends inside the trace preamble (magic + version)', size);
    const version = u32At(b, 8);
    if (version !== TRACE_FORMAT_VERSION)
      throw new TraceFormatError(
        `unknown trace format version ${version} at byte 8; this reader understands version ${TRACE_FORMAT_VERSION}`,
        8,
      );
    const frame = this.readFrame(FILE_PREAMBLE_BYTES);
    if (frame instanceof Problem)
      throw new TraceFormatError(`bad trace header: ${frame.message}`, frame.position);
    if (frame.type !== RecordType.Header)
      throw new TraceFormatError(
        `bad trace header: expected the header record at byte ${FILE_PREAMBLE_BYTES}, found record type ${hex(frame.type)}`,
        FILE_PREAMBLE_BYTES,
      );
    const length = frame.payloadEnd - frame.payloadStart;
    if (length > limits.maxHeaderBytes || frame.payload === null)
      throw new TraceFormatError(
        `bad trace header: ${length} bytes is more than the limit`,
        FILE_PREAMBLE_BYTES,
      );
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(frame.payload));
    } catch (error) {
      throw new TraceFormatError(
        `bad trace header at byte ${frame.payloadStart}: not valid UTF-8 JSON (${(error as Error).message})`,
        frame.payloadStart,
      );
    }
    const header = validateHeader(parsed, frame.payloadStart);
    this.bytesDone = frame.payloadEnd;
    return header;
  }

  /**
   * Reads and checks one record frame at `pos`: a Frame, or a Problem saying why not. The CRC covers the
   * whole payload; a payload longer than MAX_WHOLE_RECORD is checked piece by piece and not kept.
   */
  private readFrame(pos: number): Frame | Problem {
    const size = this.size;
    if (pos + RECORD_FRAME_BYTES > size)
      return new Problem(`the file ends inside a record frame at byte ${pos} (torn write)`, pos);
    const head = this.source.read(pos, RECORD_FRAME_BYTES);
    const type = head[0]!;
    const length = u32At(head, 1);
    const stored = u32At(head, 5);
    let crc = crc32(head, 0, 0, 1);
    const payloadStart = pos + RECORD_FRAME_BYTES;
    if (length > size - payloadStart)
      return new Problem(
        `the record at byte ${pos} claims ${length} bytes but only ${size - payloadStart} remain (torn write)`,
        pos,
      );
    const payloadEnd = payloadStart + length;
    let payload: Uint8Array | null = null;
    if (length <= MAX_WHOLE_RECORD) {
      payload = this.source.read(payloadStart, length);
      crc = crc32(payload, crc);
    } else {
      for (let p = payloadStart; p < payloadEnd; p += CRC_PIECE_BYTES)
        crc = crc32(this.source.read(p, Math.min(CRC_PIECE_BYTES, payloadEnd - p)), crc);
    }
    if (crc !== stored)
      return new Problem(
        payloadEnd === size
          ? `checksum mismatch in the final record at byte ${pos} (torn or corrupt tail)`
          : `checksum mismatch in the record at byte ${pos}`,
        pos,
      );
    return { type, position: pos, payloadStart, payloadEnd, payload };
  }

  /** The first `n` bytes of a record's payload (fewer when it is shorter). */
  private payloadHead(frame: Frame, n: number): Uint8Array {
    const length = Math.min(n, frame.payloadEnd - frame.payloadStart);
    return frame.payload?.subarray(0, length) ?? this.source.read(frame.payloadStart, length);
  }

  /**
   * Event-count hint for sizing the columns: walks the record frames (type and length, plus a chunk's
   * leading counts; no payload, no checksum) after the header. Reads a few bytes per record.
   */
  private eventCountHint(): number {
    let pos = this.position;
    let hint = 0;
    while (pos + RECORD_FRAME_BYTES <= this.size) {
      const head = this.source.read(pos, RECORD_FRAME_BYTES);
      const type = head[0]!;
      const length = u32At(head, 1);
      const payloadStart = pos + RECORD_FRAME_BYTES;
      if (length > this.size - payloadStart) break;
      if (type === RecordType.Chunk) {
        try {
          const r = new ByteReader(this.source.read(payloadStart, Math.min(length, CHUNK_HEAD_BYTES)));
          r.uvar();
          const count = r.uvar();
          r.uvar();
          const encoding = r.u8();
          const bodyLength = r.uvar();
          const stored = length - r.pos;
          const plausible = encoding === ChunkEncoding.Raw ? stored : stored * 1032;
          hint += Math.min(count, limits.maxEventsPerChunk, Math.floor(Math.min(bodyLength, plausible) / 2));
        } catch {
          // The decode pass reports it.
        }
      }
      pos = payloadStart + length;
      if (type === RecordType.Index) break;
    }
    return hint;
  }

  /** The record at the read position (read once, also when nextCompressedBody looked at it first). */
  private nextFrame(): Frame | Problem | null {
    if (this.pending === null) {
      if (this.position >= this.size) return null;
      this.pending = this.readFrame(this.position);
    }
    return this.pending;
  }

  /**
   * The compressed body of the next record when it is a deflated chunk (for hosts whose inflate is async:
   * inflate it, then step() with an inflate that returns the result). Null otherwise.
   */
  nextCompressedBody(): { readonly data: Uint8Array; readonly expectedLength: number } | null {
    if (this.done) return null;
    const frame = this.nextFrame();
    if (frame === null || frame instanceof Problem || frame.type !== RecordType.Chunk || !frame.payload)
      return null;
    try {
      const r = new ByteReader(frame.payload);
      r.uvar();
      r.uvar();
      r.uvar();
      if (r.u8() !== ChunkEncoding.DeflateRaw) return null;
      const expectedLength = r.uvar();
      if (expectedLength > limits.maxChunkBodyBytes) return null;
      return { data: frame.payload.subarray(r.pos), expectedLength };
    } catch {
      return null; // step() reports it
    }
  }

  get progress(): DecodeProgress {
    return { bytesDone: this.bytesDone, bytesTotal: this.size, events: this.length };
  }

  /** Decodes the next record. Returns false once there is nothing more to decode. */
  step(): boolean {
    if (this.done) return false;
    const frame = this.nextFrame();
    this.pending = null;
    if (frame === null || frame instanceof Problem) {
      if (frame !== null) this.stop(frame);
      else if (!this.complete)
        this.stop(
          new Problem(
            `the trace ends at byte ${this.size} without its end-of-trace index (the recorder did not close it)`,
            this.size,
          ),
        );
      this.done = true;
      return false;
    }
    this.position = frame.payloadEnd;
    try {
      switch (frame.type) {
        case RecordType.Chunk:
          this.decodeChunk(frame);
          break;
        case RecordType.Index:
          this.decodeIndex(frame);
          break;
        case RecordType.Header:
          throw new Problem(`a second header record at byte ${frame.position}`, frame.position);
        default:
          // Forward compatibility: a record type from a later minor revision, intact by its checksum.
          break;
      }
    } catch (error) {
      if (error instanceof Problem) this.stop(error);
      else if (error instanceof ByteFault) this.stop(new Problem(error.message, error.offset));
      else throw error;
    }
    this.bytesDone = frame.payloadEnd;
    return !this.done;
  }

  private stop(problem: Problem): void {
    if (this.strict) throw new TraceFormatError(problem.message, problem.position, problem.eventIndex);
    const kept = `kept the ${this.length} event${this.length === 1 ? '' : 's'} before it`;
    this.warnings.push({
      message: `${problem.message}; ${kept}`,
      position: problem.position,
      eventIndex: problem.eventIndex ?? this.length,
    });
    this.done = true;
  }

  private ensureCapacity(n: number): void {
    if (n <= this.capacity) return;
    let cap = this.capacity * 2;
    while (cap < n) cap *= 2;
    const written = this.columnsWritten;
    this.cols = grownEventColumns(this.cols, cap, (name) => written.has(name), this.sharedMemory);
    this.capacity = cap;
  }

  private decodeIndex(frame: Frame): void {
    const at = frame.position;
    const [events, strings, chunks] = atFileOffset(frame.payloadStart, () => {
      const r = new ByteReader(this.payloadHead(frame, INDEX_HEAD_BYTES));
      return [r.uvar(), r.uvar(), r.uvar()] as const;
    });
    if (events !== this.length || strings !== this.strings.length || chunks !== this.chunkCount)
      throw new Problem(
        `the end-of-trace index at byte ${at} says ${events} events, ${strings} strings, ${chunks} chunks; ` +
          `the file holds ${this.length}, ${this.strings.length}, ${this.chunkCount}`,
        at,
      );
    this.done = true;
    if (frame.payloadEnd !== this.size) {
      throw new Problem(
        `${this.size - frame.payloadEnd} unexpected bytes after the end-of-trace index`,
        frame.payloadEnd,
      );
    }
    this.complete = true;
  }

  private decodeChunk(frame: Frame): void {
    const at = frame.position;
    const { first, count, firstString, encoding, bodyLength, headBytes } = atFileOffset(
      frame.payloadStart,
      () => {
        const r = new ByteReader(this.payloadHead(frame, CHUNK_HEAD_BYTES));
        const fields = { first: r.uvar(), count: r.uvar(), firstString: r.uvar(), encoding: r.u8() };
        return { ...fields, bodyLength: r.uvar(), headBytes: r.pos };
      },
    );
    /** Bytes of the payload after its leading fields: the (compressed) body. */
    const stored = frame.payloadEnd - frame.payloadStart - headBytes;
    if (first !== this.length)
      throw new Problem(
        `the chunk at byte ${at} starts at event ${first} but ${this.length} events precede it`,
        at,
        this.length,
      );
    if (count === 0 || count > limits.maxEventsPerChunk)
      throw new Problem(
        `the chunk at byte ${at} claims ${count} events (allowed: 1 to ${limits.maxEventsPerChunk})`,
        at,
        first,
      );
    if (firstString !== this.strings.length)
      throw new Problem(
        `the chunk at byte ${at} adds strings from id ${firstString} but ${this.strings.length} are known`,
        at,
        first,
      );
    if (bodyLength > limits.maxChunkBodyBytes)
      throw new Problem(
        `the chunk at byte ${at} claims a ${bodyLength}-byte body, more than the limit`,
        at,
        first,
      );
    let body: Uint8Array;
    let bodyBase: number; // file offset of body byte 0, or -1 when the body was decompressed
    if (encoding === ChunkEncoding.Raw) {
      // A payload too long to keep (frame.payload null) holds more than any body may: it fails here.
      if (stored !== bodyLength || frame.payload === null)
        throw new Problem(
          `the chunk at byte ${at} claims a ${bodyLength}-byte body but holds ${stored}`,
          at,
          first,
        );
      bodyBase = frame.payloadStart + headBytes;
      body = frame.payload.subarray(headBytes);
    } else if (encoding === ChunkEncoding.DeflateRaw) {
      if (!this.inflate)
        throw new Problem(
          `the chunk at byte ${at} is deflate-compressed and this reader has no decompressor`,
          at,
          first,
        );
      if (frame.payload === null)
        throw new Problem(
          `the chunk at byte ${at} does not decompress (${stored} compressed bytes are more than a ${bodyLength}-byte body takes)`,
          at,
          first,
        );
      try {
        const inflated = this.inflate(frame.payload.subarray(headBytes), bodyLength);
        body = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
      } catch (error) {
        throw new Problem(
          `the chunk at byte ${at} does not decompress (${(error as Error).message})`,
          at,
          first,
        );
      }
      if (body.length !== bodyLength)
        throw new Problem(
          `the chunk at byte ${at} decompresses to ${body.length} bytes, not the ${bodyLength} it claims`,
          at,
          first,
        );
      bodyBase = -1;
    } else {
      throw new Problem(`the chunk at byte ${at} has unknown encoding ${encoding}`, at, first);
    }
    try {
      this.decodeBody(body, first, count, at);
    } catch (error) {
      if (error instanceof ByteFault) {
        const where =
          bodyBase >= 0
            ? `at byte ${bodyBase + error.offset}`
            : `at byte ${error.offset} of the decompressed body of the chunk at byte ${at}`;
        throw new Problem(`${error.message} ${where}`, bodyBase >= 0 ? bodyBase + error.offset : at, first);
      }
      throw error;
    }
    this.chunkCount++;
  }

  private decodeBody(body: Uint8Array, first: number, count: number, at: number): void {
    const r = new ByteReader(body);
    // Strings: lengths in UTF-16 code units, then one UTF-8 run holding all of them.
    const stringsStart = r.pos;
    const stringCount = r.uvar();
    if (stringCount > body.length)
      throw new ByteFault(`string count ${stringCount} is larger than the chunk`, stringsStart);
    const lengths = new Float64Array(stringCount);
    let units = 0;
    for (let s = 0; s < stringCount; s++) {
      const start = r.pos;
      const n = r.uvar();
      if (n > MAX_STRING_UNITS) throw new ByteFault(`a ${n}-unit string is longer than the limit`, start);
      lengths[s] = n;
      units += n;
    }
    const runStart = r.pos;
    const run = r.bytes(r.uvar());
    let text: string;
    try {
      text = stringCount === 0 ? '' : utf8.decode(run);
    } catch {
      throw new ByteFault("the chunk's strings are not valid UTF-8", runStart);
    }
    if (text.length !== units)
      throw new ByteFault(
        `the chunk's strings hold ${text.length} UTF-16 units, not the ${units} their lengths add up to`,
        runStart,
      );
    for (let s = 0, p = 0; s < stringCount; s++) {
      const n = lengths[s]!;
      this.strings.push(text.slice(p, p + n));
      p += n;
    }
    // Decision records.
    const decisionCount = r.uvar();
    for (let d = 0; d < decisionCount; d++) {
      const start = r.pos;
      const id = r.uvar();
      const n = r.uvar();
      if (id > 0x7fffffff) throw new ByteFault(`decision id ${id} is out of range`, start);
      if (n > limits.maxDecisionBytes)
        throw new ByteFault(`a ${n}-byte decision record is longer than the limit`, start);
      const raw = r.bytes(n);
      let parsed: unknown;
      try {
        parsed = JSON.parse(utf8.decode(raw));
      } catch {
        throw new ByteFault(`decision record ${id} is not valid UTF-8 JSON`, start);
      }
      const checked = validateDecision(parsed, id);
      if (typeof checked === 'string') throw new ByteFault(`bad decision record: ${checked}`, start);
      if (this.decisions[id] !== undefined) throw new ByteFault(`decision record ${id} appears twice`, start);
      this.decisions[id] = checked;
    }
    // Columns.
    this.ensureCapacity(first + count);
    const columnCount = r.uvar();
    let lastTag = -1;
    let sawKind = false;
    // An unknown event kind ends the chunk there: the events before it are still decoded and kept.
    let badKind: Problem | null = null;
    let usable = count;
    for (let c = 0; c < columnCount; c++) {
      const start = r.pos;
      const tag = r.u8();
      const mode = r.u8();
      const n = r.uvar();
      const data = r.bytes(n);
      if (tag <= lastTag) throw new ByteFault(`column tag ${tag} out of order`, start);
      lastTag = tag;
      if (tag >= V1_COLUMN_COUNT) continue; // a column added by a later revision: skipped
      if (tag === ColumnTag.kind) {
        if (mode !== ColumnMode.Dense || n !== count)
          throw new ByteFault(`the kind column must hold one byte per event (${count}), holds ${n}`, start);
        for (let i = 0; i < count; i++) {
          const k = data[i]!;
          if (KNOWN_KIND[k] !== 1) {
            badKind = new Problem(
              `event ${first + i} (in the chunk at byte ${at}) has unknown kind ${k}`,
              at,
              first + i,
            );
            usable = i;
            break;
          }
        }
        this.cols.kind.set(data.subarray(0, usable), first);
        sawKind = true;
        continue;
      }
      if (!sawKind) throw new ByteFault('the kind column must come first', start);
      if (mode === ColumnMode.Zero) {
        if (n !== 0) throw new ByteFault(`column ${tag} is all-zero but carries ${n} bytes`, start);
        continue;
      }
      if (mode !== ColumnMode.Sparse && mode !== ColumnMode.Dense)
        throw new ByteFault(`column ${tag} has unknown mode ${mode}`, start);
      this.columnsWritten.add(eventColumnNames[tag]!);
      this.decodeColumn(tag, mode, data, start, first, usable, at, badKind === null);
    }
    if (!sawKind) throw new ByteFault('the chunk has no kind column', r.pos);
    if (r.remaining !== 0) throw new ByteFault(`${r.remaining} unexpected bytes after the columns`, r.pos);
    this.checkEvents(first, usable, at);
    if (badKind) throw badKind;
  }

  /** Decodes one column's values into the output arrays, checking ranges as values arrive. */
  private decodeColumn(
    tag: number,
    mode: number,
    data: Uint8Array,
    columnStart: number,
    first: number,
    count: number,
    at: number,
    /** false when only a prefix of the chunk's events is decoded (the column then has bytes left over). */
    whole: boolean,
  ): void {
    const name = eventColumnNames[tag]!;
    const r = new ByteReader(data);
    const failure = decodeValues(
      tag,
      this.cols[name] as NumericColumn,
      r,
      this.cols.kind,
      first,
      first + count,
      mode === ColumnMode.Dense,
      this.strings.length,
    );
    if (failure !== null) {
      if (failure.fault) throw new ByteFault(`column "${name}": ${failure.fault.message}`, columnStart);
      throw new Problem(
        `event ${failure.index} (in the chunk at byte ${at}): ${name} ${failure.what}`,
        at,
        failure.index,
      );
    }
    if (whole && r.remaining !== 0)
      throw new ByteFault(`column "${name}" has ${r.remaining} bytes more than its events use`, columnStart);
  }

  /** Checks what a single column cannot: ids against the live sets, types and heaps against the device. */
  private checkEvents(first: number, count: number, at: number): void {
    const c = this.cols;
    const typeCount = this.header.device.types.length;
    const heapCount = this.header.device.heaps.length;
    const live = this.liveAllocations;
    const blocks = this.liveBlocks;
    const end = first + count;
    for (let i = first; i < end; i++) {
      const kind = c.kind[i]!;
      let problem: string | null = null;
      switch (kind) {
        case K_ALLOCATE: {
          const id = c.id[i]!;
          const type = c.type[i]!;
          if (live.has(id)) problem = `allocation id ${id} is allocated again while still live`;
          else if (type < 0 || type >= typeCount)
            problem = `memory type ${type} does not exist on the device (${typeCount} types)`;
          else if (!Number.isSafeInteger(c.offset[i]! + c.size[i]!))
            problem = 'offset + size is past 2^53 - 1';
          else live.add(id);
          break;
        }
        case K_FREE:
          if (!live.delete(c.id[i]!)) problem = `free of allocation id ${c.id[i]}, which is not live`;
          break;
        case K_MOVE: {
          const type = c.type[i]!;
          if (!live.has(c.id[i]!)) problem = `move of allocation id ${c.id[i]}, which is not live`;
          else if (!blocks.has(c.block[i]!)) problem = `move into block id ${c.block[i]}, which is not live`;
          else if (type < 0 || type >= typeCount)
            problem = `memory type ${type} does not exist on the device (${typeCount} types)`;
          break;
        }
        case K_RENAME:
          if (!live.has(c.id[i]!)) problem = `rename of allocation id ${c.id[i]}, which is not live`;
          break;
        case K_FAILURE: {
          const type = c.type[i]!;
          if (type < -1 || type >= typeCount) problem = `memory type ${type} does not exist on the device`;
          break;
        }
        case K_BLOCK_CREATE: {
          const type = c.type[i]!;
          if (blocks.has(c.id[i]!)) problem = `block id ${c.id[i]} is created again while still live`;
          else if (type < 0 || type >= typeCount)
            problem = `memory type ${type} does not exist on the device (${typeCount} types)`;
          else blocks.add(c.id[i]!);
          break;
        }
        case K_BLOCK_DESTROY:
          if (!blocks.delete(c.id[i]!)) problem = `destroy of block id ${c.id[i]}, which is not live`;
          break;
        case K_BUDGET:
          if (c.id[i]! >= heapCount)
            problem = `budget sample for heap ${c.id[i]}, which does not exist (${heapCount} heaps)`;
          break;
        default:
          break;
      }
      if (problem !== null) {
        this.length = i;
        throw new Problem(`event ${i} (in the chunk at byte ${at}): ${problem}`, at, i);
      }
    }
    this.length = end;
  }

  /**
   * A live view of the events decoded so far: after each step(), events [0, length) are final. Its columns
   * hold room for more (rows past length are not final) and are new ones after the decoder grew them.
   */
  get eventsSoFar(): TraceEvents {
    const length = (): number => this.length;
    const columns = (): EventColumns => this.cols;
    const written = this.columnsWritten;
    return {
      get length() {
        return length();
      },
      get columns() {
        return columns();
      },
      strings: this.strings,
      decisions: this.decisions,
      get columnsWritten() {
        return columnBits(...written);
      },
    };
  }

  result(): LoadedTrace {
    const n = this.length;
    const c = this.cols;
    const columns: EventColumns = {
      kind: c.kind.subarray(0, n),
      time: c.time.subarray(0, n),
      id: c.id.subarray(0, n),
      block: c.block.subarray(0, n),
      type: c.type.subarray(0, n),
      offset: c.offset.subarray(0, n),
      size: c.size.subarray(0, n),
      alignment: c.alignment.subarray(0, n),
      flags: c.flags.subarray(0, n),
      name: c.name.subarray(0, n),
      decision: c.decision.subarray(0, n),
      stack: c.stack.subarray(0, n),
      code: c.code.subarray(0, n),
      message: c.message.subarray(0, n),
      thread: c.thread.subarray(0, n),
      usage: c.usage.subarray(0, n),
      typeBits: c.typeBits.subarray(0, n),
      format: c.format.subarray(0, n),
      address: c.address.subarray(0, n),
      stream: c.stream.subarray(0, n),
    };
    return {
      header: this.header,
      events: { length: n, columns, strings: this.strings, decisions: this.decisions },
      warnings: this.warnings,
      complete: this.complete,
      fileBytes: this.size,
      chunkCount: this.chunkCount,
    };
  }
}

/** Decodes a whole trace in one call (no progress). */
export function decodeTrace(bytes: Uint8Array | TraceBytes, options: DecodeOptions = {}): LoadedTrace {
  const decoder = new TraceDecoder(bytes, options);
  while (decoder.step()) {
    // decode record by record
  }
  return decoder.result();
}

/** Raw-inflate that returns a promise (browser DecompressionStream); must not return more than asked. */
export type AsyncInflate = (compressed: Uint8Array, expectedLength: number) => Promise<Uint8Array>;

export interface AsyncDecodeOptions {
  readonly inflate: AsyncInflate;
  readonly strict?: boolean;
  readonly onProgress?: (progress: DecodeProgress) => void;
}

/** Decodes a trace with an asynchronous inflate (e.g. webInflate in a browser or worker). */
export async function decodeTraceAsync(bytes: Uint8Array, options: AsyncDecodeOptions): Promise<LoadedTrace> {
  let inflated: Uint8Array | null = null;
  let failure: unknown = null;
  const decoder = new TraceDecoder(bytes, {
    strict: options.strict ?? false,
    inflate: () => {
      if (failure !== null) throw failure instanceof Error ? failure : new Error(String(failure));
      if (inflated === null) throw new Error('no decompressed body');
      return inflated;
    },
  });
  for (;;) {
    const next = decoder.nextCompressedBody();
    inflated = null;
    failure = null;
    if (next) {
      try {
        inflated = await options.inflate(next.data, next.expectedLength);
      } catch (error) {
        failure = error;
      }
    }
    if (!decoder.step()) break;
    options.onProgress?.(decoder.progress);
  }
  options.onProgress?.(decoder.progress);
  return decoder.result();
}
