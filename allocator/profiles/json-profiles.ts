// Readers of the JSON device descriptions users find on the web, into a DeviceDescription:
//
// - gpuinfo.org report JSON (what the Vulkan Hardware Capability Viewer uploads and vulkan.gpuinfo.org
//   serves as "JSON" for a report): "properties" (deviceName, vendorID, deviceID, deviceType,
//   driverVersion[Text], apiVersion[Text], "limits"), "memory" ({memoryHeaps: [{flags, size}],
//   memoryTypes: [{propertyFlags, heapIndex}]}; sizes are "0x..." strings in report versions 1.4-4.0),
//   "extensions" ([{extensionName}]), "core11".properties.maxMemoryAllocationSize or the
//   VK_KHR_maintenance3 entry of "extended".deviceproperties2.
// - vulkaninfo --json of Vulkan SDK 1.1-1.3.204 (the "devsim" schema): top-level VkPhysicalDeviceProperties,
//   VkPhysicalDeviceMemoryProperties, ArrayOfVkExtensionProperties, VkPhysicalDeviceMaintenance3Properties.
// - Vulkan Profiles JSON (vulkaninfo --json since SDK 1.3.204, gpuinfo.org's profile export): "capabilities"
//   blocks with extensions and properties. The Profiles schema has no memory heaps or types, so such a
//   file only yields a description when a VkPhysicalDeviceMemoryProperties object was added to its
//   properties (devsim shape); otherwise the error says so and what to give instead.
//
// Numbers may be JSON numbers, decimal strings or "0x" strings; flags may be numbers or lists of names.
// Every problem is a ProfileJsonError naming the JSON path.
import type {
  DeviceDescription,
  DeviceExtensions,
  MemoryHeap,
  MemoryType,
  PhysicalDeviceType,
} from '../device.ts';
import { MemoryHeapFlags, MemoryPropertyFlags } from '../device.ts';
import { ProfileJsonError } from './profile-error.ts';
import { decodeDriverVersion } from './vulkaninfo.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const maxHeaps = 16;
const maxTypes = 32;

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value at a JSON path, with typed accessors that fail naming the path. */
class At {
  constructor(
    readonly source: string,
    readonly path: string,
    readonly value: Json | undefined,
  ) {}
  fail(detail: string): never {
    throw new ProfileJsonError(this.source, this.path, detail);
  }
  key(name: string): At {
    const v = isObject(this.value) ? this.value[name] : undefined;
    return new At(this.source, this.path === '' ? name : `${this.path}.${name}`, v);
  }
  index(k: number): At {
    const v = Array.isArray(this.value) ? this.value[k] : undefined;
    return new At(this.source, `${this.path}[${k}]`, v);
  }
  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }
  object(what: string): JsonObject {
    if (!isObject(this.value)) this.fail(`expected ${what} (an object), ${this.found()}`);
    return this.value;
  }
  array(what: string): Json[] {
    if (!Array.isArray(this.value)) this.fail(`expected ${what} (an array), ${this.found()}`);
    return this.value;
  }
  string(what: string): string {
    if (typeof this.value !== 'string' || this.value.trim() === '')
      this.fail(`expected ${what}, ${this.found()}`);
    return this.value.trim();
  }
  /** A number, decimal string or 0x string; null when not a non-negative integer. */
  private integerOrNull(): number | null {
    const v = this.value;
    if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : null;
    if (typeof v === 'string' && /^\s*(0[xX][0-9a-fA-F]+|\d+)\s*$/.test(v)) return Number(v.trim());
    return null;
  }
  /** An exact integer: values of 2^53 or more are refused (sizes). */
  integer(what: string): number {
    const n = this.integerOrNull();
    if (n === null) this.fail(`expected ${what} (an integer), ${this.found()}`);
    if (!Number.isSafeInteger(n))
      this.fail(`${what} ${this.found().slice(4)} is too large (not a safe integer)`);
    return n;
  }
  /** A limit: values of 2^53 or more mean "no practical limit" and are clamped, as the text parser does. */
  limit(what: string): number {
    const n = this.integerOrNull();
    if (n === null) this.fail(`expected ${what} (an integer), ${this.found()}`);
    return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
  }
  /** Flags as a number or as names ("VK_MEMORY_HEAP_DEVICE_LOCAL_BIT", "MEMORY_PROPERTY_HOST_VISIBLE_BIT"). */
  flags(what: string, prefix: string, table: Readonly<Record<string, number>>): number {
    const v = this.value;
    if (v === undefined || v === null) return 0;
    if (typeof v === 'number' || (typeof v === 'string' && /^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(v))) {
      const n = this.integerOrNull();
      if (n === null || n > 0xffffffff) this.fail(`expected ${what}, ${this.found()}`);
      return n;
    }
    const names = typeof v === 'string' ? v.split('|') : Array.isArray(v) ? v : null;
    if (names === null) this.fail(`expected ${what} (a number or a list of flag names), ${this.found()}`);
    let bits = 0;
    names.forEach((entry, k) => {
      if (typeof entry !== 'string')
        return this.index(k).fail(`expected a flag name, ${this.index(k).found()}`);
      const name = entry;
      const bare = name
        .trim()
        .replace(/^VK_/, '')
        .replace(new RegExp(`^${prefix}`), '')
        .replace(/_BIT(_[A-Z]+)?$/, (_m: string, vendor: string | undefined) => vendor ?? '');
      const bit = table[bare];
      if (bit === undefined && bare !== '' && bare !== 'None')
        this.index(k).fail(`unknown ${what} name ${JSON.stringify(name)}`);
      bits |= bit ?? 0;
    });
    return bits >>> 0;
  }
  found(): string {
    if (this.value === undefined) return 'found nothing';
    const text = JSON.stringify(this.value);
    return `got ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
  }
}

/** "1.3.224" from a packed VK_MAKE_API_VERSION number (the variant bits are dropped). */
function apiVersionText(packed: number): string {
  return `${(packed >>> 22) & 0x7f}.${(packed >>> 12) & 0x3ff}.${packed & 0xfff}`;
}

/** VkPhysicalDeviceType as a number (0..4) or a name ("VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU", "DISCRETE_GPU"). */
function deviceTypeAt(at: At): PhysicalDeviceType {
  const v = at.value;
  const byNumber: readonly PhysicalDeviceType[] = ['other', 'integrated', 'discrete', 'virtual', 'cpu'];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < byNumber.length) return byNumber[v];
  if (typeof v === 'string') {
    const u = v.toUpperCase();
    if (u.includes('DISCRETE')) return 'discrete';
    if (u.includes('INTEGRATED')) return 'integrated';
    if (u.includes('VIRTUAL')) return 'virtual';
    if (u.includes('CPU')) return 'cpu';
    if (u.includes('OTHER')) return 'other';
  }
  return at.fail(`expected a VkPhysicalDeviceType (0-4 or a name such as DISCRETE_GPU), ${at.found()}`);
}

/** memoryHeaps / memoryTypes arrays of devsim, gpuinfo and hand-extended Profiles files. */
function memoryAt(memory: At): { heaps: MemoryHeap[]; types: MemoryType[] } {
  memory.object('the memory properties');
  const heapsAt = memory.key('memoryHeaps');
  const heapList = heapsAt.array('the list of memory heaps');
  if (heapList.length < 1 || heapList.length > maxHeaps)
    heapsAt.fail(`expected 1..${maxHeaps} memory heaps, got ${heapList.length}`);
  const heaps = heapList.map((_h, k): MemoryHeap => {
    const h = heapsAt.index(k);
    h.object('a memory heap');
    return {
      index: k,
      size: h.key('size').integer('heap size'),
      flags: h.key('flags').flags('heap flags', 'MEMORY_HEAP_', MemoryHeapFlags),
    };
  });
  const typesAt = memory.key('memoryTypes');
  const typeList = typesAt.array('the list of memory types');
  if (typeList.length < 1 || typeList.length > maxTypes)
    typesAt.fail(`expected 1..${maxTypes} memory types, got ${typeList.length}`);
  const types = typeList.map((_t, k): MemoryType => {
    const t = typesAt.index(k);
    t.object('a memory type');
    const heapIndexAt = t.key('heapIndex');
    const heapIndex = heapIndexAt.integer('heap index');
    if (heapIndex >= heaps.length)
      heapIndexAt.fail(`heapIndex ${heapIndex} is not one of the ${heaps.length} heaps`);
    return {
      index: k,
      heapIndex,
      propertyFlags: t
        .key('propertyFlags')
        .flags('memory property flags', 'MEMORY_PROPERTY_', MemoryPropertyFlags),
    };
  });
  return { heaps, types };
}

function apiAtLeast(apiVersion: string, major: number, minor: number): boolean {
  const [ma, mi] = apiVersion.split('.').map(Number);
  return ma > major || (ma === major && mi >= minor);
}

function extensionsFrom(names: ReadonlySet<string>, apiVersion: string): DeviceExtensions {
  return {
    memoryBudget: names.has('VK_EXT_memory_budget'),
    dedicatedAllocation: names.has('VK_KHR_dedicated_allocation') || apiAtLeast(apiVersion, 1, 1),
    bufferDeviceAddress: names.has('VK_KHR_buffer_device_address') || apiAtLeast(apiVersion, 1, 2),
  };
}

interface Identity {
  readonly name: string;
  readonly deviceType: PhysicalDeviceType;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly driverVersion: string;
  readonly apiVersion: string;
}

function limitsFrom(limits: At, maxAllocationSize: At | null, heaps: readonly MemoryHeap[]) {
  limits.object('VkPhysicalDeviceLimits');
  const at = (name: string, min = 1): number => {
    const a = limits.key(name);
    const n = a.limit(name);
    if (n < min) a.fail(`${name} must be at least ${min}, got ${n}`);
    return n;
  };
  const largestHeap = heaps.reduce((m, h) => Math.max(m, h.size), 0);
  return {
    bufferImageGranularity: at('bufferImageGranularity'),
    nonCoherentAtomSize: at('nonCoherentAtomSize'),
    maxMemoryAllocationCount: at('maxMemoryAllocationCount'),
    // Absent (no maintenance3): only the heap bounds an allocation, as in the text parser.
    maxMemoryAllocationSize:
      maxAllocationSize === null ? largestHeap : maxAllocationSize.limit('maxMemoryAllocationSize'),
  };
}

function describe(
  identity: Identity,
  memory: { heaps: MemoryHeap[]; types: MemoryType[] },
  limits: ReturnType<typeof limitsFrom>,
  extensionNames: ReadonlySet<string>,
  sourceName: string,
): DeviceDescription {
  return {
    ...identity,
    api: 'vulkan',
    heaps: memory.heaps,
    types: memory.types,
    limits,
    extensions: extensionsFrom(extensionNames, identity.apiVersion),
    source: `profile:${sourceName}`,
  };
}

/** A report uploaded to vulkan.gpuinfo.org (Vulkan Hardware Capability Viewer JSON). */
export function parseGpuinfoReport(root: Json, sourceName: string): DeviceDescription {
  const top = new At(sourceName, '', root);
  const props = top.key('properties');
  props.object('the device properties');
  const vendorId = props.key('vendorID').integer('vendor id');
  const driverText = props.key('driverVersionText');
  const apiText = props.key('apiVersionText');
  const identity: Identity = {
    name: props.key('deviceName').string('a device name'),
    deviceType: deviceTypeAt(props.key('deviceType')),
    vendorId,
    deviceId: props.key('deviceID').integer('device id'),
    driverVersion: driverText.present
      ? driverText.string('a driver version')
      : decodeDriverVersion(vendorId, props.key('driverVersion').integer('driver version')),
    apiVersion: apiText.present
      ? apiText.string('an API version')
      : apiVersionText(props.key('apiVersion').integer('API version')),
  };
  const memory = memoryAt(top.key('memory'));
  // maxMemoryAllocationSize: Vulkan 1.1 core properties, else the VK_KHR_maintenance3 property entry.
  let maxSize: At | null = null;
  const core11 = top.key('core11').key('properties').key('maxMemoryAllocationSize');
  if (core11.present) maxSize = core11;
  else {
    const list = top.key('extended').key('deviceproperties2');
    if (Array.isArray(list.value)) {
      const k = list.value.findIndex((e) => isObject(e) && e.name === 'maxMemoryAllocationSize');
      if (k >= 0) maxSize = list.index(k).key('value');
    }
  }
  const names = new Set<string>();
  const ext = top.key('extensions');
  if (ext.present) {
    ext.array('the list of device extensions').forEach((_e, k) => {
      names.add(ext.index(k).key('extensionName').string('an extension name'));
    });
  }
  return describe(
    identity,
    memory,
    limitsFrom(props.key('limits'), maxSize, memory.heaps),
    names,
    sourceName,
  );
}

/** vulkaninfo --json of Vulkan SDK 1.1 to 1.3.204 (devsim schema). */
export function parseDevsimJson(root: Json, sourceName: string): DeviceDescription {
  const top = new At(sourceName, '', root);
  const props = top.key('VkPhysicalDeviceProperties');
  props.object('VkPhysicalDeviceProperties');
  const vendorId = props.key('vendorID').integer('vendor id');
  const identity: Identity = {
    name: props.key('deviceName').string('a device name'),
    deviceType: deviceTypeAt(props.key('deviceType')),
    vendorId,
    deviceId: props.key('deviceID').integer('device id'),
    driverVersion: decodeDriverVersion(vendorId, props.key('driverVersion').integer('driver version')),
    apiVersion: apiVersionText(props.key('apiVersion').integer('API version')),
  };
  const memory = memoryAt(top.key('VkPhysicalDeviceMemoryProperties'));
  const maint3 = top.key('VkPhysicalDeviceMaintenance3Properties').key('maxMemoryAllocationSize');
  const names = new Set<string>();
  const ext = top.key('ArrayOfVkExtensionProperties');
  if (ext.present) {
    ext.array('the list of device extensions').forEach((_e, k) => {
      names.add(ext.index(k).key('extensionName').string('an extension name'));
    });
  }
  return describe(
    identity,
    memory,
    limitsFrom(props.key('limits'), maint3.present ? maint3 : null, memory.heaps),
    names,
    sourceName,
  );
}

/** The properties object of a Profiles JSON file: the blocks its first profile lists, merged in order. */
function profilesProperties(top: At): {
  properties: Map<string, At>;
  extensions: Set<string>;
  label: string | null;
} {
  const caps = top.key('capabilities');
  const capsObject = caps.object('the capabilities blocks');
  let blockNames = Object.keys(capsObject);
  let label: string | null = null;
  const profiles = top.key('profiles');
  if (isObject(profiles.value)) {
    const first = Object.keys(profiles.value)[0];
    if (first !== undefined) {
      const profile = profiles.key(first);
      const listed = profile.key('capabilities').value;
      if (Array.isArray(listed) && listed.every((n) => typeof n === 'string')) {
        blockNames = (listed as string[]).filter((n) => n in capsObject);
      }
      label = typeof profile.key('label').value === 'string' ? (profile.key('label').value as string) : first;
    }
  }
  const properties = new Map<string, At>();
  const extensions = new Set<string>();
  for (const block of blockNames) {
    const b = caps.key(block);
    const p = b.key('properties');
    if (isObject(p.value)) for (const name of Object.keys(p.value)) properties.set(name, p.key(name));
    const e = b.key('extensions');
    if (isObject(e.value)) for (const name of Object.keys(e.value)) extensions.add(name);
  }
  if (blockNames.length === 0) caps.fail('expected at least one capabilities block, found none');
  return { properties, extensions, label };
}

/** Vulkan Profiles JSON (vulkaninfo --json since SDK 1.3.204, gpuinfo.org profile export). */
export function parseVulkanProfilesJson(root: Json, sourceName: string): DeviceDescription {
  const top = new At(sourceName, '', root);
  const { properties, extensions, label } = profilesProperties(top);
  const firstBlock = Object.keys(top.key('capabilities').object('the capabilities blocks'))[0];
  const where = `capabilities.${firstBlock}.properties`;
  const props = properties.get('VkPhysicalDeviceProperties');
  const memoryAtPath = properties.get('VkPhysicalDeviceMemoryProperties');
  if (memoryAtPath === undefined) {
    const described = [
      label,
      props?.key('deviceName').value,
      props?.key('vendorID').present ? `vendor 0x${Number(props.key('vendorID').value).toString(16)}` : null,
    ].filter((x) => typeof x === 'string' && x !== '');
    throw new ProfileJsonError(
      sourceName,
      `${where}.VkPhysicalDeviceMemoryProperties`,
      `not present. This is a Vulkan Profiles file${described.length > 0 ? ` (${described.join(', ')})` : ''}; the ` +
        'Profiles format (what `vulkaninfo --json` writes since Vulkan SDK 1.3.204, and gpuinfo.org\'s "profile" ' +
        "download) carries no memory heaps or memory types, so this GPU's memory cannot be modelled from it. " +
        'Use the full `vulkaninfo` text output, `vulkaninfo --json` of SDK 1.3.204 or older, or the report JSON ' +
        'of the GPU on vulkan.gpuinfo.org instead.',
    );
  }
  if (props === undefined)
    return top.key('capabilities').fail('no capabilities block has VkPhysicalDeviceProperties');
  props.object('VkPhysicalDeviceProperties');
  // Profiles list only the properties a profile constrains: identity fields may be absent.
  const optional = <T>(name: string, read: (at: At) => T, absent: T): T => {
    const at = props.key(name);
    return at.present ? read(at) : absent;
  };
  const vendorId = optional('vendorID', (a) => a.integer('vendor id'), 0);
  const identity: Identity = {
    name: optional('deviceName', (a) => a.string('a device name'), label ?? sourceName),
    deviceType: optional('deviceType', deviceTypeAt, 'other'),
    vendorId,
    deviceId: optional('deviceID', (a) => a.integer('device id'), 0),
    driverVersion: optional(
      'driverVersion',
      (a) => decodeDriverVersion(vendorId, a.integer('driver version')),
      'unknown',
    ),
    apiVersion: optional('apiVersion', (a) => apiVersionText(a.integer('API version')), '1.0.0'),
  };
  const memory = memoryAt(memoryAtPath);
  const maxSize =
    properties.get('VkPhysicalDeviceMaintenance3Properties')?.key('maxMemoryAllocationSize') ??
    properties.get('VkPhysicalDeviceMaintenance3PropertiesKHR')?.key('maxMemoryAllocationSize') ??
    properties.get('VkPhysicalDeviceVulkan11Properties')?.key('maxMemoryAllocationSize') ??
    null;
  return describe(
    identity,
    memory,
    limitsFrom(props.key('limits'), maxSize !== null && maxSize.present ? maxSize : null, memory.heaps),
    extensions,
    sourceName,
  );
}
