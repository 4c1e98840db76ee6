// Memory-type choice exactly as gpu-allocator 0.28 makes it, plus the decision record that explains it
// and a cache that computes each record once per key.
//
// Vulkan: attempts in order, each picks the LOWEST-index type allowed by memoryTypeBits whose property
// flags CONTAIN all required flags (a superset test, no scoring):
//   GpuOnly  DEVICE_LOCAL                                 (the crate's fallback repeats the same flags)
//   CpuToGpu HOST_VISIBLE|HOST_COHERENT|DEVICE_LOCAL, then HOST_VISIBLE|HOST_COHERENT
//   GpuToCpu HOST_VISIBLE|HOST_COHERENT|HOST_CACHED,  then HOST_VISIBLE|HOST_COHERENT
//   Unknown  no flags (the lowest allowed type)
// Non-coherent host memory is never chosen. For CpuToGpu/GpuToCpu that follows from the superset test
// (HOST_COHERENT is always required). GpuOnly and Unknown require no host flag, so the superset test alone
// would accept a HOST_VISIBLE type without HOST_COHERENT (Adreno/Mali-style cached non-coherent memory) and
// hand out a mapping the crate never flushes; we therefore also reject every HOST_VISIBLE type lacking
// HOST_COHERENT in every attempt. On devices whose host-visible types are all coherent (every desktop GPU,
// both shipped profiles) the result is identical to the crate's.
// CpuToGpu additionally retries at allocation time with HOST_VISIBLE|HOST_COHERENT when allocating from
// the winner fails: `retryTypeIndex` (null when that is the winner itself, where a retry cannot help).
//
// D3D12 and Metal: the heap models have no memoryTypeBits (the crate ignores them). The first type whose
// location matches (Unknown matches any, so it gets the first = GpuOnly type) and, on D3D12 tier 1, whose
// resource category matches (default: buffer when linear, otherTexture otherwise).
// Metal's Unknown → Private mirrors a latent bug of the crate: AllocationCreateDesc::buffer sizes an
// Unknown request as StorageModeShared, and ::texture turns Shared/Managed textures into Unknown requests,
// yet allocate() puts every Unknown request in the first heap, the Private one. We reproduce the choice
// (parity) and say so in the decision's reason.
import type { DeviceDescription, MemoryType, ResourceCategory } from './device.ts';
import { MemoryHeapFlags, MemoryPropertyFlags, memoryPropertyFlagNames } from './device.ts';
import { formatBytes } from './format.ts';
import { locationPropertyFlags, modelLocations } from './profiles/builtin.ts';
import type {
  AllocationSchemeKind,
  MemoryLocation,
  MemoryTypeAttempt,
  MemoryTypeCandidate,
  MemoryTypeDecision,
} from './types.ts';

const { DEVICE_LOCAL, HOST_VISIBLE, HOST_COHERENT, HOST_CACHED } = MemoryPropertyFlags;

/** What a memory-type decision depends on. */
export interface MemoryTypeKey {
  readonly memoryTypeBits: number;
  readonly location: MemoryLocation;
  readonly linear: boolean;
  readonly scheme: AllocationSchemeKind;
  /** D3D12 tier 1 only; null/absent = buffer when linear, otherTexture otherwise. */
  readonly resourceCategory?: ResourceCategory | null;
}

/** "DEVICE_LOCAL|HOST_VISIBLE"; "none" for 0; unnamed bits as hex. */
export function describeFlags(flags: number): string {
  if (flags === 0) return 'none';
  const names: string[] = memoryPropertyFlagNames(flags);
  let rest = flags >>> 0;
  for (const bit of Object.values(MemoryPropertyFlags)) rest &= ~bit;
  if (rest !== 0) names.push(`0x${(rest >>> 0).toString(16)}`);
  return names.join('|');
}

function hex(bits: number): string {
  return `0x${(bits >>> 0).toString(16)}`;
}

/** Host-visible without host-coherent: never chosen (see the header). */
function isNonCoherentHost(flags: number): boolean {
  return (flags & HOST_VISIBLE) !== 0 && (flags & HOST_COHERENT) === 0;
}

function heapText(description: DeviceDescription, heapIndex: number): string {
  const heap = description.heaps[heapIndex];
  if (heap === undefined) return `heap ${heapIndex}`;
  const where = (heap.flags & MemoryHeapFlags.DEVICE_LOCAL) !== 0 ? 'device-local' : 'host';
  return `heap ${heapIndex}: ${formatBytes(heap.size)} ${where}`;
}

function typeText(description: DeviceDescription, type: MemoryType): string {
  const flags = describeFlags(type.propertyFlags);
  const kind =
    type.heapKind === undefined
      ? ''
      : `${type.heapKind}${type.resourceCategory ? ` ${type.resourceCategory}` : ''} → `;
  return `type ${type.index} (${kind}${flags === 'none' ? 'no property flags' : flags}, ${heapText(description, type.heapIndex)})`;
}

interface AttemptSpec {
  readonly requiredFlags: number;
  readonly label: string;
  /** Words for the reason when this attempt wins. */
  readonly why: string;
}

function vulkanAttempts(location: MemoryLocation): AttemptSpec[] {
  const hvhc = HOST_VISIBLE | HOST_COHERENT;
  switch (location) {
    case 'GpuOnly':
      return [
        { requiredFlags: DEVICE_LOCAL, label: 'required: device-local memory', why: 'device-local memory' },
      ];
    case 'CpuToGpu':
      return [
        {
          requiredFlags: hvhc | DEVICE_LOCAL,
          label: 'preferred: device-local upload memory (ReBAR)',
          why: 'ReBAR upload memory',
        },
        {
          requiredFlags: hvhc,
          label: 'fallback: host-visible coherent upload memory',
          why: 'upload memory in host RAM',
        },
      ];
    case 'GpuToCpu':
      return [
        {
          requiredFlags: hvhc | HOST_CACHED,
          label: 'preferred: host-cached readback memory',
          why: 'cached readback memory',
        },
        {
          requiredFlags: hvhc,
          label: 'fallback: host-visible coherent memory (uncached: slow CPU reads)',
          why: 'uncached readback memory',
        },
      ];
    case 'Unknown':
      return [
        {
          requiredFlags: 0,
          label: 'any type (location Unknown requests no flags)',
          why: 'location Unknown requests no flags',
        },
      ];
  }
}

const categoryCode: Readonly<Record<ResourceCategory, number>> = {
  buffer: 1,
  rtvDsvTexture: 2,
  otherTexture: 3,
};
const locationCode: Readonly<Record<MemoryLocation, number>> = {
  Unknown: 0,
  GpuOnly: 1,
  CpuToGpu: 2,
  GpuToCpu: 3,
};
const schemeCode: Readonly<Record<AllocationSchemeKind, number>> = {
  managed: 0,
  dedicatedBuffer: 1,
  dedicatedImage: 2,
};

/**
 * The key as one safe integer: memoryTypeBits (32 bits) × 128 + location (2 bits) | linear (1) |
 * scheme (2) | category (2, 0 = none). At most 2^39, so Map<number, ...> lookups allocate nothing.
 */
export function memoryTypeKeyCode(
  memoryTypeBits: number,
  location: MemoryLocation,
  linear: boolean,
  scheme: AllocationSchemeKind,
  resourceCategory: ResourceCategory | null | undefined,
): number {
  const small =
    (locationCode[location] << 5) |
    ((linear ? 1 : 0) << 4) |
    (schemeCode[scheme] << 2) |
    (resourceCategory ? categoryCode[resourceCategory] : 0);
  return (memoryTypeBits >>> 0) * 128 + small;
}

function chooseVulkan(description: DeviceDescription, key: MemoryTypeKey, id: number): MemoryTypeDecision {
  const bits = key.memoryTypeBits >>> 0;
  const specs = vulkanAttempts(key.location);
  const types = description.types;
  const allowed = (t: MemoryType): boolean => t.index < 32 && ((bits >>> t.index) & 1) === 1;
  const matches = (t: MemoryType, required: number): boolean =>
    (t.propertyFlags & required) === required && !isNonCoherentHost(t.propertyFlags);
  const candidates: MemoryTypeCandidate[] = types.map((t) => ({
    typeIndex: t.index,
    propertyFlags: t.propertyFlags,
    heapIndex: t.heapIndex,
    allowedByBits: allowed(t),
    matchesAttempt: specs.map((s) => matches(t, s.requiredFlags)),
  }));
  const attempts: MemoryTypeAttempt[] = specs.map((s, a) => {
    const c = candidates.find((c) => c.allowedByBits && c.matchesAttempt[a]);
    return {
      requiredFlags: s.requiredFlags,
      typeIndex: c === undefined ? null : c.typeIndex,
      label: s.label,
    };
  });
  const winningAttempt = attempts.findIndex((a) => a.typeIndex !== null);
  const winner = winningAttempt < 0 ? null : attempts[winningAttempt].typeIndex;

  const fallbacks: string[] = [];
  for (let a = 0; a < (winningAttempt < 0 ? attempts.length - 1 : winningAttempt); a++) {
    fallbacks.push(
      `no type allowed by memoryTypeBits ${hex(bits)} has ${describeFlags(attempts[a].requiredFlags)} (${specs[a].why}); ` +
        `fell back to ${describeFlags(attempts[a + 1].requiredFlags)}`,
    );
  }

  let reason: string;
  if (winner === null) {
    const last = attempts[attempts.length - 1].requiredFlags;
    const skipped = types.filter((t) => allowed(t) && isNonCoherentHost(t.propertyFlags));
    const note =
      skipped.length > 0
        ? `; ${skipped.map((t) => `type ${t.index} (${describeFlags(t.propertyFlags)})`).join(', ')} ` +
          `${skipped.length === 1 ? 'is' : 'are'} host-visible but not HOST_COHERENT, which is never chosen`
        : '';
    const wanted = last === 0 ? 'a usable type' : describeFlags(last);
    reason =
      bits === 0 || !types.some(allowed)
        ? `no compatible memory type: memoryTypeBits ${hex(bits)} allows none of the device's ${types.length} types${note}`
        : `no compatible memory type: no type allowed by memoryTypeBits ${hex(bits)} has ${wanted}${note}`;
  } else {
    const spec = specs[winningAttempt];
    const flagsText = spec.requiredFlags === 0 ? '' : ` with ${describeFlags(spec.requiredFlags)}`;
    const fell =
      winningAttempt > 0 ? `, after no allowed type had ${describeFlags(specs[0].requiredFlags)}` : '';
    reason = `${typeText(description, types[winner])}: lowest type allowed by memoryTypeBits ${hex(bits)}${flagsText} (${spec.why})${fell}`;
  }

  let retryTypeIndex: number | null = null;
  if (key.location === 'CpuToGpu' && winner !== null) {
    const fallback = attempts[1].typeIndex;
    retryTypeIndex = fallback !== winner ? fallback : null;
  }

  return {
    id,
    api: description.api,
    memoryTypeBits: bits,
    location: key.location,
    linear: key.linear,
    scheme: key.scheme,
    resourceCategory: key.resourceCategory ?? null,
    candidates,
    attempts,
    winner,
    reason,
    fallbacks,
    retryTypeIndex,
  };
}

/** Heap models: the Vulkan-style flags each location's heap kind carries (Unknown: none). */
const locationFlags: Readonly<Record<MemoryLocation, number>> = { Unknown: 0, ...locationPropertyFlags };

/** The heap models (D3D12, Metal): location (and tier-1 category) decide; memoryTypeBits are ignored. */
function chooseHeapModel(description: DeviceDescription, key: MemoryTypeKey, id: number): MemoryTypeDecision {
  const bits = key.memoryTypeBits >>> 0;
  const types = description.types;
  const tier1 = description.api === 'd3d12' && types.some((t) => t.resourceCategory !== undefined);
  const category: ResourceCategory | null = tier1
    ? (key.resourceCategory ?? (key.linear ? 'buffer' : 'otherTexture'))
    : (key.resourceCategory ?? null);
  // A heap-model type stands for a location: the one whose flags it carries exactly.
  const locationOf = (t: MemoryType): MemoryLocation | null => {
    for (const loc of modelLocations) if (t.propertyFlags === locationFlags[loc]) return loc;
    return null;
  };
  const matches = (t: MemoryType): boolean => {
    const loc = locationOf(t);
    const locationOk = loc !== null && (key.location === 'Unknown' || key.location === loc);
    const categoryOk = !tier1 || t.resourceCategory === undefined || t.resourceCategory === category;
    return locationOk && categoryOk;
  };
  const candidates: MemoryTypeCandidate[] = types.map((t) => ({
    typeIndex: t.index,
    propertyFlags: t.propertyFlags,
    heapIndex: t.heapIndex,
    allowedByBits: true,
    matchesAttempt: [matches(t)],
  }));
  const first = types.find(matches);
  const winner = first === undefined ? null : first.index;
  const apiName = description.api === 'metal' ? 'Metal' : `D3D12 tier ${tier1 ? 1 : 2}`;
  const what = tier1 ? `${key.location} ${category} resources` : `${key.location} resources`;
  const label =
    key.location === 'Unknown'
      ? `any ${apiName} heap${tier1 ? ` for ${category} resources` : ''} (location Unknown: first match)`
      : `the ${apiName} heap for ${what}`;
  const attempts: MemoryTypeAttempt[] = [
    { requiredFlags: locationFlags[key.location], typeIndex: winner, label },
  ];
  let reason: string;
  if (first === undefined) {
    reason = `no compatible memory type: the ${apiName} model has no heap for ${what}`;
  } else if (key.location === 'Unknown') {
    const bug =
      description.api === 'metal'
        ? " (the crate's latent bug: its create-desc helpers size Unknown requests, and turn Shared textures into Unknown ones, as Shared storage, yet they land in this Private heap)"
        : '';
    reason = `${typeText(description, first)}: location Unknown takes the first ${apiName} heap${tier1 ? ` for ${category} resources` : ''}, the GpuOnly one${bug}`;
  } else {
    reason = `${typeText(description, first)}: the ${apiName} heap for ${what}`;
  }
  return {
    id,
    api: description.api,
    memoryTypeBits: bits,
    location: key.location,
    linear: key.linear,
    scheme: key.scheme,
    resourceCategory: category,
    candidates,
    attempts,
    winner,
    reason,
    fallbacks: [],
    retryTypeIndex: null,
  };
}

/**
 * Chooses the memory type for `key` on `description` as gpu-allocator does and explains why.
 * `winner` null means NoCompatibleMemoryTypeFound. Pure; `id` is stored in the record.
 */
export function chooseMemoryType(
  description: DeviceDescription,
  key: MemoryTypeKey,
  id: number,
): MemoryTypeDecision {
  return description.api === 'vulkan'
    ? chooseVulkan(description, key, id)
    : chooseHeapModel(description, key, id);
}

/**
 * Decisions of one device, computed once per key and shared. Ids are 0, 1, 2, ... in order of first use;
 * the hot path (`lookup`, or `get` with a key object the caller keeps) allocates nothing once warm.
 */
export class MemoryTypeDecisionCache {
  readonly description: DeviceDescription;
  private readonly byKey = new Map<number, MemoryTypeDecision>();
  private readonly byId: MemoryTypeDecision[] = [];

  constructor(description: DeviceDescription) {
    this.description = description;
  }

  /** The decision for a key (computed on first use), or, given an id, the decision with that id. */
  get(key: MemoryTypeKey): MemoryTypeDecision;
  get(id: number): MemoryTypeDecision | undefined;
  get(keyOrId: MemoryTypeKey | number): MemoryTypeDecision | undefined {
    if (typeof keyOrId === 'number') return this.byId[keyOrId];
    return this.lookup(
      keyOrId.memoryTypeBits,
      keyOrId.location,
      keyOrId.linear,
      keyOrId.scheme,
      keyOrId.resourceCategory,
    );
  }

  /** Same as get(key) with the key spelled out, so callers need no key object. */
  lookup(
    memoryTypeBits: number,
    location: MemoryLocation,
    linear: boolean,
    scheme: AllocationSchemeKind,
    resourceCategory?: ResourceCategory | null,
  ): MemoryTypeDecision {
    const code = memoryTypeKeyCode(memoryTypeBits, location, linear, scheme, resourceCategory);
    const hit = this.byKey.get(code);
    if (hit !== undefined) return hit;
    const decision = chooseMemoryType(
      this.description,
      { memoryTypeBits, location, linear, scheme, resourceCategory: resourceCategory ?? null },
      this.byId.length,
    );
    this.byKey.set(code, decision);
    this.byId.push(decision);
    return decision;
  }

  /** Number of distinct decisions so far (= the next id). */
  get size(): number {
    return this.byId.length;
  }

  /** Every decision, in id order. */
  all(): readonly MemoryTypeDecision[] {
    return this.byId;
  }
}
