// Writes Radeon Memory Visualizer traces for the importer tests, from a description: RMT token streams
// laid out bit for bit as AMD documents them (GPUOpen-Tools/radeon_memory_visualizer source/parser:
// rmt_parser.cpp token sizes and bit ranges, rmt_file_format.h chunk layouts; GPUOpen-Drivers/libamdrdf
// docs/specification.md for the RDF container), in either container: a legacy RMT file or an RDF file.
// Independent of the importer: it shares no code with allocator/import/rmv*.ts.

/** One thing a stream records. Times advance by `dt` RMT clock quanta (32 CPU ticks each) before it. */
export type RmvOp = { readonly dt?: number } & (
  | {
      readonly op: 'va';
      readonly address: number;
      readonly pages: number;
      readonly heap: 0 | 1 | 2 | 3;
      readonly owner?: number;
    }
  | { readonly op: 'vf'; readonly address: number }
  | {
      readonly op: 'create';
      readonly id: number;
      readonly type: number;
      readonly commit?: number;
      readonly poolSizes?: number;
    }
  | {
      readonly op: 'bind';
      readonly id: number;
      readonly address: number;
      readonly size: number;
      readonly system?: boolean;
    }
  | { readonly op: 'destroy'; readonly id: number }
  | { readonly op: 'snapshot'; readonly name: string }
  | { readonly op: 'name'; readonly id: number; readonly name: string }
  | { readonly op: 'pageTable' }
  | { readonly op: 'residency' }
  | { readonly op: 'cpuMap' }
  | { readonly op: 'misc' }
  | { readonly op: 'pageReference' }
  | { readonly op: 'raw'; readonly bytes: readonly number[] }
);

export interface RmvStream {
  /** RMT spec version of the stream's tokens (the image payload and heap preferences depend on it). */
  readonly major?: number;
  readonly minor?: number;
  /** First timestamp, in RMT clock quanta (units of 32 CPU ticks). */
  readonly start?: number;
  /** CPU clock frequency, Hz. */
  readonly frequency?: number;
  readonly ops: readonly RmvOp[];
}

export interface RmvDescription {
  readonly adapter?: string;
  /** Segments: heap 0 local, 1 invisible, 2 system. */
  readonly segments?: readonly { readonly heap: number; readonly base: number; readonly size: number }[];
  readonly streams: readonly RmvStream[];
  /** Snapshot chunks: time in RMT clock units (CPU ticks, already multiplied by 32). */
  readonly snapshots?: readonly { readonly ts: number; readonly name: string }[];
}

/** Sets bits lo..hi (inclusive) of a little-endian bit string, from a value below 2^53. */
function setBits(buf: Uint8Array, lo: number, hi: number, value: number): void {
  let v = value;
  for (let bit = lo; bit <= hi; bit++) {
    if (v % 2 === 1) buf[bit >> 3]! |= 1 << (bit & 7);
    v = Math.floor(v / 2);
  }
}

function putU32(buf: Uint8Array, at: number, v: number): void {
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setUint32(at, v, true);
}
function putU64(buf: Uint8Array, at: number, v: number): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(at, v % 2 ** 32, true);
  dv.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
}

/** Bytes of a resource description payload by resource type (rmt_parser.cpp's *_RESOURCE_TOKEN_SIZE). */
function payloadBytes(type: number, version: number, poolSizes: number): number {
  const sizes: Record<number, number> = {
    1: 11,
    2: 1,
    3: 1,
    6: 12,
    7: 1,
    8: 4,
    9: 6,
    11: 10,
    12: 19,
    13: 4,
    15: 44,
    16: 1,
    17: 17,
  };
  if (type === 0) return version >= 16 ? 39 : 38;
  if (type === 14) return 3 + 4 * poolSizes;
  return sizes[type] ?? 0;
}

/** A token with type `type`, `size` bytes, the time-delta nibble set where the token carries one. */
function token(type: number, size: number, delta: number): Uint8Array {
  const t = new Uint8Array(size);
  t[0] = type | (delta << 4);
  return t;
}

/** Encodes one stream's tokens. */
export function encodeStream(stream: RmvStream): Uint8Array {
  const version = (stream.major ?? 1) * 10 + (stream.minor ?? 0);
  const out: Uint8Array[] = [];
  // Timestamp token: bits 4..63 hold the time in quanta (RMV computes (word >> 4) * 32), then the frequency.
  const ts = new Uint8Array(12);
  setBits(ts, 4, 63, stream.start ?? 1000); // (word >> 4) = the time in quanta
  putU32(ts, 8, stream.frequency ?? 1_000_000);
  out.push(ts);
  for (const op of stream.ops) {
    let dt = op.dt ?? 0;
    // ResourceDestroy, PageReference (and raw bytes) carry no delta nibble: a TimeDelta token goes first.
    const carriesDelta = !['pageReference', 'destroy', 'raw'].includes(op.op);
    if (!carriesDelta || dt > 15) {
      // A TimeDelta token: byte 0 = type 14 | (byte count << 4), then the delta in quanta, little-endian.
      const bytes: number[] = [];
      for (let v = dt; v > 0; v = Math.floor(v / 256)) bytes.push(v % 256);
      const t = new Uint8Array(1 + bytes.length);
      t[0] = 14 | (bytes.length << 4);
      t.set(bytes, 1);
      if (dt > 0) out.push(t);
      dt = 0;
    }
    switch (op.op) {
      case 'va': {
        const t = token(12, 12, dt);
        setBits(t, 8, 31, op.pages - 1);
        setBits(t, 32, 33, op.owner ?? 0);
        setBits(t, 34, 81, op.address);
        setBits(t, 82, 83, op.heap);
        setBits(t, 84, 85, op.heap);
        setBits(t, 86, 87, op.heap);
        setBits(t, 88, 89, op.heap);
        if (version >= 16) setBits(t, 90, 92, op.heap === 3 ? 0 : 1); // heap importance count
        out.push(t);
        break;
      }
      case 'vf': {
        const t = token(11, 7, dt);
        setBits(t, 8, 55, op.address);
        out.push(t);
        break;
      }
      case 'create': {
        const payload = payloadBytes(op.type, version, op.poolSizes ?? 0);
        const t = token(13, 7 + payload, dt);
        setBits(t, 8, 39, op.id);
        setBits(t, 46, 47, op.commit ?? 0);
        setBits(t, 48, 53, op.type);
        if (op.type === 14) t[7 + 2] = op.poolSizes ?? 0;
        out.push(t);
        break;
      }
      case 'bind': {
        const t = token(7, 17, dt);
        setBits(t, 8, 55, op.address);
        setBits(t, 56, 99, op.size);
        setBits(t, 100, 100, op.system === true ? 1 : 0);
        setBits(t, 104, 135, op.id);
        out.push(t);
        break;
      }
      case 'destroy': {
        const t = token(15, 5, 0);
        setBits(t, 8, 39, op.id);
        out.push(t);
        break;
      }
      case 'snapshot':
      case 'name': {
        const text = new TextEncoder().encode(op.name);
        const extra = op.op === 'name' ? 5 : 1; // NUL, and for a name the 32-bit id
        const t = token(4, 4 + text.length + extra, dt);
        setBits(t, 8, 11, op.op === 'name' ? 0 : 1);
        setBits(t, 12, 31, text.length + extra);
        t.set(text, 4);
        if (op.op === 'name') putU32(t, 4 + text.length + 1, op.id);
        out.push(t);
        break;
      }
      case 'pageTable':
        out.push(token(3, 18, dt));
        break;
      case 'residency':
        out.push(token(6, 8, dt));
        break;
      case 'cpuMap':
        out.push(token(10, 8, dt));
        break;
      case 'misc':
        out.push(token(5, 2, dt));
        break;
      case 'pageReference':
        out.push(token(9, 10, 0));
        break;
      case 'raw':
        out.push(new Uint8Array(op.bytes));
        break;
    }
  }
  return concat(out);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function adapterRecord(name: string): Uint8Array {
  const b = new Uint8Array(172);
  b.set(new TextEncoder().encode(name).subarray(0, 127), 0);
  putU32(b, 136, 0x73ff); // device id
  return b;
}

/** Pre-encoded stream bytes (e.g. taken from a real trace) or a description to encode. */
export type StreamBytes = { readonly bytes: Uint8Array; readonly major: number; readonly minor: number };

function streamBytes(d: RmvDescription, raw?: readonly StreamBytes[]): StreamBytes[] {
  return (
    raw?.slice() ??
    d.streams.map((s) => ({ bytes: encodeStream(s), major: s.major ?? 1, minor: s.minor ?? 0 }))
  );
}

/** A legacy RMT file: 56-byte header, then chunks with 16-byte headers (size includes the header). */
export function rmtFile(d: RmvDescription, raw?: readonly StreamBytes[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const chunk = (type: number, index: number, major: number, minor: number, payload: Uint8Array): void => {
    const h = new Uint8Array(16);
    putU32(h, 0, type | (index << 8));
    new DataView(h.buffer).setInt16(4, minor, true);
    new DataView(h.buffer).setInt16(6, major, true);
    putU32(h, 8, 16 + payload.length);
    chunks.push(h, payload);
  };
  for (const s of d.segments ?? []) {
    const p = new Uint8Array(24);
    putU64(p, 0, s.base);
    putU64(p, 8, s.size);
    putU32(p, 16, s.heap);
    chunk(4, 0, 1, 0, p);
  }
  if (d.adapter !== undefined) chunk(7, 0, 1, 0, adapterRecord(d.adapter));
  streamBytes(d, raw).forEach((s, i) => {
    const p = new Uint8Array(16 + s.bytes.length);
    putU64(p, 0, 1234); // process id
    putU64(p, 8, 5678 + i); // thread id
    p.set(s.bytes, 16);
    chunk(3, i, s.major, s.minor, p);
  });
  for (const snap of d.snapshots ?? []) {
    const name = new TextEncoder().encode(snap.name);
    const p = new Uint8Array(16 + name.length);
    putU64(p, 0, snap.ts);
    putU32(p, 8, name.length);
    p.set(name, 16);
    chunk(6, 0, 1, 0, p);
  }
  const header = new Uint8Array(56);
  putU32(header, 0, 0x494e494d);
  putU32(header, 4, 1);
  putU32(header, 16, 56);
  return concat([header, ...chunks]);
}

/**
 * An RDF file: 32-byte header, chunks, then the index (64 bytes per entry). Each stream is split into
 * RmtData chunks of at most `chunkBytes` bytes (cutting tokens in two, as RDF writers do); with
 * `interleave` the streams' chunks alternate in the file.
 */
export function rdfFile(
  d: RmvDescription,
  options: { chunkBytes?: number; interleave?: boolean; raw?: readonly StreamBytes[] } = {},
): Uint8Array {
  const body: Uint8Array[] = [];
  let at = 32;
  const index: Uint8Array[] = [];
  const add = (id: string, header: Uint8Array, data: Uint8Array): void => {
    const e = new Uint8Array(64);
    e.set(new TextEncoder().encode(id).subarray(0, 16), 0);
    putU32(e, 20, 1);
    putU64(e, 24, at);
    putU64(e, 32, header.length);
    putU64(e, 40, at + header.length);
    putU64(e, 48, data.length);
    index.push(e);
    body.push(header, data);
    at += header.length + data.length;
  };
  const none = new Uint8Array(0);
  if (d.segments !== undefined) {
    const p = new Uint8Array(24 * d.segments.length);
    d.segments.forEach((s, i) => {
      putU32(p, 24 * i, s.heap);
      putU64(p, 24 * i + 8, s.base);
      putU64(p, 24 * i + 16, s.size);
    });
    add('GpuMemSegment', none, p);
  }
  if (d.adapter !== undefined) add('AdapterInfo', none, adapterRecord(d.adapter));
  add('SystemInfo', none, new TextEncoder().encode('{"note":"not read by the importer"}'));
  const limit = options.chunkBytes ?? 1 << 20;
  const pieces = streamBytes(d, options.raw).map((s, i) => {
    const list: { header: Uint8Array; data: Uint8Array }[] = [];
    for (let from = 0; from < s.bytes.length; from += limit) {
      const h = new Uint8Array(24);
      putU32(h, 0, 1234);
      putU32(h, 4, 5678 + i);
      putU64(h, 8, s.bytes.length);
      putU32(h, 16, i);
      new DataView(h.buffer).setUint16(20, s.major, true);
      new DataView(h.buffer).setUint16(22, s.minor, true);
      list.push({ header: h, data: s.bytes.subarray(from, Math.min(s.bytes.length, from + limit)) });
    }
    return list;
  });
  if (options.interleave === true) {
    for (let k = 0; pieces.some((l) => k < l.length); k++)
      for (const l of pieces) if (k < l.length) add('RmtData', l[k]!.header, l[k]!.data);
  } else for (const l of pieces) for (const p of l) add('RmtData', p.header, p.data);
  for (const snap of d.snapshots ?? []) {
    const p = new Uint8Array(144);
    p.set(new TextEncoder().encode(snap.name).subarray(0, 127), 0);
    putU64(p, 128, snap.ts);
    putU32(p, 136, Math.min(127, new TextEncoder().encode(snap.name).length));
    putU32(p, 140, 1);
    add('RmvSnapshotData', none, p);
  }
  const header = new Uint8Array(32);
  header.set(new TextEncoder().encode('AMD_RDF '), 0);
  putU32(header, 8, 3);
  putU64(header, 16, at);
  putU64(header, 24, 64 * index.length);
  return concat([header, ...body, ...index]);
}

/** The token streams of a legacy RMT file, as raw bytes with their versions (to wrap them again). */
export function rmtStreams(file: Uint8Array): StreamBytes[] {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: StreamBytes[] = [];
  for (let at = dv.getInt32(16, true); at + 16 <= file.length;) {
    const size = dv.getInt32(at + 8, true);
    if ((dv.getUint32(at, true) & 0xff) === 3)
      out.push({
        bytes: file.subarray(at + 32, at + size),
        minor: dv.getInt16(at + 4, true),
        major: dv.getInt16(at + 6, true),
      });
    at += size;
  }
  return out;
}

/** The token streams of an RDF file (RmtData chunks concatenated per stream index, in index order). */
export function rdfStreams(file: Uint8Array): StreamBytes[] {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = (at: number): number => dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
  const indexAt = n(16);
  const streams = new Map<number, { parts: Uint8Array[]; major: number; minor: number }>();
  for (let e = indexAt; e + 64 <= indexAt + n(24); e += 64) {
    const id = new TextDecoder().decode(file.subarray(e, e + 16)).replace(/\0+$/, '');
    if (id !== 'RmtData') continue;
    const h = n(e + 24);
    const s = dv.getUint32(h + 16, true);
    const entry = streams.get(s) ?? {
      parts: [],
      major: dv.getUint16(h + 20, true),
      minor: dv.getUint16(h + 22, true),
    };
    entry.parts.push(file.subarray(n(e + 40), n(e + 40) + n(e + 48)));
    streams.set(s, entry);
  }
  return [...streams.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, s]) => ({ bytes: concat(s.parts), major: s.major, minor: s.minor }));
}
