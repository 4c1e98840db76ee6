// Radeon Memory Visualizer traces (.rmv): both containers RMV reads, and the RMT token stream inside.
// Our own reader, written from the layouts AMD publishes (GPUOpen-Tools/radeon_memory_visualizer
// source/parser/rmt_file_format.h, rmt_parser.cpp, rmt_rdf_*.h; GPUOpen-Drivers/libamdrdf
// docs/specification.md). Pure: no Node APIs; the file is read front to back through a ByteSource.
//
// - Legacy RMT file: a 56-byte header (magic "MINI" = 0x494e494d, version, chunk_offset, creation time),
//   then chunks, each a 16-byte header {u32 id (type in bits 0-7), i16 version_minor, i16 version_major,
//   i32 size (header included), i32 padding} and its payload: segment info (4), adapter info (7), RMT data
//   (3: u64 process id, u64 thread id, then tokens), snapshot info (6: u64 time, i32 name length, name).
// - RDF ("AMD_RDF " version 3): a 32-byte header {magic, u32 version, u32 reserved, i64 index offset,
//   i64 index size}, chunks anywhere, and an index of 64-byte entries {char id[16], u8 compression, 3
//   reserved, u32 version, i64 header offset, header size, data offset, data size, uncompressed size}.
//   RMV's chunks: "GpuMemSegment" (an array of {i32 heap type, pad, u64 base, u64 size}), "AdapterInfo"
//   (name[128] + 11 u32), "RmtData" (24-byte header {u32 pid, u32 tid, u64 total size, u32 stream index,
//   u16 major, u16 minor}; a stream is the concatenation of its chunks' data in index order),
//   "RmvSnapshotData" ({name[128], u64 time, u32 name length, u32 version}) and "RmvSnapshotIndex"
//   (header {u16 count, u32 version}, data: u16 snapshot chunk numbers, 0xFFFF = deleted; the last one
//   counts).
//
// Mapping (docs/importers.md): segments -> heaps (one memory type per RMT heap kind), virtual allocations
// -> blocks, resources bound into them -> allocations at (bind address - allocation base), snapshots ->
// marks. Page tables, residency, CPU maps and the like are counted and not imported.
import type { MemoryHeap, MemoryType } from '../device.ts';
import { MemoryHeapFlags, MemoryPropertyFlags } from '../device.ts';
import { EventLog } from '../event-log.ts';
import { AllocationKind } from '../types.ts';
import type { ByteSource } from './byte-source.ts';
import {
  emptyTotals,
  ImportError,
  type ImportProgress,
  type ImportResult,
  type ImportTotals,
  vulkanTermsDevice,
} from './model.ts';
import { Warnings } from './read-values.ts';
import {
  RMT_RESOURCE_TYPE_HEAP,
  RmtHeap,
  RmtStreamError,
  RmtTokenStream,
  type IgnoredCounts,
  type RmtRecord,
} from './rmv-tokens.ts';

export const RMT_MAGIC = 0x494e494d; // "MINI" little-endian
export const RDF_MAGIC = 'AMD_RDF ';
const RMT_HEADER_BYTES = 56;
const RMT_CHUNK_HEADER_BYTES = 16;
const RDF_HEADER_BYTES = 32;
const RDF_INDEX_ENTRY_BYTES = 64;
/** At most this many index entries (64 MiB of index): anything larger is taken as corrupt, not read. */
const RDF_MAX_INDEX_ENTRIES = 1 << 20;
/** Metadata chunks (segments, adapter, snapshots) are small; a larger one is refused, not buffered. */
const MAX_METADATA_CHUNK = 1 << 20;
const MAX_STREAMS = 256;

/** Which container a file is, from its first bytes (null: neither). */
export function detectRmv(head: Uint8Array): 'rmt' | 'rdf' | null {
  if (head.length >= 4 && u32(head, 0) === RMT_MAGIC) return 'rmt';
  if (head.length >= 8 && String.fromCharCode(...head.subarray(0, 8)) === RDF_MAGIC) return 'rdf';
  return null;
}

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}
function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}
function i32(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}
function i16(b: Uint8Array, at: number): number {
  const v = u16(b, at);
  return v >= 0x8000 ? v - 0x10000 : v;
}
/**
 * A 64-bit field that must be a size or offset: exact below 2^53, refused above (a file of 8 PiB does not
 * exist, so such a value is corruption; a rounded one would silently read the wrong bytes).
 */
function u64(b: Uint8Array, at: number, what: string): number {
  const lo = u32(b, at);
  const hi = u32(b, at + 4);
  if (hi >= 0x200000) {
    const signed = hi >= 0x80000000;
    throw new ImportError('rmv', `${what} is ${signed ? 'negative' : 'beyond 2^53'} (at byte ${at})`);
  }
  return hi * 2 ** 32 + lo;
}
function cString(b: Uint8Array, from: number, to: number, decoder: TextDecoder): string {
  let end = from;
  while (end < to && b[end] !== 0) end++;
  return decoder.decode(b.subarray(from, end));
}

/**
 * The file read front to back: exact reads (copied only when they span source chunks), skips, and pieces
 * handed to a consumer. Holds one source chunk at a time.
 */
class SeqReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private at = 0;
  /** File offset of the next unread byte. */
  pos = 0;
  private fetched = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly onProgress: ImportProgress | undefined,
    private readonly phase: string,
  ) {
    this.it = source.chunks()[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    for (;;) {
      const next = await this.it.next();
      if (next.done === true) return false;
      if (next.value.length === 0) continue;
      this.buf = next.value;
      this.at = 0;
      this.fetched += next.value.length;
      this.onProgress?.(this.fetched, this.source.size, this.phase);
      return true;
    }
  }

  /** Exactly n bytes, or the shorter rest of the file when it ends first. */
  async read(n: number): Promise<Uint8Array> {
    if (this.at === this.buf.length && !(await this.fill())) return new Uint8Array(0);
    if (this.buf.length - this.at >= n) {
      const out = this.buf.subarray(this.at, this.at + n);
      this.at += n;
      this.pos += n;
      return out;
    }
    const out = new Uint8Array(n);
    let got = 0;
    await this.pipe(n, (piece) => {
      out.set(piece, got);
      got += piece.length;
    });
    return got === n ? out : out.subarray(0, got);
  }

  /** Hands the next n bytes to `sink` in pieces; returns how many there were (fewer at the end of file). */
  async pipe(n: number, sink: (piece: Uint8Array) => void): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.at === this.buf.length && !(await this.fill())) break;
      const take = Math.min(left, this.buf.length - this.at);
      sink(this.buf.subarray(this.at, this.at + take));
      this.at += take;
      this.pos += take;
      left -= take;
    }
    return n - left;
  }

  /** Skips to a file offset at or after the current one; false when the file ends first. */
  async skipTo(offset: number): Promise<boolean> {
    const n = offset - this.pos;
    return (await this.pipe(n, () => undefined)) === n;
  }
}

/** One RMV segment: a memory heap as the driver reported it. */
interface Segment {
  readonly heap: number;
  readonly base: number;
  readonly size: number;
}

interface Adapter {
  readonly name: string;
  readonly deviceId: number;
  readonly familyId: number;
  readonly revisionId: number;
  readonly memoryBandwidthMBs: number;
}

interface Snapshot {
  readonly ts: number;
  readonly name: string;
}

/** Everything read from the file before the timeline is built. */
class Collected {
  readonly segments: Segment[] = [];
  adapter: Adapter | null = null;
  readonly streams: RmtTokenStream[] = [];
  readonly snapshots: Snapshot[] = [];
  readonly ignored: IgnoredCounts = {};
  readonly ignoredChunks = new Map<string, number>();
  readonly decoder = new TextDecoder('utf-8');
  version = '';

  skipChunk(what: string): void {
    this.ignoredChunks.set(what, (this.ignoredChunks.get(what) ?? 0) + 1);
  }
}

function fail(message: string): never {
  throw new ImportError('rmv', message);
}

/** RDF "GpuMemSegment" entry: {i32 heap type, 4 bytes padding, u64 base address, u64 size}. */
function readRdfSegment(c: Collected, b: Uint8Array, at: number, where: string): void {
  const heap = i32(b, at);
  const base = u64(b, at + 8, `${where}: the segment base address`);
  const size = u64(b, at + 16, `${where}: the segment size`);
  c.segments.push({ heap, base, size });
}

/** Legacy segment info chunk: {u64 base address, u64 size, i32 heap type, i32 memory index}. */
function readRmtSegment(c: Collected, b: Uint8Array, where: string): void {
  const base = u64(b, 0, `${where}: the segment base address`);
  const size = u64(b, 8, `${where}: the segment size`);
  c.segments.push({ heap: i32(b, 16), base, size });
}

function readAdapter(c: Collected, b: Uint8Array): void {
  c.adapter = {
    name: cString(b, 0, 128, c.decoder),
    familyId: u32(b, 128),
    revisionId: u32(b, 132),
    deviceId: u32(b, 136),
    memoryBandwidthMBs: u32(b, 160),
  };
}

// ---- Legacy RMT container --------------------------------------------------------------------------

async function readRmt(
  source: ByteSource,
  c: Collected,
  onProgress: ImportProgress | undefined,
): Promise<void> {
  const r = new SeqReader(source, onProgress, 'reading');
  const header = await r.read(RMT_HEADER_BYTES);
  if (header.length < RMT_HEADER_BYTES)
    fail(`the RMT file header is cut off: ${header.length} of ${RMT_HEADER_BYTES} bytes (at byte 0)`);
  if (u32(header, 0) !== RMT_MAGIC) fail('the file does not start with the RMT magic number (at byte 0)');
  c.version = `rmt-${u32(header, 4)}.${u32(header, 8)}`;
  const chunkOffset = i32(header, 16);
  if (chunkOffset < RMT_HEADER_BYTES)
    fail(
      `the first chunk offset ${chunkOffset} points inside the ${RMT_HEADER_BYTES}-byte header (at byte 16)`,
    );
  if (!(await r.skipTo(chunkOffset)))
    fail(`the first chunk offset ${chunkOffset} is past the end of the file`);
  for (;;) {
    const at = r.pos;
    const ch = await r.read(RMT_CHUNK_HEADER_BYTES);
    if (ch.length === 0) return;
    if (ch.length < RMT_CHUNK_HEADER_BYTES)
      fail(
        `the chunk header at byte ${at} is cut off (${ch.length} of ${RMT_CHUNK_HEADER_BYTES} bytes): the file is truncated`,
      );
    const type = ch[0]!;
    const minor = i16(ch, 4);
    const major = i16(ch, 6);
    const size = i32(ch, 8);
    if (size < RMT_CHUNK_HEADER_BYTES)
      fail(`the chunk at byte ${at} has size ${size}, less than its ${RMT_CHUNK_HEADER_BYTES}-byte header`);
    const payload = size - RMT_CHUNK_HEADER_BYTES;
    const end = at + size;
    const cut = (): never =>
      fail(
        `chunk ${type} at byte ${at} (${size} bytes) runs past the end of the file: the file is truncated`,
      );
    const small = (need: number): void => {
      if (payload < need)
        fail(`chunk ${type} at byte ${at} is ${payload} bytes, too small for its ${need}-byte record`);
    };
    switch (type) {
      case 3: {
        // RMT data: process and thread id, then the token stream.
        small(16);
        if ((await r.read(16)).length < 16) cut();
        if (c.streams.length >= MAX_STREAMS)
          fail(`more than ${MAX_STREAMS} RMT data streams (at byte ${at})`);
        const stream = new RmtTokenStream(c.streams.length, major, minor, c.ignored, c.decoder);
        c.streams.push(stream);
        const n = payload - 16;
        let got = 0;
        try {
          got = await r.pipe(n, (piece) => stream.feed(piece));
        } catch (error) {
          if (error instanceof RmtStreamError) fail(`RMT data chunk at byte ${at}: ${error.message}`);
          throw error;
        }
        if (got < n) cut();
        try {
          stream.end();
        } catch (error) {
          if (error instanceof RmtStreamError) fail(`RMT data chunk at byte ${at}: ${error.message}`);
          throw error;
        }
        break;
      }
      case 4: {
        small(24);
        const b = await r.read(24);
        if (b.length < 24) cut();
        readRmtSegment(c, b, `segment chunk at byte ${at}`);
        break;
      }
      case 7: {
        small(172);
        const b = await r.read(172);
        if (b.length < 172) cut();
        readAdapter(c, b);
        break;
      }
      case 6: {
        // Snapshot info: u64 time, i32 name length (the struct is padded to 16 bytes), the name.
        small(16);
        const b = await r.read(16);
        if (b.length < 16) cut();
        const ts = u64(b, 0, `snapshot chunk at byte ${at}: the snapshot time`);
        const length = Math.min(i32(b, 8), payload - 16, 128);
        if (length > 0) {
          const name = await r.read(length);
          if (name.length < length) cut();
          c.snapshots.push({ ts, name: cString(name, 0, length, c.decoder) });
        }
        break;
      }
      default:
        c.skipChunk(['ASIC info', 'API info', 'system info'][type] ?? `type ${type}`);
        break;
    }
    if (r.pos > end) fail(`chunk ${type} at byte ${at} is smaller than the record it holds`);
    if (!(await r.skipTo(end))) cut();
  }
}

// ---- RDF container ---------------------------------------------------------------------------------

interface IndexEntry {
  readonly n: number;
  readonly id: string;
  /** Position among the entries with the same identifier (RDF's chunk index). */
  readonly nth: number;
  readonly compression: number;
  readonly headerOffset: number;
  readonly headerSize: number;
  readonly dataOffset: number;
  readonly dataSize: number;
}

interface Range {
  readonly entry: IndexEntry;
  readonly part: 'header' | 'data';
  readonly offset: number;
  readonly size: number;
}

const WANTED = new Set(['GpuMemSegment', 'AdapterInfo', 'RmtData', 'RmvSnapshotData', 'RmvSnapshotIndex']);

async function readRdfIndex(
  source: ByteSource,
  c: Collected,
  onProgress: ImportProgress | undefined,
): Promise<IndexEntry[]> {
  const r = new SeqReader(source, onProgress, 'reading the chunk index');
  const header = await r.read(RDF_HEADER_BYTES);
  if (header.length < RDF_HEADER_BYTES)
    fail(`the RDF file header is cut off: ${header.length} of ${RDF_HEADER_BYTES} bytes (at byte 0)`);
  if (detectRmv(header) !== 'rdf') fail('the file does not start with the RDF magic "AMD_RDF " (at byte 0)');
  const version = u32(header, 8);
  if (version !== 3)
    fail(`RDF container version ${version} is not supported (only version 3 is) (at byte 8)`);
  c.version = `rdf-${version}`;
  const indexOffset = u64(header, 16, 'the RDF chunk index offset');
  const indexSize = u64(header, 24, 'the RDF chunk index size');
  if (indexSize % RDF_INDEX_ENTRY_BYTES !== 0)
    fail(
      `the RDF chunk index size ${indexSize} is not a multiple of ${RDF_INDEX_ENTRY_BYTES} bytes (at byte 24)`,
    );
  if (indexSize / RDF_INDEX_ENTRY_BYTES > RDF_MAX_INDEX_ENTRIES)
    fail(
      `the RDF chunk index claims ${indexSize / RDF_INDEX_ENTRY_BYTES} chunks, more than ${RDF_MAX_INDEX_ENTRIES} (at byte 24)`,
    );
  if (indexOffset < RDF_HEADER_BYTES)
    fail(`the RDF chunk index offset ${indexOffset} points into the header (at byte 16)`);
  const fileSize = source.size;
  if (fileSize !== null && indexOffset + indexSize > fileSize)
    fail(
      `the RDF chunk index (${indexSize} bytes at byte ${indexOffset}) runs past the end of the file (${fileSize} bytes): the file is truncated`,
    );
  if (!(await r.skipTo(indexOffset)))
    fail(`the RDF chunk index offset ${indexOffset} is past the end of the file: the file is truncated`);
  const index = await r.read(indexSize);
  if (index.length < indexSize)
    fail(
      `the RDF chunk index (${indexSize} bytes at byte ${indexOffset}) runs past the end of the file: the file is truncated`,
    );
  const entries: IndexEntry[] = [];
  const seen = new Map<string, number>();
  for (let n = 0; n * RDF_INDEX_ENTRY_BYTES < indexSize; n++) {
    const at = n * RDF_INDEX_ENTRY_BYTES;
    const where = `RDF index entry ${n} (at byte ${indexOffset + at})`;
    const id = cString(index, at, at + 16, c.decoder);
    const nth = seen.get(id) ?? 0;
    seen.set(id, nth + 1);
    const field = (off: number, what: string): number => {
      try {
        return u64(index, at + off, `${where}: the ${what}`);
      } catch (error) {
        if (error instanceof ImportError) fail(`${where}: the ${what} is negative or beyond 2^53`);
        throw error;
      }
    };
    const entry: IndexEntry = {
      n,
      id,
      nth,
      compression: index[at + 16]!,
      headerOffset: field(24, 'chunk header offset'),
      headerSize: field(32, 'chunk header size'),
      dataOffset: field(40, 'chunk data offset'),
      dataSize: field(48, 'chunk data size'),
    };
    for (const [off, size, what] of [
      [entry.headerOffset, entry.headerSize, 'header'],
      [entry.dataOffset, entry.dataSize, 'data'],
    ] as const) {
      if (size > 0 && (off < RDF_HEADER_BYTES || (fileSize !== null && off + size > fileSize)))
        fail(
          `${where}: the chunk's ${what} (${size} bytes at byte ${off}) lies outside the file${fileSize !== null && off + size > fileSize ? ': the file is truncated' : ''}`,
        );
    }
    entries.push(entry);
  }
  return entries;
}

async function readRdf(
  source: ByteSource,
  c: Collected,
  onProgress: ImportProgress | undefined,
): Promise<void> {
  const entries = await readRdfIndex(source, c, onProgress);
  const ranges: Range[] = [];
  for (const e of entries) {
    if (!WANTED.has(e.id)) {
      // Other tools' chunks (SystemInfo, DriverOverrides, ...): counted by name, printable characters only.
      c.skipChunk(`"${e.id.replace(/[^\x20-\x7e]/g, '?')}"`);
      continue;
    }
    if (e.compression !== 0)
      fail(
        `chunk "${e.id}" (RDF index entry ${e.n}) is ${e.compression === 1 ? 'Zstd-compressed' : `compressed (method ${e.compression})`}; compressed chunks are not supported`,
      );
    const limit = e.id === 'RmtData' ? Number.MAX_SAFE_INTEGER : MAX_METADATA_CHUNK;
    if (e.dataSize > limit || e.headerSize > MAX_METADATA_CHUNK)
      fail(
        `chunk "${e.id}" (RDF index entry ${e.n}) is ${e.dataSize + e.headerSize} bytes, more than a ${e.id} chunk can be`,
      );
    if (e.headerSize > 0)
      ranges.push({ entry: e, part: 'header', offset: e.headerOffset, size: e.headerSize });
    if (e.dataSize > 0) ranges.push({ entry: e, part: 'data', offset: e.dataOffset, size: e.dataSize });
  }
  ranges.sort((a, b) => a.offset - b.offset || (a.part === 'header' ? -1 : 1));
  const r = new SeqReader(source, onProgress, 'reading');
  // RmtData: stream index -> its stream, and each chunk's header as read.
  const streamHeaders = new Map<number, { stream: number; major: number; minor: number; total: number }>();
  const byStream = new Map<number, RmtTokenStream>();
  const lastChunkOfStream = new Map<number, number>();
  const snapshotData = new Map<number, Snapshot>();
  let snapshotIndex: number[] | null = null;
  let snapshotIndexCount = 0;
  let segmentChunks = 0;
  for (const range of ranges) {
    const e = range.entry;
    const where = `chunk "${e.id}" (RDF index entry ${e.n}) ${range.part} at byte ${range.offset}`;
    if (range.offset < r.pos) fail(`${where} overlaps the chunk before it`);
    if (!(await r.skipTo(range.offset))) fail(`${where} is past the end of the file: the file is truncated`);
    if (e.id === 'RmtData' && range.part === 'data') {
      const h = streamHeaders.get(e.n);
      if (h === undefined) fail(`${where} has no 24-byte stream header before it`);
      if (h.total === 0) {
        c.skipChunk('empty RmtData');
        continue;
      }
      let stream = byStream.get(h.stream);
      if (stream === undefined) {
        stream = new RmtTokenStream(h.stream, h.major, h.minor, c.ignored, c.decoder);
        byStream.set(h.stream, stream);
        c.streams.push(stream);
      }
      const previous = lastChunkOfStream.get(h.stream);
      if (previous !== undefined && previous > e.nth)
        fail(`${where}: the chunks of stream ${h.stream} are not in file order (not supported)`);
      lastChunkOfStream.set(h.stream, e.nth);
      const target = stream;
      let got = 0;
      try {
        got = await r.pipe(range.size, (piece) => target.feed(piece));
      } catch (error) {
        if (error instanceof RmtStreamError) fail(`RMT data stream ${h.stream}: ${error.message}`);
        throw error;
      }
      if (got < range.size) fail(`${where} runs past the end of the file: the file is truncated`);
      continue;
    }
    const b = await r.read(range.size);
    if (b.length < range.size) fail(`${where} runs past the end of the file: the file is truncated`);
    const small = (need: number): void => {
      if (b.length < need) fail(`${where} is ${b.length} bytes, too small for its ${need}-byte record`);
    };
    if (e.id === 'RmtData') {
      small(24);
      const stream = u32(b, 16);
      if (stream >= MAX_STREAMS)
        fail(`${where}: stream index ${stream} is out of range (0-${MAX_STREAMS - 1})`);
      streamHeaders.set(e.n, {
        stream,
        total: u64(b, 8, `${where}: the stream size`),
        major: u16(b, 20),
        minor: u16(b, 22),
      });
    } else if (e.id === 'GpuMemSegment' && range.part === 'data') {
      segmentChunks++;
      if (segmentChunks > 1) continue; // RMV reads only the first
      // Up to one segment per RMT heap kind (RMV reads at most kRmtHeapTypeCount = 4 entries of 24 bytes).
      for (let at = 0; at + 24 <= b.length && at < 4 * 24; at += 24) readRdfSegment(c, b, at, where);
    } else if (e.id === 'AdapterInfo' && range.part === 'data') {
      small(172);
      readAdapter(c, b);
    } else if (e.id === 'RmvSnapshotData' && range.part === 'data') {
      small(144);
      const length = Math.min(u32(b, 136), 128);
      const ts = u64(b, 128, `${where}: the snapshot time`);
      if (length > 0) snapshotData.set(e.nth, { ts, name: cString(b, 0, length, c.decoder) });
    } else if (e.id === 'RmvSnapshotIndex') {
      if (range.part === 'header') {
        small(2);
        snapshotIndexCount = u16(b, 0);
      } else {
        // The last index chunk is the one that counts.
        snapshotIndex = [];
        for (let i = 0; i < snapshotIndexCount && 2 * i + 2 <= b.length; i++)
          snapshotIndex.push(u16(b, 2 * i));
      }
    }
  }
  for (const stream of c.streams) {
    try {
      stream.end();
    } catch (error) {
      if (error instanceof RmtStreamError) fail(`RMT data stream ${stream.index}: ${error.message}`);
      throw error;
    }
  }
  if (snapshotIndex !== null) {
    for (const nth of snapshotIndex) {
      const s = nth === 0xffff ? undefined : snapshotData.get(nth);
      if (s !== undefined) c.snapshots.push(s);
    }
  } else c.snapshots.push(...snapshotData.values());
}

// ---- The timeline ----------------------------------------------------------------------------------

/** Memory types: one per RMT heap kind, index = RmtHeap value. */
const TYPE_NAMES = [
  'local (CPU-visible VRAM)',
  'invisible (VRAM)',
  'system (host memory)',
  'no heap preference',
];
const HEAP_NAMES = ['local', 'invisible', 'system'];

interface LiveBlock {
  readonly id: number;
  readonly base: number;
  readonly size: number;
  readonly type: number;
  /** Allocation ids bound inside. */
  readonly bound: Set<number>;
}

interface Resource {
  readonly type: number;
  readonly commit: number;
  /** Live allocation of the current bind, if bound. */
  allocation: number | null;
  block: LiveBlock | null;
}

const RESOURCE_TYPE_NAMES = [
  'image',
  'buffer',
  'GPU event',
  'border colour palette',
  'indirect command generator',
  'motion estimator',
  'perf experiment',
  'query heap',
  'video decoder',
  'video encoder',
  'timestamp',
  'heap',
  'pipeline',
  'descriptor heap',
  'descriptor pool',
  'command allocator',
  'misc internal',
  'work graph',
];
const COMMIT_NAMES = ['committed', 'placed', 'virtual', 'reserved'];

/**
 * Live virtual allocations sorted by base address, for "which allocation holds this address": a list of
 * sorted buckets of at most BUCKET blocks (square-root decomposition), so adding, removing and finding
 * cost O(log n + BUCKET) however many allocations are live (a plain sorted array costs O(n) per insert).
 */
class AddressMap {
  private static readonly BUCKET = 256;
  private readonly buckets: LiveBlock[][] = [];

  /** Index of the last bucket whose first base is <= address; 0 when none is (or no bucket exists). */
  private bucketFor(address: number): number {
    let lo = 0;
    let hi = this.buckets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.buckets[mid]![0]!.base <= address) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Position in `bucket` of the first block whose base is >= address. */
  private static lowerBound(bucket: readonly LiveBlock[], address: number): number {
    let lo = 0;
    let hi = bucket.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bucket[mid]!.base < address) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The live block whose range holds `address`, if any. */
  find(address: number): LiveBlock | undefined {
    const bucket = this.buckets[this.bucketFor(address)];
    if (bucket === undefined) return undefined;
    const i = AddressMap.lowerBound(bucket, address + 1) - 1;
    const b = i >= 0 ? bucket[i] : undefined;
    return b !== undefined && address < b.base + b.size ? b : undefined;
  }

  /** Adds a block (the caller has removed any block at the same base address). */
  add(block: LiveBlock): void {
    if (this.buckets.length === 0) {
      this.buckets.push([block]);
      return;
    }
    const bi = this.bucketFor(block.base);
    const bucket = this.buckets[bi]!;
    bucket.splice(AddressMap.lowerBound(bucket, block.base), 0, block);
    if (bucket.length > 2 * AddressMap.BUCKET)
      this.buckets.splice(bi + 1, 0, bucket.splice(AddressMap.BUCKET));
  }

  remove(block: LiveBlock): void {
    const bi = this.bucketFor(block.base);
    const bucket = this.buckets[bi];
    if (bucket === undefined) return;
    const i = AddressMap.lowerBound(bucket, block.base);
    if (bucket[i] !== block) return;
    bucket.splice(i, 1);
    if (bucket.length === 0) this.buckets.splice(bi, 1);
  }

  *all(): IterableIterator<LiveBlock> {
    for (const bucket of this.buckets) yield* bucket;
  }
}

/** Merges the streams' records by time (ties: stream order, then record order), as RMV's token heap does. */
function* mergeRecords(streams: readonly RmtTokenStream[]): Generator<RmtRecord> {
  const stores = streams.map((s) => s.records).filter((l) => l.length > 0);
  const pos = stores.map(() => 0);
  for (;;) {
    let best = -1;
    let bestTs = Infinity;
    for (let i = 0; i < stores.length; i++) {
      const store = stores[i]!;
      const at = pos[i]!;
      if (at < store.length && store.tsAt(at) < bestTs) {
        best = i;
        bestTs = store.tsAt(at);
      }
    }
    if (best < 0) return;
    yield stores[best]!.get(pos[best]!);
    pos[best]!++;
  }
}

function buildTimeline(
  c: Collected,
  warnings: Warnings,
  found: string[],
): { log: EventLog; totals: ImportTotals; perType: ImportTotals[]; peak: number[] } {
  const starts = c.streams.map((s) => s.start).filter((s): s is number => s !== null);
  const origin = starts.length > 0 ? Math.min(...starts) : 0;
  const frequency = c.streams.find((s) => s.frequency > 0)?.frequency ?? 0;
  if (frequency === 0 && c.streams.length > 0)
    warnings.add(
      'clock',
      'The trace records no CPU clock frequency: times are shown as if the clock ran at 1 GHz',
    );
  const ticksPerMs = (frequency > 0 ? frequency : 1e9) / 1000;
  let now = 0;
  const setTime = (ts: number): void => {
    // Times only move forward in the log (a stream's clock may step back when streams interleave).
    now = Math.max(now, Math.max(0, ts - origin) / ticksPerMs);
  };
  const records = mergeRecords(c.streams);
  const recordCount = c.streams.reduce((n, s) => n + s.records.length, 0);
  const snapshots = [...c.snapshots].sort((a, b) => a.ts - b.ts);
  const log = new EventLog({ clock: () => now, initialCapacity: recordCount + snapshots.length + 64 });
  const blocks = new AddressMap();
  const resources = new Map<number, Resource>();
  /** Allocation id -> size and type, live ones only. */
  const allocations = new Map<number, { size: number; type: number; block: LiveBlock; resource: number }>();
  const names = new Map<number, string>();
  /** DX12: resource id -> correlation id (names refer to the correlation id), and back. */
  const correlationOf = new Map<number, number>();
  const resourceOfCorrelation = new Map<number, number>();
  const typesUsed = new Set<number>();
  const peak = [0, 0, 0, 0];
  const committed = [0, 0, 0, 0];
  let nextBlock = 1;
  let nextAllocation = 1;
  const counts = {
    heapBinds: 0,
    emptyBinds: 0,
    unknownBinds: 0,
    externalBlocks: 0,
    clipped: 0,
    unknownFrees: 0,
    unknownDestroys: 0,
    rebinds: 0,
    duplicateBases: 0,
    orphaned: 0,
  };

  const createBlock = (base: number, size: number, type: number): LiveBlock => {
    const block: LiveBlock = { id: nextBlock++, base, size, type, bound: new Set() };
    log.blockCreate({ blockId: block.id, memoryTypeIndex: type, size, dedicated: false });
    typesUsed.add(type);
    committed[type] = committed[type]! + size;
    peak[type] = Math.max(peak[type]!, committed[type]!);
    return block;
  };
  const freeAllocation = (id: number): void => {
    const a = allocations.get(id);
    if (a === undefined) return;
    allocations.delete(id);
    a.block.bound.delete(id);
    const res = resources.get(a.resource);
    if (res !== undefined && res.allocation === id) {
      res.allocation = null;
      res.block = null;
    }
    log.free(id);
  };
  const destroyBlock = (block: LiveBlock): void => {
    for (const id of [...block.bound]) {
      freeAllocation(id);
      counts.orphaned++;
    }
    blocks.remove(block);
    committed[block.type] = committed[block.type]! - block.size;
    log.blockDestroy(block.id);
  };
  const nameOf = (resourceId: number): string =>
    names.get(resourceId) ?? names.get(correlationOf.get(resourceId) ?? -1) ?? '';

  let snap = 0;
  const flushSnapshots = (upTo: number): void => {
    while (snap < snapshots.length && snapshots[snap]!.ts <= upTo) {
      const s = snapshots[snap++]!;
      setTime(s.ts);
      log.mark(`snapshot: ${s.name}`);
    }
  };
  for (const rec of records) {
    flushSnapshots(rec.ts);
    setTime(rec.ts);
    switch (rec.kind) {
      case 'va': {
        const existing = blocks.find(rec.address);
        if (existing !== undefined && existing.base === rec.address) {
          // A second allocation at a live base address: the first was freed without a token (RMV replaces it too).
          counts.duplicateBases++;
          destroyBlock(existing);
        }
        blocks.add(createBlock(rec.address, rec.size, rec.heap));
        break;
      }
      case 'vf': {
        const block = blocks.find(rec.address);
        if (block === undefined || block.base !== rec.address) counts.unknownFrees++;
        else destroyBlock(block);
        break;
      }
      case 'create': {
        const old = resources.get(rec.id);
        if (old?.allocation != null) freeAllocation(old.allocation);
        resources.set(rec.id, { type: rec.type, commit: rec.commit, allocation: null, block: null });
        break;
      }
      case 'bind': {
        const res = resources.get(rec.id);
        if (res === undefined) {
          counts.unknownBinds++;
          break;
        }
        if (res.type === RMT_RESOURCE_TYPE_HEAP) {
          // A heap resource is the container (the virtual allocation itself), not something placed in it.
          counts.heapBinds++;
          break;
        }
        if (res.allocation !== null) {
          counts.rebinds++;
          freeAllocation(res.allocation);
        }
        if (rec.size === 0 || (rec.system && rec.address === 0)) {
          counts.emptyBinds++;
          break;
        }
        let block = blocks.find(rec.address);
        if (block === undefined) {
          // Memory shared from another process: no virtual allocation token in this trace. RMV adds a
          // stand-in allocation of the bound size; so does the import (a block of its own, in VRAM).
          counts.externalBlocks++;
          block = createBlock(rec.address, rec.size, RmtHeap.Invisible);
          blocks.add(block);
        }
        const offset = rec.address - block.base;
        let size = rec.size;
        if (offset + size > block.size) {
          counts.clipped++;
          size = block.size - offset;
        }
        const id = nextAllocation++;
        const kind = res.type === 0 ? AllocationKind.NonLinear : AllocationKind.Linear;
        // The origin (stack column) groups like resources, so leak reports group by it: type and commit
        // type only. The driver's resource id goes into the name of an allocation the trace leaves unnamed.
        const origin = `${RESOURCE_TYPE_NAMES[res.type] ?? `resource type ${res.type}`} (${COMMIT_NAMES[res.commit] ?? 'commit type ?'})`;
        log.allocate({
          allocationId: id,
          blockId: block.id,
          memoryTypeIndex: block.type,
          offset,
          size,
          alignment: 0,
          kind,
          location: 'Unknown',
          name: nameOf(rec.id) || `resource ${rec.id}`,
          decisionId: -1,
          usedRetry: false,
          stack: origin,
        });
        allocations.set(id, { size, type: block.type, block, resource: rec.id });
        block.bound.add(id);
        res.allocation = id;
        res.block = block;
        break;
      }
      case 'destroy': {
        const res = resources.get(rec.id);
        if (res === undefined) {
          counts.unknownDestroys++;
          break;
        }
        if (res.allocation !== null) freeAllocation(res.allocation);
        resources.delete(rec.id);
        break;
      }
      case 'snapshot':
        log.mark(`snapshot: ${rec.name}`);
        break;
      case 'name': {
        names.set(rec.id, rec.name);
        // A name arriving after the bind renames the live allocation.
        const named = resources.get(resourceOfCorrelation.get(rec.id) ?? rec.id);
        if (named?.allocation != null) log.rename(named.allocation, rec.name);
        break;
      }
      case 'correlation':
        correlationOf.set(rec.resource, rec.correlation);
        resourceOfCorrelation.set(rec.correlation, rec.resource);
        break;
    }
  }
  flushSnapshots(Infinity);

  const totals = emptyTotals();
  const perType: ImportTotals[] = [0, 1, 2, 3].map(() => emptyTotals());
  for (const b of blocks.all()) {
    totals.blocks++;
    totals.blockBytes += b.size;
    perType[b.type]!.blocks++;
    perType[b.type]!.blockBytes += b.size;
  }
  for (const a of allocations.values()) {
    totals.allocations++;
    totals.allocatedBytes += a.size;
    perType[a.type]!.allocations++;
    perType[a.type]!.allocatedBytes += a.size;
  }
  if (counts.unknownFrees > 0)
    found.push(
      `  ${counts.unknownFrees} virtual frees of allocations made before the trace started (nothing to free)`,
    );
  if (counts.externalBlocks > 0)
    found.push(
      `  ${counts.externalBlocks} resources bound outside every virtual allocation of the trace (memory shared from another process) became blocks of their own`,
    );
  if (counts.heapBinds > 0)
    found.push(
      `  ${counts.heapBinds} heap-resource binds (the virtual allocation itself, not an allocation in it)`,
    );
  if (counts.rebinds > 0) found.push(`  ${counts.rebinds} resources bound again (the earlier bind is freed)`);
  if (counts.emptyBinds > 0)
    found.push(`  ${counts.emptyBinds} binds of 0 bytes or to no memory, not imported`);
  if (counts.orphaned > 0)
    found.push(
      `  ${counts.orphaned} resources still bound when their virtual allocation was freed (freed with it)`,
    );
  if (counts.unknownBinds > 0)
    warnings.add(
      'unknown-bind',
      `${counts.unknownBinds} resource binds name a resource the trace never created; they are not imported`,
    );
  if (counts.unknownDestroys > 0)
    found.push(`  ${counts.unknownDestroys} resource destroys of resources created before the trace started`);
  if (counts.clipped > 0)
    warnings.add(
      'clipped',
      `${counts.clipped} resource binds run past the end of their virtual allocation; they are cut at its end`,
    );
  if (counts.duplicateBases > 0)
    warnings.add(
      'duplicate-base',
      `${counts.duplicateBases} virtual allocations reuse the base address of a live one; the older is taken as freed`,
    );
  return { log, totals, perType, peak };
}

/** Imports a Radeon Memory Visualizer trace (legacy RMT or RDF container) from a byte source. */
export async function importRmv(
  source: ByteSource,
  options: { onProgress?: ImportProgress; partial?: boolean } = {},
): Promise<ImportResult> {
  const head = await source.head(8);
  const container = detectRmv(head);
  if (container === null)
    fail('the file starts with neither the RMT magic "MINI" nor the RDF magic "AMD_RDF " (at byte 0)');
  const c = new Collected();
  const warnings = new Warnings();
  try {
    if (container === 'rmt') await readRmt(source, c, options.onProgress);
    else await readRdf(source, c, options.onProgress);
  } catch (error) {
    if (!options.partial || !(error instanceof ImportError) || c.version === '') throw error;
    warnings.add('partial', `Reading stopped early (${error.message}); imported what came before`);
  }
  const found: string[] = [];
  const { log, totals, perType, peak } = buildTimeline(c, warnings, found);
  const tokens = c.streams.reduce((n, s) => n + s.tokens, 0);

  // Heaps: the segments RMV reports (local = CPU-visible VRAM, invisible = the rest of VRAM, system =
  // host memory the GPU can reach), one per RMT heap kind 0-2; a kind without a segment gets the most
  // the trace had committed in it, as it records no size.
  const segmentSize = [0, 0, 0];
  for (const s of c.segments) if (s.heap >= 0 && s.heap < 3) segmentSize[s.heap]! += s.size;
  const heaps: MemoryHeap[] = [0, 1, 2].map((index) => ({
    index,
    size: segmentSize[index]! > 0 ? segmentSize[index]! : Math.max(peak[index]!, index === 1 ? peak[3]! : 0),
    flags: index === 2 ? 0 : MemoryHeapFlags.DEVICE_LOCAL,
  }));
  const { DEVICE_LOCAL, HOST_VISIBLE, HOST_COHERENT } = MemoryPropertyFlags;
  // No heap preference: the driver places it; described as VRAM (the invisible heap), where RMV's own
  // fallback for allocations it cannot place (shared memory) puts it too.
  const types: MemoryType[] = [
    { index: 0, propertyFlags: DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT, heapIndex: 0, heapKind: 'local' },
    { index: 1, propertyFlags: DEVICE_LOCAL, heapIndex: 1, heapKind: 'invisible' },
    { index: 2, propertyFlags: HOST_VISIBLE | HOST_COHERENT, heapIndex: 2, heapKind: 'system' },
    { index: 3, propertyFlags: DEVICE_LOCAL, heapIndex: 1, heapKind: 'none' },
  ];
  const adapter = c.adapter;
  // RMV traces of either API are described in Vulkan's terms, as the driver's heaps are the same underneath.
  const device = vulkanTermsDevice({
    name: adapter !== null && adapter.name !== '' ? adapter.name : 'AMD GPU (RMV trace)',
    vendorId: 0x1002,
    deviceId: adapter?.deviceId ?? 0,
    heaps,
    types,
    source: `import:rmv:${source.name}`,
  });
  const containerText = container === 'rmt' ? 'legacy RMT file' : 'RDF file';
  found.unshift(
    `Radeon Memory Visualizer trace (${containerText}): ${adapter?.name || 'adapter not recorded'}, ${c.streams.length} RMT data stream${c.streams.length === 1 ? '' : 's'}, ${tokens} tokens, ${c.snapshots.length} snapshots`,
    ...c.segments.map(
      (s) =>
        `  segment ${HEAP_NAMES[s.heap] ?? `heap type ${s.heap}`}: ${s.size} bytes at 0x${s.base.toString(16)}`,
    ),
  );
  const ignored = Object.entries(c.ignored);
  if (ignored.length > 0)
    found.push(`  not imported: ${ignored.map(([what, n]) => `${n} ${what}`).join(', ')}`);
  if (c.ignoredChunks.size > 0)
    found.push(`  chunks not read: ${[...c.ignoredChunks].map(([what, n]) => `${n} ${what}`).join(', ')}`);
  for (const [t, totalsOfType] of perType.entries())
    if (totalsOfType.blocks > 0)
      found.push(
        `  ${TYPE_NAMES[t]}: ${totalsOfType.blocks} virtual allocations (${totalsOfType.blockBytes} bytes), ${totalsOfType.allocations} bound resources (${totalsOfType.allocatedBytes} bytes)`,
      );
  return {
    header: {
      device,
      allocator: {
        imported: true,
        allocator: 'AMD driver (Radeon Memory Visualizer trace)',
        settings: {
          container: containerText,
          ...(adapter !== null
            ? {
                pcieFamilyId: String(adapter.familyId),
                pcieRevisionId: String(adapter.revisionId),
                memoryBandwidthMBs: String(adapter.memoryBandwidthMBs),
              }
            : {}),
        },
      },
      importedFrom: { format: 'rmv', version: c.version, file: source.name },
    },
    log,
    totals,
    perType,
    sourceEvents: tokens,
    warnings: warnings.list(),
    found,
  };
}
