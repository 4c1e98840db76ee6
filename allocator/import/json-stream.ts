// A streaming JSON parser over text chunks, for dumps too large to hold twice. It builds ordinary values,
// except that the items of containers the caller selects (by path) are handed to a callback as each one
// completes and are not kept: a 500 MB snapshot's trace list never exists in memory as a whole.
// Integers beyond 2^53 become bigint (never silently rounded); objects have no prototype, so a key such as
// "__proto__" is plain data. Iterative (no recursion), so deep nesting cannot overflow the call stack.

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}
export type JsonPath = readonly (string | number)[];

export interface JsonStreamOptions {
  /** Items of the container at this path are streamed to onItem instead of being stored. */
  readonly streamItems?: (containerPath: JsonPath) => boolean;
  readonly onItem?: (containerPath: JsonPath, key: string | number, value: JsonValue) => void;
  /** Refuse nesting deeper than this (default 512). */
  readonly maxDepth?: number;
}

/** Malformed JSON: `position` is the character offset in the decoded text. */
export class JsonSyntaxError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at character ${position}`);
    this.name = 'JsonSyntaxError';
    this.position = position;
  }
}

const enum Expect {
  Value,
  ValueOrClose,
  Key,
  KeyOrClose,
  Colon,
  CommaOrClose,
  Done,
}

interface Frame {
  readonly isObject: boolean;
  readonly container: JsonObject | JsonValue[];
  readonly path: JsonPath;
  readonly streaming: boolean;
  key: string;
  count: number;
}

const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function newJsonObject(): JsonObject {
  return Object.create(null) as JsonObject;
}

export class JsonStreamParser {
  private carry = '';
  /** Characters consumed before the current buffer (for error positions). */
  private base = 0;
  private expect: Expect = Expect.Value;
  private readonly stack: Frame[] = [];
  private root: JsonValue | undefined;
  private readonly maxDepth: number;

  constructor(private readonly options: JsonStreamOptions = {}) {
    this.maxDepth = options.maxDepth ?? 512;
  }

  /**
   * The containers being filled, outermost first: during onItem, entry k is the container at the first k
   * elements of the item's path (so an importer can read fields that came before the streamed list).
   */
  openContainers(): readonly (JsonObject | JsonValue[])[] {
    return this.stack.map((f) => f.container);
  }

  feed(text: string): void {
    this.run(this.carry.length > 0 ? this.carry + text : text, false);
  }

  /** Finishes the input; returns the root value (streamed items left out). */
  end(): JsonValue {
    this.run(this.carry, true);
    if (this.expect !== Expect.Done || this.root === undefined) {
      throw new JsonSyntaxError(
        this.stack.length > 0
          ? 'Unexpected end of input inside an unfinished object or array'
          : 'No JSON value found',
        this.base + this.carry.length,
      );
    }
    return this.root;
  }

  private fail(message: string, pos: number): never {
    throw new JsonSyntaxError(message, this.base + pos);
  }

  private complete(value: JsonValue): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      this.root = value;
      this.expect = Expect.Done;
      return;
    }
    if (top.isObject) {
      if (top.streaming) this.options.onItem?.(top.path, top.key, value);
      else (top.container as JsonObject)[top.key] = value;
    } else {
      const index = top.count++;
      if (top.streaming) this.options.onItem?.(top.path, index, value);
      else (top.container as JsonValue[]).push(value);
    }
    this.expect = Expect.CommaOrClose;
  }

  private open(isObject: boolean, pos: number): void {
    if (this.stack.length >= this.maxDepth) this.fail(`Nesting deeper than ${this.maxDepth} levels`, pos);
    const parent = this.stack[this.stack.length - 1];
    const path: JsonPath =
      parent === undefined ? [] : [...parent.path, parent.isObject ? parent.key : parent.count];
    const streaming = this.options.streamItems?.(path) ?? false;
    this.stack.push({
      isObject,
      container: isObject ? newJsonObject() : [],
      path,
      streaming,
      key: '',
      count: 0,
    });
    this.expect = isObject ? Expect.KeyOrClose : Expect.ValueOrClose;
  }

  private close(isObject: boolean, pos: number): void {
    const top = this.stack.pop();
    if (top === undefined || top.isObject !== isObject)
      this.fail(`Unexpected "${isObject ? '}' : ']'}"`, pos);
    this.complete(top.container);
  }

  /** Processes `buf`; an incomplete token at its end is kept in `carry` unless `final`. */
  private run(buf: string, final: boolean): void {
    let pos = 0;
    const n = buf.length;
    this.carry = '';
    while (pos < n) {
      const c = buf.charCodeAt(pos);
      // whitespace: space, \t, \n, \r
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
        pos++;
        continue;
      }
      const expect = this.expect;
      if (expect === Expect.Done) this.fail('Unexpected data after the JSON value', pos);
      if (expect === Expect.Colon) {
        if (c !== 0x3a) this.fail('Expected ":"', pos);
        this.expect = Expect.Value;
        pos++;
        continue;
      }
      if (expect === Expect.CommaOrClose) {
        const top = this.stack[this.stack.length - 1]!;
        if (c === 0x2c) {
          this.expect = top.isObject ? Expect.Key : Expect.Value;
          pos++;
        } else if (c === 0x7d || c === 0x5d) {
          this.close(c === 0x7d, pos);
          pos++;
        } else this.fail(`Expected "," or "${top.isObject ? '}' : ']'}"`, pos);
        continue;
      }
      if (expect === Expect.Key || expect === Expect.KeyOrClose) {
        if (c === 0x7d && expect === Expect.KeyOrClose) {
          this.close(true, pos);
          pos++;
          continue;
        }
        if (c !== 0x22) this.fail('Expected a string key', pos);
        const end = findStringEnd(buf, pos + 1);
        if (end < 0) break;
        this.stack[this.stack.length - 1]!.key = unescapeJson(buf, pos + 1, end, this.base);
        this.expect = Expect.Colon;
        pos = end + 1;
        continue;
      }
      // A value (Expect.Value or Expect.ValueOrClose).
      if (c === 0x5d && expect === Expect.ValueOrClose) {
        this.close(false, pos);
        pos++;
        continue;
      }
      if (c === 0x7b || c === 0x5b) {
        this.open(c === 0x7b, pos);
        pos++;
        continue;
      }
      if (c === 0x22) {
        const end = findStringEnd(buf, pos + 1);
        if (end < 0) break;
        this.complete(unescapeJson(buf, pos + 1, end, this.base));
        pos = end + 1;
        continue;
      }
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        // The run of characters a number may contain; it must end inside this buffer (or the input).
        let end = pos + 1;
        while (end < n && isNumberChar(buf.charCodeAt(end))) end++;
        if (end === n && !final) break; // the number may continue in the next chunk
        numberPattern.lastIndex = pos;
        const m = numberPattern.exec(buf);
        if (m === null || pos + m[0].length !== end) this.fail('Malformed number', pos);
        const text = m[0];
        let value: number | bigint = Number(text);
        if (!/[.eE]/.test(text) && !Number.isSafeInteger(value)) value = BigInt(text);
        this.complete(value);
        pos = end;
        continue;
      }
      const literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : null;
      if (literal !== null) {
        if (buf.startsWith(literal, pos)) {
          this.complete(literal === 'true' ? true : literal === 'false' ? false : null);
          pos += literal.length;
          continue;
        }
        if (!final && n - pos < literal.length && literal.startsWith(buf.slice(pos))) break;
      }
      this.fail('Unexpected character', pos);
    }
    if (pos < n) {
      if (final) this.fail('Unexpected end of input inside a token', pos);
      this.carry = buf.slice(pos);
    }
    this.base += pos;
  }
}

/** Characters that can appear in a JSON number: digits, sign, point, exponent. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

/** Index of the closing quote of a string whose content starts at `from`; -1 if not in `buf` yet. */
function findStringEnd(buf: string, from: number): number {
  let k = from;
  for (;;) {
    const j = buf.indexOf('"', k);
    if (j < 0) return -1;
    let slashes = 0;
    for (let b = j - 1; b >= from && buf.charCodeAt(b) === 0x5c; b--) slashes++;
    if ((slashes & 1) === 0) return j;
    k = j + 1;
  }
}

const escapes: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

function unescapeJson(buf: string, start: number, end: number, base: number): string {
  const raw = buf.slice(start, end);
  if (raw.indexOf('\\') < 0) return raw;
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const b = raw.indexOf('\\', i);
    if (b < 0) {
      out += raw.slice(i);
      break;
    }
    out += raw.slice(i, b);
    const e = raw[b + 1];
    if (e === 'u') {
      const hex = raw.slice(b + 2, b + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new JsonSyntaxError('Malformed \\u escape', base + start + b);
      out += String.fromCharCode(parseInt(hex, 16));
      i = b + 6;
    } else {
      const r = e === undefined ? undefined : escapes[e];
      if (r === undefined) throw new JsonSyntaxError('Malformed escape in a string', base + start + b);
      out += r;
      i = b + 2;
    }
  }
  return out;
}

/** Parses a whole JSON text (tests and small inputs). */
export function parseJsonText(text: string, options: JsonStreamOptions = {}): JsonValue {
  const parser = new JsonStreamParser(options);
  parser.feed(text);
  return parser.end();
}
