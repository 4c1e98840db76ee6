// Enumeration by the addon matches `vulkaninfo` run on the same machine (heaps, types, limits, ids,
// versions, extensions), and `vramscope devices` prints the same facts.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { memoryPropertyFlagNames, parseVulkaninfo, type DeviceDescription } from '../../allocator/index.ts';
import {
  defaultAddonPath,
  defaultDeviceIndex,
  enumerateDevices,
  type NativeDeviceInfo,
} from '../../native/index.ts';
import { describeNativeDevice } from '../../native/vulkan-device.ts';
import { addonBuilt, skipReason } from './native-support.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function vulkaninfoText(): string | null {
  const run = spawnSync('vulkaninfo', [], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return run.status === 0 ? run.stdout : null;
}

const vulkaninfo = addonBuilt ? vulkaninfoText() : null;

/**
 * Run in a fresh process (the anchor is per process and per thread): what the driver anchor does as instances
 * come and go, on the main thread and in a worker thread that loads the addon and ends.
 */
const anchorScript = `
const { createRequire } = require('node:module');
const { Worker } = require('node:worker_threads');
const addon = require(process.env.ADDON);
const seen = { before: addon.driverAnchorHeld() };
addon.enumerateDevices();
seen.afterEnumerate = addon.driverAnchorHeld();
let cycles = 0;
for (; cycles < 40; cycles++) new addon.VulkanContext(0, false).close();
seen.cycles = cycles;
const worker = new Worker(\`
  const { parentPort } = require('node:worker_threads');
  const addon = require(process.env.ADDON);
  const before = addon.driverAnchorHeld();
  new addon.VulkanContext(0, false).close();
  parentPort.postMessage([before, addon.driverAnchorHeld()]);
\`, { eval: true });
worker.on('message', (m) => { seen.worker = m; });
worker.on('exit', () => {
  new addon.VulkanContext(0, false).close();
  seen.afterWorker = addon.driverAnchorHeld();
  console.log(JSON.stringify(seen));
});
`;

describe.skipIf(!addonBuilt)(`enumeration (${addonBuilt ? 'addon built' : skipReason})`, () => {
  test('the first instance of a thread takes the driver anchor, which keeps it through device cycles and a worker', () => {
    const addonPath = process.env.VRAMSCOPE_NATIVE_ADDON ?? defaultAddonPath;
    const run = spawnSync(process.execPath, ['-e', anchorScript], {
      encoding: 'utf8',
      env: { ...process.env, ADDON: addonPath },
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      before: false,
      afterEnumerate: true,
      cycles: 40,
      // The worker's env takes its own reference and drops it when it ends; the main thread keeps its own.
      worker: [false, true],
      afterWorker: true,
    });
  });

  test('every device has sane heaps, types and limits', () => {
    const devices = enumerateDevices();
    expect(devices.length).toBeGreaterThan(0);
    for (const d of devices) {
      expect(d.heaps.length).toBeGreaterThan(0);
      expect(d.types.length).toBeGreaterThan(0);
      for (const t of d.types) expect(t.heapIndex).toBeLessThan(d.heaps.length);
      for (const h of d.heaps) expect(Number.isSafeInteger(h.size) && h.size > 0).toBe(true);
      expect(d.limits.bufferImageGranularity).toBeGreaterThan(0);
      expect(d.limits.nonCoherentAtomSize).toBeGreaterThan(0);
      expect(d.limits.maxMemoryAllocationSize).toBeGreaterThan(0);
      expect(d.budgets === null).toBe(!d.extensions.memoryBudget);
    }
  });

  test.skipIf(vulkaninfo === null)(
    'matches vulkaninfo for every GPU (skipped when vulkaninfo is missing)',
    () => {
      const devices = enumerateDevices();
      for (const d of devices) {
        const expected: DeviceDescription = parseVulkaninfo(vulkaninfo ?? '', 'vulkaninfo', {
          gpuIndex: d.index,
        });
        const actual = describeNativeDevice(d);
        expect(actual.name).toBe(expected.name);
        expect(actual.deviceType).toBe(expected.deviceType);
        expect(actual.vendorId).toBe(expected.vendorId);
        expect(actual.deviceId).toBe(expected.deviceId);
        expect(actual.apiVersion).toBe(expected.apiVersion);
        expect(actual.driverVersion).toBe(expected.driverVersion);
        expect(actual.heaps).toEqual(expected.heaps);
        expect(actual.types.map((t) => [t.index, t.propertyFlags, t.heapIndex])).toEqual(
          expected.types.map((t) => [t.index, t.propertyFlags, t.heapIndex]),
        );
        expect(actual.limits).toEqual(expected.limits);
        expect(actual.extensions).toEqual(expected.extensions);
      }
    },
  );

  test.skipIf(vulkaninfo === null)('the device extension list is the one vulkaninfo prints', () => {
    const d: NativeDeviceInfo = enumerateDevices()[0]!;
    // vulkaninfo lists "VK_xxx : extension revision N" under "Device Extensions: count = N" of GPU0.
    const text = vulkaninfo ?? '';
    const gpu0 = text.slice(text.indexOf('GPU0:'));
    const m = /Device Extensions: count = (\d+)/.exec(gpu0);
    expect(m).not.toBeNull();
    expect(d.extensionNames.length).toBe(Number(m![1]));
    for (const name of d.extensionNames) expect(gpu0).toContain(name);
  });

  test('vramscope devices --json reports the enumeration, flags spelled out', () => {
    const out = execFileSync(
      process.execPath,
      [path.join(repoRoot, 'bin', 'vramscope.mjs'), 'devices', '--json'],
      {
        encoding: 'utf8',
      },
    );
    const report = JSON.parse(out) as {
      defaultIndex: number;
      devices: (NativeDeviceInfo & { types: { propertyFlags: number; flagNames: string[] }[] })[];
    };
    const devices = enumerateDevices();
    expect(report.devices.map((d) => d.name)).toEqual(devices.map((d) => d.name));
    expect(report.defaultIndex).toBe(defaultDeviceIndex(devices));
    for (const d of report.devices) {
      for (const t of d.types) expect(t.flagNames).toEqual(memoryPropertyFlagNames(t.propertyFlags));
    }
  });

  test('vramscope devices prints heaps, types with flag names, limits and extensions', () => {
    const out = execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'vramscope.mjs'), 'devices'], {
      encoding: 'utf8',
    });
    const d = enumerateDevices()[0]!;
    expect(out).toContain(d.name);
    expect(out).toContain(`bufferImageGranularity ${d.limits.bufferImageGranularity} B`);
    for (const t of d.types) {
      const names = memoryPropertyFlagNames(t.propertyFlags).join(' | ') || 'none';
      expect(out).toContain(`heap ${t.heapIndex}  ${names}`);
    }
    expect(out).toMatch(/extensions: memory budget (yes|no), dedicated allocation (yes|no)/);
  });
});
