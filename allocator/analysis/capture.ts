// What a captured application did wrong or differently (docs/capture.md, "Problems" and "Memory-type
// decisions"), from the events of a captured trace: one pass, pure. Problems: memory not freed and
// resources not destroyed at device destruction (or at the end of the capture), a block freed while
// resources are still bound to it, binds past the end of their block, binds that break the resource's
// alignment, binds to a memory type the resource does not allow, an incomplete capture. Decisions: for each
// bound resource, the memory type the application chose beside the one gpu-allocator's rule picks for the
// resource's inferred location (heuristic below), with mismatches called out.
import { bufferUsageText, imageUsageText } from '../capture/vulkan-names.ts';
import type { DeviceDescription } from '../device.ts';
import { MemoryPropertyFlags } from '../device.ts';
import { FlagBits } from '../event-log.ts';
import { formatBytes } from '../format.ts';
import { printable } from '../text/printable.ts';
import { chooseMemoryType, describeFlags } from '../memory-type.ts';
import type { MemoryLocation } from '../types.ts';
import type { TraceEvents } from '../trace/events.ts';

// Event kinds (TraceEventKind is a const enum that isolated modules do not inline).
const ALLOCATE = 1;
const FREE = 2;
const BLOCK_CREATE = 4;
const BLOCK_DESTROY = 5;
const RENAME = 6;
const FRAME = 8;
const RESOURCE_CREATE = 16;
const RESOURCE_DESTROY = 17;
const MEMORY_MAP = 18;
const OBJECT_NAME = 20;
const DEVICE_DESTROY = 21;
const PROCESS_END = 22;
const CAPTURE_LOSS = 23;

const TRANSFER_SRC = 0x1;
const TRANSFER_DST = 0x2;
const { DEVICE_LOCAL, HOST_VISIBLE, HOST_CACHED } = MemoryPropertyFlags;

export type CaptureProblemKind =
  | 'memory-not-freed'
  | 'resource-not-destroyed'
  | 'freed-while-bound'
  | 'bind-out-of-bounds'
  | 'bind-misaligned'
  | 'bind-type-not-allowed'
  | 'memory-type-mismatch'
  | 'incomplete-capture';

export interface CaptureProblem {
  readonly kind: CaptureProblemKind;
  /** One sentence. */
  readonly message: string;
  /** The event that shows it (the bind, the free, the device destruction); -1 for the whole capture. */
  readonly eventIndex: number;
  /** Resource ids (allocation ids) and block ids involved. */
  readonly resources: readonly number[];
  readonly blocks: readonly number[];
  /** Bytes involved (leaked bytes, bytes past the end, ...). */
  readonly bytes: number;
  /** Where the application made the call ("" when stacks were not recorded). */
  readonly stack: string;
}

/**
 * The memory type the application chose for a class of resources, beside gpu-allocator's rule. One entry
 * per (resource kind, usage, inferred location, application's type, rule's type).
 */
export interface MemoryTypeChoice {
  readonly resourceKind: 'buffer' | 'image';
  readonly usage: number;
  readonly usageText: string;
  readonly location: MemoryLocation;
  /** Why that location (the heuristic's words). */
  readonly locationReason: string;
  readonly appType: number;
  readonly appFlags: string;
  readonly appHeap: number;
  /** gpu-allocator's choice for the same memoryTypeBits, location and tiling; null when none fits. */
  readonly ruleType: number | null;
  readonly ruleFlags: string;
  readonly verdict: 'same' | 'differs' | 'mismatch';
  /** Why it differs or mismatches ("" when the same). */
  readonly note: string;
  readonly count: number;
  readonly bytes: number;
  /** Up to 5 resource names. */
  readonly examples: readonly string[];
}

export interface CaptureAnalysis {
  readonly resourcesCreated: number;
  readonly buffersCreated: number;
  readonly imagesCreated: number;
  readonly resourcesBound: number;
  readonly blocksAllocated: number;
  readonly blocksFreed: number;
  /** Blocks that never had a resource bound to them (ids), and their bytes. */
  readonly blocksNeverBound: readonly number[];
  readonly blocksNeverBoundBytes: number;
  readonly blocksMapped: number;
  readonly frames: number;
  /** Index of the DeviceDestroy event; null when the device was never destroyed. */
  readonly deviceDestroyedAt: number | null;
  readonly processEnded: boolean;
  readonly recordsLost: number;
  readonly problems: readonly CaptureProblem[];
  readonly decisions: readonly MemoryTypeChoice[];
  /**
   * Blocks whose vkAllocateMemory chained more than a dedicated allocation (priority, export, import,
   * allocate flags, opaque capture address), in creation order, with those details in words. Name: the
   * block's name at the end of the trace.
   */
  readonly blockDetails: readonly {
    readonly blockId: number;
    readonly name: string;
    readonly size: number;
    readonly type: number;
    readonly text: string;
  }[];
}

interface ResourceState {
  readonly id: number;
  readonly image: boolean;
  readonly linear: boolean;
  readonly usage: number;
  readonly createdAt: number;
  name: string;
  boundAt: number;
  alive: boolean;
}

interface BlockInfo {
  readonly id: number;
  readonly createdAt: number;
  readonly type: number;
  readonly size: number;
  alive: boolean;
  everBound: boolean;
  mapped: boolean;
  name: string;
  /** Live resources bound to it (resource ids). */
  readonly bound: Set<number>;
}

/** True when the trace holds events of a captured application (kinds 16 and up). */
export function isCapturedTrace(events: TraceEvents): boolean {
  const k = events.columns.kind;
  for (let i = 0; i < events.length; i++) if (k[i]! >= RESOURCE_CREATE) return true;
  return false;
}

/**
 * A warning for a captured trace whose application did not exit cleanly (no ProcessEnd event: killed,
 * crashed, or the capture is still running), or whose layer lost records; null otherwise.
 */
export function captureCompletenessWarning(events: TraceEvents): string | null {
  const k = events.columns.kind;
  let captured = false;
  let lost = 0;
  for (let i = 0; i < events.length; i++) {
    const kind = k[i]!;
    if (kind >= RESOURCE_CREATE) captured = true;
    if (kind === PROCESS_END) return lost > 0 ? lostText(lost) : null;
    if (kind === CAPTURE_LOSS) lost += events.columns.size[i]!;
  }
  if (!captured) return null;
  return `the captured application did not exit cleanly (killed, crashed, or still running): the trace holds what the layer sent until then${lost > 0 ? `; ${lostText(lost)}` : ''}`;
}

function lostText(lost: number): string {
  return `the capture layer lost ${lost} records (its buffers overflowed)`;
}

/**
 * The location gpu-allocator would be asked for, inferred from what the application did with the resource
 * (docs/capture.md): its block never mapped -> GpuOnly; mapped and a transfer destination that is not a
 * transfer source (the GPU writes it, the CPU reads it) -> GpuToCpu; mapped otherwise (the CPU writes it)
 * -> CpuToGpu.
 */
export function inferLocation(usage: number, mapped: boolean): { location: MemoryLocation; reason: string } {
  if (!mapped) return { location: 'GpuOnly', reason: 'its memory is never mapped' };
  if ((usage & TRANSFER_DST) !== 0 && (usage & TRANSFER_SRC) === 0)
    return { location: 'GpuToCpu', reason: 'mapped, and a transfer destination only (readback)' };
  return { location: 'CpuToGpu', reason: 'mapped by the CPU (upload)' };
}

function names(list: readonly string[], max = 4): string {
  return list.length <= max
    ? list.join(', ')
    : `${list.slice(0, max).join(', ')}, … ${list.length - max} more`;
}

export function analyzeCapture(events: TraceEvents, device: DeviceDescription): CaptureAnalysis {
  const c = events.columns;
  const str = (id: number): string => events.strings[id] ?? '';
  const resources = new Map<number, ResourceState>();
  const blocks = new Map<number, BlockInfo>();
  const allBlocks: BlockInfo[] = [];
  const problems: CaptureProblem[] = [];
  let buffers = 0;
  let images = 0;
  let bound = 0;
  let blocksFreed = 0;
  let frames = 0;
  let deviceDestroyedAt: number | null = null;
  let processEnded = false;
  let recordsLost = 0;
  /** Allocate events of bound resources (for the decisions, judged once mapping is known). */
  const binds: number[] = [];
  const detailed: { block: BlockInfo; text: string }[] = [];

  const leaksAt = (at: number, when: string): void => {
    for (const b of allBlocks) {
      if (!b.alive) continue;
      problems.push({
        kind: 'memory-not-freed',
        message: `block ${b.id}${b.name ? ` "${b.name}"` : ''} (${formatBytes(b.size)}, memory type ${b.type}) was not freed ${when}`,
        eventIndex: at,
        resources: [...b.bound],
        blocks: [b.id],
        bytes: b.size,
        stack: str(c.stack[b.createdAt]!),
      });
    }
    for (const r of resources.values()) {
      if (!r.alive) continue;
      problems.push({
        kind: 'resource-not-destroyed',
        message: `${r.image ? 'image' : 'buffer'} "${r.name}" was not destroyed ${when}`,
        eventIndex: at,
        resources: [r.id],
        blocks: r.boundAt >= 0 ? [c.block[r.boundAt]!] : [],
        bytes: r.boundAt >= 0 ? c.size[r.boundAt]! : 0,
        stack: str(c.stack[r.createdAt]!),
      });
    }
  };

  for (let i = 0; i < events.length; i++) {
    switch (c.kind[i]) {
      case BLOCK_CREATE: {
        const b: BlockInfo = {
          id: c.id[i]!,
          createdAt: i,
          type: c.type[i]!,
          size: c.size[i]!,
          alive: true,
          everBound: false,
          mapped: false,
          name: '',
          bound: new Set(),
        };
        blocks.set(b.id, b);
        allBlocks.push(b);
        if (c.message[i] !== 0) {
          const text = allocateDetailsText(str(c.message[i]!));
          if (text !== '') detailed.push({ block: b, text });
        }
        break;
      }
      case BLOCK_DESTROY: {
        const b = blocks.get(c.id[i]!);
        if (b === undefined) break;
        b.alive = false;
        blocksFreed++;
        blocks.delete(b.id);
        if (b.bound.size > 0) {
          const still = [...b.bound].map((id) => resources.get(id)?.name ?? `resource ${id}`);
          problems.push({
            kind: 'freed-while-bound',
            message: `block ${b.id}${b.name ? ` "${b.name}"` : ''} was freed while ${b.bound.size} resource${b.bound.size === 1 ? ' was' : 's were'} still bound to it: ${names(still)}`,
            eventIndex: i,
            resources: [...b.bound],
            blocks: [b.id],
            bytes: b.size,
            stack: str(c.stack[i]!),
          });
        }
        break;
      }
      case MEMORY_MAP: {
        const b = blocks.get(c.id[i]!);
        if (b) b.mapped = true;
        break;
      }
      case RESOURCE_CREATE: {
        const image = (c.flags[i]! & FlagBits.image) !== 0;
        if (image) images++;
        else buffers++;
        resources.set(c.id[i]!, {
          id: c.id[i]!,
          image,
          linear: (c.flags[i]! & FlagBits.kindMask) === 0,
          usage: c.usage[i]!,
          createdAt: i,
          name: str(c.name[i]!),
          boundAt: -1,
          alive: true,
        });
        break;
      }
      case ALLOCATE: {
        const r = resources.get(c.id[i]!);
        if (r === undefined) break; // not a captured resource
        r.boundAt = i;
        r.name = str(c.name[i]!);
        bound++;
        binds.push(i);
        const b = blocks.get(c.block[i]!);
        if (b === undefined) break;
        b.everBound = true;
        b.bound.add(r.id);
        const offset = c.offset[i]!;
        const size = c.size[i]!;
        const alignment = c.alignment[i]!;
        const stack = str(c.stack[i]!);
        if (offset + size > b.size)
          problems.push({
            kind: 'bind-out-of-bounds',
            message: `"${r.name}" is bound at offset ${offset} with ${size} bytes, ${offset + size - b.size} bytes past the end of block ${b.id} (${b.size} bytes)`,
            eventIndex: i,
            resources: [r.id],
            blocks: [b.id],
            bytes: offset + size - b.size,
            stack,
          });
        if (alignment > 0 && offset % alignment !== 0)
          problems.push({
            kind: 'bind-misaligned',
            message: `"${r.name}" is bound at offset ${offset}, not a multiple of its required alignment ${alignment}`,
            eventIndex: i,
            resources: [r.id],
            blocks: [b.id],
            bytes: 0,
            stack,
          });
        const bits = c.typeBits[i]!;
        if (bits !== 0 && b.type < 32 && Math.floor(bits / 2 ** b.type) % 2 === 0)
          problems.push({
            kind: 'bind-type-not-allowed',
            message: `"${r.name}" is bound to memory type ${b.type}, which its memoryTypeBits 0x${bits.toString(16)} do not allow`,
            eventIndex: i,
            resources: [r.id],
            blocks: [b.id],
            bytes: size,
            stack,
          });
        break;
      }
      case FREE:
      case RESOURCE_DESTROY: {
        const r = resources.get(c.id[i]!);
        if (r === undefined) break;
        r.alive = false;
        resources.delete(r.id);
        if (r.boundAt >= 0) blocks.get(c.block[r.boundAt]!)?.bound.delete(r.id);
        break;
      }
      case RENAME: {
        const r = resources.get(c.id[i]!);
        if (r) r.name = str(c.name[i]!);
        break;
      }
      case OBJECT_NAME: {
        const flags = c.flags[i]!;
        if ((flags & FlagBits.memory) !== 0) {
          const b = blocks.get(c.id[i]!);
          if (b) b.name = str(c.name[i]!);
        } else {
          const r = resources.get(c.id[i]!);
          if (r) r.name = str(c.name[i]!);
        }
        break;
      }
      case FRAME:
        frames++;
        break;
      case DEVICE_DESTROY:
        if (deviceDestroyedAt === null) {
          deviceDestroyedAt = i;
          leaksAt(i, 'when the device was destroyed');
        }
        break;
      case PROCESS_END:
        processEnded = true;
        break;
      case CAPTURE_LOSS:
        recordsLost += c.size[i]!;
        break;
      default:
        break;
    }
  }
  if (deviceDestroyedAt === null)
    leaksAt(events.length, 'when the capture ended (the device was never destroyed)');
  if (!processEnded)
    problems.push({
      kind: 'incomplete-capture',
      message:
        'the application did not exit cleanly (killed, crashed or _exit): the capture ends at its last flush',
      eventIndex: -1,
      resources: [],
      blocks: [],
      bytes: 0,
      stack: '',
    });
  if (recordsLost > 0)
    problems.push({
      kind: 'incomplete-capture',
      message: `the layer lost ${recordsLost} records (its buffers overflowed): some calls are missing`,
      eventIndex: -1,
      resources: [],
      blocks: [],
      bytes: 0,
      stack: '',
    });

  const decisions = memoryTypeChoices(events, device, binds, allBlocks);
  for (const d of decisions)
    if (d.verdict === 'mismatch')
      problems.push({
        kind: 'memory-type-mismatch',
        message: `${d.count} ${d.resourceKind}${d.count === 1 ? '' : 's'} (${d.usageText}; ${d.location}) in memory type ${d.appType} (${d.appFlags}): ${d.note}`,
        eventIndex: -1,
        resources: [],
        blocks: [],
        bytes: d.bytes,
        stack: '',
      });

  const neverBound = allBlocks.filter((b) => !b.everBound);
  return {
    resourcesCreated: buffers + images,
    buffersCreated: buffers,
    imagesCreated: images,
    resourcesBound: bound,
    blocksAllocated: allBlocks.length,
    blocksFreed,
    blocksNeverBound: neverBound.map((b) => b.id),
    blocksNeverBoundBytes: neverBound.reduce((n, b) => n + b.size, 0),
    blocksMapped: allBlocks.filter((b) => b.mapped).length,
    frames,
    deviceDestroyedAt,
    processEnded,
    recordsLost,
    problems,
    decisions,
    blockDetails: detailed.map(({ block, text }) => ({
      blockId: block.id,
      name: block.name,
      size: block.size,
      type: block.type,
      text,
    })),
  };
}

const handleTypeBits: readonly [number, string][] = [
  [0x1, 'OPAQUE_FD'],
  [0x2, 'OPAQUE_WIN32'],
  [0x4, 'OPAQUE_WIN32_KMT'],
  [0x8, 'D3D11_TEXTURE'],
  [0x10, 'D3D11_TEXTURE_KMT'],
  [0x20, 'D3D12_HEAP'],
  [0x40, 'D3D12_RESOURCE'],
  [0x80, 'HOST_ALLOCATION'],
  [0x100, 'HOST_MAPPED_FOREIGN_MEMORY'],
  [0x200, 'DMA_BUF'],
  [0x400, 'ANDROID_HARDWARE_BUFFER'],
];
const allocateFlagBits: readonly [number, string][] = [
  [0x1, 'DEVICE_MASK'],
  [0x2, 'DEVICE_ADDRESS'],
  [0x4, 'DEVICE_ADDRESS_CAPTURE_REPLAY'],
];

function bitNames(value: number, names: readonly [number, string][]): string {
  const out: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of names)
    if (rest & bit) {
      out.push(name);
      rest &= ~bit;
    }
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out.length === 0 ? 'none' : out.join(' | ');
}

/**
 * A vkAllocateMemory's pNext details (blockCreate's message: the JSON allocator/capture/mapper.ts writes)
 * in words, e.g. "priority 1; export OPAQUE_FD; flags DEVICE_ADDRESS". Traces are data: anything that is
 * not that JSON gives "" (nothing shown), never an exception.
 */
export function allocateDetailsText(json: string): string {
  let d: unknown;
  try {
    d = JSON.parse(json);
  } catch {
    return '';
  }
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return '';
  const v = d as Record<string, unknown>;
  const num = (k: string): number | null => (typeof v[k] === 'number' && Number.isFinite(v[k]) ? v[k] : null);
  const text = (k: string): string | null => (typeof v[k] === 'string' ? printable(v[k], 40) : null);
  const parts: string[] = [];
  const priority = num('priority');
  if (priority !== null) parts.push(`priority ${priority}`);
  const flags = num('allocateFlags');
  if (flags !== null)
    parts.push(
      `flags ${bitNames(flags, allocateFlagBits)}${num('deviceMask') ? `, device mask 0x${num('deviceMask')!.toString(16)}` : ''}`,
    );
  const exportTypes = num('exportHandleTypes');
  if (exportTypes !== null) parts.push(`export ${bitNames(exportTypes, handleTypeBits)}`);
  const imported = text('import');
  if (imported !== null) {
    const type = num('importHandleType');
    const pointer = text('importHostPointer');
    parts.push(
      `imported (${imported}${type !== null ? `, ${bitNames(type, handleTypeBits)}` : ''}${pointer !== null ? ` at ${pointer}` : ''})`,
    );
  }
  const address = text('opaqueCaptureAddress');
  if (address !== null) parts.push(`opaque capture address ${address}`);
  return parts.join('; ');
}

/** The application's memory type for every bound resource beside gpu-allocator's rule, grouped. */
function memoryTypeChoices(
  events: TraceEvents,
  device: DeviceDescription,
  binds: readonly number[],
  allBlocks: readonly BlockInfo[],
): MemoryTypeChoice[] {
  const c = events.columns;
  const mappedBlocks = new Set(allBlocks.filter((b) => b.mapped).map((b) => b.id));
  // Resource kind and usage by id, from the ResourceCreate events.
  const created = new Map<number, number>();
  for (let i = 0; i < events.length; i++) if (c.kind[i] === RESOURCE_CREATE) created.set(c.id[i]!, i);
  const groups = new Map<
    string,
    {
      choice: Omit<MemoryTypeChoice, 'count' | 'bytes' | 'examples'>;
      count: number;
      bytes: number;
      examples: string[];
    }
  >();
  const ruleCache = new Map<string, number | null>();
  for (const i of binds) {
    const at = created.get(c.id[i]!);
    if (at === undefined) continue;
    const image = (c.flags[at]! & FlagBits.image) !== 0;
    const linear = (c.flags[at]! & FlagBits.kindMask) === 0;
    const usage = c.usage[at]!;
    const bits = c.typeBits[i]!;
    const appType = c.type[i]!;
    const { location, reason } = inferLocation(usage, mappedBlocks.has(c.block[i]!));
    const ruleKey = `${bits}/${location}/${linear}`;
    let ruleType = ruleCache.get(ruleKey);
    if (ruleType === undefined) {
      ruleType =
        bits === 0
          ? null
          : chooseMemoryType(device, { memoryTypeBits: bits, location, linear, scheme: 'managed' }, 0).winner;
      ruleCache.set(ruleKey, ruleType);
    }
    const key = `${image ? 'i' : 'b'}/${usage}/${location}/${appType}/${ruleType}`;
    let g = groups.get(key);
    if (g === undefined) {
      const appFlags = device.types[appType]?.propertyFlags ?? 0;
      const { verdict, note } = judge(device, bits, location, appType, ruleType);
      g = {
        choice: {
          resourceKind: image ? 'image' : 'buffer',
          usage,
          usageText: image ? imageUsageText(usage) : bufferUsageText(usage),
          location,
          locationReason: reason,
          appType,
          appFlags: describeFlags(appFlags),
          appHeap: device.types[appType]?.heapIndex ?? -1,
          ruleType,
          ruleFlags: ruleType === null ? 'none fits' : describeFlags(device.types[ruleType]!.propertyFlags),
          verdict,
          note,
        },
        count: 0,
        bytes: 0,
        examples: [],
      };
      groups.set(key, g);
    }
    g.count++;
    g.bytes += c.size[i]!;
    if (g.examples.length < 5) g.examples.push(events.strings[c.name[i]!] ?? '');
  }
  return [...groups.values()]
    .map((g) => ({ ...g.choice, count: g.count, bytes: g.bytes, examples: g.examples }))
    .sort((a, b) =>
      a.verdict === b.verdict ? b.bytes - a.bytes : verdictRank(a.verdict) - verdictRank(b.verdict),
    );
}

function verdictRank(v: MemoryTypeChoice['verdict']): number {
  return v === 'mismatch' ? 0 : v === 'differs' ? 1 : 2;
}

/**
 * Same type: 'same'. Otherwise a 'mismatch' when the application's type lacks what the location needs and
 * an allowed type has it (a readback resource in uncached memory; a GPU-only resource in host memory while
 * device-local memory was allowed); else 'differs' with both types' flags.
 */
function judge(
  device: DeviceDescription,
  bits: number,
  location: MemoryLocation,
  appType: number,
  ruleType: number | null,
): { verdict: MemoryTypeChoice['verdict']; note: string } {
  if (ruleType === appType) return { verdict: 'same', note: '' };
  const flags = device.types[appType]?.propertyFlags ?? 0;
  const allowedHas = (flag: number): boolean =>
    device.types.some(
      (t) => t.index < 32 && Math.floor(bits / 2 ** t.index) % 2 === 1 && (t.propertyFlags & flag) === flag,
    );
  if (location === 'GpuToCpu' && (flags & HOST_CACHED) === 0 && allowedHas(HOST_VISIBLE | HOST_CACHED))
    return {
      verdict: 'mismatch',
      note: 'a readback resource in uncached memory (CPU reads are slow); a HOST_CACHED type was allowed',
    };
  if (location === 'GpuOnly' && (flags & DEVICE_LOCAL) === 0 && allowedHas(DEVICE_LOCAL))
    return {
      verdict: 'mismatch',
      note: 'a GPU-only resource in memory that is not device-local, while a DEVICE_LOCAL type was allowed',
    };
  const rule =
    ruleType === null
      ? 'no type'
      : `type ${ruleType} (${describeFlags(device.types[ruleType]!.propertyFlags)})`;
  return { verdict: 'differs', note: `gpu-allocator would choose ${rule}` };
}
