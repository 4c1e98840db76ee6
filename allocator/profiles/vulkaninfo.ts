// Parser of the text output of `vulkaninfo` (the full report, not --summary or --json) into a
// DeviceDescription. It reads one "GPU<n>:" section: VkPhysicalDeviceProperties (name, ids, versions),
// the limits the allocator needs, the device extension list and VkPhysicalDeviceMemoryProperties (heaps
// and types). Every number goes through Number.isSafeInteger; anything unexpected is a ProfileParseError
// naming the 1-based line.
//
// Layouts read (vulkaninfo's printer changed several times; indentation may be tabs or spaces, line ends
// LF, CRLF or CR):
// - 1.0.x (C vulkaninfo, 2016-2017): "VULKAN INFO" banner, "GPU0" without a colon, memory types listed
//   before heaps as "memoryTypeCount = N" / "memoryTypes[0] :", "propertyFlags = 0x7:" followed by
//   VK_MEMORY_PROPERTY_*_BIT names (the earliest builds print the flags in decimal), "Device Extensions
//   count = N".
// - 1.1.x (C vulkaninfo, 2018-2019): heaps before types, "memoryHeapCount = N", per-heap budget/usage.
// - 1.2.x to today (C++ vulkaninfo): "memoryHeaps: count = N" / "memoryHeaps[0]:", "flags: count = 1"
//   with MEMORY_HEAP_*_BIT names, "propertyFlags = 0x00000007:" with names, "usable for:" blocks.
// Either group may come first; both are required.
//
// Defaults and inferences (see docs/profiles.md):
// - maxMemoryAllocationSize comes from VkPhysicalDeviceMaintenance3Properties (or Vulkan11Properties,
//   same value). Drivers without maintenance3 state no limit; we then use the largest heap's size, i.e.
//   only the heap bounds an allocation (what VMA does with its "unlimited" default).
// - Limits that a driver reports as "unlimited" with a value >= 2^53 (e.g. 0xffffffffffffffff) are
//   clamped to Number.MAX_SAFE_INTEGER; heap sizes >= 2^53 are an error.
// - dedicatedAllocation: VK_KHR_dedicated_allocation listed, or apiVersion >= 1.1 (core).
//   bufferDeviceAddress: VK_KHR_buffer_device_address listed, or apiVersion >= 1.2 (core).
//   memoryBudget: VK_EXT_memory_budget listed (never core).
import type {
  DeviceDescription,
  DeviceExtensions,
  DeviceLimits,
  MemoryHeap,
  MemoryType,
  PhysicalDeviceType,
} from '../device.ts';
import { MemoryHeapFlags, MemoryPropertyFlags } from '../device.ts';
import { ProfileParseError } from './profile-error.ts';

export interface ParseVulkaninfoOptions {
  /** The n of the "GPU<n>:" section to read; default: the first GPU section in the file. */
  readonly gpuIndex?: number;
}

/** Vulkan allows at most 16 heaps and 32 memory types (VK_MAX_MEMORY_HEAPS / VK_MAX_MEMORY_TYPES). */
const maxHeaps = 16;
const maxTypes = 32;

const underline = /^[=-]+$/;
/** "GPU0:" (1.2+) or "GPU0" (1.0.x/1.1.x), alone on its line. */
const gpuHeader = /^\s*GPU(\d+):?\s*$/;
/** The part of the report where the per-GPU sections start (its name changed over the versions). */
const deviceSectionsStart = /^\s*(Device Properties and Extensions|Device Extensions and layers)\s*:?\s*$/;

class Reader {
  readonly lines: string[];
  readonly source: string;
  constructor(text: string, source: string) {
    this.lines = text.split(/\r\n|\n|\r/);
    this.source = source;
  }
  /** `index` is 0-based; messages use 1-based line numbers. */
  fail(index: number, detail: string): never {
    const line = Math.min(Math.max(index, 0), Math.max(this.lines.length - 1, 0)) + 1;
    throw new ProfileParseError(this.source, line, detail);
  }
  indent(index: number): number {
    const text = this.lines[index];
    let n = 0;
    while (n < text.length && (text[n] === '\t' || text[n] === ' ')) n++;
    return n;
  }
  blank(index: number): boolean {
    return this.lines[index].trim() === '';
  }
}

function quote(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 60 ? `${t.slice(0, 57)}...` : t);
}

/** A decimal or 0x-hex integer at the start of `value` ("85520809984 (0x13e9700000) (79.65 GiB)"). */
function leadingInteger(value: string): number | null {
  const m = /^\s*(0[xX][0-9a-fA-F]+|\d+)(?=$|[\s(:,])/.exec(value);
  if (m === null) return null;
  return Number(m[1]);
}

function integer(r: Reader, index: number, value: string, what: string): number {
  const n = leadingInteger(value);
  if (n === null) r.fail(index, `expected ${what}, got ${quote(value)}`);
  if (!Number.isSafeInteger(n)) r.fail(index, `${what} ${quote(value)} is too large (not a safe integer)`);
  return n;
}

/** Limits: values >= 2^53 mean "no practical limit" and are clamped (documented above). */
function limitInteger(r: Reader, index: number, value: string, what: string): number {
  const n = leadingInteger(value);
  if (n === null) r.fail(index, `expected ${what}, got ${quote(value)}`);
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** "1.3.230 (4206822)", "4206822 (1.3.230)" or a bare packed VK_MAKE_API_VERSION number. */
function version(r: Reader, index: number, value: string, what: string): string {
  const dotted = /(\d+\.\d+\.\d+(?:\.\d+)?)/.exec(value);
  if (dotted !== null) return dotted[1];
  const n = leadingInteger(value);
  if (n === null || !Number.isSafeInteger(n)) r.fail(index, `expected ${what}, got ${quote(value)}`);
  return `${(n >>> 22) & 0x7f}.${(n >>> 12) & 0x3ff}.${n & 0xfff}`;
}

/**
 * A driver version printed as a bare packed number, decoded the way the vendor packs it (as gpuinfo.org
 * does): NVIDIA 10.8.8.6 bits, everyone else VK_MAKE_VERSION 10.10.12 bits. (Intel's Windows driver packs
 * 18.14 bits, but nothing in the report says which OS wrote it, so it reads as VK_MAKE_VERSION here.)
 */
export function decodeDriverVersion(vendorId: number, packed: number): string {
  const v = packed >>> 0;
  if (vendorId === 0x10de) return `${v >>> 22}.${(v >>> 14) & 0xff}.${(v >>> 6) & 0xff}.${v & 0x3f}`;
  return `${v >>> 22}.${(v >>> 12) & 0x3ff}.${v & 0xfff}`;
}

function deviceTypeOf(r: Reader, index: number, value: string): PhysicalDeviceType {
  const v = value.toUpperCase();
  if (v.includes('DISCRETE')) return 'discrete';
  if (v.includes('INTEGRATED')) return 'integrated';
  if (v.includes('VIRTUAL')) return 'virtual';
  if (v.includes('CPU')) return 'cpu';
  if (v.includes('OTHER')) return 'other';
  return r.fail(
    index,
    `expected a device type such as PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, got ${quote(value)}`,
  );
}

/** Finds the first "key = value" line in [start, end); returns its index or -1. */
function findKey(r: Reader, start: number, end: number, key: string): number {
  const re = new RegExp(`^\\s*${key}\\s*=`);
  for (let i = start; i < end; i++) if (re.test(r.lines[i])) return i;
  return -1;
}

function valueOf(r: Reader, index: number): string {
  const text = r.lines[index];
  return text.slice(text.indexOf('=') + 1).trim();
}

function requireKey(r: Reader, start: number, end: number, key: string, section: string): number {
  const i = findKey(r, start, end, key);
  if (i < 0) r.fail(start - 1, `GPU section starting here has no ${key} (expected in ${section})`);
  return i;
}

/** The "GPU<n>" header lines of the per-GPU sections, in file order. */
function gpuHeaders(r: Reader): { index: number; gpu: number }[] {
  // Headers before the per-GPU part (a "Devices:" summary in some versions) are not device sections.
  let from = r.lines.findIndex((l) => deviceSectionsStart.test(l));
  if (from < 0) from = 0;
  const headers: { index: number; gpu: number }[] = [];
  for (let i = from; i < r.lines.length; i++) {
    const m = gpuHeader.exec(r.lines[i]);
    if (m !== null) headers.push({ index: i, gpu: Number(m[1]) });
  }
  return headers;
}

/** The n of every "GPU<n>" section in a vulkaninfo text report, in file order. */
export function listVulkaninfoGpus(text: string, sourceName: string): number[] {
  const r = new Reader(text, sourceName);
  checkIsVulkaninfo(r);
  return gpuHeaders(r).map((h) => h.gpu);
}

/** The [start, end) line range of the chosen GPU section (start = the line after "GPU<n>:"). */
function gpuSection(r: Reader, options: ParseVulkaninfoOptions): { start: number; end: number; gpu: number } {
  const headers = gpuHeaders(r);
  if (headers.length === 0) {
    r.fail(
      r.lines.length - 1,
      'the file ends without any "GPU<n>:" device section (truncated vulkaninfo output?)',
    );
  }
  let k = 0;
  if (options.gpuIndex !== undefined) {
    k = headers.findIndex((h) => h.gpu === options.gpuIndex);
    if (k < 0) {
      const listed = headers.map((h) => `GPU${h.gpu}`).join(', ');
      r.fail(headers[0].index, `GPU${options.gpuIndex} was requested but the file only lists ${listed}`);
    }
  }
  const end = k + 1 < headers.length ? headers[k + 1].index : r.lines.length;
  return { start: headers[k].index + 1, end, gpu: headers[k].gpu };
}

function parseExtensions(r: Reader, start: number, end: number): Set<string> {
  const names = new Set<string>();
  for (let i = start; i < end; i++) {
    // "Device Extensions: count = N" (1.1+) or "Device Extensions\tcount = N" (1.0.x).
    if (!/^\s*Device Extensions\b/.test(r.lines[i])) continue;
    for (let j = i + 1; j < end; j++) {
      if (underline.test(r.lines[j].trim())) continue;
      const m = /^\s+(VK_\w+)\s*:/.exec(r.lines[j]);
      if (m === null) break;
      names.add(m[1]);
    }
    break;
  }
  return names;
}

/** Flag names as vulkaninfo prints them ("MEMORY_HEAP_DEVICE_LOCAL_BIT", "None") → bits. */
function flagBits(name: string, prefix: string, table: Readonly<Record<string, number>>): number {
  let n = name.trim().replace(/^VK_/, '');
  if (n === '' || n === 'None') return 0;
  if (n.startsWith(prefix)) n = n.slice(prefix.length);
  n = n.replace(/_BIT(_[A-Z]+)?$/, (_m: string, vendor: string | undefined) => vendor ?? '');
  // Unknown names (future or vendor bits) are ignored: for types the printed hex value has every bit.
  return table[n] ?? 0;
}

/** Reads the block of lines indented deeper than `header`; returns the index after it. */
function blockEnd(r: Reader, header: number, end: number): number {
  const base = r.indent(header);
  let i = header + 1;
  while (i < end && (r.blank(i) || r.indent(i) > base)) i++;
  // Trailing blank lines belong to nobody.
  while (i > header + 1 && r.blank(i - 1)) i--;
  return i;
}

/** Parses "flags: count = 1" + names below, "flags:" + "None", or "flags = 0x1" / "flags = NAME | NAME". */
function parseFlags(
  r: Reader,
  index: number,
  end: number,
  prefix: string,
  table: Readonly<Record<string, number>>,
  what: string,
): number {
  const text = r.lines[index];
  const sep = /^\s*\w+\s*([:=])\s*(.*)$/.exec(text);
  if (sep === null) return r.fail(index, `expected ${what}, got ${quote(text)}`);
  const rest = sep[2];
  const numeric = leadingInteger(rest);
  if (numeric !== null) {
    if (!Number.isSafeInteger(numeric) || numeric > 0xffffffff)
      r.fail(index, `${what} ${quote(rest)} is out of range`);
    return numeric;
  }
  let bits = 0;
  if (sep[1] === '=') {
    for (const part of rest.split('|')) bits |= flagBits(part, prefix, table);
    return bits >>> 0;
  }
  if (rest !== '' && !/^count\s*=\s*\d+$/.test(rest)) r.fail(index, `expected ${what}, got ${quote(rest)}`);
  const stop = blockEnd(r, index, end);
  for (let i = index + 1; i < stop; i++) if (!r.blank(i)) bits |= flagBits(r.lines[i], prefix, table);
  return bits >>> 0;
}

/** Skips blank and underline lines from `i`; returns the next content line or `end`. */
function skipFiller(r: Reader, i: number, end: number): number {
  while (i < end && (r.blank(i) || underline.test(r.lines[i].trim()))) i++;
  return i;
}

/** "memoryHeaps: count = N" (1.2+) or "memoryHeapCount = N" (1.0.x/1.1.x); null if the line is neither. */
function countOf(line: string, name: 'memoryHeaps' | 'memoryTypes'): number | null {
  const singular = name === 'memoryHeaps' ? 'memoryHeapCount' : 'memoryTypeCount';
  const m = new RegExp(`^\\s*(?:${name}\\s*:\\s*count|${singular})\\s*=\\s*(\\d+)\\s*$`).exec(line);
  return m === null ? null : Number(m[1]);
}

function expectCount(
  r: Reader,
  i: number,
  end: number,
  name: 'memoryHeaps' | 'memoryTypes',
  max: number,
): number {
  if (i >= end) r.fail(end - 1, `the file ends before "${name}: count = N" (truncated vulkaninfo output?)`);
  const n = countOf(r.lines[i], name);
  if (n === null) r.fail(i, `expected "${name}: count = N", got ${quote(r.lines[i])}`);
  if (n < 1 || n > max) r.fail(i, `${name} count ${n} is outside 1..${max}`);
  return n;
}

function expectEntry(r: Reader, i: number, end: number, name: string, k: number, count: number): void {
  if (i >= end) {
    r.fail(end - 1, `the file ends after ${k} of ${count} ${name} (expected "${name}[${k}]:"; truncated?)`);
  }
  const m = new RegExp(`^\\s*${name.replace(/[[\]]/g, '\\$&')}\\[(\\d+)\\]\\s*:\\s*$`).exec(r.lines[i]);
  if (m === null || Number(m[1]) !== k) r.fail(i, `expected "${name}[${k}]:", got ${quote(r.lines[i])}`);
}

/** Parses "memoryHeaps: count = N" and its N entries starting at line i; returns them and the next line. */
function parseHeaps(r: Reader, i: number, end: number): { heaps: MemoryHeap[]; next: number } {
  const heapCount = expectCount(r, i, end, 'memoryHeaps', maxHeaps);
  i = skipFiller(r, i + 1, end);
  const heaps: MemoryHeap[] = [];
  for (let k = 0; k < heapCount; k++) {
    expectEntry(r, i, end, 'memoryHeaps', k, heapCount);
    const stop = blockEnd(r, i, end);
    let size: number | null = null;
    let flags = 0;
    for (let j = i + 1; j < stop; j++) {
      const line = r.lines[j];
      if (/^\s*size\s*=/.test(line)) size = integer(r, j, valueOf(r, j), 'heap size');
      else if (/^\s*flags\s*[:=]/.test(line))
        flags = parseFlags(r, j, stop, 'MEMORY_HEAP_', MemoryHeapFlags, 'heap flags');
    }
    if (size === null) r.fail(stop - 1, `expected heap size ("size = N") in memoryHeaps[${k}], found none`);
    heaps.push({ index: k, size, flags });
    i = skipFiller(r, stop, end);
  }
  return { heaps, next: i };
}

interface ParsedTypes {
  readonly types: MemoryType[];
  /** The line of each type's heapIndex, checked against the heaps once both groups are read. */
  readonly heapIndexLines: number[];
  readonly next: number;
}

function parseTypes(r: Reader, i: number, end: number): ParsedTypes {
  const typeCount = expectCount(r, i, end, 'memoryTypes', maxTypes);
  i = skipFiller(r, i + 1, end);
  const types: MemoryType[] = [];
  const heapIndexLines: number[] = [];
  for (let k = 0; k < typeCount; k++) {
    expectEntry(r, i, end, 'memoryTypes', k, typeCount);
    const stop = blockEnd(r, i, end);
    let heapIndex: number | null = null;
    let heapIndexLine = -1;
    let propertyFlags: number | null = null;
    for (let j = i + 1; j < stop; j++) {
      const line = r.lines[j];
      if (/^\s*heapIndex\s*=/.test(line)) {
        heapIndex = integer(r, j, valueOf(r, j), 'heap index');
        heapIndexLine = j;
      } else if (/^\s*propertyFlags\s*[:=]/.test(line)) {
        propertyFlags = parseFlags(
          r,
          j,
          stop,
          'MEMORY_PROPERTY_',
          MemoryPropertyFlags,
          'memory property flags',
        );
      }
    }
    if (heapIndex === null) r.fail(stop - 1, `expected "heapIndex = N" in memoryTypes[${k}], found none`);
    if (propertyFlags === null)
      r.fail(stop - 1, `expected "propertyFlags = 0x..." in memoryTypes[${k}], found none`);
    types.push({ index: k, propertyFlags, heapIndex });
    heapIndexLines.push(heapIndexLine);
    i = skipFiller(r, stop, end);
  }
  return { types, heapIndexLines, next: i };
}

function parseMemory(
  r: Reader,
  start: number,
  end: number,
  gpu: number,
): { heaps: MemoryHeap[]; types: MemoryType[] } {
  let i = start;
  while (i < end && r.lines[i].trim() !== 'VkPhysicalDeviceMemoryProperties:') i++;
  if (i >= end) {
    r.fail(
      end - 1,
      `GPU${gpu} has no VkPhysicalDeviceMemoryProperties section (truncated, or \`vulkaninfo --summary\` output?)`,
    );
  }
  i = skipFiller(r, i + 1, end);
  // Heaps and types come in either order (1.0.x lists types first); both groups are required.
  let heaps: MemoryHeap[] | null = null;
  let parsedTypes: ParsedTypes | null = null;
  while (heaps === null || parsedTypes === null) {
    if (parsedTypes === null && i < end && (heaps !== null || countOf(r.lines[i], 'memoryTypes') !== null)) {
      parsedTypes = parseTypes(r, i, end);
      i = parsedTypes.next;
    } else {
      const parsed = parseHeaps(r, i, end);
      heaps = parsed.heaps;
      i = parsed.next;
    }
  }
  const heapCount = heaps.length;
  parsedTypes.types.forEach((t, k) => {
    if (t.heapIndex >= heapCount)
      r.fail(parsedTypes.heapIndexLines[k], `heapIndex ${t.heapIndex} is not one of the ${heapCount} heaps`);
  });
  return { heaps, types: parsedTypes.types };
}

function apiAtLeast(apiVersion: string, major: number, minor: number): boolean {
  const [ma, mi] = apiVersion.split('.').map(Number);
  return ma > major || (ma === major && mi >= minor);
}

function checkIsVulkaninfo(r: Reader): void {
  const head = r.lines.slice(0, 40).join('\n');
  if (/^\s*[{[]/.test(head)) {
    r.fail(
      0,
      'this looks like JSON; expected the text output of `vulkaninfo` (not --json or a profiles file)',
    );
  }
  const banner = r.lines.some((l) => l.trim() === 'VULKANINFO' || l.trim() === 'VULKAN INFO');
  const devices = r.lines.some((l) => deviceSectionsStart.test(l));
  if (!banner && !devices) {
    r.fail(
      0,
      'this is not vulkaninfo text output (no "VULKANINFO" banner and no "Device Properties and Extensions")',
    );
  }
}

/**
 * Parses the text output of `vulkaninfo` into a DeviceDescription of one GPU (the first, or `gpuIndex`).
 * Throws ProfileParseError naming the line on anything it cannot read.
 */
export function parseVulkaninfo(
  text: string,
  sourceName: string,
  options: ParseVulkaninfoOptions = {},
): DeviceDescription {
  const r = new Reader(text, sourceName);
  checkIsVulkaninfo(r);
  const { start, end, gpu } = gpuSection(r, options);
  const props = 'VkPhysicalDeviceProperties';
  const at = (key: string, section = props): number => requireKey(r, start, end, key, section);

  const nameLine = at('deviceName');
  const name = valueOf(r, nameLine);
  if (name === '') r.fail(nameLine, 'expected a device name, got nothing');
  const apiLine = at('apiVersion');
  const apiVersion = version(r, apiLine, valueOf(r, apiLine), 'an API version such as 1.3.230');
  const vendorLine = at('vendorID');
  const vendorId = integer(r, vendorLine, valueOf(r, vendorLine), 'vendor id');
  const deviceIdLine = at('deviceID');
  const deviceId = integer(r, deviceIdLine, valueOf(r, deviceIdLine), 'device id');
  const driverLine = at('driverVersion');
  const driverValue = valueOf(r, driverLine);
  const driverText = driverValue.replace(/\s*\(.*$/, '').trim();
  if (driverText === '') r.fail(driverLine, `expected a driver version, got ${quote(driverValue)}`);
  // Before vulkaninfo 1.3 the version is the packed number ("1846460416 (0x6e0ec000)"): decode it.
  const packedDriver = /^\d+$/.test(driverText) ? Number(driverText) : null;
  const driverVersion =
    packedDriver !== null && Number.isSafeInteger(packedDriver) && packedDriver <= 0xffffffff
      ? decodeDriverVersion(vendorId, packedDriver)
      : driverText;
  const typeLine = at('deviceType');
  const deviceType = deviceTypeOf(r, typeLine, valueOf(r, typeLine));

  const { heaps, types } = parseMemory(r, start, end, gpu);

  const limitsSection = 'VkPhysicalDeviceLimits';
  const granLine = at('bufferImageGranularity', limitsSection);
  const bufferImageGranularity = integer(r, granLine, valueOf(r, granLine), 'bufferImageGranularity');
  const atomLine = at('nonCoherentAtomSize', limitsSection);
  const nonCoherentAtomSize = integer(r, atomLine, valueOf(r, atomLine), 'nonCoherentAtomSize');
  const countLine = at('maxMemoryAllocationCount', limitsSection);
  const maxMemoryAllocationCount = limitInteger(
    r,
    countLine,
    valueOf(r, countLine),
    'maxMemoryAllocationCount',
  );
  for (const [line, what, v] of [
    [granLine, 'bufferImageGranularity', bufferImageGranularity],
    [atomLine, 'nonCoherentAtomSize', nonCoherentAtomSize],
    [countLine, 'maxMemoryAllocationCount', maxMemoryAllocationCount],
  ] as const) {
    if (v < 1) r.fail(line, `${what} must be at least 1, got ${v}`);
  }
  const sizeLine = findKey(r, start, end, 'maxMemoryAllocationSize');
  const largestHeap = heaps.reduce((m, h) => Math.max(m, h.size), 0);
  const maxMemoryAllocationSize =
    sizeLine < 0 ? largestHeap : limitInteger(r, sizeLine, valueOf(r, sizeLine), 'maxMemoryAllocationSize');
  const limits: DeviceLimits = {
    bufferImageGranularity,
    nonCoherentAtomSize,
    maxMemoryAllocationCount,
    maxMemoryAllocationSize,
  };

  const ext = parseExtensions(r, start, end);
  const extensions: DeviceExtensions = {
    memoryBudget: ext.has('VK_EXT_memory_budget'),
    dedicatedAllocation: ext.has('VK_KHR_dedicated_allocation') || apiAtLeast(apiVersion, 1, 1),
    bufferDeviceAddress: ext.has('VK_KHR_buffer_device_address') || apiAtLeast(apiVersion, 1, 2),
  };

  return {
    name,
    api: 'vulkan',
    deviceType,
    vendorId,
    deviceId,
    driverVersion,
    apiVersion,
    heaps,
    types,
    limits,
    extensions,
    source: `profile:${sourceName}`,
  };
}
