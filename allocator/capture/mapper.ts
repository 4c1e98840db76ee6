// Turns capture records (in call order) into VRAMscope trace events, one track (EventLog + device
// description) per VkDevice. The mapping (docs/capture.md, "What a captured trace shows"):
// - vkAllocateMemory -> BlockCreate (memory type, size, dedicated); a failed one -> Failure;
//   vkFreeMemory -> BlockDestroy.
// - vkCreateBuffer/vkCreateImage -> ResourceCreate (usage, format, tiling, details); a bound resource is an
//   Allocate at its offset inside its block (size, alignment and memoryTypeBits from its requirements), so
//   the application's own sub-allocation appears in the block map; destroying it -> Free (bound) or
//   ResourceDestroy (never bound).
// - map/unmap -> MemoryMap/MemoryUnmap; present -> Frame; budgets -> BudgetSample; object names -> Rename
//   (bound resources) or ObjectName; vkDestroyDevice -> DeviceDestroy; a clean exit -> ProcessEnd; records
//   the layer lost -> CaptureLoss. Every event carries the calling thread; call stacks when recorded.
// Resource and block ids are numbered per track from 1 in creation order (raw handles are kept in names and
// details). Nothing here judges the application: the analysis (allocator/analysis/capture.ts) does.
import type { DeviceDescription, PhysicalDeviceType } from '../device.ts';
import { EventLog } from '../event-log.ts';
import type { AllocationKind } from '../types.ts';
import type { OrderedRecord } from './ordering.ts';
import {
  AllocateChain,
  DeviceFeature,
  VK_WHOLE_SIZE,
  type CaptureRecordOf,
  type CaptureStreamHeader,
} from './stream-format.ts';
import { driverVersionText, vkResultName, vkVersionText } from './vulkan-names.ts';

interface Memory {
  readonly blockId: number;
  readonly typeIndex: number;
  readonly size: number;
  readonly dedicated: boolean;
}

interface Requirements {
  readonly size: number;
  readonly alignment: number;
  readonly memoryTypeBits: number;
}

interface Resource {
  readonly id: number;
  readonly image: boolean;
  readonly linear: boolean;
  /** Buffer bytes (0 for images). */
  readonly size: number;
  name: string;
  requirements: Requirements | null;
  /** Bound and its Allocate emitted. */
  bound: boolean;
  /** Bound, waiting for the requirements the layer queries right after the bind. */
  pendingBind: { readonly memory: Memory; readonly offset: number; readonly stack: string | null } | null;
}

/** What the stream said about the process (ProcessStart, ProcessEnd, Dropped). */
export interface CaptureProcessInfo {
  pid: number;
  executable: string;
  commandLine: string[];
  layerVersion: number;
  stacks: boolean;
  /** ProcessEnd arrived: the application exited cleanly. */
  endedCleanly: boolean;
  recordsDropped: number;
  applicationName: string;
  engineName: string;
}

/** One VkDevice of the captured application: its own trace. */
export class CaptureTrack {
  readonly index: number;
  readonly handle: bigint;
  readonly device: DeviceDescription;
  readonly log: EventLog;
  readonly driverName: string;
  destroyed = false;
  frames = 0;
  readonly memories = new Map<bigint, Memory>();
  readonly buffers = new Map<bigint, Resource>();
  readonly images = new Map<bigint, Resource>();
  nextBlock = 1;
  nextResource = 1;
  /** Records for this device that named an object the capture never saw created (kept out of the trace). */
  unknownObjects = 0;

  constructor(index: number, handle: bigint, device: DeviceDescription, driverName: string, log: EventLog) {
    this.index = index;
    this.handle = handle;
    this.device = device;
    this.driverName = driverName;
    this.log = log;
  }
}

/** Times stay far below what a trace can store (whole microseconds below 2^53). */
const MAX_TIME_MS = 1e12;

const deviceTypes: readonly PhysicalDeviceType[] = ['other', 'integrated', 'discrete', 'virtual', 'cpu'];

/** A u64 (bytes, counts) as a JS number; values past 2^53 (never real ones) are clamped to 2^53 - 1. */
function bytes(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

function handleText(handle: bigint): string {
  return `0x${handle.toString(16)}`;
}

export function describeCapturedDevice(r: CaptureRecordOf<'DeviceCreate'>): DeviceDescription {
  const f = r.fields;
  const heaps = Array.from({ length: Math.min(f.heapCount, 16) }, (_, i) => ({
    index: i,
    size: bytes(f.heapSize[i]!),
    flags: f.heapFlags[i]!,
  }));
  const types = Array.from({ length: Math.min(f.typeCount, 32) }, (_, i) => ({
    index: i,
    propertyFlags: f.typePropertyFlags[i]!,
    heapIndex: Math.min(f.typeHeapIndex[i]!, Math.max(0, heaps.length - 1)),
  }));
  return {
    name: r.strings.deviceName,
    api: 'vulkan',
    deviceType: deviceTypes[f.deviceType] ?? 'other',
    vendorId: f.vendorId,
    deviceId: f.deviceId,
    driverVersion: driverVersionText(f.vendorId, f.driverVersion),
    apiVersion: vkVersionText(f.apiVersion),
    heaps,
    types,
    limits: {
      bufferImageGranularity: bytes(f.bufferImageGranularity),
      nonCoherentAtomSize: bytes(f.nonCoherentAtomSize),
      maxMemoryAllocationCount: f.maxMemoryAllocationCount,
      maxMemoryAllocationSize: bytes(f.maxMemoryAllocationSize),
    },
    extensions: {
      memoryBudget: (f.features & DeviceFeature.memoryBudget) !== 0,
      dedicatedAllocation: (f.features & DeviceFeature.dedicatedAllocation) !== 0,
      bufferDeviceAddress: (f.features & DeviceFeature.bufferDeviceAddress) !== 0,
    },
    source: 'capture',
  };
}

export interface CaptureMapperOptions {
  /** Called when a VkDevice is created: its track is ready to record (the CLI opens its trace file here). */
  readonly onTrack?: (track: CaptureTrack) => void;
}

export class CaptureMapper {
  readonly tracks: CaptureTrack[] = [];
  readonly process: CaptureProcessInfo = {
    pid: 0,
    executable: '',
    commandLine: [],
    layerVersion: 0,
    stacks: false,
    endedCleanly: false,
    recordsDropped: 0,
    applicationName: '',
    engineName: '',
  };
  /** Things the stream said that the mapping could not place (records for unknown devices, ...). */
  readonly notes: string[] = [];
  private readonly byHandle = new Map<bigint, CaptureTrack>();
  private startNs = 0n;
  /** Milliseconds since the stream started of the record being mapped (never decreasing). */
  private nowMs = 0;
  private readonly onTrack: ((track: CaptureTrack) => void) | undefined;
  private orphanRecords = 0;

  constructor(options: CaptureMapperOptions = {}) {
    this.onTrack = options.onTrack;
  }

  header(h: CaptureStreamHeader): void {
    this.startNs = h.startMonotonicNs;
    this.process.pid = h.pid;
  }

  /** Maps records already in call order (SequenceOrderer output). */
  map(records: readonly OrderedRecord[]): void {
    for (const r of records) this.mapOne(r);
  }

  /** Records that named a device the capture never saw created. */
  get recordsWithoutDevice(): number {
    return this.orphanRecords;
  }

  private track(device: bigint, threadId: number): CaptureTrack | null {
    const t = this.byHandle.get(device);
    if (t === undefined) {
      this.orphanRecords++;
      return null;
    }
    t.log.thread = threadId;
    return t;
  }

  private mapOne({ record: r, stack }: OrderedRecord): void {
    // Never backwards (threads return in slightly different order than they take sequence numbers), and a
    // time past ~31 years from the start is a corrupt record's: the event keeps the previous time.
    const ms = Number(r.timeNs - this.startNs) / 1e6;
    if (ms > this.nowMs && ms < MAX_TIME_MS) this.nowMs = ms;
    switch (r.name) {
      case 'ProcessStart':
        this.process.pid = r.fields.pid;
        this.process.layerVersion = r.fields.layerVersion;
        this.process.stacks = (r.fields.options & 1) !== 0;
        this.process.executable = r.strings.executablePath;
        this.process.commandLine = r.strings.commandLine.replace(/\0$/, '').split('\0');
        return;
      case 'ProcessEnd':
        this.process.endedCleanly = true;
        this.process.recordsDropped = bytes(r.fields.recordsDropped);
        for (const t of this.tracks) {
          t.log.thread = r.threadId;
          t.log.processEnd();
        }
        return;
      case 'Dropped':
        this.process.recordsDropped = Math.min(
          Number.MAX_SAFE_INTEGER,
          this.process.recordsDropped + bytes(r.fields.count),
        );
        for (const t of this.tracks) {
          t.log.thread = r.threadId;
          t.log.captureLoss(bytes(r.fields.count));
        }
        return;
      case 'InstanceCreate':
        if (r.fields.result === 0 && this.process.applicationName === '') {
          this.process.applicationName = r.strings.applicationName;
          this.process.engineName = r.strings.engineName;
        }
        return;
      case 'DeviceCreate':
        this.deviceCreate(r);
        return;
      default:
        break;
    }
    if (!('device' in r.fields)) return; // InstanceDestroy, Flush, Stack, Symbol: nothing per device
    const t = this.track(r.fields.device, r.threadId);
    if (t === null) return;
    const log = t.log;
    switch (r.name) {
      case 'DeviceDestroy':
        log.deviceDestroy(stack);
        t.destroyed = true;
        this.byHandle.delete(t.handle);
        return;
      case 'Budget':
        for (let h = 0; h < Math.min(r.fields.heapCount, t.device.heaps.length); h++)
          log.budgetSample({
            heapIndex: h,
            budget: bytes(r.fields.heapBudget[h]!),
            usage: bytes(r.fields.heapUsage[h]!),
          });
        return;
      case 'AllocateMemory':
        this.allocateMemory(t, r, stack);
        return;
      case 'FreeMemory': {
        if (r.fields.memory === 0n) return;
        const m = t.memories.get(r.fields.memory);
        if (m === undefined) {
          t.unknownObjects++;
          return;
        }
        t.memories.delete(r.fields.memory);
        log.blockDestroy(m.blockId);
        return;
      }
      case 'MapMemory': {
        const m = t.memories.get(r.fields.memory);
        if (m === undefined || r.fields.result !== 0) return;
        const offset = bytes(r.fields.offset);
        const size = r.fields.size === VK_WHOLE_SIZE ? Math.max(0, m.size - offset) : bytes(r.fields.size);
        log.memoryMap({ blockId: m.blockId, offset, size });
        return;
      }
      case 'UnmapMemory': {
        const m = t.memories.get(r.fields.memory);
        if (m !== undefined) log.memoryUnmap(m.blockId);
        return;
      }
      case 'CreateBuffer': {
        if (r.fields.result !== 0 || r.fields.buffer === 0n) return;
        const f = r.fields;
        const resource = this.newResource(t, false, true, bytes(f.size), `VkBuffer ${handleText(f.buffer)}`);
        t.buffers.set(f.buffer, resource);
        const details = {
          handle: handleText(f.buffer),
          flags: f.flags,
          sharingMode: f.sharingMode,
          ...(f.externalHandleTypes !== 0 ? { externalHandleTypes: f.externalHandleTypes } : {}),
        };
        log.resourceCreate({
          resourceId: resource.id,
          image: false,
          linear: true,
          size: resource.size,
          usage: f.usage,
          format: 0,
          name: resource.name,
          details: JSON.stringify(details),
          stack,
        });
        return;
      }
      case 'CreateImage': {
        if (r.fields.result !== 0 || r.fields.image === 0n) return;
        const f = r.fields;
        const linear = f.tiling === 1;
        const resource = this.newResource(t, true, linear, 0, `VkImage ${handleText(f.image)}`);
        t.images.set(f.image, resource);
        const details = {
          handle: handleText(f.image),
          flags: f.flags,
          imageType: f.imageType,
          extent: [f.width, f.height, f.depth],
          mipLevels: f.mipLevels,
          arrayLayers: f.arrayLayers,
          samples: f.samples,
          tiling: f.tiling,
          sharingMode: f.sharingMode,
          initialLayout: f.initialLayout,
          ...(f.externalHandleTypes !== 0 ? { externalHandleTypes: f.externalHandleTypes } : {}),
        };
        log.resourceCreate({
          resourceId: resource.id,
          image: true,
          linear,
          size: 0,
          usage: f.usage,
          format: f.format,
          name: resource.name,
          details: JSON.stringify(details),
          stack,
        });
        return;
      }
      case 'BufferRequirements':
      case 'ImageRequirements': {
        const resource =
          r.name === 'BufferRequirements' ? t.buffers.get(r.fields.buffer) : t.images.get(r.fields.image);
        if (resource === undefined) return;
        if (r.name === 'ImageRequirements' && r.fields.planeAspect !== 0) return; // disjoint planes: not modelled
        resource.requirements = {
          size: bytes(r.fields.size),
          alignment: bytes(r.fields.alignment),
          memoryTypeBits: r.fields.memoryTypeBits,
        };
        if (resource.pendingBind !== null) this.emitBind(t, resource);
        return;
      }
      case 'BindBuffer':
      case 'BindImage': {
        if (r.fields.result !== 0 || r.fields.memory === 0n) return; // failed, or a swapchain image
        const resource =
          r.name === 'BindBuffer' ? t.buffers.get(r.fields.buffer) : t.images.get(r.fields.image);
        const memory = t.memories.get(r.fields.memory);
        if (resource === undefined || memory === undefined) {
          t.unknownObjects++;
          return;
        }
        if (resource.bound || resource.pendingBind !== null) return; // a second bind is invalid Vulkan
        resource.pendingBind = { memory, offset: bytes(r.fields.offset), stack };
        if (resource.requirements !== null) this.emitBind(t, resource);
        return;
      }
      case 'DestroyBuffer':
      case 'DestroyImage': {
        const map = r.name === 'DestroyBuffer' ? t.buffers : t.images;
        const handle = r.name === 'DestroyBuffer' ? r.fields.buffer : r.fields.image;
        if (handle === 0n) return;
        const resource = map.get(handle);
        if (resource === undefined) {
          t.unknownObjects++;
          return;
        }
        if (resource.pendingBind !== null) this.emitBind(t, resource);
        map.delete(handle);
        if (resource.bound) log.free(resource.id);
        else log.resourceDestroy(resource.id);
        return;
      }
      case 'Present':
        t.frames++;
        log.frame(bytes(r.fields.frame));
        return;
      case 'ObjectName':
        this.objectName(t, r);
        return;
      default:
        return;
    }
  }

  private deviceCreate(r: CaptureRecordOf<'DeviceCreate'>): void {
    if (r.fields.result !== 0 || r.fields.device === 0n) return;
    if (r.fields.heapCount === 0 || r.fields.typeCount === 0) {
      this.notes.push(
        `a device with ${r.fields.heapCount} heaps and ${r.fields.typeCount} memory types was left out`,
      );
      return;
    }
    const description = describeCapturedDevice(r);
    // Times count from the start of the stream (the log takes its epoch from the clock's first reading).
    let started = false;
    const log = new EventLog({ initialCapacity: 1 << 12, clock: () => (started ? this.nowMs : 0) });
    started = true;
    const track = new CaptureTrack(
      this.tracks.length,
      r.fields.device,
      description,
      r.strings.driverName,
      log,
    );
    this.tracks.push(track);
    this.byHandle.set(track.handle, track);
    log.thread = r.threadId;
    this.onTrack?.(track);
  }

  private newResource(
    t: CaptureTrack,
    image: boolean,
    linear: boolean,
    size: number,
    name: string,
  ): Resource {
    return {
      id: t.nextResource++,
      image,
      linear,
      size,
      name,
      requirements: null,
      bound: false,
      pendingBind: null,
    };
  }

  private allocateMemory(t: CaptureTrack, r: CaptureRecordOf<'AllocateMemory'>, stack: string | null): void {
    const f = r.fields;
    const size = bytes(f.size);
    if (f.result !== 0 || f.memory === 0n) {
      const code = vkResultName(f.result);
      t.log.failure({
        name: 'vkAllocateMemory',
        size,
        alignment: 0,
        location: 'Unknown',
        linear: true,
        code,
        message: `vkAllocateMemory of ${size} bytes in memory type ${f.memoryTypeIndex} failed with ${code}`,
        decisionId: -1,
        stack,
      });
      if (f.memoryTypeIndex < t.device.types.length) t.log.setOnLast('type', f.memoryTypeIndex);
      return;
    }
    if (f.memoryTypeIndex >= t.device.types.length) {
      t.unknownObjects++;
      return;
    }
    const dedicated =
      (f.chain & AllocateChain.dedicated) !== 0 && (f.dedicatedBuffer !== 0n || f.dedicatedImage !== 0n);
    const memory: Memory = { blockId: t.nextBlock++, typeIndex: f.memoryTypeIndex, size, dedicated };
    t.memories.set(f.memory, memory);
    t.log.blockCreate({ blockId: memory.blockId, memoryTypeIndex: memory.typeIndex, size, dedicated });
    if (stack !== null) t.log.setOnLast('stack', t.log.strings.intern(stack));
    // The rest of the pNext chain (docs/trace-format.md: blockCreate's message column).
    const details = allocateDetailsJson(f);
    if (details !== null) t.log.setOnLast('message', t.log.strings.intern(details));
    // The raw handle as the block's first name (an app's own name replaces it), to match the app's logs.
    t.log.objectName(memory.blockId, 'memory', `VkDeviceMemory ${handleText(f.memory)}`);
  }

  private emitBind(t: CaptureTrack, resource: Resource): void {
    const bind = resource.pendingBind!;
    resource.pendingBind = null;
    resource.bound = true;
    const req = resource.requirements ?? { size: resource.size, alignment: 1, memoryTypeBits: 0 };
    const kind: AllocationKind = bind.memory.dedicated ? 2 : resource.image && !resource.linear ? 1 : 0;
    t.log.bindResource({
      resourceId: resource.id,
      blockId: bind.memory.blockId,
      memoryTypeIndex: bind.memory.typeIndex,
      offset: bind.offset,
      size: req.size,
      alignment: req.alignment,
      kind,
      memoryTypeBits: req.memoryTypeBits,
      name: resource.name,
      stack: bind.stack,
    });
  }

  private objectName(t: CaptureTrack, r: CaptureRecordOf<'ObjectName'>): void {
    const name = r.strings.name;
    const type = r.fields.objectType; // VkObjectType and VkDebugReportObjectTypeEXT agree: 8, 9, 10
    if (type === 8) {
      const m = t.memories.get(r.fields.handle);
      if (m !== undefined)
        t.log.objectName(
          m.blockId,
          'memory',
          name !== '' ? name : `VkDeviceMemory ${handleText(r.fields.handle)}`,
        );
      return;
    }
    if (type !== 9 && type !== 10) return;
    const resource = (type === 9 ? t.buffers : t.images).get(r.fields.handle);
    if (resource === undefined) return;
    resource.name =
      name !== '' ? name : `${type === 9 ? 'VkBuffer' : 'VkImage'} ${handleText(r.fields.handle)}`;
    if (resource.bound) t.log.rename(resource.id, resource.name);
    else t.log.objectName(resource.id, type === 9 ? 'buffer' : 'image', resource.name);
  }
}

/**
 * The pNext structures of a vkAllocateMemory beyond dedicated (which is the block's flag) as the JSON the
 * trace keeps in blockCreate's message column; null when the chain had none of them. Keys are present only
 * for structures that were chained: allocateFlags + deviceMask (VkMemoryAllocateFlagsInfo), priority
 * (VkMemoryPriorityAllocateInfoEXT), exportHandleTypes (VkExportMemoryAllocateInfo), importHandleType +
 * import ("fd", "hostPointer" with importHostPointer as hex text, or "other"), opaqueCaptureAddress (hex
 * text: 64-bit values stay exact).
 */
export function allocateDetailsJson(f: CaptureRecordOf<'AllocateMemory'>['fields']): string | null {
  const d: Record<string, number | string> = {};
  if (f.chain & AllocateChain.flags) {
    d['allocateFlags'] = f.allocateFlags;
    d['deviceMask'] = f.deviceMask;
  }
  // An f32 in the stream: 6 significant digits say it (0.7, not 0.699999988079071).
  if (f.chain & AllocateChain.priority) d['priority'] = Number(f.priority.toPrecision(6));
  if (f.chain & AllocateChain.export) d['exportHandleTypes'] = f.exportHandleTypes;
  if (f.chain & (AllocateChain.importFd | AllocateChain.importHostPointer | AllocateChain.importOther)) {
    d['import'] =
      f.chain & AllocateChain.importFd
        ? 'fd'
        : f.chain & AllocateChain.importHostPointer
          ? 'hostPointer'
          : 'other';
    d['importHandleType'] = f.importHandleType;
    if (f.chain & AllocateChain.importHostPointer) d['importHostPointer'] = handleText(f.importHostPointer);
  }
  if (f.chain & AllocateChain.opaqueCaptureAddress)
    d['opaqueCaptureAddress'] = handleText(f.opaqueCaptureAddress);
  return Object.keys(d).length === 0 ? null : JSON.stringify(d);
}
