// "What would happen on GPU X": replays the allocation requests of a recorded event stream (a loaded trace,
// or a live run's mirror) against another device and/or placement strategy, and compares the outcome with
// what the recording says happened: blocks, peak committed bytes, memory types chosen, failures.
//
// Requests are re-issued with memoryTypeBits = every type of the target device (the original device's
// bits do not translate to another GPU), the original size, alignment, location, linearity and scheme.
// Frees of allocations that failed in the replay are skipped; allocations that fail in the original but
// succeed in the replay are left alive (counted in `leftAlive`). Imported traces (VMA/D3D12MA dumps) often
// lack the location and alignment: an Unknown location is inferred from the flags of the memory type the
// recording used (counted in `inferredLocations`), and a missing alignment (0) is taken as 1.
import {
  AllocationError,
  FlagBits,
  flagsLocation,
  MemoryPropertyFlags,
  memoryPropertyFlagNames,
  TraceEventKind,
  type Allocation,
  type AllocationSchemeKind,
  type Device,
  type DeviceDescription,
  type EventColumns,
  type MemoryLocation,
  type MemoryTypeDecision,
  type PlacementStrategyName,
} from '../../allocator/index.ts';
import { inferLocation, isCapturedTrace } from '../../allocator/analysis/capture.ts';
import { traceEventsOf, type TraceEvents } from '../../allocator/trace/index.ts';
import { Session } from './session.ts';

/** The event data replay reads (a loaded trace's events, an EventLog view or an EventMirror). */
export interface ReplaySource {
  readonly length: number;
  readonly columns: EventColumns;
  readonly strings: readonly string[];
  readonly decisions: readonly (MemoryTypeDecision | undefined)[];
}

export interface TypeUse {
  readonly location: MemoryLocation;
  readonly linear: boolean;
  /** -1: the request failed. */
  readonly typeIndex: number;
  /** "DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT", or the failure code. */
  readonly what: string;
  readonly heapIndex: number;
  readonly count: number;
  /** Bytes requested. */
  readonly bytes: number;
}

export interface ReplaySide {
  readonly device: string;
  readonly strategy: string;
  readonly allocations: number;
  readonly failures: number;
  readonly failuresByCode: Readonly<Record<string, number>>;
  /** Bytes. */
  readonly peakCommittedBytes: number;
  readonly peakBlocks: number;
  readonly blocksCreated: number;
  /** Which memory type each (location, linear) class of request got, sorted. */
  readonly typeUse: readonly TypeUse[];
}

export interface TypeChange {
  readonly location: MemoryLocation;
  readonly linear: boolean;
  readonly from: string;
  readonly to: string;
  readonly count: number;
}

export interface ReplayReport {
  readonly requests: number;
  readonly baseline: ReplaySide;
  readonly replay: ReplaySide;
  /** Requests whose memory type (or failure) differs, grouped. */
  readonly typeChanges: readonly TypeChange[];
  /** Names of requests that succeeded in the recording and fail in the replay (first 20), and the count. */
  readonly newlyFailed: { readonly count: number; readonly names: readonly string[] };
  readonly newlySucceeded: { readonly count: number; readonly names: readonly string[] };
  /** Allocations still alive in the replay at the end that were not alive in the recording. */
  readonly leftAlive: number;
  /** Requests whose Unknown location was inferred from the recorded memory type's flags. */
  readonly inferredLocations: number;
  /**
   * A captured application (docs/capture.md): the baseline is the application's own vkAllocateMemory
   * blocks, each bound resource one request (location inferred from its usage and mapping).
   */
  readonly captured: boolean;
}

/** The location a request in a memory type with these flags most likely asked for. */
export function locationForFlags(propertyFlags: number): MemoryLocation {
  const hostVisible = (propertyFlags & MemoryPropertyFlags.HOST_VISIBLE) !== 0;
  if (!hostVisible) return (propertyFlags & MemoryPropertyFlags.DEVICE_LOCAL) !== 0 ? 'GpuOnly' : 'Unknown';
  if ((propertyFlags & MemoryPropertyFlags.DEVICE_LOCAL) !== 0) return 'CpuToGpu';
  return (propertyFlags & MemoryPropertyFlags.HOST_CACHED) !== 0 ? 'GpuToCpu' : 'CpuToGpu';
}

interface Outcome {
  readonly location: MemoryLocation;
  readonly linear: boolean;
  readonly size: number;
  readonly name: string;
  /** -1 when failed. */
  readonly typeIndex: number;
  readonly code: string;
}

function typeLabel(description: DeviceDescription, typeIndex: number): string {
  const type = description.types[typeIndex];
  if (!type) return `type ${typeIndex}`;
  const flags = memoryPropertyFlagNames(type.propertyFlags).join('|') || 'no flags';
  return `type ${typeIndex} (${flags}, heap ${type.heapIndex})`;
}

function sideOf(
  description: DeviceDescription,
  strategy: string,
  outcomes: readonly Outcome[],
  peakCommittedBytes: number,
  peakBlocks: number,
  blocksCreated: number,
): ReplaySide {
  const failuresByCode: Record<string, number> = {};
  const uses = new Map<
    string,
    {
      location: MemoryLocation;
      linear: boolean;
      typeIndex: number;
      what: string;
      heapIndex: number;
      count: number;
      bytes: number;
    }
  >();
  let failures = 0;
  for (const o of outcomes) {
    if (o.typeIndex < 0) {
      failures++;
      failuresByCode[o.code] = (failuresByCode[o.code] ?? 0) + 1;
    }
    const what = o.typeIndex < 0 ? `failed: ${o.code}` : typeLabel(description, o.typeIndex);
    const key = `${o.location}|${o.linear}|${what}`;
    const u = uses.get(key) ?? {
      location: o.location,
      linear: o.linear,
      typeIndex: o.typeIndex,
      what,
      heapIndex: description.types[o.typeIndex]?.heapIndex ?? -1,
      count: 0,
      bytes: 0,
    };
    u.count++;
    u.bytes += o.size;
    uses.set(key, u);
  }
  const typeUse = [...uses.values()].sort(
    (a, b) =>
      a.location.localeCompare(b.location) ||
      Number(b.linear) - Number(a.linear) ||
      a.typeIndex - b.typeIndex,
  );
  return {
    device: `${description.name} (${description.source})`,
    strategy,
    allocations: outcomes.length - failures,
    failures,
    failuresByCode,
    peakCommittedBytes,
    peakBlocks,
    blocksCreated,
    typeUse,
  };
}

type Request =
  | {
      readonly op: 'allocate';
      readonly originalId: number;
      readonly name: string;
      readonly size: number;
      readonly alignment: number;
      readonly location: MemoryLocation;
      readonly linear: boolean;
      readonly scheme: AllocationSchemeKind;
      readonly stack: string | null;
      /** The resource's memoryTypeBits (captured applications); 0 when the recording has none. */
      readonly memoryTypeBits: number;
      /** -1 when the recording says it failed. */
      readonly originalType: number;
      readonly originalCode: string;
      /** ms: when the recording made the request (the replay's clock follows it). */
      readonly time: number;
    }
  | { readonly op: 'free'; readonly originalId: number; readonly time: number }
  | { readonly op: 'rename'; readonly originalId: number; readonly name: string; readonly time: number };

/** Reads the requests out of the recording, and what the recording says about blocks. */
function extract(
  source: ReplaySource,
  original: DeviceDescription,
): {
  requests: Request[];
  peakCommittedBytes: number;
  peakBlocks: number;
  blocksCreated: number;
  inferredLocations: number;
  captured: boolean;
} {
  let inferredLocations = 0;
  const c = source.columns;
  // Captured applications: each bound resource's usage and kind (ResourceCreate) and the blocks the CPU
  // mapped, for the location heuristic (allocator/analysis/capture.ts inferLocation).
  const captured = isCapturedTrace(source);
  const resources = new Map<number, { image: boolean; linear: boolean; usage: number }>();
  const mapped = new Set<number>();
  if (captured) {
    for (let i = 0; i < source.length; i++) {
      if (c.kind[i] === TraceEventKind.ResourceCreate)
        resources.set(c.id[i]!, {
          image: (c.flags[i]! & FlagBits.image) !== 0,
          linear: (c.flags[i]! & FlagBits.kindMask) === 0,
          usage: c.usage[i]!,
        });
      else if (c.kind[i] === TraceEventKind.MemoryMap) mapped.add(c.id[i]!);
    }
  }
  const str = (id: number): string => source.strings[id] ?? '';
  const requests: Request[] = [];
  const blockSizes = new Map<number, number>();
  let committed = 0;
  let peakCommittedBytes = 0;
  let peakBlocks = 0;
  let blocksCreated = 0;
  for (let i = 0; i < source.length; i++) {
    const kind = c.kind[i];
    if (kind === TraceEventKind.Allocate || kind === TraceEventKind.Failure) {
      const flags = c.flags[i] ?? 0;
      const decision = source.decisions[c.decision[i] ?? -1];
      const lowBits = flags & FlagBits.kindMask;
      // Allocate: 0 linear, 1 non-linear, 2 dedicated (linearity then comes from the decision record).
      // Failure: 0 linear, 1 non-linear.
      const linear = decision ? decision.linear : lowBits === 0;
      const scheme: AllocationSchemeKind = decision
        ? decision.scheme
        : kind === TraceEventKind.Allocate && lowBits === 2
          ? 'dedicatedBuffer'
          : 'managed';
      const stackId = c.stack[i] ?? 0;
      const recordedType = kind === TraceEventKind.Allocate ? (c.type[i] ?? -1) : -1;
      let location = flagsLocation(flags);
      const typeFlags = original.types[recordedType]?.propertyFlags;
      const resource = kind === TraceEventKind.Allocate ? resources.get(c.id[i]!) : undefined;
      if (resource !== undefined) location = inferLocation(resource.usage, mapped.has(c.block[i]!)).location;
      else if (location === 'Unknown' && typeFlags !== undefined) {
        const inferred = locationForFlags(typeFlags);
        if (inferred !== 'Unknown') {
          location = inferred;
          inferredLocations++;
        }
      }
      const alignment = c.alignment[i] ?? 0;
      requests.push({
        op: 'allocate',
        originalId: kind === TraceEventKind.Allocate ? (c.id[i] ?? 0) : -1,
        name: str(c.name[i] ?? 0),
        size: c.size[i] ?? 0,
        alignment: alignment > 0 ? alignment : 1,
        location,
        linear: resource ? resource.linear : linear,
        scheme: resource && lowBits === 2 ? (resource.image ? 'dedicatedImage' : 'dedicatedBuffer') : scheme,
        memoryTypeBits: resource ? (c.typeBits[i] ?? 0) : 0,
        stack: stackId === 0 ? null : str(stackId),
        originalType: recordedType,
        originalCode: kind === TraceEventKind.Failure ? str(c.code[i] ?? 0) : '',
        time: c.time[i] ?? 0,
      });
    } else if (kind === TraceEventKind.Free) {
      requests.push({ op: 'free', originalId: c.id[i] ?? 0, time: c.time[i] ?? 0 });
    } else if (kind === TraceEventKind.Rename) {
      requests.push({
        op: 'rename',
        originalId: c.id[i] ?? 0,
        name: str(c.name[i] ?? 0),
        time: c.time[i] ?? 0,
      });
    } else if (kind === TraceEventKind.BlockCreate) {
      const size = c.size[i] ?? 0;
      blockSizes.set(c.id[i] ?? 0, size);
      committed += size;
      blocksCreated++;
      peakCommittedBytes = Math.max(peakCommittedBytes, committed);
      peakBlocks = Math.max(peakBlocks, blockSizes.size);
    } else if (kind === TraceEventKind.BlockDestroy) {
      const id = c.id[i] ?? 0;
      committed -= blockSizes.get(id) ?? 0;
      blockSizes.delete(id);
    }
  }
  return { requests, peakCommittedBytes, peakBlocks, blocksCreated, inferredLocations, captured };
}

export interface ReplayOptions {
  /** The recording's device (trace header) and strategy. */
  readonly original: { readonly device: DeviceDescription; readonly strategy: string };
  /** The device to replay on (a simulated device from a profile, normally). */
  readonly target: Device;
  readonly strategy: PlacementStrategyName;
  /**
   * Receives the replay's own event stream (its clock follows the recording's request times, so the two
   * timelines share an axis) before the replay session closes: the app shows it as a trace.
   */
  readonly onEvents?: (events: TraceEvents) => void;
}

const sampleLimit = 20;

export function replayRequests(source: ReplaySource, options: ReplayOptions): ReplayReport {
  const { requests, peakCommittedBytes, peakBlocks, blocksCreated, inferredLocations, captured } = extract(
    source,
    options.original.device,
  );
  // The recorded memoryTypeBits mean something only on the same memory types; elsewhere every type is allowed.
  const sameTypes =
    options.original.device.types.length === options.target.description.types.length &&
    options.original.device.types.every(
      (t, i) =>
        t.propertyFlags === options.target.description.types[i]!.propertyFlags &&
        t.heapIndex === options.target.description.types[i]!.heapIndex,
    );
  // The replay's clock is the recording's: each request happens at the time it was made originally.
  let now = 0;
  const session = new Session({ device: options.target, strategy: options.strategy, clock: () => now });
  const target = options.target.description;
  const allTypes = target.types.length >= 32 ? 0xffffffff : (1 << target.types.length) - 1;
  const live = new Map<number, Allocation>();
  const originalOutcomes: Outcome[] = [];
  const replayOutcomes: Outcome[] = [];
  const failedNames: string[] = [];
  const succeededNames: string[] = [];
  let failedCount = 0;
  let succeededCount = 0;
  let leftAlive = 0;
  const changes = new Map<string, TypeChange>();
  try {
    for (const r of requests) {
      now = Math.max(now, r.time);
      if (r.op === 'free') {
        const a = live.get(r.originalId);
        if (a) {
          live.delete(r.originalId);
          session.free(a);
        }
        continue;
      }
      if (r.op === 'rename') {
        const a = live.get(r.originalId);
        if (a) session.rename(a, r.name);
        continue;
      }
      let typeIndex = -1;
      let code = '';
      try {
        const a = session.allocate({
          name: r.name,
          requirements: {
            size: r.size,
            alignment: r.alignment,
            memoryTypeBits: sameTypes && r.memoryTypeBits !== 0 ? r.memoryTypeBits : allTypes,
          },
          location: r.location,
          linear: r.linear,
          scheme: { kind: r.scheme },
          resourceCategory: r.linear ? 'buffer' : 'otherTexture',
          ...(r.stack !== null ? { stack: r.stack } : {}),
        });
        typeIndex = a.memoryTypeIndex;
        if (r.originalId >= 0) live.set(r.originalId, a);
        else leftAlive++;
      } catch (error) {
        if (!(error instanceof AllocationError)) throw error;
        code = error.code;
      }
      const base = { location: r.location, linear: r.linear, size: r.size, name: r.name };
      originalOutcomes.push({ ...base, typeIndex: r.originalType, code: r.originalCode });
      replayOutcomes.push({ ...base, typeIndex, code });
      if (r.originalType >= 0 && typeIndex < 0) {
        failedCount++;
        if (failedNames.length < sampleLimit) failedNames.push(r.name);
      } else if (r.originalType < 0 && typeIndex >= 0) {
        succeededCount++;
        if (succeededNames.length < sampleLimit) succeededNames.push(r.name);
      }
      const from =
        r.originalType < 0 ? `failed: ${r.originalCode}` : typeLabel(options.original.device, r.originalType);
      const to = typeIndex < 0 ? `failed: ${code}` : typeLabel(target, typeIndex);
      if (from !== to) {
        const key = `${r.location}|${r.linear}|${from}|${to}`;
        const prev = changes.get(key);
        changes.set(key, { location: r.location, linear: r.linear, from, to, count: (prev?.count ?? 0) + 1 });
      }
    }
    options.onEvents?.(traceEventsOf(session.log));
    return {
      requests: originalOutcomes.length,
      baseline: sideOf(
        options.original.device,
        captured ? "the application's own vkAllocateMemory" : options.original.strategy,
        originalOutcomes,
        peakCommittedBytes,
        peakBlocks,
        blocksCreated,
      ),
      replay: sideOf(
        target,
        options.strategy,
        replayOutcomes,
        session.peakCommittedBytes,
        session.peakBlockCount,
        countBlockCreates(session),
      ),
      typeChanges: [...changes.values()].sort((a, b) => b.count - a.count),
      newlyFailed: { count: failedCount, names: failedNames },
      newlySucceeded: { count: succeededCount, names: succeededNames },
      leftAlive,
      inferredLocations,
      captured,
    };
  } finally {
    session.close();
  }
}

function countBlockCreates(session: Session): number {
  const c = session.log.columns;
  let n = 0;
  for (let i = 0; i < session.log.length; i++) if (c.kind[i] === TraceEventKind.BlockCreate) n++;
  return n;
}

/**
 * What a recording itself says, in the shape of a replay side: allocations, failures, peak committed bytes,
 * blocks and the memory type each (location, tiling) got. The compare view puts two recordings side by
 * side with it.
 */
export function recordedSide(source: ReplaySource, device: DeviceDescription, strategy: string): ReplaySide {
  const { requests, peakCommittedBytes, peakBlocks, blocksCreated } = extract(source, device);
  const outcomes: Outcome[] = [];
  for (const r of requests) {
    if (r.op !== 'allocate') continue;
    outcomes.push({
      location: r.location,
      linear: r.linear,
      size: r.size,
      name: r.name,
      typeIndex: r.originalType,
      code: r.originalCode,
    });
  }
  return sideOf(device, strategy, outcomes, peakCommittedBytes, peakBlocks, blocksCreated);
}
