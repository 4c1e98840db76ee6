// The capture stream (what VK_LAYER_VRAMSCOPE_capture writes; docs/capture.md "Stream format", mirrored
// from native/layer/capture_format.h field list by field list: tests/unit/capture-stream.test.ts compares
// the two). Pure: no Node APIs. All integers little-endian; u64 values are read as bigint.

/** "VRSCAP\0\1". */
export const CAPTURE_MAGIC = new Uint8Array([0x56, 0x52, 0x53, 0x43, 0x41, 0x50, 0x00, 0x01]);
export const CAPTURE_FORMAT_VERSION = 1;
export const STREAM_HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 24;
/** A record longer than this is treated as corrupt (the largest fixed payload is under 1 KiB; strings and
 * stacks are bounded by the layer well below this). */
export const MAX_RECORD_BYTES = 1 << 20;

export type FieldType = 'u16' | 'u32' | 'i32' | 'u64' | 'f32';
export type FieldSpec = readonly [name: string, type: FieldType, count?: number];

export interface RecordSpec {
  readonly kind: number;
  readonly fields: readonly FieldSpec[];
  /** Names of the strings in the tail, in order (each u32 byteLength + UTF-8, padded to 4). */
  readonly strings: readonly string[];
  /** The tail holds u64 pc[frameCount] (Stack). */
  readonly pcs?: true;
}

/** Payloads by record name, in the order and layout of capture_format.h. */
export const recordSpecs = {
  ProcessStart: {
    kind: 1,
    fields: [
      ['pid', 'u32'],
      ['layerVersion', 'u32'],
      ['realtimeNs', 'u64'],
      ['options', 'u32'],
      ['pad0', 'u32'],
    ],
    strings: ['executablePath', 'commandLine'],
  },
  ProcessEnd: {
    kind: 2,
    fields: [
      ['recordsWritten', 'u64'],
      ['recordsDropped', 'u64'],
      ['reason', 'u32'],
      ['pad0', 'u32'],
    ],
    strings: [],
  },
  Flush: {
    kind: 3,
    fields: [
      ['watermark', 'u32'],
      ['pad0', 'u32'],
      ['bytesWritten', 'u64'],
    ],
    strings: [],
  },
  Dropped: {
    kind: 4,
    fields: [
      ['count', 'u64'],
      ['reason', 'u32'],
      ['pad0', 'u32'],
    ],
    strings: [],
  },
  InstanceCreate: {
    kind: 5,
    fields: [
      ['instance', 'u64'],
      ['result', 'i32'],
      ['apiVersion', 'u32'],
      ['applicationVersion', 'u32'],
      ['engineVersion', 'u32'],
    ],
    strings: ['applicationName', 'engineName', 'enabledExtensions'],
  },
  InstanceDestroy: { kind: 6, fields: [['instance', 'u64']], strings: [] },
  DeviceCreate: {
    kind: 7,
    fields: [
      ['device', 'u64'],
      ['physicalDevice', 'u64'],
      ['instance', 'u64'],
      ['result', 'i32'],
      ['apiVersion', 'u32'],
      ['driverVersion', 'u32'],
      ['vendorId', 'u32'],
      ['deviceId', 'u32'],
      ['deviceType', 'u32'],
      ['driverId', 'u32'],
      ['features', 'u32'],
      ['heapCount', 'u32'],
      ['typeCount', 'u32'],
      ['maxMemoryAllocationCount', 'u32'],
      ['pad0', 'u32'],
      ['bufferImageGranularity', 'u64'],
      ['nonCoherentAtomSize', 'u64'],
      ['maxMemoryAllocationSize', 'u64'],
      ['minMemoryMapAlignment', 'u64'],
      ['heapSize', 'u64', 16],
      ['heapFlags', 'u32', 16],
      ['typePropertyFlags', 'u32', 32],
      ['typeHeapIndex', 'u32', 32],
    ],
    strings: ['deviceName', 'driverName', 'driverInfo', 'enabledExtensions'],
  },
  DeviceDestroy: { kind: 8, fields: [['device', 'u64']], strings: [] },
  Budget: {
    kind: 9,
    fields: [
      ['device', 'u64'],
      ['heapCount', 'u32'],
      ['trigger', 'u32'],
      ['heapBudget', 'u64', 16],
      ['heapUsage', 'u64', 16],
    ],
    strings: [],
  },
  AllocateMemory: {
    kind: 10,
    fields: [
      ['device', 'u64'],
      ['memory', 'u64'],
      ['size', 'u64'],
      ['memoryTypeIndex', 'u32'],
      ['result', 'i32'],
      ['dedicatedBuffer', 'u64'],
      ['dedicatedImage', 'u64'],
      ['chain', 'u32'],
      ['allocateFlags', 'u32'],
      ['deviceMask', 'u32'],
      ['priority', 'f32'],
      ['exportHandleTypes', 'u32'],
      ['importHandleType', 'u32'],
      ['opaqueCaptureAddress', 'u64'],
      ['importHostPointer', 'u64'],
    ],
    strings: [],
  },
  FreeMemory: {
    kind: 11,
    fields: [
      ['device', 'u64'],
      ['memory', 'u64'],
    ],
    strings: [],
  },
  MapMemory: {
    kind: 12,
    fields: [
      ['device', 'u64'],
      ['memory', 'u64'],
      ['offset', 'u64'],
      ['size', 'u64'],
      ['flags', 'u32'],
      ['result', 'i32'],
      ['pointer', 'u64'],
    ],
    strings: [],
  },
  UnmapMemory: {
    kind: 13,
    fields: [
      ['device', 'u64'],
      ['memory', 'u64'],
      ['flags', 'u32'],
      ['result', 'i32'],
    ],
    strings: [],
  },
  CreateBuffer: {
    kind: 14,
    fields: [
      ['device', 'u64'],
      ['buffer', 'u64'],
      ['size', 'u64'],
      ['usage', 'u32'],
      ['flags', 'u32'],
      ['sharingMode', 'u32'],
      ['result', 'i32'],
      ['externalHandleTypes', 'u32'],
      ['pad0', 'u32'],
    ],
    strings: [],
  },
  DestroyBuffer: {
    kind: 15,
    fields: [
      ['device', 'u64'],
      ['buffer', 'u64'],
    ],
    strings: [],
  },
  CreateImage: {
    kind: 16,
    fields: [
      ['device', 'u64'],
      ['image', 'u64'],
      ['flags', 'u32'],
      ['imageType', 'u32'],
      ['format', 'u32'],
      ['width', 'u32'],
      ['height', 'u32'],
      ['depth', 'u32'],
      ['mipLevels', 'u32'],
      ['arrayLayers', 'u32'],
      ['samples', 'u32'],
      ['tiling', 'u32'],
      ['usage', 'u32'],
      ['sharingMode', 'u32'],
      ['initialLayout', 'u32'],
      ['result', 'i32'],
      ['externalHandleTypes', 'u32'],
      ['pad0', 'u32'],
    ],
    strings: [],
  },
  DestroyImage: {
    kind: 17,
    fields: [
      ['device', 'u64'],
      ['image', 'u64'],
    ],
    strings: [],
  },
  BufferRequirements: {
    kind: 18,
    fields: [
      ['device', 'u64'],
      ['buffer', 'u64'],
      ['size', 'u64'],
      ['alignment', 'u64'],
      ['memoryTypeBits', 'u32'],
      ['flags', 'u32'],
    ],
    strings: [],
  },
  ImageRequirements: {
    kind: 19,
    fields: [
      ['device', 'u64'],
      ['image', 'u64'],
      ['size', 'u64'],
      ['alignment', 'u64'],
      ['memoryTypeBits', 'u32'],
      ['flags', 'u32'],
      ['planeAspect', 'u32'],
      ['pad0', 'u32'],
    ],
    strings: [],
  },
  BindBuffer: {
    kind: 20,
    fields: [
      ['device', 'u64'],
      ['buffer', 'u64'],
      ['memory', 'u64'],
      ['offset', 'u64'],
      ['result', 'i32'],
      ['pad0', 'u32'],
    ],
    strings: [],
  },
  BindImage: {
    kind: 21,
    fields: [
      ['device', 'u64'],
      ['image', 'u64'],
      ['memory', 'u64'],
      ['offset', 'u64'],
      ['result', 'i32'],
      ['planeAspect', 'u32'],
      ['swapchain', 'u64'],
      ['swapchainImageIndex', 'u32'],
      ['pad0', 'u32'],
    ],
    strings: [],
  },
  Present: {
    kind: 22,
    fields: [
      ['device', 'u64'],
      ['queue', 'u64'],
      ['frame', 'u64'],
      ['result', 'i32'],
      ['swapchainCount', 'u32'],
      ['firstSwapchain', 'u64'],
      ['firstImageIndex', 'u32'],
      ['pad0', 'u32'],
    ],
    strings: [],
  },
  ObjectName: {
    kind: 23,
    fields: [
      ['device', 'u64'],
      ['handle', 'u64'],
      ['objectType', 'u32'],
      ['source', 'u32'],
    ],
    strings: ['name'],
  },
  Stack: {
    kind: 24,
    fields: [
      ['ofSequence', 'u32'],
      ['frameCount', 'u32'],
    ],
    strings: [],
    pcs: true,
  },
  Symbol: {
    kind: 25,
    fields: [
      ['pc', 'u64'],
      ['moduleBase', 'u64'],
      ['symbolAddress', 'u64'],
    ],
    strings: ['modulePath', 'symbolName'],
  },
} as const satisfies Record<string, RecordSpec>;

export type RecordName = keyof typeof recordSpecs;

export const recordNameByKind: ReadonlyMap<number, RecordName> = new Map(
  (Object.keys(recordSpecs) as RecordName[]).map((name) => [recordSpecs[name].kind, name]),
);

/** RecordHeader.flags bits. */
export const RecordFlag = { variant2: 1 << 0, truncated: 1 << 15 } as const;

/** DeviceCreate.features bits. */
export const DeviceFeature = {
  memoryBudget: 1 << 0,
  dedicatedAllocation: 1 << 1,
  bufferDeviceAddress: 1 << 2,
  memoryPriority: 1 << 3,
  mapMemory2: 1 << 4,
  debugMarker: 1 << 5,
  driverProperties: 1 << 6,
  maintenance3: 1 << 7,
} as const;

/** AllocateMemory.chain bits: which pNext structures were present. */
export const AllocateChain = {
  dedicated: 1 << 0,
  flags: 1 << 1,
  priority: 1 << 2,
  export: 1 << 3,
  importFd: 1 << 4,
  importHostPointer: 1 << 5,
  importOther: 1 << 6,
  opaqueCaptureAddress: 1 << 7,
} as const;

/** Buffer/ImageRequirements.flags bits. */
export const RequirementsFlag = {
  prefersDedicated: 1 << 0,
  requiresDedicated: 1 << 1,
  dedicatedKnown: 1 << 2,
  queriedByLayer: 1 << 3,
} as const;

/** VK_WHOLE_SIZE as MapMemory.size carries it. */
export const VK_WHOLE_SIZE = 0xffff_ffff_ffff_ffffn;

// ---- Typed payloads ------------------------------------------------------------------------------------

type ValueOf<T extends FieldType> = T extends 'u64' ? bigint : number;
type FieldsOf<F extends readonly FieldSpec[]> = {
  readonly [E in F[number] as E[0]]: E extends readonly [string, infer T extends FieldType, number]
    ? readonly ValueOf<T>[]
    : E extends readonly [string, infer T extends FieldType]
      ? ValueOf<T>
      : never;
};
type StringsOf<S extends readonly string[]> = { readonly [K in S[number]]: string };

/** One decoded record of kind `N`: header fields, the payload's fields, its strings, its pcs (Stack). */
export type CaptureRecordOf<N extends RecordName> = {
  readonly name: N;
  readonly kind: number;
  readonly flags: number;
  readonly threadId: number;
  readonly sequence: number;
  /** CLOCK_MONOTONIC, ns. */
  readonly timeNs: bigint;
  /** Byte offset of the record in the stream. */
  readonly position: number;
  readonly fields: FieldsOf<(typeof recordSpecs)[N]['fields']>;
  readonly strings: StringsOf<(typeof recordSpecs)[N]['strings']>;
  readonly pcs: readonly bigint[];
};

export type CaptureRecord = { [N in RecordName]: CaptureRecordOf<N> }[RecordName];

export interface CaptureStreamHeader {
  readonly version: number;
  readonly pid: number;
  readonly startMonotonicNs: bigint;
}
