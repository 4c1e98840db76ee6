// Engine objects → contract shapes: plain copies with exactly the contract's fields (no handles, no
// readonly arrays shared with the engine, nothing the renderer should not see).
import type { DeviceDescription, MemoryTypeDecision } from '../../allocator/index.ts';
import type { ReplayReport, ReplaySide } from '../session/replay.ts';
import type { DecisionRecord, DeviceDescriptionDto, ReplayReportDto, ReplaySideDto } from './contract.ts';

export function deviceDto(d: DeviceDescription): DeviceDescriptionDto {
  return {
    name: d.name,
    api: d.api,
    deviceType: d.deviceType,
    vendorId: d.vendorId,
    deviceId: d.deviceId,
    driverVersion: d.driverVersion,
    apiVersion: d.apiVersion,
    heaps: d.heaps.map((h) => ({ index: h.index, size: h.size, flags: h.flags })),
    types: d.types.map((t) => ({
      index: t.index,
      propertyFlags: t.propertyFlags,
      heapIndex: t.heapIndex,
      ...(t.heapKind === undefined ? {} : { heapKind: t.heapKind }),
      ...(t.resourceCategory === undefined ? {} : { resourceCategory: t.resourceCategory }),
    })),
    limits: { ...d.limits },
    extensions: { ...d.extensions },
    ...(d.resourceHeapTier === undefined ? {} : { resourceHeapTier: d.resourceHeapTier }),
    source: d.source,
  };
}

export function decisionDto(d: MemoryTypeDecision): DecisionRecord {
  return {
    id: d.id,
    api: d.api,
    memoryTypeBits: d.memoryTypeBits,
    location: d.location,
    linear: d.linear,
    scheme: d.scheme,
    resourceCategory: d.resourceCategory,
    candidates: d.candidates.map((c) => ({
      typeIndex: c.typeIndex,
      propertyFlags: c.propertyFlags,
      heapIndex: c.heapIndex,
      allowedByBits: c.allowedByBits,
      matchesAttempt: [...c.matchesAttempt],
    })),
    attempts: d.attempts.map((a) => ({
      requiredFlags: a.requiredFlags,
      typeIndex: a.typeIndex,
      label: a.label,
    })),
    winner: d.winner,
    reason: d.reason,
    fallbacks: [...d.fallbacks],
    retryTypeIndex: d.retryTypeIndex,
  };
}

export function replaySideDto(s: ReplaySide): ReplaySideDto {
  return {
    ...s,
    failuresByCode: { ...s.failuresByCode },
    typeUse: s.typeUse.map((u) => ({ ...u })),
  };
}

export function replayReportDto(r: ReplayReport): ReplayReportDto {
  return {
    ...r,
    baseline: replaySideDto(r.baseline),
    replay: replaySideDto(r.replay),
    typeChanges: r.typeChanges.map((c) => ({ ...c })),
    newlyFailed: { count: r.newlyFailed.count, names: [...r.newlyFailed.names] },
    newlySucceeded: { count: r.newlySucceeded.count, names: [...r.newlySucceeded.names] },
  };
}
