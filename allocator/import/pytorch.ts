// Importer for PyTorch CUDA memory snapshots: torch.cuda.memory._snapshot() as written by _dump_snapshot
// (a pickle, any protocol 0-5) or the same dictionary saved as JSON; also the bare segment list that
// torch.cuda.memory_snapshot() returns. Structure (torch/cuda/memory.py `_snapshot` docstring and
// torch/csrc/cuda/memory_snapshot.cpp): {segments: [Segment], device_traces: [[TraceEntry] per device],
// allocator_settings: {...}}.
//
// Model: each segment (one cudaMalloc, or one mapped range of an expandable segment) is a block of the
// memory type that stands for its CUDA device; each block in state active_allocated is an allocation at
// (block address - segment address). device_traces become a timeline:
//   segment_alloc / segment_map  -> blockCreate      segment_free / segment_unmap -> blockDestroy
//   alloc                         -> allocate         free_requested (or free_completed without one) -> free
//   oom -> failure                snapshot / annotate -> mark
// with the entry's frames joined as the stack and time_us as the time (ms since the first entry).
//
// Reconciling the trace with the segments snapshot (the trace is a ring buffer: it may start after some
// memory was already in use, and skip_actions may have dropped entries):
// 1. The snapshot is the state at the end. Walking the trace backwards from it (undo each entry) gives the
//    state when the trace starts: those segments and allocations are created at time 0, before the first
//    entry; allocations that survive to the end keep the snapshot's frames, the others are marked as made
//    before recording started ("ghost" allocations).
// 2. The trace is replayed forwards. Entries that contradict the state (a free of an unknown address, an
//    allocation outside every segment, ...) are skipped, and counted in a warning.
// 3. At the end, the replayed state is compared with the snapshot; any difference is put right with
//    events at the end of the timeline, and a warning says how many were needed. The totals printed are
//    the snapshot's own (segments, their total_size, active_allocated blocks, their sizes) and the
//    timeline ends in exactly that state.
// Without device_traces (or with empty ones) the snapshot alone becomes one point in time.
//
// Memory: segments and trace entries are taken from the parser one at a time; entries are kept in compact
// typed columns (28 bytes each) for the backward walk, and stacks are interned once.
import type { DeviceDescription, MemoryHeap, MemoryType } from '../device.ts';
import { MemoryHeapFlags, MemoryPropertyFlags } from '../device.ts';
import { EventLog, allColumnBits, columnBits, type EventLogOptions } from '../event-log.ts';
import { AddrMap, type Addr } from './addr-map.ts';
import { textChunks, sniffTextEncoding, type ByteSource } from './byte-source.ts';
import { JsonStreamParser, JsonSyntaxError, type JsonValue } from './json-stream.ts';
import {
  ImportError,
  type ImportProgress,
  type ImportResult,
  type ImportTotals,
  emptyTotals,
  reusableAllocateRecord,
  vulkanTermsDevice,
} from './model.ts';
import {
  MemoReferenceScanner,
  PickleError,
  PickleNeedsRescan,
  PickleStreamReader,
  RECORD_ABSENT,
  RECORD_NUMBER,
  RECORD_VALUE,
  StreamedRecord,
  type PicklePath,
  type PickleValue,
} from './pickle.ts';
import { describe, intText, isObj, own, Reader, Warnings } from './read-values.ts';

export type { Addr };

const enum Action {
  Alloc = 1,
  FreeRequested,
  FreeCompleted,
  SegmentAlloc,
  SegmentFree,
  SegmentMap,
  SegmentUnmap,
  Oom,
  Snapshot,
  Annotate,
  Other,
}

/**
 * The trace entry keys the importer reads, in the order of the F_* indices: the pickle reader's fast path
 * hands an entry as a StreamedRecord of these (no dict per entry); other entries (JSON, or what the fast
 * path leaves to the opcode loop) are dicts, copied into a record of the same fields.
 */
const ENTRY_FIELDS = [
  'action',
  'addr',
  'size',
  'stream',
  'time_us',
  'frames',
  'device_free',
  'user_metadata',
] as const;
const F_ACTION = 0;
const F_ADDR = 1;
const F_SIZE = 2;
const F_STREAM = 3;
const F_TIME = 4;
const F_FRAMES = 5;
const F_DEVICE_FREE = 6;
const F_METADATA = 7;

/** Action names; a Map, so that names such as "constructor" are not found on a prototype. */
const actionCodes = new Map<string, Action>([
  ['alloc', Action.Alloc],
  ['free_requested', Action.FreeRequested],
  ['free_completed', Action.FreeCompleted],
  ['segment_alloc', Action.SegmentAlloc],
  ['segment_free', Action.SegmentFree],
  ['segment_map', Action.SegmentMap],
  ['segment_unmap', Action.SegmentUnmap],
  ['oom', Action.Oom],
  ['snapshot', Action.Snapshot],
  ['annotate', Action.Annotate],
]);

interface SnapBlock {
  readonly addr: Addr;
  /** The block's size: the request rounded up by the caching allocator (what allocated_size counts). */
  readonly size: number;
  /**
   * The size that was asked for (`requested_size`, PyTorch >= 2.1): what the trace's alloc and free entries
   * carry. Undefined when the snapshot does not say.
   */
  readonly requested: number | undefined;
  readonly allocated: boolean;
  readonly stack: string;
  /** The CUDA stream of its segment (blocks are only handed out on their segment's stream); null if unknown. */
  readonly stream: number | null;
}

interface SnapSegment {
  readonly device: number;
  readonly addr: Addr;
  readonly size: number;
  readonly expandable: boolean;
  readonly blocks: readonly SnapBlock[];
  readonly allocatedSize: number | undefined;
}

function addrSub(a: Addr, b: Addr): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Number(BigInt(a) - BigInt(b));
}

function addrAdd(a: Addr, n: number): Addr {
  if (typeof a === 'number') {
    const s = a + n;
    if (Number.isSafeInteger(s)) return s;
    return BigInt(a) + BigInt(n);
  }
  return normalizeAddr(a + BigInt(n));
}

function normalizeAddr(v: bigint): Addr {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** In the narrow columns of EntryColumns: the value is in that column's map (too wide for the column). */
const WIDE_SIZE = 0xffffffff;
const WIDE_STREAM = 0xff;

/**
 * Growable typed columns of trace entries (one row per entry, all devices). Each byte of a row is a byte
 * of fresh memory per entry (first touches cost more than the writes): sizes are 32-bit and stream
 * indices 8-bit, the rare wider ones in maps by row.
 */
/**
 * Where a large import's per-entry columns live (ImportOptions.entryMemory): asked once for `rows` rows of
 * columns whose element sizes are `elementBytes`, it returns one buffer per column, each at least `rows`
 * elements, and a counter (one Int32 in shared memory) where the importer stores how many rows it has
 * written, every PUBLISH_ROWS rows, then -1 when the parse is over. Another thread can then touch the
 * buffers' pages just ahead of the parse (on machines where a first touch of a page is slow, the parse then
 * finds them present); it must never change their contents.
 */
export type EntryMemoryProvider = (
  rows: number,
  elementBytes: readonly number[],
  timeline: TimelineShape,
) => { readonly buffers: readonly SharedArrayBuffer[]; readonly rowsWritten: Int32Array };
/**
 * What the timeline built after the parse will look like, for a provider that prepares its log's memory
 * too: the columns its events write (columnBit bits) and about how many events an entry makes.
 */
export interface TimelineShape {
  readonly columns: number;
  readonly eventsPerEntry: number;
}
/**
 * The timeline's shape (TimelineShape): allocate and free events with addresses and streams, block events,
 * the odd mark; about 2 events for 3 entries (an alloc, and a free in two entries: free_requested and
 * free_completed).
 */
export const pytorchTimelineShape: TimelineShape = {
  // Every column but those of other events' fields (names, failures, captured resources, threads).
  columns:
    allColumnBits &
    ~columnBits('alignment', 'name', 'code', 'message', 'thread', 'usage', 'typeBits', 'format'),
  eventsPerEntry: 0.7,
};
/** EntryColumns' columns, largest elements first: addr, time, size, stack, device, action, streamIndex. */
export const pytorchEntryColumnBytes: readonly number[] = [8, 8, 4, 4, 2, 1, 1];
/** How often the rows written are published (a power of two). */
const PUBLISH_ROWS = 4096;

/** Tells an EntryMemoryProvider's counter that no more rows come (-1), waking a thread waiting on it. */
function endRowsWritten(counter: Int32Array): void {
  Atomics.store(counter, 0, -1);
  Atomics.notify(counter, 0);
}

class EntryColumns {
  length = 0;
  action: Uint8Array;
  device: Uint16Array;
  /** Bytes; WIDE_SIZE: at or above 2^32 - 1, in wideSize. */
  size: Uint32Array;
  time: Float64Array;
  stack: Uint32Array;
  /**
   * Extra text (OOM device_free, annotate metadata, unknown action names) as string ids, by row: few rows
   * have one, so not a column.
   */
  private readonly notes = new Map<number, number>();
  /** The entry's CUDA stream as an index into `streams` (+1); 0 when it has none; WIDE_STREAM: in wideStream. */
  streamIndex: Uint8Array;
  private readonly wideSize = new Map<number, number>();
  private readonly wideStream = new Map<number, number>();
  /** The distinct streams (a few: CUDA streams are per device and per purpose). */
  private readonly streams: number[] = [];
  private readonly streamIndexOf = new Map<number, number>();
  private lastStream = -1;
  private lastStreamIndex = 0;
  /** Addresses that are safe integers (all real ones); NaN where the address is a bigint (kept in bigAddr). */
  addr: Float64Array;
  // What the timeline's build needs of all rows, kept as they are pushed (no pass over a million rows each):
  /** Rows per device (by the device number as stored); its length is the number of devices seen. */
  readonly rowsPerDevice: number[] = [];
  /** The smallest time pushed, ignoring NaN (Infinity: none). */
  minTime = Infinity;
  /** Whether a row was pushed without a time (NaN). */
  untimed = false;
  /** Rows of segment_map and segment_unmap entries (the cut points of expandable segments). */
  readonly mapRows: number[] = [];

  /**
   * `capacity`: rows to make room for at once (grown by doubling past it). Sized from the file, growing
   * (copying tens of MB several times) is avoided; pages of the columns that are never written are never
   * touched, so an over-estimate costs address space, not memory.
   */
  constructor(capacity = 1024, memory: EntryMemoryProvider | null = null) {
    if (memory !== null) {
      // The columns in the provider's buffers (one per column, pytorchEntryColumnBytes order), and the rows
      // written published in its counter every PUBLISH_ROWS rows.
      const m = memory(capacity, pytorchEntryColumnBytes, pytorchTimelineShape);
      this.published = m.rowsWritten;
      this.addr = new Float64Array(m.buffers[0]!, 0, capacity);
      this.time = new Float64Array(m.buffers[1]!, 0, capacity);
      this.size = new Uint32Array(m.buffers[2]!, 0, capacity);
      this.stack = new Uint32Array(m.buffers[3]!, 0, capacity);
      this.device = new Uint16Array(m.buffers[4]!, 0, capacity);
      this.action = new Uint8Array(m.buffers[5]!, 0, capacity);
      this.streamIndex = new Uint8Array(m.buffers[6]!, 0, capacity);
      return;
    }
    this.action = new Uint8Array(capacity);
    this.device = new Uint16Array(capacity);
    this.size = new Uint32Array(capacity);
    this.time = new Float64Array(capacity);
    this.stack = new Uint32Array(capacity);
    this.streamIndex = new Uint8Array(capacity);
    this.addr = new Float64Array(capacity);
  }
  /** The provider's counter of rows written (null: none, or the columns have outgrown its buffers). */
  private published: Int32Array | null = null;

  /** Tells the provider's counter that no more rows come (the parse is over). */
  finishPublishing(): void {
    if (this.published === null) return;
    endRowsWritten(this.published);
    this.published = null;
  }
  private readonly bigAddr = new Map<number, bigint>();

  push(
    action: Action,
    device: number,
    addr: Addr,
    size: number,
    time: number,
    stack: number,
    note: number,
    stream: number,
  ): void {
    if (this.length === this.action.length) this.grow();
    const i = this.length++;
    if ((i & (PUBLISH_ROWS - 1)) === 0 && this.published !== null) Atomics.store(this.published, 0, i);
    if (stream >= 0) {
      const k = this.indexOfStream(stream);
      if (k < WIDE_STREAM) this.streamIndex[i] = k;
      else {
        this.streamIndex[i] = WIDE_STREAM;
        this.wideStream.set(i, k);
      }
    }
    this.action[i] = action;
    this.device[i] = device;
    const d = this.device[i]!; // as stored (16 bits)
    while (this.rowsPerDevice.length <= d) this.rowsPerDevice.push(0);
    this.rowsPerDevice[d]!++;
    if (time < this.minTime) this.minTime = time;
    else if (time !== time) this.untimed = true; // NaN
    if (action === Action.SegmentMap || action === Action.SegmentUnmap) this.mapRows.push(i);
    if (size < WIDE_SIZE) this.size[i] = size;
    else {
      this.size[i] = WIDE_SIZE;
      this.wideSize.set(i, size);
    }
    this.time[i] = time;
    this.stack[i] = stack;
    if (note !== 0) this.notes.set(i, note);
    if (typeof addr === 'number') this.addr[i] = addr;
    else {
      this.addr[i] = NaN;
      this.bigAddr.set(i, addr);
    }
  }

  private grow(): void {
    // Past the provider's buffers: the rest is ordinary memory, and nothing more is published.
    this.finishPublishing();
    const n = this.action.length * 2;
    const g = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(
      a: T,
      make: (n: number) => T,
    ): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.action = g(this.action, (k) => new Uint8Array(k));
    this.device = g(this.device, (k) => new Uint16Array(k));
    this.size = g(this.size, (k) => new Uint32Array(k));
    this.time = g(this.time, (k) => new Float64Array(k));
    this.stack = g(this.stack, (k) => new Uint32Array(k));
    this.streamIndex = g(this.streamIndex, (k) => new Uint8Array(k));
    this.addr = g(this.addr, (k) => new Float64Array(k));
  }

  /** 1 + the index of `stream` in `streams` (streams repeat: the last one is checked first). */
  private indexOfStream(stream: number): number {
    if (stream === this.lastStream) return this.lastStreamIndex;
    let index = this.streamIndexOf.get(stream);
    if (index === undefined) {
      this.streams.push(stream);
      index = this.streams.length;
      this.streamIndexOf.set(stream, index);
    }
    this.lastStream = stream;
    this.lastStreamIndex = index;
    return index;
  }

  /** The CUDA stream of entry `i`; -1 when it has none. */
  streamAt(i: number): number {
    let k = this.streamIndex[i]!;
    if (k === WIDE_STREAM) k = this.wideStream.get(i)!;
    return k === 0 ? -1 : this.streams[k - 1]!;
  }

  /** The note string id of entry `i` (0: none). */
  noteAt(i: number): number {
    return this.notes.get(i) ?? 0;
  }

  /** The size in bytes of entry `i`. */
  sizeAt(i: number): number {
    const n = this.size[i]!;
    return n === WIDE_SIZE ? this.wideSize.get(i)! : n;
  }

  /** The address of entry `i`. */
  addrAt(i: number): Addr {
    const a = this.addr[i]!;
    return a === a ? a : this.bigAddr.get(i)!; // NaN: a bigint address
  }
}

/** A node of the frame-id trie that maps a stack (sequence of frame ids) to its interned string id. */
interface StackNode {
  id: number;
  readonly next: Map<number, StackNode>;
}

/** A live segment (block) of the replay. */
interface LiveSegment {
  readonly start: Addr;
  readonly blockId: number;
  readonly size: number;
}

/** Live state of one device during replay. */
class DeviceState {
  /** Segment start -> block. `starts` is kept sorted for "which segment holds this address". */
  readonly segments = new Map<Addr, LiveSegment>();
  readonly starts: Addr[] = [];
  /** Live allocation address -> allocation id (its size: AllocationSizes). */
  readonly allocations = new AddrMap(1024);
  reserved = 0;
  peakReserved = 0;
  /**
   * The segment `containing` found last for a range inside it, and where the next live segment starts
   * (Infinity: none): an address in [start, next) has that segment as the greatest start at or below it,
   * so a range of it that ends inside the segment has the answer the search would give. Allocations come
   * in runs inside one segment. Cleared when a segment is added or removed.
   */
  private lastHit: LiveSegment | null = null;
  private lastHitNext = Infinity;

  addSegment(addr: Addr, blockId: number, size: number): void {
    this.lastHit = null;
    this.segments.set(addr, { start: addr, blockId, size });
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! < addr) lo = mid + 1;
      else hi = mid;
    }
    this.starts.splice(lo, 0, addr);
    this.reserved += size;
    if (this.reserved > this.peakReserved) this.peakReserved = this.reserved;
  }

  removeSegment(addr: Addr): void {
    const s = this.segments.get(addr);
    if (s === undefined) return;
    this.lastHit = null;
    this.segments.delete(addr);
    const i = this.starts.indexOf(addr);
    if (i >= 0) this.starts.splice(i, 1);
    this.reserved -= s.size;
  }

  /** The segment holding [addr, addr + size), if any. */
  containing(addr: Addr, size: number): LiveSegment | null {
    const last = this.lastHit;
    if (last !== null && typeof addr === 'number' && addr < this.lastHitNext) {
      const offset = addr - (last.start as number); // a number: only number starts are kept
      if (offset >= 0 && offset + size <= last.size) return last;
    }
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= addr) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return null;
    const start = this.starts[lo - 1]!;
    const seg = this.segments.get(start)!;
    const offset = addrSub(addr, start);
    if (offset + size <= seg.size) {
      if (typeof start === 'number') {
        const next = this.starts[lo];
        this.lastHit = seg;
        this.lastHitNext = next === undefined ? Infinity : typeof next === 'number' ? next : -Infinity;
      }
      return seg;
    }
    if (offset >= seg.size) return null;
    // Expandable segments are mapped range by range: an allocation may run on into the ranges mapped
    // right after it. It is placed in the block where it starts.
    let end = addrAdd(start, seg.size);
    let rest = offset + size - seg.size;
    for (let k = lo; k < this.starts.length && rest > 0; k++) {
      const next = this.starts[k]!;
      if (next !== end) return null;
      const n = this.segments.get(next)!.size;
      rest -= n;
      end = addrAdd(next, n);
    }
    return rest <= 0 ? seg : null;
  }
}

/** Sizes of the timeline's allocations by id (no object per allocation: a million of them are made). */
class AllocationSizes {
  private sizes: Float64Array;
  /**
   * `capacity`: ids to make room for at once (the most allocate events the timeline can have), so that
   * the column is not regrown by doubling (each copy touches fresh memory); pages never written stay
   * untouched.
   */
  constructor(capacity = 1024) {
    this.sizes = new Float64Array(capacity);
  }
  set(id: number, size: number): void {
    if (id >= this.sizes.length) {
      const grown = new Float64Array(Math.max(id + 1, this.sizes.length * 2));
      grown.set(this.sizes);
      this.sizes = grown;
    }
    this.sizes[id] = size;
  }
  get(id: number): number {
    return this.sizes[id]!;
  }
}

interface CollectState {
  readonly segments: SnapSegment[];
  readonly entries: EntryColumns;
  traceLists: number;
  settings: Record<string, string>;
  segmentListSeen: boolean;
  hostRecords: number;
}

class Collector {
  readonly r = new Reader('pytorch');
  /** Holds the interned stacks while reading; buildTimeline replaces it with a log sized to fit. */
  log: EventLog;
  now = 0;
  readonly state: CollectState;
  private readonly frameCache = new WeakMap<object, number>();
  /** Frame text by frame id; id 0 is "not a frame". */
  private readonly frameTexts: string[] = [''];
  private readonly frameIdByText = new Map<string, number>([['', 0]]);
  private readonly frameIds = new WeakMap<object, number>();
  private readonly stackTrie: StackNode = { id: -1, next: new Map() };

  /**
   * `entryCapacity`: how many trace entries to make room for at once (see EntryColumns); `entryMemory`:
   * where their columns live (ImportOptions.entryMemory), null: ordinary memory.
   */
  constructor(entryCapacity?: number, entryMemory: EntryMemoryProvider | null = null) {
    this.log = new EventLog({ clock: () => this.now, initialCapacity: 4096 });
    this.state = {
      segments: [],
      entries: new EntryColumns(entryCapacity, entryMemory),
      traceLists: 0,
      settings: {},
      segmentListSeen: false,
      hostRecords: 0,
    };
  }

  setTime(ms: number): void {
    this.now = ms;
  }

  addr(v: unknown, where: string): Addr {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
    if (typeof v === 'bigint' && v >= 0n) {
      if (v >= 1n << 64n) this.r.fail(`${where} is ${v}, wider than a 64-bit address`);
      return normalizeAddr(v);
    }
    return this.r.fail(`${where} should be a non-negative integer address but is ${describe(v)}`);
  }

  /**
   * Frames list -> interned stack string id (0 = none). Hot path (every entry has a frames list), so:
   * each frame gets a small id from its text (computed once per frame object: pickles share frame dicts),
   * a stack is looked up by its frame ids, and only a new stack is joined into its text and interned.
   */
  stackId(frames: unknown): number {
    if (!Array.isArray(frames) || frames.length === 0) return 0;
    const cached = this.frameCache.get(frames);
    if (cached !== undefined) return cached;
    // Walk a trie of frame ids: integer-keyed Map lookups, no key string per entry.
    let node = this.stackTrie;
    for (const f of frames) {
      const fid = this.frameId(f);
      let next = node.next.get(fid);
      if (next === undefined) node.next.set(fid, (next = { id: -1, next: new Map() }));
      node = next;
    }
    let id = node.id;
    if (id < 0) {
      const lines: string[] = [];
      for (const f of frames) {
        const text = this.frameTexts[this.frameId(f)]!;
        if (text !== '') lines.push(text);
      }
      id = lines.length === 0 ? 0 : this.log.strings.intern(lines.join('\n'));
      node.id = id;
    }
    this.frameCache.set(frames, id);
    return id;
  }

  private frameId(f: unknown): number {
    if (typeof f !== 'object' || f === null) return 0;
    const known = this.frameIds.get(f);
    if (known !== undefined) return known;
    let text = '';
    if (isObj(f)) {
      const name = own(f, 'name');
      const file = own(f, 'filename');
      const line = intText(own(f, 'line'));
      text = `${typeof name === 'string' ? name : '?'} ${typeof file === 'string' ? file : '?'}:${line ?? '?'}`;
    }
    let id = this.frameIdByText.get(text);
    if (id === undefined) {
      id = this.frameTexts.length;
      this.frameTexts.push(text);
      this.frameIdByText.set(text, id);
    }
    this.frameIds.set(f, id);
    return id;
  }

  segment(v: unknown, index: number): void {
    const r = this.r;
    const where = `segments[${index}]`;
    const s = r.obj(v, where);
    const deviceValue = own(s, 'device');
    const device = deviceValue === undefined ? 0 : r.uint(deviceValue, `${where}.device`);
    if (device > 1023) r.fail(`${where}.device is ${device}; more than 1024 devices is not plausible`);
    const addr = this.addr(own(s, 'address'), `${where}.address`);
    const size = r.uint(own(s, 'total_size'), `${where}.total_size`);
    const blocksValue = own(s, 'blocks');
    const list = blocksValue === undefined ? [] : r.arr(blocksValue, `${where}.blocks`);
    const blocks: SnapBlock[] = [];
    const segmentStream = streamOf(own(s, 'stream'));
    let cursor: Addr = addr;
    for (let i = 0; i < list.length; i++) {
      const bw = `${where}.blocks[${i}]`;
      const b = r.obj(list[i], bw);
      const bsize = r.uint(own(b, 'size'), `${bw}.size`);
      const baddrValue = own(b, 'address');
      const baddr = baddrValue === undefined ? cursor : this.addr(baddrValue, `${bw}.address`);
      const state = r.str(own(b, 'state'), `${bw}.state`);
      const requestedValue = own(b, 'requested_size');
      const requested =
        typeof requestedValue === 'number' && Number.isSafeInteger(requestedValue) && requestedValue > 0
          ? requestedValue
          : undefined;
      const offset = addrSub(baddr, addr);
      if (offset < 0 || offset + bsize > size)
        r.fail(`${bw} lies outside its segment (offset ${offset}, ${bsize} bytes, segment ${size} bytes)`);
      blocks.push({
        addr: baddr,
        size: bsize,
        requested,
        allocated: state === 'active_allocated',
        stack: this.log.strings.get(this.stackId(own(b, 'frames'))),
        stream: segmentStream,
      });
      cursor = addrAdd(baddr, bsize);
    }
    const allocatedSize = own(s, 'allocated_size');
    this.state.segments.push({
      device,
      addr,
      size,
      expandable: own(s, 'is_expandable') === true,
      blocks,
      allocatedSize: typeof allocatedSize === 'number' ? allocatedSize : undefined,
    });
  }

  /** One trace entry as a dict (JSON, or an entry the pickle reader's fast path left to its opcode loop). */
  entry(v: unknown, device: number, index: number): void {
    const e = isObj(v) ? v : this.r.obj(v, entryName(device, index));
    const rec = this.dictRecord;
    rec.clear();
    for (let k = 0; k < ENTRY_FIELDS.length; k++) {
      const x = own(e, ENTRY_FIELDS[k]!);
      if (x !== undefined) rec.set(k, x);
    }
    this.entryRecord(rec, device, index);
  }
  private readonly dictRecord = new StreamedRecord(ENTRY_FIELDS);

  /**
   * One trace entry (fields ENTRY_FIELDS). Hot (a million calls for a large snapshot): numbers are read
   * unboxed from the record, frames lists the reader interned are looked up by their id, and the field
   * names for messages are only built when a value is wrong.
   */
  entryRecord(rec: StreamedRecord, device: number, index: number): void {
    const r = this.r;
    const actionValue = rec.get(F_ACTION);
    const actionName =
      typeof actionValue === 'string'
        ? actionValue
        : r.str(actionValue, `${entryName(device, index)}.action`);
    const action = this.actionOf(actionName);
    let addr: Addr = 0;
    if (action !== Action.Oom && rec.kind[F_ADDR] !== RECORD_ABSENT) {
      const a = rec.num[F_ADDR]!;
      addr =
        rec.kind[F_ADDR] === RECORD_NUMBER && Number.isSafeInteger(a) && a >= 0
          ? a
          : this.addr(rec.get(F_ADDR), `${entryName(device, index)}.addr`);
    }
    let size = 0;
    if (rec.kind[F_SIZE] !== RECORD_ABSENT) {
      const n = rec.num[F_SIZE]!;
      size =
        rec.kind[F_SIZE] === RECORD_NUMBER && Number.isSafeInteger(n) && n >= 0
          ? n
          : r.uint(rec.get(F_SIZE), `${entryName(device, index)}.size`);
    }
    const t = rec.get(F_TIME);
    const time = typeof t === 'number' && Number.isFinite(t) ? t : typeof t === 'bigint' ? Number(t) : NaN;
    let note = 0;
    if (action === Action.Oom) note = this.log.strings.intern(intText(rec.get(F_DEVICE_FREE)) ?? '?');
    else if (action === Action.Annotate) note = this.log.strings.intern(jsonText(rec.get(F_METADATA)));
    else if (action === Action.Other) note = this.log.strings.intern(actionName);
    const stream = streamOf(rec.get(F_STREAM)) ?? -1;
    const listId = rec.listId[F_FRAMES]!;
    const stack =
      listId >= 0 && rec.kind[F_FRAMES] === RECORD_VALUE
        ? this.stackOfList(listId, rec.value[F_FRAMES])
        : this.stackId(rec.get(F_FRAMES));
    this.state.entries.push(action, device, addr, size, time, stack, note, stream);
  }

  /**
   * The Action of an action name. The names seen are compared first (a dozen at most are kept): the
   * pickle's memo gives each name one string object, so === is a pointer test, cheaper per entry than the
   * Map's lookup.
   */
  private actionOf(name: string): Action {
    const names = this.seenActionNames;
    for (let k = 0; k < names.length; k++) if (names[k] === name) return this.seenActions[k]!;
    const action = actionCodes.get(name) ?? Action.Other;
    if (names.length < 16) {
      names.push(name);
      this.seenActions.push(action);
    }
    return action;
  }
  private readonly seenActionNames: string[] = [];
  private readonly seenActions: Action[] = [];

  /** stackId of the reader's interned list `listId` (`frames`), computed once per list. */
  private stackOfList(listId: number, frames: unknown): number {
    const known = this.stackByList[listId];
    if (known !== undefined) return known;
    const id = this.stackId(frames);
    this.stackByList[listId] = id;
    return id;
  }
  /** Interned stack id by the pickle reader's list id (StreamedRecord.listId). */
  private readonly stackByList: number[] = [];

  settings(v: unknown): void {
    if (!isObj(v)) return;
    for (const [k, value] of Object.entries(v)) this.state.settings[k] = jsonText(value);
  }
}

/** How messages name trace entry `index` of device `device` (built only for a message). */
function entryName(device: number, index: number): string {
  return `device_traces[${device}][${index}]`;
}

/** A CUDA stream (cudaStream_t as an integer, 0 = the default stream); null when absent or not one. */
function streamOf(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

function jsonText(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The parser selects these lists to stream: the segment list and each device's trace list. */
function streamSelector(path: readonly (string | number)[]): boolean {
  return (path.length === 1 && path[0] === 'segments') || (path.length === 2 && path[0] === 'device_traces');
}

function onStreamed(
  c: Collector,
  path: readonly (string | number)[],
  index: number | string,
  value: unknown,
): void {
  if (path[0] === 'segments') {
    c.state.segmentListSeen = true;
    c.segment(value, Number(index));
  } else c.entry(value, Number(path[1]), Number(index));
}

/** After parsing: the root with streamed lists emptied. Checks its shape and takes what is left. */
function takeRoot(c: Collector, root: unknown, file: string): void {
  const r = c.r;
  if (Array.isArray(root)) {
    // torch.cuda.memory_snapshot(): the bare list of segments.
    root.forEach((s, i) => c.segment(s, i));
    c.state.segmentListSeen = true;
    return;
  }
  if (!isObj(root))
    return r.fail(
      `${file} holds ${describe(root)}, not the dictionary of a PyTorch snapshot (with "segments" and "device_traces")`,
    );
  const segments = own(root, 'segments');
  const traces = own(root, 'device_traces');
  if (segments === undefined && traces === undefined)
    r.fail(
      `${file} is a dictionary without "segments" or "device_traces", so it is not a PyTorch memory snapshot (${Object.keys(root).length} other keys)`,
    );
  if (segments !== undefined) {
    const list = r.arr(segments, 'segments');
    list.forEach((s, i) => c.segment(s, i)); // only non-empty when the list was not streamed
    c.state.segmentListSeen = true;
  }
  if (traces !== undefined) {
    const lists = r.arr(traces, 'device_traces');
    c.state.traceLists = lists.length;
    lists.forEach((l, d) => r.arr(l, `device_traces[${d}]`).forEach((e, i) => c.entry(e, d, i)));
  }
  c.settings(own(root, 'allocator_settings'));
  const hs = own(root, 'host_segments');
  const ht = own(root, 'host_traces');
  c.state.hostRecords = (Array.isArray(hs) ? hs.length : 0) + (Array.isArray(ht) ? ht.length : 0);
}

// ---- Building the timeline --------------------------------------------------------------------------------

// Sizes: the trace's alloc / free_requested / free_completed entries carry the size that was asked for
// (CUDACachingAllocator records orig_size and block->requested_size), while the snapshot's blocks have the
// caching allocator's rounded size (at least 512 bytes, multiples of 512, and a block may keep a remainder
// too small to split off) with requested_size beside it. The timeline's allocations have the requested
// size (as memory_viz draws them); the end-state check compares like with like.

/** The size the trace would record for a live snapshot block: requested_size, else (older PyTorch) its size. */
function traceSize(b: SnapBlock): number {
  return b.requested ?? b.size;
}

/**
 * Whether an allocation the trace left live with `size` requested bytes is the snapshot block `b`: the same
 * requested size where the snapshot records it, else a request that fits the (rounded) block.
 */
function sameAllocation(b: SnapBlock, size: number): boolean {
  return b.requested !== undefined ? b.requested === size : size <= b.size;
}

interface Ids {
  block: number;
  allocation: number;
}

/**
 * CUDA devices in Vulkan's terms: one device-local heap and memory type per CUDA device, heap i
 * `heapBytes[i]` large.
 */
function cudaDevices(heapBytes: readonly number[], file: string): DeviceDescription {
  const devices = heapBytes.length;
  const heaps: MemoryHeap[] = heapBytes.map((size, index) => ({
    index,
    size,
    flags: MemoryHeapFlags.DEVICE_LOCAL,
  }));
  const types: MemoryType[] = heapBytes.map((_size, index) => ({
    index,
    propertyFlags: MemoryPropertyFlags.DEVICE_LOCAL,
    heapIndex: index,
    heapKind: `cuda:${index}`,
  }));
  return vulkanTermsDevice({
    name: devices === 1 ? 'CUDA device 0 (PyTorch snapshot)' : `${devices} CUDA devices (PyTorch snapshot)`,
    vendorId: 0x10de,
    deviceId: 0,
    heaps,
    types,
    source: `import:pytorch:${file}`,
  });
}

/** `newLog`: makes the timeline's log, given its options and how many CUDA devices the import has. */
function buildTimeline(
  c: Collector,
  warnings: Warnings,
  found: string[],
  newLog: (options: EventLogOptions, deviceCount: number) => EventLog,
): { devices: number; perDevicePeak: number[]; expandablePieces: number; end: ImportTotals } {
  const { segments, entries } = c.state;
  // The collector's log only interned strings so far; the timeline gets a log sized for every event it
  // can hold (no doubling of a multi-million-event log), and the same strings are interned again as used.
  const strings = c.log.strings;
  let bound = entries.length + 64;
  for (const s of segments) bound += 2 + 2 * s.blocks.length;
  let deviceCount = 0;
  for (const seg of segments) deviceCount = Math.max(deviceCount, seg.device + 1);
  deviceCount = Math.max(deviceCount, entries.rowsPerDevice.length);
  const log = newLog({ clock: () => c.now, initialCapacity: bound }, deviceCount);
  const allocSize = new AllocationSizes(bound + 1);
  c.log = log;
  const states: DeviceState[] = Array.from({ length: deviceCount }, () => new DeviceState());
  const ids: Ids = { block: 1, allocation: 1 };
  const ghostStack = strings.intern('(allocated before the trace started: no frames recorded)');
  /** Records a PyTorch segment (or mapped piece of one) as a new block of the device's memory type. */
  const createSegment = (st: DeviceState, device: number, addr: Addr, size: number): void => {
    const blockId = ids.block++;
    log.blockCreate({ blockId, memoryTypeIndex: device, size, dedicated: false });
    log.placeLast(addr);
    st.addSegment(addr, blockId, size);
  };
  /**
   * Records a live PyTorch block as an allocation at its offset in the segment's block, with its CUDA
   * address and stream (null: unknown). The snapshot says nothing of alignment, kind, location, name or
   * decision: 0, Linear, GpuOnly, '' and none (reusableAllocateRecord's neutral values).
   */
  const fields = reusableAllocateRecord();
  const allocateIn = (
    st: DeviceState,
    seg: { start: Addr; blockId: number },
    device: number,
    addr: Addr,
    size: number,
    stack: string | null,
    stream: number | null,
  ): void => {
    const id = ids.allocation++;
    fields.allocationId = id;
    fields.blockId = seg.blockId;
    fields.memoryTypeIndex = device;
    fields.offset = addrSub(addr, seg.start);
    fields.size = size;
    fields.stack = stack;
    log.allocate(fields);
    log.placeLast(addr, stream);
    st.allocations.set(addr, id);
    allocSize.set(id, size);
  };

  // End state per device, from the snapshot.
  const endSegs = states.map(() => new Map<Addr, number>());
  const endAllocs = states.map(() => new Map<Addr, SnapBlock>());
  // Expandable segments: the snapshot reports each contiguous mapped range as one segment, the trace
  // maps it piece by piece. Split them at the trace's segment_map/unmap boundaries so that each mapped
  // piece is a block the trace can create and destroy.
  const cuts = states.map(() => [] as Addr[]);
  for (const i of entries.mapRows) {
    const list = cuts[entries.device[i]!]!;
    const a = entries.addrAt(i);
    list.push(a, addrAdd(a, entries.sizeAt(i)));
  }
  let expandablePieces = 0;
  for (const s of segments) {
    if (s.expandable && cuts[s.device]!.length > 0) {
      const end = addrAdd(s.addr, s.size);
      const inside = [...new Set(cuts[s.device]!.filter((x) => x > s.addr && x < end))].sort((x, y) =>
        x < y ? -1 : x > y ? 1 : 0,
      );
      let from: Addr = s.addr;
      for (const at of [...inside, end]) {
        endSegs[s.device]!.set(from, addrSub(at, from));
        from = at;
      }
      expandablePieces += inside.length;
      for (const b of s.blocks) if (b.allocated) endAllocs[s.device]!.set(b.addr, b);
      continue;
    }
    if (endSegs[s.device]!.has(s.addr))
      warnings.add(
        'dup-seg',
        `The snapshot lists segment ${s.addr} of device ${s.device} twice; kept the first`,
      );
    else endSegs[s.device]!.set(s.addr, s.size);
    for (const b of s.blocks) if (b.allocated) endAllocs[s.device]!.set(b.addr, b);
  }

  // Per-device entry order (as recorded): the rows of each device, in row order. One device (the common
  // case) has them all: no index array then (null), row k is the device's entry k.
  // Counted as pushed, then filled: typed arrays of the right size, not growing arrays of a million indices.
  const perDeviceCount = new Float64Array(deviceCount);
  entries.rowsPerDevice.forEach((n, d) => (perDeviceCount[d] = n));
  let perDevice: Uint32Array[] | null = null;
  if (deviceCount > 1) {
    const rows = Array.from(perDeviceCount, (n) => new Uint32Array(n));
    const filled = new Float64Array(deviceCount);
    for (let i = 0; i < entries.length; i++) {
      const d = entries.device[i]!;
      rows[d]![filled[d]!++] = i;
    }
    perDevice = rows;
  }

  // 1. Backwards from the end state: what existed before the first entry.
  const startSegs = endSegs.map((m) => new Map(m));
  const startAllocs = endAllocs.map((m) => {
    const sizes = new AddrMap(m.size);
    for (const [a, v] of m) sizes.set(a, traceSize(v));
    return sizes;
  });
  /** Stream of the free entry that revealed a start allocation (the snapshot's blocks have their own). */
  const startStreams = states.map(() => new AddrMap());
  for (let d = 0; d < deviceCount; d++) {
    const order = perDevice === null ? null : perDevice[d]!;
    const segs = startSegs[d]!;
    const allocs = startAllocs[d]!;
    for (let k = perDeviceCount[d]! - 1; k >= 0; k--) {
      const i = order === null ? k : order[k]!;
      const a = entries.addrAt(i);
      switch (entries.action[i] as Action) {
        case Action.Alloc:
          allocs.delete(a);
          break;
        case Action.FreeRequested:
        case Action.FreeCompleted:
          if (allocs.setIfAbsent(a, entries.sizeAt(i))) {
            const stream = entries.streamAt(i);
            if (stream >= 0) startStreams[d]!.set(a, stream);
          }
          break;
        case Action.SegmentAlloc:
        case Action.SegmentMap:
          segs.delete(a);
          break;
        case Action.SegmentFree:
        case Action.SegmentUnmap:
          if (!segs.has(a)) segs.set(a, entries.sizeAt(i));
          break;
        default:
          break;
      }
    }
  }

  // Times: ms since the first entry's time_us; entries without time_us get their index.
  const t0 = entries.minTime;
  const timed = entries.length > 0 && !entries.untimed;
  const timeOf = (i: number): number => (timed ? (entries.time[i]! - t0) / 1000 : i);

  // 2. The state at the start, at time 0.
  c.setTime(0);
  let ghosts = 0;
  for (let d = 0; d < deviceCount; d++) {
    const st = states[d]!;
    for (const [addr, size] of [...startSegs[d]!].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      createSegment(st, d, addr, size);
    }
    for (const [addr, size] of startAllocs[d]!.entries()) {
      const seg = st.containing(addr, size);
      if (seg === null) {
        warnings.add(
          'start-alloc-outside',
          `An allocation at ${addr} on device ${d} that existed before the trace lies in no segment; skipped`,
        );
        continue;
      }
      const survivor = endAllocs[d]!.get(addr);
      const stack =
        survivor !== undefined && sameAllocation(survivor, size) ? survivor.stack : strings.get(ghostStack);
      if (survivor === undefined) ghosts++;
      const startStream = startStreams[d]!.get(addr);
      const stream = survivor !== undefined ? survivor.stream : startStream >= 0 ? startStream : null;
      allocateIn(st, seg, d, addr, size, stack || null, stream);
    }
  }
  if (ghosts > 0)
    found.push(
      `  ${ghosts} allocations existed before the trace started and were freed during it (no frames recorded for them)`,
    );

  // 3. Forwards, merging the devices by time.
  const heads = states.map(() => 0);
  const skipped = new Map<string, number>();
  const skip = (why: string): void => {
    skipped.set(why, (skipped.get(why) ?? 0) + 1);
  };
  for (;;) {
    let best = -1;
    let bestTime = Infinity;
    for (let d = 0; d < deviceCount; d++) {
      const k = heads[d]!;
      if (k < perDeviceCount[d]!) {
        const t = timeOf(perDevice === null ? k : perDevice[d]![k]!);
        if (best < 0 || t < bestTime) {
          best = d;
          bestTime = t;
        }
      }
    }
    if (best < 0) break;
    const d = best;
    const k = heads[d]!++;
    const i = perDevice === null ? k : perDevice[d]![k]!;
    c.setTime(Math.max(0, bestTime));
    const st = states[d]!;
    const a = entries.addrAt(i);
    const size = entries.sizeAt(i);
    const stack = entries.stack[i]! === 0 ? null : strings.get(entries.stack[i]!);
    switch (entries.action[i] as Action) {
      case Action.SegmentAlloc:
      case Action.SegmentMap: {
        if (st.segments.has(a)) {
          skip(`segment_alloc of segment ${a} that is already live`);
          break;
        }
        createSegment(st, d, a, size);
        break;
      }
      case Action.SegmentFree:
      case Action.SegmentUnmap: {
        const seg = st.segments.get(a);
        if (seg === undefined) {
          skip('segment_free of a segment that is not live');
          break;
        }
        // Only allocations that start inside the segment can be placed in it (containing decides).
        const segEnd = addrAdd(a, seg.size);
        for (const [addr, id] of st.allocations.entries((x) => x >= a && x < segEnd)) {
          if (st.containing(addr, allocSize.get(id))?.start === a) {
            log.free(id);
            st.allocations.delete(addr);
            skip('allocation still live when its segment was freed (freed with it)');
          }
        }
        log.blockDestroy(seg.blockId);
        st.removeSegment(a);
        break;
      }
      case Action.Alloc: {
        const previous = st.allocations.take(a);
        if (previous >= 0) {
          log.free(previous);
          skip('alloc at an address that was still allocated (the earlier one was freed first)');
        }
        const seg = st.containing(a, size);
        if (seg === null) {
          skip('alloc outside every live segment');
          break;
        }
        const stream = entries.streamAt(i);
        allocateIn(st, seg, d, a, size, stack, stream >= 0 ? stream : null);
        break;
      }
      case Action.FreeRequested:
      case Action.FreeCompleted: {
        const alloc = st.allocations.take(a);
        if (alloc < 0) {
          // free_completed after free_requested is the normal second half of one free.
          if ((entries.action[i] as Action) === Action.FreeRequested)
            skip('free_requested of an address that is not allocated');
          break;
        }
        log.free(alloc);
        break;
      }
      case Action.Oom:
        log.failure({
          name: '',
          size,
          alignment: 0,
          location: 'GpuOnly',
          linear: true,
          code: 'CUDA_OUT_OF_MEMORY',
          message: `CUDA out of memory on device ${d}: ${size} bytes requested, ${strings.get(entries.noteAt(i))} bytes free on the device`,
          decisionId: -1,
          stack,
        });
        break;
      case Action.Snapshot:
        log.mark(`snapshot (device ${d})`, stack);
        break;
      case Action.Annotate:
        log.mark(`annotate ${a}: ${strings.get(entries.noteAt(i))}`, stack);
        break;
      default:
        log.mark(`${strings.get(entries.noteAt(i))} (device ${d})`, stack);
        skip(`an action this importer does not know ("${strings.get(entries.noteAt(i))}"), kept as a mark`);
    }
  }
  for (const [why, n] of skipped)
    warnings.add(`skip-${why}`, `The trace is inconsistent: ${n} × ${why}; skipped`);

  // 4. Put the end state right where the trace did not lead to the snapshot.
  let fixes = 0;
  for (let d = 0; d < deviceCount; d++) {
    const st = states[d]!;
    for (const [addr, id] of st.allocations.entries()) {
      const want = endAllocs[d]!.get(addr);
      if (want === undefined || !sameAllocation(want, allocSize.get(id))) {
        log.free(id);
        st.allocations.delete(addr);
        fixes++;
      }
    }
    for (const [addr, seg] of [...st.segments]) {
      if (endSegs[d]!.get(addr) !== seg.size) {
        const segEnd = addrAdd(addr, seg.size);
        for (const [a2, id] of st.allocations.entries((x) => x >= addr && x < segEnd)) {
          if (st.containing(a2, allocSize.get(id))?.start === addr) {
            log.free(id);
            st.allocations.delete(a2);
          }
        }
        log.blockDestroy(seg.blockId);
        st.removeSegment(addr);
        fixes++;
      }
    }
    for (const [addr, size] of endSegs[d]!) {
      if (!st.segments.has(addr)) {
        createSegment(st, d, addr, size);
        fixes++;
      }
    }
    for (const [addr, want] of endAllocs[d]!) {
      if (st.allocations.has(addr)) continue;
      const size = traceSize(want);
      const seg = st.containing(addr, size);
      if (seg === null) continue; // cannot happen: blocks were checked against their segment
      allocateIn(st, seg, d, addr, size, want.stack || null, want.stream);
      fixes++;
    }
  }
  if (fixes > 0 && entries.length > 0)
    warnings.add(
      'reconcile',
      `The trace does not lead to the segments snapshot: ${fixes} blocks/allocations were created or freed at the end of the timeline so that it ends in the snapshot's state`,
    );
  if (expandablePieces > 0)
    found.push(
      `  expandable segments: mapped piece by piece in the trace, so the timeline has ${expandablePieces} more blocks than the snapshot has segments`,
    );
  // What the timeline ends in (allocations at their requested sizes, expandable segments piece by piece).
  const end = emptyTotals();
  for (const st of states) {
    end.blocks += st.segments.size;
    for (const seg of st.segments.values()) end.blockBytes += seg.size;
    end.allocations += st.allocations.size;
    for (const [, id] of st.allocations.entries()) end.allocatedBytes += allocSize.get(id);
  }
  return { devices: deviceCount, perDevicePeak: states.map((s) => s.peakReserved), expandablePieces, end };
}

function sameTotals(a: ImportTotals, b: ImportTotals): boolean {
  return (
    a.blocks === b.blocks &&
    a.blockBytes === b.blockBytes &&
    a.allocations === b.allocations &&
    a.allocatedBytes === b.allocatedBytes
  );
}

interface PytorchImportOptions {
  onProgress?: ImportProgress;
  partial?: boolean;
  /** Makes the timeline's event log (ImportOptions.eventLog). */
  eventLog?: (options: EventLogOptions, device: DeviceDescription) => EventLog;
  /** Where the entries' columns live (ImportOptions.entryMemory). */
  entryMemory?: EntryMemoryProvider;
}

/** Imports a PyTorch snapshot (pickle or JSON) from a byte source. */
export async function importPytorchSnapshot(
  source: ByteSource,
  options: PytorchImportOptions = {},
): Promise<ImportResult> {
  const provider = options.entryMemory;
  if (provider === undefined) return importSnapshot(source, options);
  // However the import ends (done, failed, cancelled), the counters handed out end at -1: a thread
  // touching the memory waits for that.
  const counters: Int32Array[] = [];
  const entryMemory: EntryMemoryProvider = (rows, elementBytes, timeline) => {
    const memory = provider(rows, elementBytes, timeline);
    counters.push(memory.rowsWritten);
    return memory;
  };
  try {
    return await importSnapshot(source, { ...options, entryMemory });
  } finally {
    for (const counter of counters) endRowsWritten(counter);
  }
}

async function importSnapshot(source: ByteSource, options: PytorchImportOptions): Promise<ImportResult> {
  // A snapshot's trace entries take at least 64 bytes each in a pickle (more in JSON): room for that many.
  const entryCapacity = Math.max(1024, Math.min(1 << 24, Math.floor((source.size ?? 0) / 64)));
  let c = new Collector(entryCapacity, options.entryMemory ?? null);
  const warnings = new Warnings();
  /** With options.partial, a malformed file keeps what was streamed before the problem. */
  const stop = (error: unknown): void => {
    if (!options.partial || !(error instanceof Error)) throw error;
    warnings.add('partial', `Reading stopped early (${error.message}); imported what came before`);
  };
  const head = await source.head(4);
  const { encoding, bomBytes } = sniffTextEncoding(head);
  const first = head[bomBytes];
  // JSON starts with "{" or "[" (or whitespace); a pickle with an opcode (0x80, "(", "}", "]").
  const isJson =
    first === 0x7b ||
    first === 0x5b ||
    first === 0x20 ||
    first === 0x0a ||
    first === 0x0d ||
    first === 0x09 ||
    encoding !== 'utf-8';
  let version: string;
  if (isJson) {
    const parser = new JsonStreamParser({
      streamItems: streamSelector,
      onItem: (path, key, value) => onStreamed(c, path, key, value),
    });
    let root: JsonValue | undefined;
    try {
      for await (const text of textChunks(source, encoding, (done) =>
        options.onProgress?.(done, source.size, 'json'),
      ))
        parser.feed(text);
      root = parser.end();
    } catch (error) {
      stop(
        error instanceof JsonSyntaxError
          ? new ImportError(
              'pytorch',
              `${source.name} is not valid JSON (${error.message}), so it is not a readable PyTorch snapshot`,
            )
          : error,
      );
    }
    if (root !== undefined) takeRoot(c, root, source.name);
    version = 'json';
  } else {
    // One pass first: the memo forgets what streamed items made (see PickleStreamOptions.referencedMemo)
    // and frames lists of shared frames are shared. Should the file read a forgotten slot back, it is read
    // again the safe way: a first pass finds which memo slots are read back, a second reads the values.
    let protocol = 0;
    const readPass = async (
      referencedMemo: ReadonlySet<number> | 'prune-streamed',
      done: number,
      total: number | null,
    ): Promise<void> => {
      const reader = new PickleStreamReader({
        referencedMemo,
        internReferenceLists: referencedMemo === 'prune-streamed',
        streamItems: (p: PicklePath) => streamSelector(p),
        maxPathLength: 2,
        onItem: (p: PicklePath, index: number, value: PickleValue) => onStreamed(c, p, index, value),
        record: {
          lists: (p: PicklePath) => p[0] === 'device_traces',
          fields: ENTRY_FIELDS,
          onRecord: (p: PicklePath, index: number, rec: StreamedRecord) =>
            c.entryRecord(rec, Number(p[1]), index),
        },
      });
      try {
        for await (const chunk of source.chunks({ recycle: true })) {
          reader.feed(chunk);
          done += chunk.length;
          options.onProgress?.(done, total, 'pickle read');
          if (reader.finished) break;
        }
        if (!reader.finished && options.partial) reader.salvage();
      } catch (error) {
        if (options.partial && !(error instanceof PickleNeedsRescan)) reader.salvage();
        throw error;
      } finally {
        protocol = reader.protocol;
      }
      takeRoot(c, reader.end(), source.name);
    };
    try {
      try {
        await readPass('prune-streamed', 0, source.size);
      } catch (error) {
        if (!(error instanceof PickleNeedsRescan)) throw error;
        // The second reading keeps its entries in ordinary memory (the provider's are for one reading).
        c.state.entries.finishPublishing();
        c = new Collector(entryCapacity);
        const scanner = new MemoReferenceScanner();
        let done = 0;
        const total = source.size === null ? null : source.size * 2;
        for await (const chunk of source.chunks({ recycle: true })) {
          scanner.feed(chunk);
          done += chunk.length;
          options.onProgress?.(done, total, 'pickle scan');
        }
        await readPass(scanner.referenced, done, total);
      }
    } catch (error) {
      stop(
        error instanceof PickleError
          ? new ImportError(
              'pytorch',
              `${source.name} is not a readable PyTorch snapshot pickle: ${error.message}`,
            )
          : error,
      );
    }
    version = `pickle-${protocol}`;
  }

  const found: string[] = [];
  const { segments, entries } = c.state;
  // The snapshot's own totals (what the summary line prints).
  const totals: ImportTotals = emptyTotals();
  for (const s of segments) {
    totals.blocks++;
    totals.blockBytes += s.size;
    let allocated = 0;
    for (const b of s.blocks) {
      if (!b.allocated) continue;
      totals.allocations++;
      totals.allocatedBytes += b.size;
      allocated += b.size;
    }
    if (s.allocatedSize !== undefined && s.allocatedSize !== allocated)
      warnings.add(
        'allocated-size',
        `The snapshot is inconsistent: segment ${s.addr} on device ${s.device} says allocated_size ${s.allocatedSize} but its active_allocated blocks add up to ${allocated}`,
      );
  }
  c.state.entries.finishPublishing();
  const { devices, perDevicePeak, end } = buildTimeline(c, warnings, found, (logOptions, deviceCount) =>
    options.eventLog
      ? // The device as the timeline starts: its memory types and heaps, not yet their sizes.
        options.eventLog(logOptions, cudaDevices(new Array<number>(deviceCount).fill(0), source.name))
      : new EventLog(logOptions),
  );
  if (end.allocatedBytes !== totals.allocatedBytes && end.allocations === totals.allocations)
    found.push(
      `  allocations carry the sizes the program asked for (${end.allocatedBytes} bytes live at the end); the snapshot's blocks, rounded up by the caching allocator, hold ${totals.allocatedBytes}`,
    );
  const perType: ImportTotals[] = Array.from({ length: devices }, () => emptyTotals());
  for (const s of segments) {
    const t = perType[s.device]!;
    t.blocks++;
    t.blockBytes += s.size;
    for (const b of s.blocks) {
      if (!b.allocated) continue;
      t.allocations++;
      t.allocatedBytes += b.size;
    }
  }
  // The snapshot does not record GPU capacity: a heap is as large as the most its device had reserved.
  const device = cudaDevices(
    perType.map((t, index) => Math.max(t.blockBytes, perDevicePeak[index] ?? 0)),
    source.name,
  );
  found.unshift(
    `PyTorch CUDA memory snapshot (${version === 'json' ? 'JSON' : `pickle protocol ${version.slice(7)}`}): ${segments.length} segments on ${devices} device${devices === 1 ? '' : 's'}, ${entries.length} trace entries in ${c.state.traceLists} device_traces lists`,
  );
  if (entries.length === 0)
    found.push(
      '  no allocation history (device_traces empty or absent): the segments snapshot is imported as one point in time',
    );
  if (c.state.hostRecords > 0)
    found.push(
      `  ${c.state.hostRecords} pinned host memory records (host_segments/host_traces) are not imported`,
    );
  if (!c.state.segmentListSeen)
    warnings.add('no-segments', 'The snapshot has no "segments" list, so the end state is taken as empty');
  return {
    header: {
      device,
      allocator: { imported: true, allocator: 'PyTorch CUDACachingAllocator', settings: c.state.settings },
      importedFrom: { format: 'pytorch', version, file: source.name },
    },
    log: c.log,
    totals,
    perType,
    sourceEvents: entries.length,
    ...(sameTotals(end, totals) ? {} : { timelineEnd: end }),
    warnings: warnings.list(),
    found,
  };
}
