// Checked reads of untrusted parsed data (JSON values or pickle values): every number that is a size,
// offset or count must be a non-negative safe integer, and every wrong type becomes one sentence naming
// the field. Shared by all importers.
import { ImportError, type ImportFormat } from './model.ts';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && isPlain(v);
}

/** Plain data objects only: prototype-less (our parsers) or Object.prototype (JSON.parse in tests). */
function isPlain(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

export function own(o: Obj, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

export class Reader {
  constructor(readonly format: ImportFormat) {}

  fail(message: string): never {
    throw new ImportError(this.format, message);
  }

  obj(v: unknown, where: string): Obj {
    if (!isObj(v)) this.fail(`${where} should be an object but is ${describe(v)}`);
    return v;
  }

  arr(v: unknown, where: string): unknown[] {
    if (!Array.isArray(v)) this.fail(`${where} should be a list but is ${describe(v)}`);
    return v;
  }

  str(v: unknown, where: string): string {
    if (typeof v !== 'string') this.fail(`${where} should be a string but is ${describe(v)}`);
    return v;
  }

  /** A byte count, offset or count: a non-negative safe integer. */
  uint(v: unknown, where: string): number {
    if (typeof v === 'bigint') this.fail(`${where} is ${v}, beyond 2^53 bytes, which no real dump contains`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      this.fail(`${where} should be a non-negative integer but is ${describe(v)}`);
    return v;
  }

  optUint(v: unknown, where: string): number | undefined {
    return v === undefined ? undefined : this.uint(v, where);
  }

  optStr(v: unknown, where: string): string | undefined {
    return v === undefined || v === null ? undefined : this.str(v, where);
  }
}

/** Any integer (number or bigint) as text, for identifiers such as addresses, streams and flags. */
export function intText(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  return undefined;
}

/**
 * What kind of value was found, never the value itself: messages may reach a client that did not write
 * the file (names its format and where, nothing of its content).
 */
export function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'bigint') return v < 0n ? 'a negative number' : 'an integer beyond 2^53';
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || !Number.isInteger(v)) return 'a fractional number';
    if (v < 0) return 'a negative number';
    return Number.isSafeInteger(v) ? 'a number' : 'an integer beyond 2^53';
  }
  if (typeof v === 'boolean') return 'true or false';
  if (typeof v === 'object') return isObj(v) ? 'an object' : `a ${v.constructor?.name ?? 'value'}`;
  return typeof v;
}

/** Warnings with repeats folded: the first message of each kind plus how many more there were. */
export class Warnings {
  private readonly first = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  add(kind: string, message: string): void {
    if (!this.first.has(kind)) this.first.set(kind, message);
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  list(): string[] {
    const out: string[] = [];
    for (const [kind, message] of this.first) {
      const more = (this.counts.get(kind) ?? 1) - 1;
      out.push(more > 0 ? `${message} (and ${more} more like it)` : message);
    }
    return out;
  }
}
