// Device profiles: the vulkaninfo parser on the two real profiles (expected numbers read by hand from the
// text files), its errors, and the built-in D3D12/Metal models.
import { describe, expect, test } from 'vitest';
import {
  MemoryHeapFlags,
  MemoryPropertyFlags,
  ProfileError,
  ProfileParseError,
  builtinD3D12Description,
  builtinMetalDescription,
  builtinProfileNames,
  loadBuiltinProfile,
  parseVulkaninfo,
} from '../../allocator/index.ts';
import { thrownBy } from '../support/errors.ts';
import { profileText } from '../support/profiles.ts';

const lavapipeText = profileText('lavapipe');
const h100Text = profileText('h100');

const { DEVICE_LOCAL, HOST_VISIBLE, HOST_COHERENT, HOST_CACHED } = MemoryPropertyFlags;

/** 1-based number of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`fixture has no line with ${needle}`);
  return i + 1;
}

function parseError(fn: () => unknown): ProfileParseError {
  return thrownBy(ProfileParseError, fn);
}

describe('parseVulkaninfo on the real profiles', () => {
  test('lavapipe: one 2 GiB heap, one DL|HV|HC|HC type, its limits and extensions', () => {
    const d = parseVulkaninfo(lavapipeText, 'mesa-lavapipe.vulkaninfo.txt');
    expect(d.name).toBe('llvmpipe (LLVM 15.0.6, 256 bits)');
    expect(d.api).toBe('vulkan');
    expect(d.deviceType).toBe('cpu');
    expect(d.vendorId).toBe(0x10005);
    expect(d.deviceId).toBe(0);
    expect(d.driverVersion).toBe('0.0.1');
    expect(d.apiVersion).toBe('1.3.230');
    expect(d.heaps).toEqual([{ index: 0, size: 2147483648, flags: MemoryHeapFlags.DEVICE_LOCAL }]);
    expect(d.types).toEqual([
      { index: 0, propertyFlags: DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT | HOST_CACHED, heapIndex: 0 },
    ]);
    expect(d.limits).toEqual({
      bufferImageGranularity: 0x40,
      nonCoherentAtomSize: 0x40,
      maxMemoryAllocationCount: 4294967295,
      maxMemoryAllocationSize: 0x80000000,
    });
    // No VK_EXT_memory_budget in its extension list; the other two are listed.
    expect(d.extensions).toEqual({
      memoryBudget: false,
      dedicatedAllocation: true,
      bufferDeviceAddress: true,
    });
    expect(d.source).toBe('profile:mesa-lavapipe.vulkaninfo.txt');
    expect(d.resourceHeapTier).toBeUndefined();
  });

  test('H100: 2 heaps, 5 types with ReBAR, its limits and extensions', () => {
    const d = parseVulkaninfo(h100Text, 'h100');
    expect(d.name).toBe('NVIDIA H100 80GB HBM3');
    expect(d.deviceType).toBe('discrete');
    expect(d.vendorId).toBe(0x10de);
    expect(d.deviceId).toBe(0x2330);
    expect(d.driverVersion).toBe('580.159.4.256');
    expect(d.apiVersion).toBe('1.4.312');
    expect(d.heaps).toEqual([
      { index: 0, size: 85520809984, flags: MemoryHeapFlags.DEVICE_LOCAL },
      { index: 1, size: 101361423360, flags: 0 },
    ]);
    expect(d.types).toEqual([
      { index: 0, propertyFlags: 0, heapIndex: 1 },
      { index: 1, propertyFlags: DEVICE_LOCAL, heapIndex: 0 },
      { index: 2, propertyFlags: HOST_VISIBLE | HOST_COHERENT, heapIndex: 1 },
      { index: 3, propertyFlags: HOST_VISIBLE | HOST_COHERENT | HOST_CACHED, heapIndex: 1 },
      { index: 4, propertyFlags: DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT, heapIndex: 0 },
    ]);
    expect(d.limits).toEqual({
      bufferImageGranularity: 0x400,
      nonCoherentAtomSize: 0x40,
      maxMemoryAllocationCount: 4294967295,
      maxMemoryAllocationSize: 0xffe00000,
    });
    expect(d.extensions).toEqual({
      memoryBudget: true,
      dedicatedAllocation: true,
      bufferDeviceAddress: true,
    });
    expect(d.source).toBe('profile:h100');
  });

  test('CRLF line endings parse the same', () => {
    const d = parseVulkaninfo(h100Text.replace(/\n/g, '\r\n'), 'h100');
    expect(d).toEqual(parseVulkaninfo(h100Text, 'h100'));
  });

  test('several GPUs: the first by default, gpuIndex picks another, a missing one is named', () => {
    const h100Gpu = h100Text.slice(h100Text.indexOf('\nGPU0:\n') + 1).replace(/^GPU0:$/m, 'GPU1:');
    const both = `${lavapipeText.trimEnd()}\n${h100Gpu}`;
    expect(parseVulkaninfo(both, 'two').name).toBe('llvmpipe (LLVM 15.0.6, 256 bits)');
    expect(parseVulkaninfo(both, 'two', { gpuIndex: 0 }).types).toHaveLength(1);
    const second = parseVulkaninfo(both, 'two', { gpuIndex: 1 });
    expect(second.name).toBe('NVIDIA H100 80GB HBM3');
    expect(second.types).toHaveLength(5);
    expect(second.limits.bufferImageGranularity).toBe(0x400);
    // The second GPU's extension list, not the first's: only the H100 has VK_EXT_memory_budget.
    expect(second.extensions.memoryBudget).toBe(true);
    const e = parseError(() => parseVulkaninfo(both, 'two', { gpuIndex: 2 }));
    expect(e.message).toContain('GPU2');
    expect(e.message).toContain('GPU0, GPU1');
  });

  test('no maxMemoryAllocationSize (pre-maintenance3 driver): defaults to the largest heap', () => {
    const text = h100Text
      .split('\n')
      .filter((l) => !l.includes('maxMemoryAllocationSize'))
      .join('\n');
    expect(parseVulkaninfo(text, 'h100').limits.maxMemoryAllocationSize).toBe(101361423360);
  });

  test('a "no limit" value beyond 2^53 is clamped to MAX_SAFE_INTEGER', () => {
    const text = h100Text.replace(
      'maxMemoryAllocationSize = 0xffe00000',
      'maxMemoryAllocationSize = 0xffffffffffffffff',
    );
    expect(parseVulkaninfo(text, 'h100').limits.maxMemoryAllocationSize).toBe(Number.MAX_SAFE_INTEGER);
  });

  test('Vulkan 1.0 without the extensions: no dedicated allocation, no buffer device address', () => {
    const text = lavapipeText
      .replace('apiVersion        = 1.3.230 (4206822)', 'apiVersion        = 1.0.0 (4194304)')
      .split('\n')
      .filter((l) => !/VK_KHR_(dedicated_allocation|buffer_device_address)\s/.test(l))
      .join('\n');
    const d = parseVulkaninfo(text, 'old');
    expect(d.apiVersion).toBe('1.0.0');
    expect(d.extensions).toEqual({
      memoryBudget: false,
      dedicatedAllocation: false,
      bufferDeviceAddress: false,
    });
  });

  test('core versions imply the extensions: 1.1 dedicated allocation, 1.2 buffer device address', () => {
    const strip = (t: string): string =>
      t
        .split('\n')
        .filter((l) => !/VK_KHR_(dedicated_allocation|buffer_device_address)\s/.test(l))
        .join('\n');
    const v11 = strip(lavapipeText.replace('1.3.230 (4206822)', '1.1.0 (4198400)'));
    expect(parseVulkaninfo(v11, 'v11').extensions).toEqual({
      memoryBudget: false,
      dedicatedAllocation: true,
      bufferDeviceAddress: false,
    });
    const v12 = strip(lavapipeText.replace('1.3.230 (4206822)', '1.2.0 (4202496)'));
    expect(parseVulkaninfo(v12, 'v12').extensions.bufferDeviceAddress).toBe(true);
  });

  test('heap flags written as names and property flags as names parse too (older vulkaninfo)', () => {
    const text = h100Text.replace(
      /propertyFlags = 0x0007: count = 3/,
      'propertyFlags = MEMORY_PROPERTY_DEVICE_LOCAL_BIT | MEMORY_PROPERTY_HOST_VISIBLE_BIT | MEMORY_PROPERTY_HOST_COHERENT_BIT',
    );
    expect(parseVulkaninfo(text, 'h100').types[4].propertyFlags).toBe(
      DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT,
    );
  });
});

describe('parseVulkaninfo errors name the line', () => {
  test('garbage is not vulkaninfo output', () => {
    const e = parseError(() => parseVulkaninfo('hello world\nthis is a shopping list\n', 'notes.txt'));
    expect(e.line).toBe(1);
    expect(e.message).toMatch(/^notes\.txt line 1: this is not vulkaninfo text output/);
  });

  test('JSON is recognised as not the text output', () => {
    const e = parseError(() => parseVulkaninfo('{"capabilities": {}}', 'x.json'));
    expect(e.line).toBe(1);
    expect(e.message).toContain('JSON');
  });

  test('a bad heap size names its line and the text found', () => {
    const text = lavapipeText.replace('size   = 2147483648 (0x80000000) (2.00 GiB)', 'size   = lots');
    const e = parseError(() => parseVulkaninfo(text, 'lp'));
    const line = lineOf(text, 'size   = lots');
    expect(e.line).toBe(line);
    expect(e.message).toBe(`lp line ${line}: expected heap size, got "lots"`);
  });

  test('a heap size beyond 2^53 is refused', () => {
    const text = lavapipeText.replace('size   = 2147483648 (0x80000000)', 'size   = 0x100000000000000 (x)');
    const e = parseError(() => parseVulkaninfo(text, 'lp'));
    expect(e.line).toBe(lineOf(text, 'size   = 0x100000000000000'));
    expect(e.message).toContain('not a safe integer');
  });

  test('a bad limit names its line', () => {
    const text = h100Text.replace(
      'bufferImageGranularity                          = 0x00000400',
      'bufferImageGranularity = big',
    );
    const e = parseError(() => parseVulkaninfo(text, 'h100'));
    expect(e.line).toBe(lineOf(text, 'bufferImageGranularity = big'));
    expect(e.message).toContain('expected bufferImageGranularity, got "big"');
  });

  test('a heapIndex that is not a heap', () => {
    const text = lavapipeText.replace('heapIndex     = 0', 'heapIndex     = 3');
    const e = parseError(() => parseVulkaninfo(text, 'lp'));
    expect(e.line).toBe(lineOf(text, 'heapIndex     = 3'));
    expect(e.message).toContain('heapIndex 3 is not one of the 1 heaps');
  });

  test('a file truncated inside the memory types says how far it got', () => {
    const lines = h100Text.split('\n');
    const cut = lines.findIndex((l) => l.includes('memoryTypes[2]:'));
    const text = lines.slice(0, cut).join('\n');
    const e = parseError(() => parseVulkaninfo(text, 'h100'));
    expect(e.line).toBe(cut); // the last line of the truncated text
    expect(e.message).toContain('after 2 of 5 memoryTypes');
  });

  test('a file truncated inside one memory type names the missing field', () => {
    const lines = h100Text.split('\n');
    const cut = lines.findIndex((l) => l.includes('memoryTypes[2]:')) + 2; // keeps header + heapIndex
    const text = lines.slice(0, cut).join('\n');
    const e = parseError(() => parseVulkaninfo(text, 'h100'));
    expect(e.line).toBe(cut);
    expect(e.message).toContain('propertyFlags');
    expect(e.message).toContain('memoryTypes[2]');
  });

  test('a file truncated before the memory properties', () => {
    const lines = lavapipeText.split('\n');
    const cut = lines.findIndex((l) => l.startsWith('VkQueueFamilyProperties'));
    const e = parseError(() => parseVulkaninfo(lines.slice(0, cut).join('\n'), 'lp'));
    expect(e.line).toBe(cut);
    expect(e.message).toContain('no VkPhysicalDeviceMemoryProperties');
  });

  test('a file truncated before any GPU section', () => {
    const lines = lavapipeText.split('\n');
    const cut = lines.findIndex((l) => l === 'GPU0:');
    const e = parseError(() => parseVulkaninfo(lines.slice(0, cut).join('\n'), 'lp'));
    expect(e.line).toBe(cut);
    expect(e.message).toContain('GPU<n>:');
  });

  test('a wrong heap count line', () => {
    const text = lavapipeText.replace('memoryHeaps: count = 1', 'memoryHeaps: several');
    const e = parseError(() => parseVulkaninfo(text, 'lp'));
    expect(e.line).toBe(lineOf(text, 'memoryHeaps: several'));
    expect(e.message).toContain('expected "memoryHeaps: count = N"');
  });

  test('a missing device name names the GPU section', () => {
    const text = lavapipeText.replace(/\tdeviceName .*\n/, '');
    const e = parseError(() => parseVulkaninfo(text, 'lp'));
    expect(e.line).toBe(lineOf(text, 'GPU0:'));
    expect(e.message).toContain('deviceName');
  });
});

describe('built-in D3D12 and Metal models', () => {
  const upload = HOST_VISIBLE | HOST_COHERENT;
  const readback = HOST_VISIBLE | HOST_COHERENT | HOST_CACHED;
  const GiB = 1024 ** 3;

  test('D3D12 tier 1: 9 types, location-major, one category each', () => {
    const d = builtinD3D12Description(1);
    expect(d.api).toBe('d3d12');
    expect(d.resourceHeapTier).toBe(1);
    expect(d.source).toBe('builtin:d3d12-tier1');
    expect(d.heaps).toEqual([
      { index: 0, size: 16 * GiB, flags: MemoryHeapFlags.DEVICE_LOCAL },
      { index: 1, size: 32 * GiB, flags: 0 },
    ]);
    const kinds = ['DEFAULT', 'CUSTOM write-combine L0', 'CUSTOM write-back L0'];
    const flags = [DEVICE_LOCAL, upload, readback];
    const categories = ['buffer', 'rtvDsvTexture', 'otherTexture'];
    expect(d.types).toHaveLength(9);
    d.types.forEach((t, i) => {
      const loc = Math.floor(i / 3);
      expect(t).toEqual({
        index: i,
        propertyFlags: flags[loc],
        heapIndex: loc === 0 ? 0 : 1,
        heapKind: kinds[loc],
        resourceCategory: categories[i % 3],
      });
    });
    expect(d.limits.bufferImageGranularity).toBe(1);
    expect(d.limits.nonCoherentAtomSize).toBe(1);
  });

  test('D3D12 tier 2: 3 types, no category', () => {
    const d = builtinD3D12Description(2);
    expect(d.source).toBe('builtin:d3d12-tier2');
    expect(d.types).toEqual([
      { index: 0, propertyFlags: DEVICE_LOCAL, heapIndex: 0, heapKind: 'DEFAULT' },
      { index: 1, propertyFlags: upload, heapIndex: 1, heapKind: 'CUSTOM write-combine L0' },
      { index: 2, propertyFlags: readback, heapIndex: 1, heapKind: 'CUSTOM write-back L0' },
    ]);
  });

  test('Metal: Private, Shared write-combined, Shared default cache on one unified heap', () => {
    const d = builtinMetalDescription();
    expect(d.api).toBe('metal');
    expect(d.source).toBe('builtin:metal');
    expect(d.heaps).toEqual([{ index: 0, size: 16 * GiB, flags: MemoryHeapFlags.DEVICE_LOCAL }]);
    expect(d.types).toEqual([
      { index: 0, propertyFlags: DEVICE_LOCAL, heapIndex: 0, heapKind: 'Private' },
      { index: 1, propertyFlags: upload, heapIndex: 0, heapKind: 'Shared write-combined' },
      { index: 2, propertyFlags: readback, heapIndex: 0, heapKind: 'Shared default cache' },
    ]);
    expect(d.limits.bufferImageGranularity).toBe(1);
  });

  test('loadBuiltinProfile by name, with or without the builtin: prefix', () => {
    expect(builtinProfileNames).toEqual(['d3d12-tier1', 'd3d12-tier2', 'metal']);
    for (const name of builtinProfileNames) {
      expect(loadBuiltinProfile(name).source).toBe(`builtin:${name}`);
      expect(loadBuiltinProfile(`builtin:${name}`).source).toBe(`builtin:${name}`);
    }
    expect(() => loadBuiltinProfile('vulkan-tier9')).toThrow(ProfileError);
    expect(() => loadBuiltinProfile('vulkan-tier9')).toThrow(/d3d12-tier1, d3d12-tier2, metal/);
  });
});
