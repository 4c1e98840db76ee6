// The NVIDIA H100 as the real device reported it (`vramscope devices --json` run on an H100 80GB HBM3,
// committed as tests/fixtures/devices/nvidia-h100.devices.json) against the simulated device built from the
// shipped vulkaninfo profile of the same GPU: same heaps, types, limits and extensions, and the same
// memory-type choices for every memoryTypeBits / location / linearity / scheme. Also the choices made on
// the H100 for real buffers and images (recorded in nvidia-h100.check.json by scripts/native-device-check.ts)
// are the ones the simulated device makes. Runs without a GPU.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  chooseMemoryType,
  createSimulatedDevice,
  memoryLocations,
  parseVulkaninfo,
  type AllocationSchemeKind,
  type DeviceDescription,
  type MemoryLocation,
} from '../../allocator/index.ts';
import type { NativeDeviceInfo } from '../../native/index.ts';
import { describeNativeDevice } from '../../native/vulkan-device.ts';
import type { DevicesReport } from '../../src-main/cli/commands/devices.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = path.join(repoRoot, 'tests', 'fixtures', 'devices');
const profileFile = path.join(repoRoot, 'assets', 'profiles', 'nvidia-h100-80gb-hbm3.vulkaninfo.txt');

const report = JSON.parse(
  readFileSync(path.join(fixtures, 'nvidia-h100.devices.json'), 'utf8'),
) as DevicesReport;
const check = JSON.parse(readFileSync(path.join(fixtures, 'nvidia-h100.check.json'), 'utf8')) as {
  choices: { memoryTypeBits: number; location: MemoryLocation; linear: boolean; winner: number | null }[];
};
const realEntry = report.devices[report.defaultIndex]!;
const real: DeviceDescription = describeNativeDevice(realEntry as unknown as NativeDeviceInfo);
const simulated = createSimulatedDevice(
  parseVulkaninfo(readFileSync(profileFile, 'utf8'), path.basename(profileFile)),
).description;

describe('H100: real device (fixture) vs simulated device (vulkaninfo profile)', () => {
  test('the fixture is an H100 reported by the addon', () => {
    expect(real.name).toBe('NVIDIA H100 80GB HBM3');
    expect(real.source).toBe('vulkan');
    expect(real.deviceType).toBe('discrete');
    expect(real.types.length).toBe(5);
    expect(real.heaps.length).toBe(2);
    expect(real.extensions.memoryBudget).toBe(true);
    expect(realEntry.budgets?.length).toBe(2);
  });

  test('same identity, heaps, types, limits and extensions', () => {
    for (const key of [
      'name',
      'deviceType',
      'vendorId',
      'deviceId',
      'apiVersion',
      'driverVersion',
    ] as const) {
      expect(simulated[key], key).toBe(real[key]);
    }
    expect(simulated.heaps).toEqual(real.heaps);
    expect(simulated.types.map((t) => [t.index, t.propertyFlags, t.heapIndex])).toEqual(
      real.types.map((t) => [t.index, t.propertyFlags, t.heapIndex]),
    );
    expect(simulated.limits).toEqual(real.limits);
    expect(simulated.extensions).toEqual(real.extensions);
  });

  test('chooseMemoryType makes the same choice on both for every key', () => {
    const schemes: AllocationSchemeKind[] = ['managed', 'dedicatedBuffer', 'dedicatedImage'];
    let compared = 0;
    for (let bits = 0; bits < 1 << real.types.length; bits++) {
      for (const location of memoryLocations) {
        for (const linear of [true, false]) {
          for (const scheme of schemes) {
            const key = { memoryTypeBits: bits, location, linear, scheme };
            const a = chooseMemoryType(real, key, 0);
            const b = chooseMemoryType(simulated, key, 0);
            expect(b.winner, JSON.stringify(key)).toBe(a.winner);
            expect(b.retryTypeIndex, JSON.stringify(key)).toBe(a.retryTypeIndex);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(32 * 4 * 2 * 3);
  });

  test('the choices recorded on the H100 for real buffers and images are the simulated device’s', () => {
    expect(check.choices.length).toBeGreaterThan(0);
    for (const c of check.choices) {
      const key = {
        memoryTypeBits: c.memoryTypeBits,
        location: c.location,
        linear: c.linear,
        scheme: 'managed' as const,
      };
      expect(chooseMemoryType(simulated, key, 0).winner, JSON.stringify(c)).toBe(c.winner);
    }
  });
});
