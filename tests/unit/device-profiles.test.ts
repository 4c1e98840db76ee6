// parseDeviceProfile on real samples of every format (tests/fixtures/profiles/PROVENANCE.md says where each
// comes from). The expected heaps, types and choices below were read off the files by hand (sizes and flags
// from the text/JSON, the choice from the rule in docs/profiles.md), not produced by the parser under test.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  MemoryHeapFlags,
  MemoryPropertyFlags,
  ProfileJsonError,
  ProfileParseError,
  memoryTypeChoices,
  parseDeviceProfile,
  parseDeviceProfiles,
  type DeviceDescription,
  type MemoryLocation,
} from '../../allocator/index.ts';

const dir = fileURLToPath(new URL('../fixtures/profiles/', import.meta.url));
const read = (name: string): string => readFileSync(path.join(dir, name), 'utf8');
const samples = readdirSync(dir).filter((f) => f !== 'PROVENANCE.md');

const { DEVICE_LOCAL, HOST_VISIBLE, HOST_COHERENT, HOST_CACHED, LAZILY_ALLOCATED } = MemoryPropertyFlags;
const HEAP_DEVICE_LOCAL = MemoryHeapFlags.DEVICE_LOCAL;

interface HandTable {
  readonly heaps: readonly [size: number, flags: number][];
  readonly types: readonly [heapIndex: number, flags: number][];
  /** Winner per location (the same for every linear × scheme on Vulkan), and the CpuToGpu retry type. */
  readonly choice: Readonly<Record<MemoryLocation, number | null>>;
  readonly cpuToGpuRetry: number | null;
}

function expectTable(d: DeviceDescription, t: HandTable): void {
  expect(d.heaps.map((h) => [h.size, h.flags])).toEqual(t.heaps);
  expect(d.types.map((x) => [x.heapIndex, x.propertyFlags])).toEqual(t.types);
  const rows = memoryTypeChoices(d);
  expect(rows).toHaveLength(24);
  for (const row of rows) {
    expect(row.decision.winner, `${row.location} linear=${row.linear} ${row.scheme}`).toBe(
      t.choice[row.location],
    );
    if (row.location === 'CpuToGpu') expect(row.decision.retryTypeIndex).toBe(t.cpuToGpuRetry);
  }
}

describe('every real sample is read', () => {
  test.each(samples)('%s', (name) => {
    const text = read(name);
    if (name.startsWith('profiles-')) {
      // Vulkan Profiles JSON has no memory heaps or types: the error says so, at the JSON path.
      const e = (() => {
        try {
          parseDeviceProfile(text, name);
        } catch (error) {
          return error;
        }
        throw new Error('expected a ProfileJsonError');
      })();
      expect(e).toBeInstanceOf(ProfileJsonError);
      expect((e as ProfileJsonError).path).toBe(
        'capabilities.device.properties.VkPhysicalDeviceMemoryProperties',
      );
      expect((e as ProfileJsonError).message).toContain('carries no memory heaps or memory types');
      return;
    }
    const parsed = parseDeviceProfiles(text, name);
    expect(parsed.format).toBe(name.endsWith('.json') ? 'gpuinfo-report-json' : 'vulkaninfo-text');
    for (const { description } of parsed.devices) {
      expect(description.heaps.length).toBeGreaterThan(0);
      expect(description.types.length).toBeGreaterThan(0);
      expect(description.name).not.toBe('');
      for (const t of description.types) expect(t.heapIndex).toBeLessThan(description.heaps.length);
    }
  });
});

describe('hand-made tables: vulkaninfo text', () => {
  test('AMD R9 390, vulkaninfo 1.0.13 layout (GPU0 without colon, types before heaps, flag names)', () => {
    const d = parseDeviceProfile(read('amd-r9-390-vulkaninfo-1.0.13.txt'), 'r9');
    expect(d.name).toBe('AMD Radeon (TM) R9 390 Series');
    expect([d.vendorId, d.deviceId, d.deviceType, d.apiVersion]).toEqual([
      0x1002,
      0x67b1,
      'discrete',
      '1.0.11',
    ]);
    expectTable(d, {
      heaps: [
        [8358793216, HEAP_DEVICE_LOCAL],
        [231141376, HEAP_DEVICE_LOCAL],
        [8578793472, 0],
      ],
      types: [
        [0, DEVICE_LOCAL],
        [1, DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT],
        [2, HOST_VISIBLE | HOST_COHERENT],
        [2, HOST_VISIBLE | HOST_COHERENT | HOST_CACHED],
      ],
      // CpuToGpu: type 1 is the 220 MiB device-local BAR; it is also the lowest HOST_VISIBLE|HOST_COHERENT
      // type, so there is no different type to retry with.
      choice: { Unknown: 0, GpuOnly: 0, CpuToGpu: 1, GpuToCpu: 3 },
      cpuToGpuRetry: null,
    });
    // No maintenance3 in 1.0: the largest heap bounds an allocation.
    expect(d.limits).toEqual({
      bufferImageGranularity: 1,
      nonCoherentAtomSize: 0x80,
      maxMemoryAllocationCount: 4096,
      maxMemoryAllocationSize: 8578793472,
    });
    expect(d.extensions).toEqual({
      memoryBudget: false,
      dedicatedAllocation: false,
      bufferDeviceAddress: false,
    });
  });

  test('AMD RX 6600, vulkaninfo 1.3.224 indented with spaces', () => {
    const d = parseDeviceProfile(read('amd-rx6600-vulkaninfo-1.3.224-spaces.txt'), 'rx6600');
    const AMD_COHERENT = MemoryPropertyFlags.DEVICE_COHERENT_AMD | MemoryPropertyFlags.DEVICE_UNCACHED_AMD;
    expectTable(d, {
      heaps: [
        [8304721920, HEAP_DEVICE_LOCAL | MemoryHeapFlags.MULTI_INSTANCE],
        [16852713472, 0],
        [268435456, HEAP_DEVICE_LOCAL | MemoryHeapFlags.MULTI_INSTANCE],
      ],
      types: [
        [0, DEVICE_LOCAL],
        [1, HOST_VISIBLE | HOST_COHERENT],
        [2, DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT],
        [1, HOST_VISIBLE | HOST_COHERENT | HOST_CACHED],
        [0, DEVICE_LOCAL | AMD_COHERENT],
        [1, HOST_VISIBLE | HOST_COHERENT | AMD_COHERENT],
        [2, DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT | AMD_COHERENT],
        [1, HOST_VISIBLE | HOST_COHERENT | HOST_CACHED | AMD_COHERENT],
      ],
      choice: { Unknown: 0, GpuOnly: 0, CpuToGpu: 2, GpuToCpu: 3 },
      cpuToGpuRetry: 1,
    });
    expect(d.driverVersion).toBe('2.0.250'); // 8388858 packed as VK_MAKE_VERSION
    expect(d.extensions.memoryBudget).toBe(true);
  });

  test('two GPUs in one file: each is read, and gpuIndex picks one', () => {
    const text = read('nvidia-gtx1650-amd-igpu-vulkaninfo-1.3.224-2gpus.txt');
    const parsed = parseDeviceProfiles(text, 'two');
    expect(parsed.devices.map((d) => [d.gpuIndex, d.description.name])).toEqual([
      [0, 'NVIDIA GeForce GTX 1650'],
      [1, 'AMD Radeon(TM) Graphics'],
    ]);
    expect(parseDeviceProfile(text, 'two', { gpuIndex: 1 }).deviceType).toBe('integrated');
    expect(parsed.devices[0].description.driverVersion).toBe('528.92.0.0'); // NVIDIA packing
  });

  test('CRLF line ends and a byte-order mark read the same as LF', () => {
    for (const name of ['amd-r9-390-vulkaninfo-1.0.13.txt', 'nvidia-rtx-2080ti-vulkaninfo-1.2.131.txt']) {
      const lf = read(name);
      const crlf = `\uFEFF${lf.replace(/\n/g, '\r\n')}`;
      expect(parseDeviceProfile(crlf, 'x')).toEqual(parseDeviceProfile(lf, 'x'));
    }
  });
});

describe('hand-made tables: gpuinfo.org report JSON', () => {
  test('NVIDIA GeForce RTX 4090 (report 17922, report version 3.2)', () => {
    const d = parseDeviceProfile(read('gpuinfo-17922-nvidia-rtx-4090.json'), 'rtx4090');
    expect([d.name, d.vendorId, d.deviceId, d.deviceType, d.driverVersion, d.apiVersion]).toEqual([
      'NVIDIA GeForce RTX 4090',
      0x10de,
      0x2684,
      'discrete',
      '525.60.11.0',
      '1.3.224',
    ]);
    expectTable(d, {
      heaps: [
        [0x5ff400000, HEAP_DEVICE_LOCAL],
        [0xb9ca6a800, 0],
      ],
      types: [
        [1, 0],
        [0, DEVICE_LOCAL],
        [1, HOST_VISIBLE | HOST_COHERENT],
        [1, HOST_VISIBLE | HOST_COHERENT | HOST_CACHED],
        [0, DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT],
      ],
      choice: { Unknown: 0, GpuOnly: 1, CpuToGpu: 4, GpuToCpu: 3 },
      cpuToGpuRetry: 2,
    });
    expect(d.limits).toEqual({
      bufferImageGranularity: 0x400,
      nonCoherentAtomSize: 0x40,
      maxMemoryAllocationCount: 4294967295,
      maxMemoryAllocationSize: 4292870144,
    });
    expect(d.extensions).toEqual({
      memoryBudget: true,
      dedicatedAllocation: true,
      bufferDeviceAddress: true,
    });
  });

  test('Mali-G71 (report 4398, version 1.4): cached non-coherent memory is never chosen', () => {
    const d = parseDeviceProfile(read('gpuinfo-4398-arm-mali-g71.json'), 'mali');
    expectTable(d, {
      heaps: [[0xa8c15000, HEAP_DEVICE_LOCAL]],
      types: [
        [0, DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT],
        [0, DEVICE_LOCAL | HOST_VISIBLE | HOST_CACHED],
        [0, DEVICE_LOCAL | LAZILY_ALLOCATED],
      ],
      // GpuToCpu wants HOST_CACHED too; type 1 has it but is not coherent, so the fallback takes type 0.
      choice: { Unknown: 0, GpuOnly: 0, CpuToGpu: 0, GpuToCpu: 0 },
      cpuToGpuRetry: null,
    });
    const gpuToCpu = memoryTypeChoices(d).find((r) => r.location === 'GpuToCpu');
    expect(gpuToCpu?.decision.fallbacks.length).toBe(1);
    expect(d.limits.maxMemoryAllocationSize).toBe(0xa8c15000); // no maintenance3: the heap
  });
});

describe('Vulkan Profiles JSON and vulkaninfo --json (devsim)', () => {
  test('a Profiles file given memory properties (devsim shape) is read', () => {
    const profile = JSON.parse(read('profiles-vp_gpuinfo_nvidia_quadro_k4200_0_0_157_53_osx_10_15.json')) as {
      capabilities: { device: { properties: Record<string, unknown> } };
    };
    profile.capabilities.device.properties.VkPhysicalDeviceMemoryProperties = {
      memoryHeaps: [{ size: 4294967296, flags: ['VK_MEMORY_HEAP_DEVICE_LOCAL_BIT'] }],
      memoryTypes: [{ heapIndex: 0, propertyFlags: ['VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT'] }],
    };
    const d = parseDeviceProfile(JSON.stringify(profile), 'k4200');
    expect(d.name).toContain('Quadro K4200');
    expect(d.vendorId).toBe(0x10de);
    expect(d.heaps).toEqual([{ index: 0, size: 4294967296, flags: HEAP_DEVICE_LOCAL }]);
    expect(d.types).toEqual([{ index: 0, heapIndex: 0, propertyFlags: DEVICE_LOCAL }]);
  });

  test('devsim JSON (vulkaninfo --json up to SDK 1.3.204) is read', () => {
    const devsim = {
      $schema: 'https://schema.khronos.org/vulkan/devsim_1_0_0.json#',
      VkPhysicalDeviceProperties: {
        apiVersion: 4206847,
        driverVersion: 1,
        vendorID: 65541,
        deviceID: 0,
        deviceType: 4,
        deviceName: 'llvmpipe (LLVM 15.0.7, 256 bits)',
        limits: { maxMemoryAllocationCount: 4294967295, bufferImageGranularity: 64, nonCoherentAtomSize: 64 },
      },
      ArrayOfVkExtensionProperties: [{ extensionName: 'VK_EXT_memory_budget', specVersion: 1 }],
      VkPhysicalDeviceMemoryProperties: {
        memoryHeaps: [{ flags: 1, size: 33544609792 }],
        memoryTypes: [{ heapIndex: 0, propertyFlags: 15 }],
      },
    };
    const parsed = parseDeviceProfiles(JSON.stringify(devsim, null, '\t'), 'lvp.json');
    expect(parsed.format).toBe('vulkaninfo-devsim-json');
    const d = parsed.devices[0].description;
    expect([d.name, d.deviceType, d.apiVersion, d.driverVersion]).toEqual([
      'llvmpipe (LLVM 15.0.7, 256 bits)',
      'cpu',
      '1.3.255',
      '0.0.1',
    ]);
    expect(d.extensions.memoryBudget).toBe(true);
    expect(d.limits.maxMemoryAllocationSize).toBe(33544609792);
  });
});

describe('problems name the line or the JSON path', () => {
  function failure(run: () => unknown): Error {
    try {
      run();
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a failure');
  }

  test('a bad heap size in a gpuinfo report names its path', () => {
    const report = JSON.parse(read('gpuinfo-27174-intel-arc-a380.json')) as {
      memory: { memoryHeaps: { size: unknown }[] };
    };
    report.memory.memoryHeaps[1].size = 'lots';
    const e = failure(() => parseDeviceProfile(JSON.stringify(report), 'arc.json'));
    expect(e).toBeInstanceOf(ProfileJsonError);
    expect(e.message).toBe(
      'arc.json at memory.memoryHeaps[1].size: expected heap size (an integer), got "lots"',
    );
  });

  test('a heapIndex beyond the heaps names its path', () => {
    const report = JSON.parse(read('gpuinfo-4398-arm-mali-g71.json')) as {
      memory: { memoryTypes: { heapIndex: number }[] };
    };
    report.memory.memoryTypes[2].heapIndex = 5;
    const e = failure(() => parseDeviceProfile(JSON.stringify(report), 'mali.json'));
    expect((e as ProfileJsonError).path).toBe('memory.memoryTypes[2].heapIndex');
  });

  test('JSON that does not parse names the line', () => {
    const text = '{\n  "properties": {\n    "deviceName": "x",,\n  }\n}';
    const e = failure(() => parseDeviceProfile(text, 'broken.json'));
    expect(e).toBeInstanceOf(ProfileParseError);
    expect((e as ProfileParseError).line).toBe(3);
  });

  test('JSON of another kind says what it expected', () => {
    const e = failure(() => parseDeviceProfile('{"hello": 1}', 'other.json'));
    expect(e.message).toMatch(/^other\.json line 1: this JSON is not a device profile/);
  });

  test('a truncated 1.0.x report says how far it got', () => {
    const lines = read('amd-r9-390-vulkaninfo-1.0.13.txt').split('\n');
    const cut = lines.findIndex((l) => l.includes('memoryTypes[2] :'));
    const e = failure(() => parseDeviceProfile(lines.slice(0, cut).join('\n'), 'r9'));
    expect((e as ProfileParseError).line).toBe(cut);
    expect(e.message).toContain('after 2 of 4 memoryTypes');
  });
});
