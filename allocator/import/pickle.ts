// A small, safe, streaming reader for Python pickles (protocols 0-5), written for PyTorch memory snapshots.
//
// Safe: nothing in the file is ever executed or looked up. GLOBAL / STACK_GLOBAL push a PickleGlobal naming
// the class; REDUCE, NEWOBJ, NEWOBJ_EX, INST and OBJ build a PickleObject (class name + arguments); BUILD
// stores the state on it. A few constructors that only rebuild plain data are turned into that data
// (OrderedDict, set/frozenset, bytes via _codecs.encode, TorchScript's restore_type_tag). Dicts become
// prototype-less objects (a "__proto__" key is just a key); tuples and sets become arrays; integers beyond
// 2^53 (LONG1/LONG4, any width, two's complement) become bigint; bytes become PickleBytes (length only).
//
// Streaming with bounded memory: the caller picks lists by path (e.g. ["device_traces", 0]) whose items are
// handed to a callback as they are appended and never stored. The pickle memo could still pin every object
// (the pickler memoizes each dict and list), so a first pass (scanMemoReferences) records which memo slots
// are ever read back (BINGET & co.: in PyTorch snapshots, the shared frame lists) and the second pass
// keeps only those. Each pass holds one chunk plus one unfinished opcode. Trace entries (flat dicts, items of
// a streamed list) are read by a fast path straight from the buffer (PickleStreamReader.streamedDict) that
// does what the opcodes would do and leaves anything else to the opcode loop.

export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance the pickle would build by calling a class: kept as data, never constructed. */
export class PickleObject {
  state: PickleValue | undefined = undefined;
  constructor(
    readonly className: string,
    readonly args: readonly PickleValue[],
  ) {}
}

/** A bytes / bytearray / out-of-band buffer value; only its length is kept. */
export class PickleBytes {
  constructor(readonly length: number) {}
}

export interface PickleDict {
  [key: string]: PickleValue;
}
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PickleValue[]
  | PickleDict
  | PickleGlobal
  | PickleObject
  | PickleBytes;

export type PicklePath = readonly (string | number)[];

/**
 * The one-pass shortcuts (referencedMemo 'prune-streamed', internReferenceLists) do not fit this pickle: a
 * forgotten memo slot is read back, or a list taken as complete grows. Not an error in the file: read it
 * again with a MemoReferenceScanner pass and without the shortcuts.
 */
export class PickleNeedsRescan extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleNeedsRescan';
  }
}

/** Lists kept in the memo from streamed items, not interned, before a one-pass read gives up. */
const MAX_KEPT_LISTS = 200_000;

/** Marks a memo slot that was forgotten (see PickleNeedsRescan). */
const PRUNED: unique symbol = Symbol('pruned memo slot');

/** streamedDict's "not this way": the opcode loop reads the item. */
const FAST_FAIL: unique symbol = Symbol('fast path gives up');

/** Malformed or unsupported pickle: `position` is the byte offset of the offending opcode. */
export class PickleError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at byte ${position}`);
    this.name = 'PickleError';
    this.position = position;
  }
}

/**
 * A flat dict item of a streamed list, as the fast path reads it without building the dict: the values of
 * the keys the caller named (PickleStreamOptions.record), in typed slots. One record is reused for every
 * item: read it in onRecord, keep nothing of it.
 */
export class StreamedRecord {
  /** Per field: RECORD_ABSENT, RECORD_NUMBER (the value is in num) or RECORD_VALUE (in value). */
  readonly kind: Uint8Array;
  /** Numbers (ints below 2^53 and floats), unboxed. */
  readonly num: Float64Array;
  /** Any other value (strings, bigints, lists, None, ...); meaningful only where kind is RECORD_VALUE. */
  readonly value: unknown[];
  /**
   * For a field whose value is an interned list of memo references (internReferenceLists): the list's id,
   * dense from 0, the same for every item that holds that list (so consumers can cache by it); else -1.
   */
  readonly listId: Int32Array;

  constructor(readonly fields: readonly string[]) {
    this.kind = new Uint8Array(fields.length);
    this.num = new Float64Array(fields.length);
    this.value = new Array<unknown>(fields.length).fill(undefined);
    this.listId = new Int32Array(fields.length).fill(-1);
  }

  clear(): void {
    for (let k = 0; k < this.kind.length; k++) {
      this.kind[k] = RECORD_ABSENT;
      this.listId[k] = -1;
    }
  }

  /** Sets field `k` to `v` (numbers go to num). */
  set(k: number, v: unknown, listId = -1): void {
    if (typeof v === 'number') {
      this.kind[k] = RECORD_NUMBER;
      this.num[k] = v;
    } else {
      this.kind[k] = RECORD_VALUE;
      this.value[k] = v;
    }
    this.listId[k] = listId;
  }

  /** The value of field `k` (undefined when absent). */
  get(k: number): unknown {
    const kind = this.kind[k];
    return kind === RECORD_NUMBER ? this.num[k] : kind === RECORD_VALUE ? this.value[k] : undefined;
  }
}
export const RECORD_ABSENT = 0;
export const RECORD_NUMBER = 1;
export const RECORD_VALUE = 2;

export interface PickleStreamOptions {
  /** Items appended to the list at this path go to onItem and are not stored. */
  readonly streamItems?: (listPath: PicklePath) => boolean;
  readonly onItem?: (listPath: PicklePath, index: number, value: PickleValue) => void;
  /**
   * Flat dict items that the fast path reads (almost all trace entries) go to onRecord as a StreamedRecord
   * of these fields instead of a dict to onItem (keys not named are read and dropped); items the fast
   * path leaves to the opcode loop still go to onItem as dicts. Needs onItem and a referencedMemo policy.
   */
  readonly record?: {
    /** Which streamed lists' items become records (the others' items stay dicts). */
    readonly lists: (listPath: PicklePath) => boolean;
    readonly fields: readonly string[];
    readonly onRecord: (listPath: PicklePath, index: number, record: StreamedRecord) => void;
  };
  /**
   * Memo slots that are read back (from a MemoReferenceScanner pass); null keeps every memoized object;
   * 'prune-streamed' reads in one pass: when items of a streamed list are handed out, the memo forgets
   * those items (in snapshots: the entry dicts, never read back) and keeps what was made inside them
   * (strings, the shared frame dicts, the frames lists: PyTorch shares one list between a block in the
   * segments and its alloc entry). Lists kept this way that are not interned (internReferenceLists) are
   * counted; past MAX_KEPT_LISTS, or when a forgotten slot is read back, PickleNeedsRescan is thrown and
   * the caller reads again with a MemoReferenceScanner pass.
   */
  readonly referencedMemo?: ReadonlySet<number> | null | 'prune-streamed';
  /**
   * Lists made only of memo references (GET / BINGET / LONG_BINGET) with the same references become one
   * shared array (in snapshots: every entry's frames list is a list of shared frame dicts, and most are
   * equal): less memory and garbage, and consumers can cache by identity. Values are read-only data. So
   * does every empty list kept in the memo (stacks="python" snapshots: an empty frames list per entry
   * without Python frames), once the item that made it is complete. A list taken as complete that the
   * pickle appends to later throws PickleNeedsRescan.
   */
  readonly internReferenceLists?: boolean;
  /** The longest path streamItems can select (lets the reader skip path lookups of deeper lists). */
  readonly maxPathLength?: number;
  /** Refuse more nested MARKs than this (default 10,000). */
  readonly maxMarkDepth?: number;
}

// Opcodes (pickletools names). A const enum: the values are inlined as numbers (reads of an object's
// properties in the hot loops cost more than comparing with constants, and switches over them can jump).
const enum OP {
  MARK = 0x28, // (
  STOP = 0x2e, // .
  POP = 0x30, // 0
  POP_MARK = 0x31, // 1
  DUP = 0x32, // 2
  FLOAT = 0x46, // F
  INT = 0x49, // I
  BININT = 0x4a, // J
  BININT1 = 0x4b, // K
  LONG = 0x4c, // L
  BININT2 = 0x4d, // M
  NONE = 0x4e, // N
  PERSID = 0x50, // P
  BINPERSID = 0x51, // Q
  REDUCE = 0x52, // R
  STRING = 0x53, // S
  BINSTRING = 0x54, // T
  SHORT_BINSTRING = 0x55, // U
  UNICODE = 0x56, // V
  BINUNICODE = 0x58, // X
  APPEND = 0x61, // a
  BUILD = 0x62, // b
  GLOBAL = 0x63, // c
  DICT = 0x64, // d
  EMPTY_DICT = 0x7d, // }
  APPENDS = 0x65, // e
  GET = 0x67, // g
  BINGET = 0x68, // h
  INST = 0x69, // i
  LONG_BINGET = 0x6a, // j
  LIST = 0x6c, // l
  EMPTY_LIST = 0x5d, // ]
  OBJ = 0x6f, // o
  PUT = 0x70, // p
  BINPUT = 0x71, // q
  LONG_BINPUT = 0x72, // r
  SETITEM = 0x73, // s
  TUPLE = 0x74, // t
  EMPTY_TUPLE = 0x29, // )
  SETITEMS = 0x75, // u
  BINFLOAT = 0x47, // G
  PROTO = 0x80,
  NEWOBJ = 0x81,
  EXT1 = 0x82,
  EXT2 = 0x83,
  EXT4 = 0x84,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  BINBYTES = 0x42, // B
  SHORT_BINBYTES = 0x43, // C
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f,
  ADDITEMS = 0x90,
  FROZENSET = 0x91,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  BYTEARRAY8 = 0x96,
  NEXT_BUFFER = 0x97,
  READONLY_BUFFER = 0x98,
}

/** How much of a new chunk is copied to finish an opcode that runs on from the previous one (bytes). */
const STITCH_BYTES = 64 * 1024;

/** Longest string/bytes payload accepted (bytes); larger lengths are treated as corruption. */
const MAX_PAYLOAD = 1 << 30;

const utf8 = new TextDecoder('utf-8');

/**
 * UTF-8 text of buf[from, to). Short ASCII strings (dict keys, action names, frame names in snapshots) are
 * built directly: calling TextDecoder costs more than the loop for them. Longer or non-ASCII text goes to
 * TextDecoder (invalid sequences become U+FFFD either way: ASCII has none).
 */
function decodeUtf8(buf: Uint8Array, from: number, to: number): string {
  if (to - from <= 24) {
    let out = '';
    for (let i = from; i < to; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return utf8.decode(buf.subarray(from, to));
      out += String.fromCharCode(b);
    }
    return out;
  }
  return utf8.decode(buf.subarray(from, to));
}
/** ISO-8859-1 proper (TextDecoder's "latin1" is windows-1252, which remaps 0x80-0x9f). */
const latin1 = {
  decode(bytes: Uint8Array): string {
    let out = '';
    for (let i = 0; i < bytes.length; i += 8192) {
      out += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 8192)));
    }
    return out;
  },
};

/** Marks the boundary of a MARK frame on the metastack. */
type Frame = PickleValue[];

/** Byte cursor over the unconsumed input; `need` says whether `k` more bytes are there yet. */
class Cursor {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  /** Absolute offset of buf[0] in the file. */
  base = 0;
  private view = new DataView(this.buf.buffer);

  append(chunk: Uint8Array): void {
    if (this.pos >= this.buf.length) {
      this.base += this.buf.length;
      this.buf = chunk;
    } else {
      const rest = this.buf.subarray(this.pos);
      const next = new Uint8Array(rest.length + chunk.length);
      next.set(rest);
      next.set(chunk, rest.length);
      this.base += this.pos;
      this.buf = next;
    }
    this.pos = 0;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }
  /**
   * After appending a small head of `chunk` (which then ends buf): continue in `chunk` itself, without
   * copying it, when what is unconsumed lies within that head. Returns whether it did.
   */
  continueIn(chunk: Uint8Array, headLength: number): boolean {
    const chunkStart = this.buf.length - headLength; // where chunk[0] is in buf
    if (this.pos < chunkStart) return false;
    this.base += chunkStart;
    this.pos -= chunkStart;
    this.buf = chunk;
    this.view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return true;
  }
  has(k: number): boolean {
    return this.pos + k <= this.buf.length;
  }
  u8(at: number): number {
    return this.buf[at]!;
  }
  u16(at: number): number {
    return this.view.getUint16(at, true);
  }
  i32(at: number): number {
    return this.view.getInt32(at, true);
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  /** u64 little-endian as a number; Infinity when it is not a safe integer. */
  u64(at: number): number {
    const lo = this.view.getUint32(at, true);
    const hi = this.view.getUint32(at + 4, true);
    return hi >= 0x200000 ? Infinity : hi * 0x100000000 + lo;
  }
  f64be(at: number): number {
    return this.view.getFloat64(at, false);
  }
  /** Index of the next "\n" at or after `from`, or -1. */
  newline(from: number): number {
    return this.buf.indexOf(0x0a, from);
  }
}

/**
 * Opcodes followed by a little-endian length and that many payload bytes (LONG1/LONG4, the strings, bytes
 * and unicode of every width): the size of the length field in bytes; 0 for every other opcode.
 */
function lengthFieldSize(op: number): 0 | 1 | 4 | 8 {
  switch (op) {
    case OP.LONG1:
    case OP.SHORT_BINSTRING:
    case OP.SHORT_BINBYTES:
    case OP.SHORT_BINUNICODE:
      return 1;
    case OP.LONG4:
    case OP.BINSTRING:
    case OP.BINBYTES:
    case OP.BINUNICODE:
      return 4;
    case OP.BINUNICODE8:
    case OP.BINBYTES8:
    case OP.BYTEARRAY8:
      return 8;
    default:
      return 0;
  }
}

/**
 * Payload length of the length-prefixed opcode `op` at `start` (its length field is `field` bytes, see
 * lengthFieldSize; LONG4 and BINSTRING lengths are signed); -1 while the field is not all there yet.
 * Throws on a negative length or one above MAX_PAYLOAD. `at` is the opcode's file offset, for the error.
 */
function payloadLength(c: Cursor, op: number, field: 1 | 4 | 8, start: number, at: number): number {
  if (!c.has(1 + field)) return -1;
  const n =
    field === 1
      ? c.u8(start + 1)
      : field === 4
        ? op === OP.LONG4 || op === OP.BINSTRING
          ? c.i32(start + 1)
          : c.u32(start + 1)
        : c.u64(start + 1);
  if (n < 0 || n > MAX_PAYLOAD) {
    const what = op === OP.LONG4 ? 'LONG4' : 'String';
    throw new PickleError(`${what} with a negative or huge length`, at);
  }
  return n;
}

/** Two's-complement little-endian integer of any width (LONG1/LONG4). */
export function decodeLong(bytes: Uint8Array): number | bigint {
  return decodeLongAt(bytes, 0, bytes.length);
}

/** decodeLong of the `n` bytes at buf[from] (no subarray: the importer's hot path reads addresses so). */
function decodeLongAt(buf: Uint8Array, from: number, n: number): number | bigint {
  if (n === 0) return 0;
  const last = buf[from + n - 1]!;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + buf[from + i]!;
    if (last >= 0x80) v -= 2 ** (8 * n);
    return v;
  }
  if (n <= 8 && last < 0x80) {
    // Non-negative and at most 63 bits: exact as a number when below 2^53.
    let hi = 0;
    for (let i = n - 1; i >= 4; i--) hi = hi * 256 + buf[from + i]!;
    if (hi < 0x200000)
      return (
        hi * 0x100000000 +
        ((buf[from]! | (buf[from + 1]! << 8) | (buf[from + 2]! << 16)) + buf[from + 3]! * 0x1000000)
      );
  }
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[from + i]!);
  if (last >= 0x80) v -= 1n << BigInt(8 * n);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** The value of a length-prefixed opcode's payload (see lengthFieldSize). */
function payloadValue(op: number, bytes: Uint8Array): PickleValue {
  switch (op) {
    case OP.LONG1:
    case OP.LONG4:
      return decodeLong(bytes);
    case OP.SHORT_BINUNICODE:
    case OP.BINUNICODE:
    case OP.BINUNICODE8:
      return decodeUtf8(bytes, 0, bytes.length);
    case OP.SHORT_BINSTRING:
    case OP.BINSTRING:
      return latin1.decode(bytes);
    default:
      return new PickleBytes(bytes.length);
  }
}

function parseDecimalInt(text: string, at: number): number | bigint {
  const t = text.endsWith('L') ? text.slice(0, -1) : text;
  if (!/^[+-]?\d+$/.test(t)) throw new PickleError('Malformed integer', at);
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

/** Protocol-0 UNICODE payload: raw-unicode-escape (latin-1 with \uXXXX / \UXXXXXXXX escapes). */
function rawUnicodeEscape(text: string): string {
  return text.replace(
    /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g,
    (_m, u4: string | undefined, u8: string | undefined) => String.fromCodePoint(parseInt((u4 ?? u8)!, 16)),
  );
}

/** Protocol-0 STRING payload: a quoted Python repr. Only the common escapes are decoded. */
function pythonStringLiteral(text: string, at: number): string {
  const q = text[0];
  if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q)
    throw new PickleError('STRING opcode argument is not a quoted string', at);
  return text.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[\\'"nrt0])/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t', '0': '\0' } as Record<string, string>)[e] ?? e;
  });
}

function keyString(key: PickleValue, at: number): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean' || key === null)
    return String(key);
  if (Array.isArray(key))
    return JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  throw new PickleError('A dict key is neither a string nor a number', at);
}

function isDict(v: PickleValue | undefined): v is PickleDict {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof PickleGlobal) &&
    !(v instanceof PickleObject) &&
    !(v instanceof PickleBytes)
  );
}

function newDict(): PickleDict {
  // Prototype-less like Object.create(null), but V8 keeps an object made from a literal in fast-property
  // mode (Object.create(null) starts in dictionary mode: about 1.7x slower to fill and read per entry).
  return Object.setPrototypeOf({}, null) as PickleDict;
}

/** Turns a "call" of a global into data; never runs anything. */
function reduceGlobal(callable: PickleValue, args: PickleValue, at: number): PickleValue {
  const argList: PickleValue[] = Array.isArray(args) ? args : [];
  if (!(callable instanceof PickleGlobal)) {
    if (callable instanceof PickleObject) return new PickleObject(callable.className, argList);
    throw new PickleError('REDUCE applied to something that is not a class or function reference', at);
  }
  switch (callable.qualifiedName) {
    case 'collections.OrderedDict':
    case 'builtins.dict':
    case '__builtin__.dict': {
      const d = newDict();
      const items = argList[0];
      if (Array.isArray(items)) {
        for (const pair of items) {
          if (Array.isArray(pair) && pair.length === 2) d[keyString(pair[0]!, at)] = pair[1]!;
        }
      }
      return d;
    }
    case 'builtins.set':
    case 'builtins.frozenset':
    case '__builtin__.set':
    case '__builtin__.frozenset':
    case 'builtins.list':
    case 'builtins.tuple':
      return Array.isArray(argList[0]) ? [...argList[0]] : [];
    case '_codecs.encode':
      return new PickleBytes(typeof argList[0] === 'string' ? argList[0].length : 0);
    case 'builtins.bytearray':
    case 'builtins.bytes':
    case '__builtin__.bytearray':
      return new PickleBytes(
        argList[0] instanceof PickleBytes
          ? argList[0].length
          : typeof argList[0] === 'string'
            ? argList[0].length
            : 0,
      );
    case 'torch.jit._pickle.restore_type_tag':
      return argList[0] ?? null;
    default:
      return new PickleObject(callable.qualifiedName, argList);
  }
}

/**
 * First pass: the memo slots that GET / BINGET / LONG_BINGET read back. Walks opcodes only (no values are
 * built), so it runs at disk speed and holds one set of slot numbers.
 */
export class MemoReferenceScanner {
  private readonly cur = new Cursor();
  private memoSize = 0;
  private stopped = false;
  readonly referenced = new Set<number>();

  feed(chunk: Uint8Array): void {
    if (this.stopped) return;
    this.cur.append(chunk);
    const c = this.cur;
    for (;;) {
      const start = c.pos;
      if (!c.has(1)) return;
      const op = c.u8(start);
      let len = 1; // bytes this opcode occupies, when known
      switch (op) {
        case OP.STOP:
          this.stopped = true;
          c.pos = start + 1;
          return;
        case OP.PROTO:
        case OP.BININT1:
        case OP.EXT1:
          len = 2;
          break;
        case OP.BINGET:
          if (!c.has(2)) return;
          this.referenced.add(c.u8(start + 1));
          len = 2;
          break;
        case OP.BINPUT:
          if (!c.has(2)) return;
          this.put(c.u8(start + 1));
          len = 2;
          break;
        case OP.BININT2:
        case OP.EXT2:
          len = 3;
          break;
        case OP.BININT:
        case OP.EXT4:
          len = 5;
          break;
        case OP.LONG_BINGET:
          if (!c.has(5)) return;
          this.referenced.add(c.u32(start + 1));
          len = 5;
          break;
        case OP.LONG_BINPUT:
          if (!c.has(5)) return;
          this.put(c.u32(start + 1));
          len = 5;
          break;
        case OP.MEMOIZE:
          this.memoSize++;
          break;
        case OP.BINFLOAT:
        case OP.FRAME:
          len = 9;
          break;
        case OP.LONG1:
        case OP.LONG4:
        case OP.SHORT_BINUNICODE:
        case OP.SHORT_BINSTRING:
        case OP.SHORT_BINBYTES:
        case OP.BINUNICODE:
        case OP.BINSTRING:
        case OP.BINBYTES:
        case OP.BINUNICODE8:
        case OP.BINBYTES8:
        case OP.BYTEARRAY8: {
          const field = lengthFieldSize(op) as 1 | 4 | 8;
          const n = payloadLength(c, op, field, start, c.base + start);
          if (n < 0) return;
          len = 1 + field + n;
          break;
        }
        case OP.GET:
        case OP.PUT:
        case OP.INT:
        case OP.LONG:
        case OP.FLOAT:
        case OP.STRING:
        case OP.UNICODE:
        case OP.PERSID: {
          const nl = c.newline(start + 1);
          if (nl < 0) return;
          if (op === OP.GET || op === OP.PUT) {
            const index = Number(latin1.decode(c.buf.subarray(start + 1, nl)));
            if (op === OP.GET) this.referenced.add(index);
            else this.put(index);
          }
          len = nl + 1 - start;
          break;
        }
        case OP.GLOBAL:
        case OP.INST: {
          const nl1 = c.newline(start + 1);
          if (nl1 < 0) return;
          const nl2 = c.newline(nl1 + 1);
          if (nl2 < 0) return;
          len = nl2 + 1 - start;
          break;
        }
        default:
          len = 1; // single-byte opcodes; unknown ones are reported by the second pass
      }
      if (!c.has(len)) return;
      c.pos = start + len;
    }
  }

  private put(index: number): void {
    if (index >= this.memoSize) this.memoSize++;
  }
}

type MemoValue = PickleValue | typeof PRUNED | undefined;

/**
 * The pickle memo: slot -> value. Each slot is a 32-bit code in fixed pages of 32,768 slots (a flat array
 * of millions of slots was regrown and copied, which costs collections; pages are made once): 0 never
 * written (undefined), 1 PRUNED, k >= 2 `values[k - 2]`, -(id + 1) the shared value `id` (setShared: an
 * interned list, stored once however many slots hold it). A snapshot's memo is two slots an entry, the
 * entry's dict (pruned) and its frames list (interned): 4 bytes a slot in typed pages, zero until written,
 * instead of 8 in arrays of references that V8 fills with holes when it makes them and that collections
 * scan and move.
 */
class Memo {
  private readonly pages: Int32Array[] = [];
  private readonly values: MemoValue[] = [];
  private readonly shared: MemoValue[] = [];
  /** One past the highest slot written. */
  length = 0;

  get(slot: number): MemoValue {
    const page = this.pages[slot >>> 15];
    if (page === undefined) return undefined;
    const code = page[slot & 32767]!;
    if (code > 1) return this.values[code - 2];
    if (code < 0) return this.shared[-code - 1];
    return code === 0 ? undefined : PRUNED;
  }

  set(slot: number, value: MemoValue): void {
    let code: number;
    if (value === PRUNED) code = 1;
    else if (value === undefined) code = 0;
    else {
      this.values.push(value);
      code = this.values.length + 1;
    }
    this.setCode(slot, code, value);
  }

  /** Sets `slot` to `value`, which is shared value `id` (dense from 0; always the same value for an id). */
  setShared(slot: number, value: MemoValue, id: number): void {
    this.shared[id] = value;
    this.setCode(slot, -(id + 1), value);
  }

  private setCode(slot: number, code: number, value: MemoValue): void {
    const p = slot >>> 15;
    let page = this.pages[p];
    // A far slot (LONG_BINPUT takes any u32) leaves the pages between unmade (a holey array).
    if (page === undefined) this.pages[p] = page = new Int32Array(32768);
    if (slot < this.watched.length && this.watched[slot] === 1) {
      const old = this.get(slot);
      if (old !== undefined && old !== value) this.watchedChanged = true;
    }
    // A value replaced (a streamed item pruned, a list interned) is not kept alive by `values`.
    const old = page[slot & 32767]!;
    if (old > 1) this.values[old - 2] = undefined;
    page[slot & 32767] = code;
    if (slot >= this.length) this.length = slot + 1;
  }

  /** Slots whose value something was derived from (1 = watched); see watch. */
  private watched = new Uint8Array(0);
  /** Set when the value of a watched slot is replaced by another; cleared by unwatchAll. */
  watchedChanged = false;

  /** Watches `slot`: replacing its value sets watchedChanged. */
  watch(slot: number): void {
    if (slot >= this.watched.length) {
      const grown = new Uint8Array(Math.max(slot + 1, this.watched.length * 2, 1024));
      grown.set(this.watched);
      this.watched = grown;
    }
    this.watched[slot] = 1;
  }

  unwatchAll(): void {
    this.watched.fill(0);
    this.watchedChanged = false;
  }
}

/**
 * A list of memo references that was interned, by the slots it was read from: the same slots (while none
 * of them is written again) make the same list, so the fast path finds it without reading the memo.
 */
interface SlotList {
  readonly slots: Uint32Array;
  readonly list: PickleValue[];
  readonly id: number;
  /**
   * The list's bytes after its MARK up to and with its APPENDS, as 32-bit little-endian words (the last
   * one padded with zeros) and their count in bytes; made when the list first goes into the prefix table.
   */
  words?: Uint32Array;
  byteLength?: number;
}

/** Bytes of a frames list's start that key the prefix table (see PickleStreamReader.fastInternedList). */
const PREFIX_BYTES = 16;
/**
 * Places of the prefix table: direct-mapped by the prefix key's low bits (a key that lands on another's
 * place replaces it, and the list is then found the slower way, by its slots). A Map's lookup by a Smi
 * key per trace entry cost several times a typed-array read.
 */
const PREFIX_TABLE_SIZE = 1 << 16;
const PREFIX_TABLE_MASK = PREFIX_TABLE_SIZE - 1;

/** Second pass: the value, with selected lists streamed. feed() chunks in order, then end(). */
export class PickleStreamReader {
  private readonly cur = new Cursor();
  private stack: Frame = [];
  private readonly metastack: Frame[] = [];
  /** Slot -> value; undefined for slots not kept (not referenced), PRUNED for slots forgotten. */
  private readonly memo = new Memo();
  private memoSize = 0;
  /** Per MARK on the metastack: memoSize when it was pushed (which slots a batch of items made). */
  private readonly markMemo: number[] = [];
  /** Per MARK: how many values in its frame were pushed by a memo GET, and a hash of their slots. */
  private readonly markRefs: number[] = [];
  private readonly markHash: number[] = [];
  private refsInFrame = 0;
  private refHash = 0;
  /** Interned reference-only lists by hash of their slots (see internReferenceLists). */
  private readonly internedLists = new Map<number, PickleValue[][]>();
  /** Interned lists and their ids (dense from 0; see StreamedRecord.listId). */
  private readonly interned = new Map<PickleValue[], number>();
  /** Per streamed list: memoSize after its last append (slots since then were made by its next items). */
  private readonly streamedMemoMark = new WeakMap<PickleValue[], number>();
  private result: PickleValue | undefined;
  private done = false;
  protocol = 0;
  /** Paths of lists being filled (computed once per list); null = not streamed. */
  private readonly listPaths = new WeakMap<PickleValue[], PicklePath | null>();
  /** Items handed out so far per streamed list (its index base). */
  private readonly streamedCounts = new WeakMap<PickleValue[], { n: number }>();

  /** The count of items handed out from the streamed list `list` (a holder the fast path keeps at hand). */
  private streamedCount(list: PickleValue[]): { n: number } {
    let count = this.streamedCounts.get(list);
    if (count === undefined) this.streamedCounts.set(list, (count = { n: 0 }));
    return count;
  }
  private readonly maxMarkDepth: number;

  constructor(private readonly options: PickleStreamOptions = {}) {
    this.maxMarkDepth = options.maxMarkDepth ?? 10_000;
    const refs = options.referencedMemo;
    this.fastItems = options.onItem !== undefined && refs !== undefined && refs !== null;
    if (options.record !== undefined) {
      this.record = new StreamedRecord(options.record.fields);
      options.record.fields.forEach((name, k) => this.recordField.set(name, k));
    }
  }

  get finished(): boolean {
    return this.done;
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.cur.base + this.cur.pos;
  }

  /**
   * Bytes after STOP are ignored (a snapshot file holds one pickle). No view of `chunk` is kept past the
   * next feed (what is left unread of it is copied then), so a source may recycle its memory after that
   * (ByteSource.chunks `recycle`).
   */
  feed(chunk: Uint8Array): void {
    if (this.done) return;
    const c = this.cur;
    if (c.pos < c.buf.length && chunk.length > STITCH_BYTES) {
      // An opcode runs on from the last chunk: finish it in a copy of its bytes and the chunk's first
      // STITCH_BYTES, then go on in the chunk itself (copying every chunk whole cost more than reading it).
      c.append(chunk.subarray(0, STITCH_BYTES));
      this.run();
      if (this.done) return;
      if (c.continueIn(chunk, STITCH_BYTES)) this.run();
      else {
        c.append(chunk.subarray(STITCH_BYTES)); // one opcode longer than that: copied whole
        this.run();
      }
      return;
    }
    c.append(chunk);
    this.run();
  }

  end(): PickleValue {
    if (!this.done || this.result === undefined) {
      throw new PickleError('The pickle ends before its STOP opcode (truncated file?)', this.position);
    }
    return this.result;
  }

  private pop(at: number): PickleValue {
    if (this.stack.length === 0) throw new PickleError('Stack underflow (malformed pickle)', at);
    return this.stack.pop()!;
  }

  private top(at: number): PickleValue {
    if (this.stack.length === 0) throw new PickleError('Stack underflow (malformed pickle)', at);
    return this.stack[this.stack.length - 1]!;
  }

  private pushMark(at: number): void {
    if (this.metastack.length >= this.maxMarkDepth) throw new PickleError('Too deeply nested', at);
    this.metastack.push(this.stack);
    this.markMemo.push(this.memoSize);
    this.markRefs.push(this.refsInFrame);
    this.markHash.push(this.refHash);
    this.refsInFrame = 0;
    this.refHash = 0;
    this.stack = [];
  }

  private popMark(at: number): Frame {
    const items = this.stack;
    const below = this.metastack.pop();
    if (below === undefined) throw new PickleError('Missing MARK (malformed pickle)', at);
    this.stack = below;
    this.markMemo.pop();
    this.refsInFrame = this.markRefs.pop()!;
    this.refHash = this.markHash.pop()!;
    return items;
  }

  private memoPut(index: number, at: number): void {
    const value = this.top(at);
    if (index >= this.memoSize) this.memoSize = index + 1;
    const refs = this.options.referencedMemo;
    if (refs === undefined || refs === null || refs === 'prune-streamed' || refs.has(index))
      this.memo.set(index, value);
  }

  private memoGet(index: number, at: number): void {
    const v = index < this.memoSize ? this.memo.get(index) : undefined;
    if (v === undefined) throw new PickleError('A memo slot is read before it is written', at);
    if (v === PRUNED)
      throw new PickleNeedsRescan(`memo slot ${index} is read back after the streamed item that made it`);
    this.stack.push(v);
    this.refsInFrame++;
    this.refHash = (Math.imul(this.refHash, 0x01000193) ^ index) | 0;
  }

  /**
   * APPENDS of `items` (all pushed by memo GETs) into the empty list `list` on top of the stack: returns
   * the shared list with the same items, or `list` filled with them and registered as that shared list.
   * `memoSlot` is where the list was memoized (just before its MARK, as CPython writes it), which is pointed
   * at the shared list; a list not found there is filled and not shared (it may be memoized elsewhere).
   */
  private internList(
    list: PickleValue[],
    items: PickleValue[],
    memoSlot: number,
    hash: number,
  ): PickleValue[] {
    if (memoSlot < 0 || this.memo.get(memoSlot) !== list) {
      for (const item of items) list.push(item);
      return list;
    }
    if (list === this.fastOwner) this.fastOwner = null;
    const shared = this.findInterned(items, hash);
    if (shared !== undefined) {
      this.memo.setShared(memoSlot, shared, this.interned.get(shared)!);
      return shared;
    }
    for (const item of items) list.push(item);
    this.registerInterned(list, hash);
    this.memo.setShared(memoSlot, list, this.interned.get(list)!);
    return list;
  }

  /** Map key of a list by its length and slot hash: a small integer (a Smi, not a boxed heap number). */
  private internKey(length: number, hash: number): number {
    return (hash ^ Math.imul(length, 0x9e3779b1)) & 0x3fffffff;
  }

  /** The interned list with exactly `items` (`hash`: of their memo slots), if there is one. */
  private findInterned(items: readonly PickleValue[], hash: number): PickleValue[] | undefined {
    const bucket = this.internedLists.get(this.internKey(items.length, hash));
    if (bucket === undefined) return undefined;
    search: for (const candidate of bucket) {
      if (candidate.length !== items.length) continue;
      for (let k = 0; k < items.length; k++) if (candidate[k] !== items[k]) continue search;
      return candidate;
    }
    return undefined;
  }

  /**
   * The one interned empty list (internReferenceLists): a kept empty list, complete once its item is
   * (the fast path, pruneStreamed), is this list rather than a list of its own, as equal reference lists
   * are one list. Should the pickle append to it later, appendTo asks for a rescan as for any interned list.
   */
  private readonly emptyList: PickleValue[] = [];
  private emptyId = -1;

  /** The interned id of emptyList (registered at its first use). */
  private emptyListId(): number {
    if (this.emptyId < 0) {
      this.registerInterned(this.emptyList, 0);
      this.emptyId = this.interned.get(this.emptyList)!;
    }
    return this.emptyId;
  }

  private registerInterned(list: PickleValue[], hash: number): void {
    const key = this.internKey(list.length, hash);
    let bucket = this.internedLists.get(key);
    if (bucket === undefined) this.internedLists.set(key, (bucket = []));
    bucket.push(list);
    this.interned.set(list, this.interned.size);
  }

  /**
   * After items of a streamed list were handed out (referencedMemo 'prune-streamed'): forgets the memo
   * slots from `from` that hold one of the items, and counts the lists kept that are not interned (an empty
   * one becomes the interned empty list with internReferenceLists, as the fast path makes it).
   */
  private pruneStreamed(from: number, items: readonly PickleValue[]): void {
    const memo = this.memo;
    const end = Math.min(this.memoSize, memo.length);
    const handedOut = new Set<PickleValue>(items);
    for (let k = from; k < end; k++) {
      const v = memo.get(k);
      if (v === undefined || v === PRUNED) continue;
      if (handedOut.has(v)) memo.set(k, PRUNED);
      else if (Array.isArray(v) && !this.interned.has(v)) {
        if (v.length === 0 && this.options.internReferenceLists)
          memo.setShared(k, this.emptyList, this.emptyListId());
        else this.countKeptLists(1);
      }
    }
  }
  private keptLists = 0;

  /** Counts `n` more lists kept in the memo that are not interned; past MAX_KEPT_LISTS, a rescan. */
  private countKeptLists(n: number): void {
    this.keptLists += n;
    if (this.keptLists > MAX_KEPT_LISTS)
      throw new PickleNeedsRescan(`more than ${MAX_KEPT_LISTS} lists would stay in the memo`);
  }

  // ---- Fast path for streamed dict items ----------------------------------------------------------------
  //
  // In a snapshot almost every byte is a trace entry: a flat dict, `EMPTY_DICT MEMOIZE MARK (key value)*
  // SETITEMS`, item of a streamed list's APPENDS batch, whose values are small ints, addresses (LONG1),
  // strings and a frames list of memo references. streamedDict reads such a dict straight from the buffer
  // and hands it out at once, without the stack, MARK frames or a memo slot for the dict. It does exactly
  // what the opcodes would do (same memo slots, same interned lists) and gives up (-1) on anything else,
  // and when the dict runs past the bytes at hand: the opcode loop then reads it from `start` as usual.

  /** Whether streamedDict may be tried (items streamed, and a memo policy that drops the item itself). */
  private readonly fastItems: boolean;
  /** The streamed list whose MARK frame streamedDict last served, and its path. */
  private fastOwner: PickleValue[] | null = null;
  private fastPath: PicklePath = [];
  private fastCount = { n: 0 };
  private fastItemCount = 0;
  /** Streamed items read by the fast path (streamedDict) so far: a diagnostic for tests and benchmarks. */
  get fastItemsRead(): number {
    return this.fastItemCount;
  }
  /** Where the last fastValue / fastPut stopped reading. */
  private fastPos = 0;

  /**
   * Tries to read the dict whose EMPTY_DICT is at buf[start] as a complete item of the streamed list that
   * owns the current MARK frame. Items already in that frame (read by the opcode loop) are complete, as a
   * new item starts: they are handed out first. Returns the position after the dict's SETITEMS, or -1
   * (nothing changed that the opcode loop would not redo).
   */
  private streamedDict(start: number): number {
    const level = this.metastack.length;
    if (level === 0) return -1;
    const below = this.metastack[level - 1]!;
    const owner = below[below.length - 1];
    if (owner !== this.fastOwner) {
      if (!Array.isArray(owner) || this.interned.has(owner)) return -1;
      if (level - 1 > (this.options.maxPathLength ?? Infinity)) return -1;
      const path = this.listPathOf(owner, level - 1, below.length - 1);
      if (path === null || this.options.streamItems?.(path) !== true) return -1;
      this.fastOwner = owner;
      this.fastPath = path;
      this.fastCount = this.streamedCount(owner);
      this.fastRecord = this.record !== null && this.options.record!.lists(path) ? this.record : null;
    }
    if (this.stack.length > 0) {
      const items = this.stack;
      this.stack = [];
      this.refsInFrame = 0;
      this.refHash = 0;
      const marks = this.markMemo.length - 1;
      this.handOut(this.fastOwner!, this.fastPath, items, this.markMemo[marks]!);
      this.markMemo[marks] = this.memoSize;
    }
    const buf = this.cur.buf;
    const savedMemoSize = this.memoSize;
    this.fastDictMemoStart = savedMemoSize;
    this.fastKeptLists = 0;
    // The dict's own memo slot: never kept (the item is handed out now; a later read of it is a rescan).
    const slot = this.fastPut(start + 1);
    if (slot === -2) return this.fastGiveUp(savedMemoSize);
    let p = this.skipFrames(this.fastPos);
    if (slot >= 0) {
      const refs = this.options.referencedMemo;
      if (refs === 'prune-streamed') this.memo.set(slot, PRUNED);
      else if (typeof refs === 'object' && refs !== null && refs.has(slot))
        return this.fastGiveUp(savedMemoSize);
    }
    if (p >= buf.length || buf[p] !== OP.MARK) return this.fastGiveUp(savedMemoSize);
    p++;
    const rec = this.fastRecord;
    const d = rec === null ? newDict() : null;
    if (rec !== null) rec.clear();
    for (let k = 0; ; k++) {
      p = this.skipFrames(p);
      if (p >= buf.length) return this.fastGiveUp(savedMemoSize);
      if (buf[p] === OP.SETITEMS) {
        p++;
        break;
      }
      const key = this.fastValue(p);
      if (typeof key !== 'string') return this.fastGiveUp(savedMemoSize);
      if (rec !== null) {
        if (!this.fastRecordValue(this.fastPos, rec, this.recordFieldOf(key, k)))
          return this.fastGiveUp(savedMemoSize);
      } else {
        const value = this.fastValue(this.fastPos);
        if (value === FAST_FAIL) return this.fastGiveUp(savedMemoSize);
        d![key] = value;
      }
      p = this.fastPos;
    }
    // Complete only if nothing can touch it again: the next opcode starts the next item or ends the batch.
    const q = this.skipFrames(p);
    if (q >= buf.length || (buf[q] !== OP.EMPTY_DICT && buf[q] !== OP.APPENDS))
      return this.fastGiveUp(savedMemoSize);
    const count = this.fastCount;
    if (rec !== null) this.options.record!.onRecord(this.fastPath, count.n, rec);
    else this.options.onItem?.(this.fastPath, count.n, d!);
    count.n++;
    this.fastItemCount++;
    if (this.options.referencedMemo === 'prune-streamed') {
      // What pruneStreamed would do for this item's slots is done: its dict's slot is PRUNED, its lists
      // are interned or counted here. The next handOut's pruneStreamed starts after them (going over a
      // million entries' slots again cost a Set lookup and an interned-list lookup each).
      if (this.fastKeptLists > 0) this.countKeptLists(this.fastKeptLists);
      this.markMemo[this.markMemo.length - 1] = this.memoSize;
    }
    return p;
  }

  /** Lists the current fast-path item keeps in the memo that are not interned (counted when it is done). */
  private fastKeptLists = 0;

  /** The record (PickleStreamOptions.record) the fast path fills, or null when items are dicts. */
  private readonly record: StreamedRecord | null = null;
  /** `record` when the fastOwner's items become records, else null. */
  private fastRecord: StreamedRecord | null = null;
  private readonly recordField = new Map<string, number>();
  /**
   * The last key seen at each position of a dict and its field: entries repeat their keys in the same
   * order, as the same memoized string objects, so an identity check mostly saves the lookup by name.
   */
  private readonly recentKey: (string | undefined)[] = new Array<string | undefined>(16).fill(undefined);
  private readonly recentField = new Int32Array(16);

  /** The record field of dict key `key` at position `k`; -1 when the key is not one of the fields. */
  private recordFieldOf(key: string, k: number): number {
    if (k < 16 && this.recentKey[k] === key) return this.recentField[k]!;
    const field = this.recordField.get(key) ?? -1;
    if (k < 16) {
      this.recentKey[k] = key;
      this.recentField[k] = field;
    }
    return field;
  }

  /**
   * The value at buf[at] into field `field` of `rec` (-1: read and dropped), as fastValue reads it (numbers
   * straight into the record, unboxed). Sets fastPos after it; false where fastValue would fail.
   */
  private fastRecordValue(at: number, rec: StreamedRecord, field: number): boolean {
    const c = this.cur;
    const buf = c.buf;
    const p = this.skipFrames(at);
    if (field >= 0 && p < buf.length) {
      let num: number;
      let end: number;
      switch (buf[p]) {
        case OP.BININT1:
          end = p + 2;
          if (end > buf.length) return false;
          num = buf[p + 1]!;
          break;
        case OP.BININT2:
          end = p + 3;
          if (end > buf.length) return false;
          num = c.u16(p + 1);
          break;
        case OP.BININT:
          end = p + 5;
          if (end > buf.length) return false;
          num = c.i32(p + 1);
          break;
        case OP.LONG1: {
          if (p + 2 > buf.length) return false;
          end = p + 2 + buf[p + 1]!;
          if (end > buf.length) return false;
          const v = decodeLongAt(buf, p + 2, buf[p + 1]!);
          if (typeof v !== 'number') {
            rec.set(field, v);
            this.fastPos = end;
            return true;
          }
          num = v;
          break;
        }
        default:
          end = -1;
          num = 0;
      }
      if (end >= 0) {
        rec.kind[field] = RECORD_NUMBER;
        rec.num[field] = num;
        rec.listId[field] = -1;
        this.fastPos = end;
        return true;
      }
    }
    this.fastListId = -1;
    const v = this.fastValue(p);
    if (v === FAST_FAIL) return false;
    if (field >= 0) rec.set(field, v, this.fastListId);
    return true;
  }

  /** streamedDict's way out: the memo size as it was (slots written since are written again). */
  private fastGiveUp(memoSize: number): number {
    this.memoSize = memoSize;
    return -1;
  }

  /**
   * A memo write at buf[p] (MEMOIZE, BINPUT, LONG_BINPUT) of a fresh slot: returns the slot and sets
   * fastPos after it; -1 (fastPos = p) when there is none; -2 when it cannot be handled here.
   */
  private fastPut(at: number): number {
    const buf = this.cur.buf;
    const p = this.skipFrames(at);
    this.fastPos = at;
    if (p >= buf.length) return -2;
    let slot: number;
    switch (buf[p]) {
      case OP.MEMOIZE:
        slot = this.memoSize;
        this.fastPos = p + 1;
        break;
      case OP.BINPUT:
        if (p + 2 > buf.length) return -2;
        slot = buf[p + 1]!;
        this.fastPos = p + 2;
        break;
      case OP.LONG_BINPUT:
        if (p + 5 > buf.length) return -2;
        slot = this.cur.u32(p + 1);
        this.fastPos = p + 5;
        break;
      default:
        return -1;
    }
    // Re-putting a slot already written would change what an earlier read saw if the loop redoes this item.
    if (slot < this.memoSize) return -2;
    this.memoSize = slot + 1;
    return slot;
  }

  /** Whether memoPut's policy keeps what the fast path writes to `slot`. */
  private keepsSlot(slot: number): boolean {
    const refs = this.options.referencedMemo;
    return refs === 'prune-streamed' || (typeof refs === 'object' && refs !== null && refs.has(slot));
  }

  /** memoPut's policy for a value made by the fast path; returns whether it was kept. */
  private fastKeep(slot: number, value: PickleValue): boolean {
    if (!this.keepsSlot(slot)) return false;
    this.memo.set(slot, value);
    return true;
  }

  /**
   * One value at buf[p] (with its memo write, if any): small ints, LONG1, None/True/False, floats, short
   * and long unicode, memo reads, and lists of memo reads (interned as the opcode loop would). Sets fastPos
   * after it; FAST_FAIL for anything else.
   */
  private fastValue(at: number): PickleValue | typeof FAST_FAIL {
    const c = this.cur;
    const buf = c.buf;
    const n = buf.length;
    const p = this.skipFrames(at);
    if (p >= n) return FAST_FAIL;
    switch (buf[p]) {
      case OP.BININT1:
        if (p + 2 > n) return FAST_FAIL;
        this.fastPos = p + 2;
        return buf[p + 1]!;
      case OP.BININT2:
        if (p + 3 > n) return FAST_FAIL;
        this.fastPos = p + 3;
        return c.u16(p + 1);
      case OP.BININT:
        if (p + 5 > n) return FAST_FAIL;
        this.fastPos = p + 5;
        return c.i32(p + 1);
      case OP.LONG1: {
        if (p + 2 > n) return FAST_FAIL;
        const len = buf[p + 1]!;
        if (p + 2 + len > n) return FAST_FAIL;
        this.fastPos = p + 2 + len;
        return decodeLongAt(buf, p + 2, len);
      }
      case OP.BINFLOAT:
        if (p + 9 > n) return FAST_FAIL;
        this.fastPos = p + 9;
        return c.f64be(p + 1);
      case OP.NONE:
        this.fastPos = p + 1;
        return null;
      case OP.NEWTRUE:
        this.fastPos = p + 1;
        return true;
      case OP.NEWFALSE:
        this.fastPos = p + 1;
        return false;
      case OP.SHORT_BINUNICODE:
      case OP.BINUNICODE: {
        const field = buf[p] === OP.SHORT_BINUNICODE ? 1 : 4;
        if (p + 1 + field > n) return FAST_FAIL;
        const len = field === 1 ? buf[p + 1]! : c.u32(p + 1);
        const from = p + 1 + field;
        if (len > MAX_PAYLOAD || from + len > n) return FAST_FAIL;
        const text = decodeUtf8(buf, from, from + len);
        const slot = this.fastPut(from + len);
        if (slot === -2) return FAST_FAIL;
        if (slot >= 0) this.fastKeep(slot, text);
        return text;
      }
      case OP.BINGET:
      case OP.LONG_BINGET: {
        const v = this.fastGet(p);
        if (v === undefined) return FAST_FAIL;
        if (Array.isArray(v)) this.fastListId = this.interned.get(v) ?? -1;
        return v;
      }
      case OP.EMPTY_LIST: {
        const slot = this.fastPut(p + 1);
        if (slot === -2) return FAST_FAIL;
        const kept = slot >= 0 && this.keepsSlot(slot);
        let q = this.skipFrames(this.fastPos);
        if (q >= n || buf[q] !== OP.MARK) {
          // An empty list (the next opcode is the next key): in snapshots, the frames of an allocation
          // without Python frames (stacks="python"), a list of its own in each entry.
          if (!kept) return [];
          if (this.options.internReferenceLists) {
            const id = this.emptyListId();
            this.memo.setShared(slot, this.emptyList, id);
            this.fastListId = id;
            return this.emptyList;
          }
          const list: PickleValue[] = [];
          this.memo.set(slot, list);
          this.fastKeptLists++;
          return list;
        }
        q++;
        if (kept && this.options.internReferenceLists) return this.fastInternedList(q, slot);
        // The items go to a scratch array first: most frames lists are found interned, and then no list
        // is made at all (the opcode loop makes one and drops it).
        const items = this.fastScratch;
        items.length = 0;
        let hash = 0;
        for (;;) {
          q = this.skipFrames(q);
          if (q >= n) return FAST_FAIL;
          if (buf[q] === OP.APPENDS) break;
          const v = this.fastGet(q);
          if (v === undefined || this.fastSlot === slot) return FAST_FAIL; // (a list holding itself)
          items.push(v);
          hash = (Math.imul(hash, 0x01000193) ^ this.fastSlot) | 0;
          q = this.fastPos;
        }
        this.fastPos = q + 1;
        if (items.length === 0 || items.length >= 1000) return FAST_FAIL; // the loop's own rules apply
        const list = items.slice();
        if (kept) {
          this.memo.set(slot, list);
          this.fastKeptLists++;
        }
        return list;
      }
      default:
        return FAST_FAIL;
    }
  }

  /**
   * The items of a list of memo references, from buf[from] (after its MARK) to its APPENDS, for a list kept
   * at memo slot `slot` and interned (internReferenceLists): the interned list, as the opcode loop makes
   * it. Hot (every trace entry has a frames list of 10-40 frames): a list read from the same slots before
   * is found by its slots alone (slotLists), without reading the memo; its slots are watched, and should
   * one of them be written again the cache is dropped. Sets fastPos after the APPENDS and fastListId.
   */
  private fastInternedList(from: number, slot: number): PickleValue[] | typeof FAST_FAIL {
    const c = this.cur;
    const buf = c.buf;
    const n = buf.length;
    // Most lists repeat one read before byte for byte (the same slots, by the same opcodes): the last list
    // that started with the same PREFIX_BYTES is compared word by word with these bytes first. Equal
    // bytes up to its APPENDS are the same opcodes, so the same slots: that list, without the walk.
    let prefix = -1;
    if (from + PREFIX_BYTES <= n) {
      prefix = this.prefixKey(from);
      if (!this.memo.watchedChanged) {
        const at = prefix & PREFIX_TABLE_MASK;
        const e = this.prefixKeys[at] === prefix ? this.prefixLists[at] : undefined;
        if (e !== undefined && this.sameBytes(from, e.words!, e.byteLength!)) {
          this.byteMatches++;
          this.fastPos = from + e.byteLength!;
          this.memo.setShared(slot, e.list, e.id);
          this.fastListId = e.id;
          return e.list;
        }
      }
    }
    const slots = this.slotScratch;
    let len = 0;
    let hash = 0;
    let q = from;
    // Per item: the opcode, then FRAME only where it is neither GET (FRAME opcodes sit between opcodes at
    // frame boundaries, every 64 KiB or so: skipFrames' check at every item cost more than the item).
    for (;;) {
      if (q >= n) return FAST_FAIL;
      const op = buf[q];
      let s: number;
      if (op === OP.LONG_BINGET) {
        if (q + 5 > n) return FAST_FAIL;
        s = c.u32(q + 1);
        q += 5;
      } else if (op === OP.BINGET) {
        if (q + 2 > n) return FAST_FAIL;
        s = buf[q + 1]!;
        q += 2;
      } else if (op === OP.APPENDS) break;
      else if (op === OP.FRAME && q + 9 <= n) {
        q += 9;
        continue;
      } else return FAST_FAIL;
      // Not written yet or the list itself (fastPut made `slot` the last slot written: every slot from it
      // on is one of the two), or a batch of 1000 (the opcode loop's rules apply).
      if (s >= slot || len === 999) return FAST_FAIL;
      slots[len++] = s;
      hash = (Math.imul(hash, 0x01000193) ^ s) | 0;
    }
    this.fastPos = q + 1;
    if (len === 0) return FAST_FAIL;
    if (this.memo.watchedChanged) {
      this.slotLists.clear();
      this.prefixKeys.fill(-1);
      this.prefixLists.fill(undefined);
      this.memo.unwatchAll();
    }
    const key = this.internKey(len, hash);
    const bucket = this.slotLists.get(key);
    if (bucket !== undefined) {
      search: for (const e of bucket) {
        if (e.slots.length !== len) continue;
        for (let k = 0; k < len; k++) if (e.slots[k] !== slots[k]) continue search;
        this.memo.setShared(slot, e.list, e.id);
        this.fastListId = e.id;
        if (prefix >= 0) this.rememberBytes(prefix, e, from, q + 1);
        return e.list;
      }
    }
    // First read from these slots: their values, interned as the opcode loop does.
    const items = this.fastScratch;
    items.length = 0;
    for (let k = 0; k < len; k++) {
      const v = this.memo.get(slots[k]!);
      if (v === undefined || v === PRUNED) return FAST_FAIL; // the opcode loop says why
      items.push(v);
    }
    let list = this.findInterned(items, hash);
    if (list === undefined) {
      list = items.slice();
      this.registerInterned(list, hash);
    }
    const id = this.interned.get(list)!;
    this.memo.setShared(slot, list, id);
    this.fastListId = id;
    // A value made inside this very item would be made again (another object) by the opcode loop, should
    // the fast path give the item up: lists reading such slots are not cached.
    let maxSlot = -1;
    for (let k = 0; k < len; k++) if (slots[k]! > maxSlot) maxSlot = slots[k]!;
    if (maxSlot < this.fastDictMemoStart) {
      const entry: SlotList = { slots: slots.slice(0, len), list, id };
      if (bucket === undefined) this.slotLists.set(key, [entry]);
      else bucket.push(entry);
      for (let k = 0; k < len; k++) this.memo.watch(slots[k]!);
      if (prefix >= 0) this.rememberBytes(prefix, entry, from, q + 1);
    }
    return list;
  }
  /**
   * The prefix table: the SlotList read last from bytes that start with the same PREFIX_BYTES, at its
   * prefixKey's place (prefixKeys holds the whole key, -1 when empty; see fastInternedList); only lists in
   * slotLists (their slots watched), dropped with them.
   */
  private readonly prefixKeys = new Int32Array(PREFIX_TABLE_SIZE).fill(-1);
  private readonly prefixLists: (SlotList | undefined)[] = new Array<SlotList | undefined>(
    PREFIX_TABLE_SIZE,
  ).fill(undefined);
  private byteMatches = 0;
  /** Frames lists the fast path recognised by their bytes (the prefix table): a diagnostic for tests. */
  get listsMatchedByBytes(): number {
    return this.byteMatches;
  }

  /** A Smi key of the PREFIX_BYTES at buf[from] (the caller checked they are there). */
  private prefixKey(from: number): number {
    const c = this.cur;
    let h = c.u32(from);
    for (let k = 4; k < PREFIX_BYTES; k += 4) h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ c.u32(from + k);
    return (h ^ (h >>> 13)) & 0x3fffffff;
  }

  /** Whether buf[from...] starts with the `byteLength` bytes held in `words` (see SlotList.words). */
  private sameBytes(from: number, words: Uint32Array, byteLength: number): boolean {
    const c = this.cur;
    const buf = c.buf;
    if (from + byteLength > buf.length) return false;
    const whole = byteLength >>> 2;
    for (let w = 0; w < whole; w++) if (c.u32(from + 4 * w) !== words[w]) return false;
    const last = words[whole] ?? 0;
    for (let k = 4 * whole; k < byteLength; k++)
      if (buf[from + k] !== ((last >>> (8 * (k & 3))) & 0xff)) return false;
    return true;
  }

  /** Makes `e` the list of its prefix in the prefix table, with its bytes buf[from, to) as words. */
  private rememberBytes(prefix: number, e: SlotList, from: number, to: number): void {
    if (e.words === undefined) {
      const n = to - from;
      const words = new Uint32Array((n + 3) >>> 2);
      const buf = this.cur.buf;
      for (let k = 0; k < n; k++) words[k >>> 2] = words[k >>> 2]! | (buf[from + k]! << (8 * (k & 3)));
      e.words = words;
      e.byteLength = n;
    }
    const at = prefix & PREFIX_TABLE_MASK;
    this.prefixKeys[at] = prefix;
    this.prefixLists[at] = e;
  }

  /** Interned lists by the memo slots they were read from (see fastInternedList), by internKey. */
  private readonly slotLists = new Map<number, SlotList[]>();
  private readonly slotScratch = new Uint32Array(1000);
  /** The interned list id of the last value fastValue read (-1: not an interned list). */
  private fastListId = -1;
  /** memoSize when streamedDict started the current item. */
  private fastDictMemoStart = 0;
  /** The position after any FRAME opcodes at buf[p] (they only group bytes; the loop skips them too). */
  private skipFrames(p: number): number {
    const buf = this.cur.buf;
    while (p + 9 <= buf.length && buf[p] === OP.FRAME) p += 9;
    return p;
  }

  /** Reused for the items of a list of memo references (see fastValue). */
  private readonly fastScratch: PickleValue[] = [];
  /** The slot fastGet read last. */
  private fastSlot = 0;

  /** A BINGET / LONG_BINGET at buf[p] of a slot that holds a value; undefined otherwise. */
  private fastGet(p: number): PickleValue | undefined {
    const buf = this.cur.buf;
    let slot: number;
    if (buf[p] === OP.BINGET) {
      if (p + 2 > buf.length) return undefined;
      slot = buf[p + 1]!;
      this.fastPos = p + 2;
    } else if (buf[p] === OP.LONG_BINGET) {
      if (p + 5 > buf.length) return undefined;
      slot = this.cur.u32(p + 1);
      this.fastPos = p + 5;
    } else return undefined;
    const v = slot < this.memoSize ? this.memo.get(slot) : undefined;
    if (v === undefined || v === PRUNED) return undefined; // the opcode loop says why
    this.fastSlot = slot;
    return v;
  }

  /** Path of the container at stack level `level`, index `i` (null when it is not reachable by keys). */
  /**
   * Path of the value at stack level `level`, index `i` (null when it cannot be told). A MARK frame's
   * owner is the container just below the MARK (batched SETITEMS / APPENDS: values at odd positions of a
   * dict frame, every position of a list frame). Without a MARK the pickler writes `list item APPEND` and
   * `dict key value SETITEM`: a value in a key slot of a dict frame (or at level 0) whose left neighbour is
   * a list, or a dict and a string key, belongs to that neighbour (single-item lists such as the
   * device_traces of one GPU are written this way).
   */
  private pathAt(level: number, i: number): PicklePath | null {
    const frame = level === this.metastack.length ? this.stack : this.metastack[level]!;
    const below = level === 0 ? null : this.metastack[level - 1]!;
    const owner = below === null || below.length === 0 ? undefined : below[below.length - 1];
    if (level === 0 || (isDict(owner) && i % 2 === 0)) {
      const prev = i >= 1 ? frame[i - 1] : undefined;
      if (Array.isArray(prev)) {
        const listPath = this.listPathOf(prev, level, i - 1);
        return listPath === null ? null : [...listPath, this.streamedCounts.get(prev)?.n ?? prev.length];
      }
      if (typeof prev === 'string' && i >= 2 && isDict(frame[i - 2])) {
        const dictPath = this.pathAt(level, i - 2);
        return dictPath === null ? null : [...dictPath, prev];
      }
      return level === 0 && i === 0 ? [] : null;
    }
    if (owner === undefined) return null;
    const ownerPath = Array.isArray(owner)
      ? this.listPathOf(owner, level - 1, below!.length - 1)
      : this.pathAt(level - 1, below!.length - 1);
    if (ownerPath === null) return null;
    if (isDict(owner)) {
      const key = frame[i - 1];
      return typeof key === 'string' ? [...ownerPath, key] : null;
    }
    if (Array.isArray(owner)) return [...ownerPath, (this.streamedCounts.get(owner)?.n ?? owner.length) + i];
    return null;
  }

  private listPathOf(list: PickleValue[], level: number, i: number): PicklePath | null {
    let path = this.listPaths.get(list);
    if (path === undefined) {
      path = this.pathAt(level, i);
      this.listPaths.set(list, path);
    }
    return path;
  }

  /**
   * After a failure (a truncated file): hands the complete items still waiting in unfinished APPENDS
   * batches of streamed lists to onItem, outermost first, and stops at the first item the callback
   * rejects (the one that was still being built). Returns how many were handed out.
   */
  salvage(): number {
    const select = this.options.streamItems;
    if (select === undefined) return 0;
    let handed = 0;
    for (let level = 1; level <= this.metastack.length; level++) {
      const below = this.metastack[level - 1]!;
      const owner = below[below.length - 1];
      if (!Array.isArray(owner)) continue;
      const path = this.listPathOf(owner, level - 1, below.length - 1);
      if (path === null || !select(path)) continue;
      const frame = level === this.metastack.length ? this.stack : this.metastack[level]!;
      const count = this.streamedCount(owner);
      let index = count.n;
      for (const item of frame) {
        try {
          this.options.onItem?.(path, index++, item);
        } catch {
          return handed;
        }
        handed++;
      }
      count.n = index;
    }
    return handed;
  }

  /**
   * Appends to the list at the top of the current stack (streamed or stored). `memoFrom`: memoSize at the
   * MARK of an APPENDS batch (-1 for a single APPEND), where the items' own memo slots start.
   */
  private appendTo(items: readonly PickleValue[], at: number, memoFrom: number): void {
    const list = this.top(at);
    if (!Array.isArray(list)) throw new PickleError('APPEND(S) to something that is not a list', at);
    if (this.interned.has(list)) throw new PickleNeedsRescan(`a list taken as complete grows at byte ${at}`);
    const select = this.options.streamItems;
    // A path is at least as long as the list's stack level, so deeper lists (frames lists inside trace
    // entries) cannot match and are not looked up.
    if (select !== undefined && this.metastack.length <= (this.options.maxPathLength ?? Infinity)) {
      const path = this.listPathOf(list, this.metastack.length, this.stack.length - 1);
      if (path !== null && select(path)) {
        this.handOut(list, path, items, memoFrom);
        return;
      }
    }
    for (const item of items) list.push(item);
  }

  /** Gives the items of the streamed list `list` at `path` to onItem (see appendTo for `memoFrom`). */
  private handOut(
    list: PickleValue[],
    path: PicklePath,
    items: readonly PickleValue[],
    memoFrom: number,
  ): void {
    const count = this.streamedCount(list);
    let index = count.n;
    for (const item of items) this.options.onItem?.(path, index++, item);
    count.n = index;
    if (this.options.referencedMemo === 'prune-streamed') {
      const from = memoFrom >= 0 ? memoFrom : this.streamedMemoMark.get(list);
      if (from !== undefined) this.pruneStreamed(from, items);
      this.streamedMemoMark.set(list, this.memoSize);
    }
  }

  private setItems(items: readonly PickleValue[], at: number): void {
    const target = this.top(at);
    if (items.length % 2 !== 0) throw new PickleError('SETITEMS with an odd number of items', at);
    if (isDict(target)) {
      for (let k = 0; k < items.length; k += 2) target[keyString(items[k]!, at)] = items[k + 1]!;
    } else if (target instanceof PickleObject) {
      const d = isDict(target.state) ? target.state : newDict();
      for (let k = 0; k < items.length; k += 2) d[keyString(items[k]!, at)] = items[k + 1]!;
      target.state = d;
    } else throw new PickleError('SETITEM(S) on something that is not a dict', at);
  }

  private run(): void {
    const c = this.cur;
    while (!this.done) {
      const start = c.pos;
      const at = c.base + start;
      if (!c.has(1)) return;
      const op = c.u8(start);
      let next = start + 1;
      switch (op) {
        case OP.PROTO:
          if (!c.has(2)) return;
          this.protocol = c.u8(start + 1);
          if (this.protocol > 5) throw new PickleError('Unsupported pickle protocol (above 5)', at);
          next = start + 2;
          break;
        case OP.FRAME:
          if (!c.has(9)) return;
          next = start + 9;
          break;
        case OP.STOP:
          this.result = this.pop(at);
          this.done = true;
          break;
        case OP.MARK:
          this.pushMark(at);
          break;
        case OP.POP:
          if (this.stack.length > 0) this.stack.pop();
          else this.popMark(at);
          break;
        case OP.POP_MARK:
          this.popMark(at);
          break;
        case OP.DUP:
          this.stack.push(this.top(at));
          break;
        case OP.NONE:
          this.stack.push(null);
          break;
        case OP.NEWTRUE:
          this.stack.push(true);
          break;
        case OP.NEWFALSE:
          this.stack.push(false);
          break;
        case OP.BININT:
          if (!c.has(5)) return;
          this.stack.push(c.i32(start + 1));
          next = start + 5;
          break;
        case OP.BININT1:
          if (!c.has(2)) return;
          this.stack.push(c.u8(start + 1));
          next = start + 2;
          break;
        case OP.BININT2:
          if (!c.has(3)) return;
          this.stack.push(c.u16(start + 1));
          next = start + 3;
          break;
        case OP.BINFLOAT:
          if (!c.has(9)) return;
          this.stack.push(c.f64be(start + 1));
          next = start + 9;
          break;
        case OP.LONG1:
        case OP.LONG4:
        case OP.SHORT_BINUNICODE:
        case OP.SHORT_BINSTRING:
        case OP.SHORT_BINBYTES:
        case OP.BINUNICODE:
        case OP.BINSTRING:
        case OP.BINBYTES:
        case OP.BINUNICODE8:
        case OP.BINBYTES8:
        case OP.BYTEARRAY8: {
          const field = lengthFieldSize(op) as 1 | 4 | 8;
          const n = payloadLength(c, op, field, start, at);
          if (n < 0 || !c.has(1 + field + n)) return;
          const from = start + 1 + field;
          this.stack.push(payloadValue(op, c.buf.subarray(from, from + n)));
          next = from + n;
          break;
        }
        case OP.INT:
        case OP.LONG:
        case OP.FLOAT:
        case OP.STRING:
        case OP.UNICODE:
        case OP.GET:
        case OP.PUT:
        case OP.PERSID: {
          const nl = c.newline(start + 1);
          if (nl < 0) return;
          const text = latin1.decode(c.buf.subarray(start + 1, nl));
          next = nl + 1;
          if (op === OP.INT) {
            this.stack.push(text === '01' ? true : text === '00' ? false : parseDecimalInt(text, at));
          } else if (op === OP.LONG) this.stack.push(parseDecimalInt(text, at));
          else if (op === OP.FLOAT) {
            const f = Number(text);
            if (Number.isNaN(f) && text.trim().toLowerCase() !== 'nan')
              throw new PickleError('Malformed float', at);
            this.stack.push(f);
          } else if (op === OP.STRING) this.stack.push(pythonStringLiteral(text, at));
          else if (op === OP.UNICODE) this.stack.push(rawUnicodeEscape(text));
          else if (op === OP.GET || op === OP.PUT) {
            const index = Number(text);
            if (!Number.isSafeInteger(index) || index < 0) throw new PickleError('Malformed memo index', at);
            if (op === OP.GET) this.memoGet(index, at);
            else this.memoPut(index, at);
          } else throw new PickleError('Persistent ids (PERSID) are not supported in a memory snapshot', at);
          break;
        }
        case OP.BINGET:
          if (!c.has(2)) return;
          this.memoGet(c.u8(start + 1), at);
          next = start + 2;
          break;
        case OP.LONG_BINGET:
          if (!c.has(5)) return;
          this.memoGet(c.u32(start + 1), at);
          next = start + 5;
          break;
        case OP.BINPUT:
          if (!c.has(2)) return;
          this.memoPut(c.u8(start + 1), at);
          next = start + 2;
          break;
        case OP.LONG_BINPUT:
          if (!c.has(5)) return;
          this.memoPut(c.u32(start + 1), at);
          next = start + 5;
          break;
        case OP.MEMOIZE:
          this.memoPut(this.memoSize, at);
          break;
        case OP.EMPTY_LIST:
          this.stack.push([]);
          break;
        case OP.EMPTY_TUPLE:
          this.stack.push([]);
          break;
        case OP.EMPTY_DICT:
          if (this.fastItems) {
            const end = this.streamedDict(start);
            if (end >= 0) {
              next = end;
              break;
            }
          }
          this.stack.push(newDict());
          break;
        case OP.EMPTY_SET:
          this.stack.push([]);
          break;
        case OP.LIST:
        case OP.TUPLE:
        case OP.FROZENSET: {
          const items = this.popMark(at); // before reading this.stack: popMark replaces it
          this.stack.push(items);
          break;
        }
        case OP.TUPLE1:
          this.stack.push([this.pop(at)]);
          break;
        case OP.TUPLE2: {
          const b = this.pop(at);
          const a = this.pop(at);
          this.stack.push([a, b]);
          break;
        }
        case OP.TUPLE3: {
          const z = this.pop(at);
          const y = this.pop(at);
          const x = this.pop(at);
          this.stack.push([x, y, z]);
          break;
        }
        case OP.DICT: {
          const items = this.popMark(at);
          this.stack.push(newDict());
          this.setItems(items, at);
          break;
        }
        case OP.APPEND: {
          const v = this.pop(at);
          this.appendTo([v], at, -1);
          break;
        }
        case OP.APPENDS: {
          const refsOnly = this.refsInFrame === this.stack.length && this.stack.length > 0;
          const hash = this.refHash; // of this frame's references (popMark restores the outer frame's)
          const memoFrom = this.markMemo[this.markMemo.length - 1]!;
          const items = this.popMark(at);
          const list = this.options.internReferenceLists && refsOnly ? this.top(at) : undefined;
          if (
            Array.isArray(list) &&
            list.length === 0 &&
            items.length < 1000 && // CPython writes 1000 per batch: a full batch may be followed by more
            !this.interned.has(list) &&
            this.stack.length > 0
          ) {
            this.stack[this.stack.length - 1] = this.internList(list, items, memoFrom - 1, hash);
            break;
          }
          this.appendTo(items, at, memoFrom);
          break;
        }
        case OP.ADDITEMS: {
          const items = this.popMark(at);
          const set = this.top(at);
          if (!Array.isArray(set)) throw new PickleError('ADDITEMS to something that is not a set', at);
          if (this.interned.has(set))
            throw new PickleNeedsRescan(`a list taken as complete grows at byte ${at}`);
          for (const item of items) set.push(item);
          break;
        }
        case OP.SETITEM: {
          const v = this.pop(at);
          const k = this.pop(at);
          this.setItems([k, v], at);
          break;
        }
        case OP.SETITEMS: {
          const items = this.popMark(at);
          this.setItems(items, at);
          break;
        }
        case OP.GLOBAL:
        case OP.INST: {
          const nl1 = c.newline(start + 1);
          if (nl1 < 0) return;
          const nl2 = c.newline(nl1 + 1);
          if (nl2 < 0) return;
          const module = latin1.decode(c.buf.subarray(start + 1, nl1));
          const name = latin1.decode(c.buf.subarray(nl1 + 1, nl2));
          next = nl2 + 1;
          if (op === OP.GLOBAL) this.stack.push(new PickleGlobal(module, name));
          else {
            const args = this.popMark(at);
            this.stack.push(new PickleObject(`${module}.${name}`, args));
          }
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = this.pop(at);
          const module = this.pop(at);
          if (typeof name !== 'string' || typeof module !== 'string')
            throw new PickleError('STACK_GLOBAL needs two strings', at);
          this.stack.push(new PickleGlobal(module, name));
          break;
        }
        case OP.REDUCE: {
          const args = this.pop(at);
          const callable = this.pop(at);
          this.stack.push(reduceGlobal(callable, args, at));
          break;
        }
        case OP.NEWOBJ: {
          const args = this.pop(at);
          const cls = this.pop(at);
          this.stack.push(reduceGlobal(cls, args, at));
          break;
        }
        case OP.NEWOBJ_EX: {
          const kwargs = this.pop(at);
          const args = this.pop(at);
          const cls = this.pop(at);
          const obj = reduceGlobal(cls, args, at);
          if (obj instanceof PickleObject && isDict(kwargs) && Object.keys(kwargs).length > 0)
            obj.state = kwargs;
          this.stack.push(obj);
          break;
        }
        case OP.OBJ: {
          const items = this.popMark(at);
          const cls = items.shift();
          if (!(cls instanceof PickleGlobal)) throw new PickleError('OBJ without a class reference', at);
          this.stack.push(new PickleObject(cls.qualifiedName, items));
          break;
        }
        case OP.BUILD: {
          const state = this.pop(at);
          const obj = this.top(at);
          if (obj instanceof PickleObject) obj.state = state;
          else if (isDict(obj) && isDict(state)) Object.assign(obj, state);
          // BUILD on anything else would call __setstate__; as data it has no meaning and is dropped.
          break;
        }
        case OP.BINPERSID:
          throw new PickleError('Persistent ids (BINPERSID) are not supported in a memory snapshot', at);
        case OP.EXT1:
        case OP.EXT2:
        case OP.EXT4:
          throw new PickleError('Extension registry codes (EXT1/2/4) are not supported', at);
        case OP.NEXT_BUFFER:
          throw new PickleError('The pickle refers to out-of-band buffers, which a file cannot carry', at);
        case OP.READONLY_BUFFER:
          this.top(at);
          break;
        default:
          throw new PickleError('Unknown opcode', at);
      }
      c.pos = next;
    }
  }
}

/** Reads a whole pickle held in memory (small inputs, tests). */
export function readPickle(bytes: Uint8Array): PickleValue {
  const reader = new PickleStreamReader();
  reader.feed(bytes);
  return reader.end();
}
