// The RMT token stream inside a Radeon Memory Visualizer trace (.rmv), read the way AMD's RMV documents
// and parses it (GPUOpen-Tools/radeon_memory_visualizer, source/parser): little-endian, bit-packed tokens
// whose type is the low 4 bits of the first byte. Our own reader, written from the published layouts;
// pure (no Node APIs), bounded (a token is at most 4 + 2^20 - 1 bytes, the userdata maximum), never
// evaluates anything.
//
// A stream is fed in pieces of any size (RDF splits a stream over several chunks and tokens run across
// chunk boundaries); a token cut by a piece boundary waits in a carry buffer for the next piece.

/** Token types (bits 0-3 of the first byte). */
export const enum RmtToken {
  Timestamp = 0,
  ResourceUpdate = 1,
  Reserved1 = 2,
  PageTableUpdate = 3,
  Userdata = 4,
  Misc = 5,
  ResourceReference = 6,
  ResourceBind = 7,
  ProcessEvent = 8,
  PageReference = 9,
  CpuMap = 10,
  VirtualFree = 11,
  VirtualAllocate = 12,
  ResourceCreate = 13,
  TimeDelta = 14,
  ResourceDestroy = 15,
}

/** Userdata token subtypes (bits 8-11). */
export const enum RmtUserdata {
  Name = 0,
  Snapshot = 1,
  Binary = 2,
  Reserved = 3,
  Correlation = 4,
  MarkImplicitResource = 5,
  NameV2 = 6,
  MarkImplicitResourceV2 = 7,
}

/** RMT heap types (virtual allocation preferences, segment kinds). */
export const enum RmtHeap {
  Local = 0,
  Invisible = 1,
  System = 2,
  None = 3,
}

/** Resource type 11: a heap (D3D12 ID3D12Heap, or the driver's implicit heap of a committed resource). */
export const RMT_RESOURCE_TYPE_HEAP = 11;

/** Fixed token sizes in bytes (0 = variable or invalid), indexed by token type. */
const FIXED_SIZE = [12, 14, 0, 18, 0, 2, 8, 17, 6, 10, 8, 7, 12, 0, 0, 5] as const;
/** Bytes of the ResourceCreate token before its per-type description payload. */
const RESOURCE_CREATE_BASE = 7;
/** RMV's clock unit: every timestamp and delta counts in units of 32 CPU clock ticks. */
const TIMESTAMP_QUANTA = 32;

/** Per-type description payload sizes of ResourceCreate, in bytes (image: before / from RMT 1.6). */
function resourcePayloadSize(type: number, version: number, poolSizeCount: number): number {
  switch (type) {
    case 0:
      return version >= 16 ? 39 : 38; // image
    case 1:
      return 11; // buffer
    case 2: // GPU event
    case 3: // border colour palette
    case 7: // query heap
    case 16: // misc internal
      return 1;
    case 6:
      return 12; // perf experiment
    case 8:
      return 4; // video decoder
    case 9:
      return 6; // video encoder
    case 11:
      return 10; // heap
    case 12:
      return 19; // pipeline
    case 13:
      return 4; // descriptor heap
    case 14:
      return 3 + poolSizeCount * 4; // descriptor pool: 3 bytes + one 4-byte pool size per entry
    case 15:
      return 44; // command allocator
    case 17:
      return 17; // work graph
    default:
      return 0; // indirect command generator, motion estimator, timestamp, and types RMV does not know
  }
}

/** What the importer keeps of a stream: the tokens that shape memory, with their time (RMT clock units). */
export type RmtRecord =
  | {
      readonly kind: 'va';
      readonly ts: number;
      readonly address: number;
      readonly size: number;
      readonly heap: RmtHeap;
      readonly owner: number;
    }
  | { readonly kind: 'vf'; readonly ts: number; readonly address: number }
  | {
      readonly kind: 'create';
      readonly ts: number;
      readonly id: number;
      readonly type: number;
      readonly commit: number;
    }
  | {
      readonly kind: 'bind';
      readonly ts: number;
      readonly id: number;
      readonly address: number;
      readonly size: number;
      readonly system: boolean;
    }
  | { readonly kind: 'destroy'; readonly ts: number; readonly id: number }
  | { readonly kind: 'snapshot'; readonly ts: number; readonly name: string }
  | { readonly kind: 'name'; readonly ts: number; readonly id: number; readonly name: string }
  | {
      readonly kind: 'correlation';
      readonly ts: number;
      readonly resource: number;
      readonly correlation: number;
    };

const RECORD_KINDS = ['va', 'vf', 'create', 'bind', 'destroy', 'snapshot', 'name', 'correlation'] as const;

/**
 * A stream's records kept as columns (34 bytes a record instead of a ~110-byte object: every record stays
 * in memory until all streams are read, since they are merged by time). `get` rebuilds the object.
 * Columns: a, b, c, f per kind: va (address, size, owner, heap), vf (address), create (id, type, commit),
 * bind (id, address, size, system), destroy (id), name (id; text), correlation (resource, correlation),
 * snapshot (text).
 */
export class RecordStore {
  length = 0;
  private kind = new Uint8Array(64);
  private ts = new Float64Array(64);
  private a = new Float64Array(64);
  private b = new Float64Array(64);
  private c = new Float64Array(64);
  private f = new Uint8Array(64);
  private readonly text = new Map<number, string>();

  private grow(): void {
    const n = this.kind.length * 2;
    const k = new Uint8Array(n);
    k.set(this.kind);
    this.kind = k;
    const f = new Uint8Array(n);
    f.set(this.f);
    this.f = f;
    for (const col of ['ts', 'a', 'b', 'c'] as const) {
      const next = new Float64Array(n);
      next.set(this[col]);
      this[col] = next;
    }
  }

  push(r: RmtRecord): void {
    if (this.length === this.kind.length) this.grow();
    const i = this.length++;
    this.kind[i] = RECORD_KINDS.indexOf(r.kind);
    this.ts[i] = r.ts;
    let a = 0;
    let b = 0;
    let c = 0;
    let f = 0;
    switch (r.kind) {
      case 'va':
        [a, b, c, f] = [r.address, r.size, r.owner, r.heap];
        break;
      case 'vf':
        a = r.address;
        break;
      case 'create':
        [a, b, c] = [r.id, r.type, r.commit];
        break;
      case 'bind':
        [a, b, c, f] = [r.id, r.address, r.size, r.system ? 1 : 0];
        break;
      case 'destroy':
        a = r.id;
        break;
      case 'snapshot':
        this.text.set(i, r.name);
        break;
      case 'name':
        a = r.id;
        this.text.set(i, r.name);
        break;
      case 'correlation':
        [a, b] = [r.resource, r.correlation];
        break;
    }
    this.a[i] = a;
    this.b[i] = b;
    this.c[i] = c;
    this.f[i] = f;
  }

  tsAt(i: number): number {
    return this.ts[i]!;
  }

  get(i: number): RmtRecord {
    const ts = this.ts[i]!;
    const [a, b, c, f] = [this.a[i]!, this.b[i]!, this.c[i]!, this.f[i]!];
    switch (RECORD_KINDS[this.kind[i]!]!) {
      case 'va':
        return { kind: 'va', ts, address: a, size: b, owner: c, heap: f as RmtHeap };
      case 'vf':
        return { kind: 'vf', ts, address: a };
      case 'create':
        return { kind: 'create', ts, id: a, type: b, commit: c };
      case 'bind':
        return { kind: 'bind', ts, id: a, address: b, size: c, system: f === 1 };
      case 'destroy':
        return { kind: 'destroy', ts, id: a };
      case 'snapshot':
        return { kind: 'snapshot', ts, name: this.text.get(i) ?? '' };
      case 'name':
        return { kind: 'name', ts, id: a, name: this.text.get(i) ?? '' };
      case 'correlation':
        return { kind: 'correlation', ts, resource: a, correlation: b };
    }
  }
}

/** Tokens read but not imported, by what they are (page tables, residency, ...), for the "found" lines. */
export type IgnoredCounts = Record<string, number>;

/** A malformed token stream: the message says what and where (stream byte offset), never the bytes. */
export class RmtStreamError extends Error {}

const TWO32 = 2 ** 32;

/** Bits lo..hi (inclusive, at most 53 wide) of the little-endian bit string starting at data[at]. */
export function bitsAt(data: Uint8Array, at: number, lo: number, hi: number): number {
  let value = 0;
  let scale = 1;
  let bit = lo;
  while (bit <= hi) {
    const byte = data[at + (bit >> 3)]!;
    const shift = bit & 7;
    const take = Math.min(8 - shift, hi - bit + 1);
    value += ((byte >> shift) & ((1 << take) - 1)) * scale;
    scale *= 2 ** take;
    bit += take;
  }
  return value;
}

function u32At(data: Uint8Array, at: number): number {
  return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16)) + data[at + 3]! * 0x1000000;
}

/**
 * A timestamp token's time: the 64-bit word with its low 4 bits (the token header) dropped, in units of
 * 32 ticks, as RMV computes it ((word >> 4) * 32). Beyond 2^53 ticks a number cannot hold it exactly:
 * such a file is refused rather than given a wrong clock.
 */
function timestampOf(data: Uint8Array, at: number, streamOffset: number): number {
  const lo = u32At(data, at);
  const hi = u32At(data, at + 4);
  const word = hi * TWO32 + (lo - (lo % 16));
  const ticks = (word / 16) * TIMESTAMP_QUANTA;
  if (hi >= 2 ** 20 || !Number.isSafeInteger(ticks))
    throw new RmtStreamError(
      `the timestamp token at stream byte ${streamOffset} is beyond 2^53 clock ticks (a corrupt clock)`,
    );
  return ticks;
}

/** Reads one RMT token stream (one RmtData chunk of a legacy file, or one RDF stream index). */
export class RmtTokenStream {
  /** RMT spec version as RMV compares it: major * 10 + minor. */
  private readonly version: number;
  /** Bytes of a token cut by a piece boundary (the first carryLength bytes of carryBuffer). */
  private carryBuffer = new Uint8Array(0);
  private carryLength = 0;
  /** Stream bytes consumed by complete tokens. */
  private offset = 0;
  private seenTimestamp = false;
  private now = 0;
  /** First timestamp of the stream (RMT clock units), null until one is read. */
  start: number | null = null;
  /** CPU clock frequency (Hz) from the first timestamp token; 0 when none. */
  frequency = 0;
  tokens = 0;
  readonly records = new RecordStore();

  constructor(
    readonly index: number,
    versionMajor: number,
    versionMinor: number,
    private readonly ignored: IgnoredCounts,
    private readonly decoder: TextDecoder,
  ) {
    this.version = versionMajor * 10 + versionMinor;
  }

  /** Bytes of the stream consumed so far (complete tokens). */
  get consumed(): number {
    return this.offset;
  }

  feed(piece: Uint8Array): void {
    let rest = piece;
    // First finish a token carried over from earlier pieces. Bytes are appended to the carry buffer
    // (capacity doubling, so a large token fed in tiny pieces costs linear time): one at a time until
    // the token's size is known (at most 10 bytes, never past its end: every token is at least as long
    // as the bytes that give its size), then up to that size.
    while (this.carryLength > 0 && rest.length > 0) {
      const carried = this.carryBuffer.subarray(0, this.carryLength);
      const size = this.tokenSize(carried, 0);
      const take = size < 0 ? 1 : Math.min(rest.length, size - this.carryLength);
      this.appendCarry(rest.subarray(0, take));
      rest = rest.subarray(take);
      if (size >= 0 && this.carryLength === size) {
        this.carryLength = 0;
        this.consume(this.carryBuffer, 0, size);
      }
    }
    let p = 0;
    for (;;) {
      const size = this.tokenSize(rest, p);
      if (size < 0 || p + size > rest.length) break;
      this.consume(rest, p, size);
      p += size;
    }
    if (p < rest.length) this.appendCarry(rest.subarray(p));
  }

  private consume(data: Uint8Array, p: number, size: number): void {
    this.token(data, p, size);
    this.offset += size;
    this.tokens++;
  }

  private appendCarry(bytes: Uint8Array): void {
    const needed = this.carryLength + bytes.length;
    if (needed > this.carryBuffer.length) {
      const grown = new Uint8Array(Math.max(needed, 2 * this.carryBuffer.length, 64));
      grown.set(this.carryBuffer.subarray(0, this.carryLength));
      this.carryBuffer = grown;
    }
    this.carryBuffer.set(bytes, this.carryLength);
    this.carryLength = needed;
  }

  /** The stream ended: a token left unfinished means the stream (or the file) is cut short. */
  end(): void {
    if (this.carryLength > 0)
      throw new RmtStreamError(
        `the stream ends inside a token at stream byte ${this.offset} (${this.carryLength} bytes of it present): the trace is truncated`,
      );
  }

  private ignore(what: string): void {
    this.ignored[what] = (this.ignored[what] ?? 0) + 1;
  }

  /** Size of the token at data[p], or -1 when more bytes are needed to tell. */
  private tokenSize(data: Uint8Array, p: number): number {
    const left = data.length - p;
    if (left < 1) return -1;
    const type = data[p]! & 0xf;
    switch (type) {
      case RmtToken.Userdata:
        if (left < 4) return -1;
        return 4 + bitsAt(data, p, 12, 31);
      case RmtToken.ResourceCreate: {
        if (left < RESOURCE_CREATE_BASE) return -1;
        const resourceType = bitsAt(data, p, 48, 53);
        if (resourceType === 14 && left < RESOURCE_CREATE_BASE + 3) return -1;
        const poolSizes = resourceType === 14 ? data[p + RESOURCE_CREATE_BASE + 2]! : 0;
        return RESOURCE_CREATE_BASE + resourcePayloadSize(resourceType, this.version, poolSizes);
      }
      case RmtToken.TimeDelta:
        return 1 + ((data[p]! >> 4) & 7);
      case RmtToken.Reserved1:
        throw new RmtStreamError(
          `token type 2 (reserved, no defined size) at stream byte ${this.offset}: the stream is corrupt or misaligned`,
        );
      default:
        return FIXED_SIZE[type]!;
    }
  }

  /** The time of a token: RMV's UpdateTimeState, applied before the token is read. */
  private advanceTime(data: Uint8Array, p: number, type: number): void {
    if (!this.seenTimestamp) {
      if (type !== RmtToken.Timestamp) return;
      this.now = timestampOf(data, p, this.offset);
      this.start = this.now;
      this.frequency = u32At(data, p + 8);
      this.seenTimestamp = true;
      return;
    }
    switch (type) {
      case RmtToken.Timestamp:
        this.now = timestampOf(data, p, this.offset);
        return;
      case RmtToken.TimeDelta: {
        const n = (data[p]! >> 4) & 7;
        let delta = 0;
        for (let i = n - 1; i >= 0; i--) delta = delta * 256 + data[p + 1 + i]!;
        this.addTime(delta * TIMESTAMP_QUANTA);
        return;
      }
      case RmtToken.CpuMap:
      case RmtToken.VirtualFree:
      case RmtToken.Misc:
      case RmtToken.PageTableUpdate:
      case RmtToken.ProcessEvent:
      case RmtToken.ResourceBind:
      case RmtToken.ResourceCreate:
      case RmtToken.ResourceReference:
      case RmtToken.Userdata:
      case RmtToken.VirtualAllocate:
        this.addTime(((data[p]! >> 4) & 0xf) * TIMESTAMP_QUANTA);
        return;
      default:
        return; // ResourceUpdate, PageReference and ResourceDestroy carry no delta
    }
  }

  private addTime(delta: number): void {
    const next = this.now + delta;
    if (!Number.isSafeInteger(next))
      throw new RmtStreamError(
        `the time deltas before stream byte ${this.offset} add up beyond 2^53 clock ticks (a corrupt clock)`,
      );
    this.now = next;
  }

  private token(data: Uint8Array, p: number, size: number): void {
    const type = data[p]! & 0xf;
    this.advanceTime(data, p, type);
    const ts = this.now;
    switch (type) {
      case RmtToken.Timestamp:
      case RmtToken.TimeDelta:
        return;
      case RmtToken.VirtualAllocate: {
        const pages = bitsAt(data, p, 8, 31) + 1;
        let heap = bitsAt(data, p, 82, 83) as RmtHeap;
        // Before RMT 1.6 "none" reads as system memory (RMV flattens GART cacheable / USWC this way); from
        // 1.6 on, a heap importance count of 0 says the allocation has no heap preference at all.
        if (heap === RmtHeap.None) heap = RmtHeap.System;
        if (this.version >= 16 && bitsAt(data, p, 90, 92) === 0) heap = RmtHeap.None;
        this.records.push({
          kind: 'va',
          ts,
          address: bitsAt(data, p, 34, 81),
          size: pages * 4096,
          heap,
          owner: bitsAt(data, p, 32, 33),
        });
        return;
      }
      case RmtToken.VirtualFree:
        this.records.push({ kind: 'vf', ts, address: bitsAt(data, p, 8, 55) });
        return;
      case RmtToken.ResourceCreate:
        this.records.push({
          kind: 'create',
          ts,
          id: bitsAt(data, p, 8, 39),
          commit: bitsAt(data, p, 46, 47),
          type: bitsAt(data, p, 48, 53),
        });
        return;
      case RmtToken.ResourceBind:
        this.records.push({
          kind: 'bind',
          ts,
          address: bitsAt(data, p, 8, 55),
          size: bitsAt(data, p, 56, 99),
          system: bitsAt(data, p, 100, 100) !== 0,
          id: bitsAt(data, p, 104, 135),
        });
        return;
      case RmtToken.ResourceDestroy:
        this.records.push({ kind: 'destroy', ts, id: bitsAt(data, p, 8, 39) });
        return;
      case RmtToken.Userdata:
        this.userdata(data, p, size, ts);
        return;
      case RmtToken.PageTableUpdate:
        this.ignore('page table updates');
        return;
      case RmtToken.ResourceReference:
        this.ignore('residency (resource reference) updates');
        return;
      case RmtToken.PageReference:
        this.ignore('page references');
        return;
      case RmtToken.CpuMap:
        this.ignore('CPU map/unmap events');
        return;
      case RmtToken.Misc:
        this.ignore('misc events (submits, presents, trims)');
        return;
      case RmtToken.ProcessEvent:
        this.ignore('process start/stop events');
        return;
      case RmtToken.ResourceUpdate:
        this.ignore('resource usage updates');
        return;
      default:
        return;
    }
  }

  private text(data: Uint8Array, from: number, to: number): string {
    let end = from;
    while (end < to && data[end] !== 0) end++;
    return this.decoder.decode(data.subarray(from, end));
  }

  private userdata(data: Uint8Array, p: number, size: number, ts: number): void {
    const subtype = bitsAt(data, p, 8, 11);
    const from = p + 4;
    const length = size - 4;
    switch (subtype) {
      case RmtUserdata.Snapshot:
        this.records.push({ kind: 'snapshot', ts, name: this.text(data, from, from + length) });
        return;
      case RmtUserdata.Name:
        // The name, NUL-terminated, then the 32-bit id (resource or correlation) it names.
        if (length > 4) {
          const id = u32At(data, from + length - 4);
          this.records.push({ kind: 'name', ts, id, name: this.text(data, from, from + length - 4) });
        } else this.ignore('malformed name userdata');
        return;
      case RmtUserdata.NameV2:
        // The name, then the 32-bit id and a 64-bit time delay (not used: the name applies from here on).
        if (length > 12) {
          const id = u32At(data, from + length - 12);
          this.records.push({ kind: 'name', ts, id, name: this.text(data, from, from + length - 12) });
        } else this.ignore('malformed name userdata');
        return;
      case RmtUserdata.Correlation:
        if (length === 8)
          this.records.push({
            kind: 'correlation',
            ts,
            resource: u32At(data, from),
            correlation: u32At(data, from + 4),
          });
        else this.ignore('malformed correlation userdata');
        return;
      case RmtUserdata.MarkImplicitResource:
      case RmtUserdata.MarkImplicitResourceV2:
        this.ignore('implicit-resource marks');
        return;
      default:
        this.ignore('binary or reserved userdata');
        return;
    }
  }
}
