// A small writer of capture streams that follows docs/capture.md ("Stream format") byte by byte, for tests
// of the TypeScript decoder without the layer: 32-byte stream header, records of a 24-byte header plus the
// kind's fields (naturally aligned, in the order of the format's field lists), strings as u32 length +
// UTF-8 padded to 4 bytes, u64 pcs for Stack, each record padded to a multiple of 8.
import { recordSpecs, type RecordName } from '../../allocator/capture/index.ts';

type Value = number | bigint;
export type FieldValues = Readonly<Record<string, Value | readonly Value[]>>;

export interface RecordOptions {
  readonly thread?: number;
  /** Default: the next number of the writer's own counter. */
  readonly sequence?: number;
  /** Default: start + 1 ms per record. */
  readonly timeNs?: bigint;
  readonly flags?: number;
  readonly strings?: readonly string[];
  readonly pcs?: readonly bigint[];
}

const sizes = { u16: 2, u32: 4, i32: 4, u64: 8, f32: 4 } as const;
const utf8 = new TextEncoder();

export class CaptureStreamWriter {
  private readonly parts: Uint8Array[] = [];
  private sequence = 0;
  readonly startNs: bigint;
  private records = 0;

  constructor(options: { pid?: number; startNs?: bigint; magic?: Uint8Array; version?: number } = {}) {
    this.startNs = options.startNs ?? 1_000_000_000n;
    const h = new Uint8Array(32);
    const dv = new DataView(h.buffer);
    h.set(options.magic ?? new Uint8Array([0x56, 0x52, 0x53, 0x43, 0x41, 0x50, 0x00, 0x01]));
    dv.setUint32(8, options.version ?? 1, true);
    dv.setUint32(12, 32, true);
    dv.setUint32(16, options.pid ?? 4242, true);
    dv.setBigUint64(24, this.startNs, true);
    this.parts.push(h);
  }

  /** Appends one record; fields not given are 0. Returns the sequence it used. */
  record(name: RecordName, fields: FieldValues = {}, options: RecordOptions = {}): number {
    const spec = recordSpecs[name];
    const out = new Uint8Array(1 << 16);
    const dv = new DataView(out.buffer);
    let p = 24;
    for (const [field, type, count] of spec.fields) {
      const given = fields[field];
      for (let k = 0; k < (count ?? 1); k++) {
        const v = Array.isArray(given) ? (given as readonly Value[])[k] : k === 0 ? (given as Value) : 0;
        const value = v ?? 0;
        switch (type) {
          case 'u32':
            dv.setUint32(p, Number(value), true);
            break;
          case 'i32':
            dv.setInt32(p, Number(value), true);
            break;
          case 'f32':
            dv.setFloat32(p, Number(value), true);
            break;
          case 'u64':
            dv.setBigUint64(p, BigInt(value), true);
            break;
        }
        p += sizes[type];
      }
    }
    const strings = options.strings ?? spec.strings.map(() => '');
    for (const s of strings) {
      const b = utf8.encode(s);
      dv.setUint32(p, b.length, true);
      out.set(b, p + 4);
      p += 4 + b.length;
      p = Math.ceil(p / 4) * 4;
    }
    for (const pc of options.pcs ?? []) {
      p = Math.ceil(p / 8) * 8;
      dv.setBigUint64(p, pc, true);
      p += 8;
    }
    const bytes = Math.ceil(p / 8) * 8;
    const sequence = options.sequence ?? this.sequence++;
    this.records++;
    dv.setUint16(0, spec.kind, true);
    dv.setUint16(2, options.flags ?? 0, true);
    dv.setUint32(4, bytes, true);
    dv.setUint32(8, options.thread ?? 100, true);
    dv.setUint32(12, sequence, true);
    dv.setBigUint64(16, options.timeNs ?? this.startNs + BigInt(this.records) * 1_000_000n, true);
    this.parts.push(out.slice(0, bytes));
    return sequence;
  }

  /** A record of a kind the decoder does not know (payload of `payload` zero bytes). */
  unknown(kind: number, payload = 8): void {
    const out = new Uint8Array(24 + payload);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, kind, true);
    dv.setUint32(4, out.length, true);
    dv.setUint32(12, this.sequence++, true);
    this.parts.push(out);
  }

  /** Raw bytes (for corrupt input). */
  raw(bytes: Uint8Array): void {
    this.parts.push(bytes);
  }

  get nextSequence(): number {
    return this.sequence;
  }

  bytes(): Uint8Array {
    const n = this.parts.reduce((s, b) => s + b.length, 0);
    const all = new Uint8Array(n);
    let at = 0;
    for (const b of this.parts) {
      all.set(b, at);
      at += b.length;
    }
    return all;
  }
}

/** A lavapipe-like device: one 2 GiB host heap, one memory type with every host flag. */
export function lavapipeDeviceFields(device: bigint): FieldValues {
  const heapSize = new Array<bigint>(16).fill(0n);
  heapSize[0] = 2n * 1024n * 1024n * 1024n;
  const heapFlags = new Array<number>(16).fill(0);
  heapFlags[0] = 1;
  const typeFlags = new Array<number>(32).fill(0);
  typeFlags[0] = 0xf;
  return {
    device,
    physicalDevice: 0x1000n,
    instance: 0x2000n,
    apiVersion: (1 << 22) | (3 << 12) | 238,
    driverVersion: (0 << 22) | (0 << 12) | 1,
    vendorId: 0x10005,
    deviceType: 4,
    heapCount: 1,
    typeCount: 1,
    maxMemoryAllocationCount: 4096,
    bufferImageGranularity: 64n,
    nonCoherentAtomSize: 64n,
    maxMemoryAllocationSize: 2n ** 31n,
    heapSize,
    heapFlags,
    typePropertyFlags: typeFlags,
    typeHeapIndex: new Array<number>(32).fill(0),
  };
}

/** A discrete-GPU-like device: VRAM heap + host heap; types 0 DEVICE_LOCAL, 1 HOST_VISIBLE|COHERENT, 2 +CACHED. */
export function discreteDeviceFields(device: bigint): FieldValues {
  const heapSize = new Array<bigint>(16).fill(0n);
  heapSize[0] = 8n * 1024n ** 3n;
  heapSize[1] = 16n * 1024n ** 3n;
  const heapFlags = new Array<number>(16).fill(0);
  heapFlags[0] = 1;
  const typeFlags = new Array<number>(32).fill(0);
  typeFlags[0] = 0x1;
  typeFlags[1] = 0x6;
  typeFlags[2] = 0xe;
  const typeHeap = new Array<number>(32).fill(0);
  typeHeap[1] = 1;
  typeHeap[2] = 1;
  return {
    ...lavapipeDeviceFields(device),
    vendorId: 0x10de,
    deviceType: 2,
    heapCount: 2,
    typeCount: 3,
    heapSize,
    heapFlags,
    typePropertyFlags: typeFlags,
    typeHeapIndex: typeHeap,
  };
}
