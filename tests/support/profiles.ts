// Loads the real device profiles shipped in assets/profiles into simulated devices for tests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSimulatedDevice, parseVulkaninfo, type DeviceDescription } from '../../allocator/index.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export type ProfileName = 'lavapipe' | 'h100';
const files: Record<ProfileName, string> = {
  lavapipe: 'mesa-lavapipe.vulkaninfo.txt',
  h100: 'nvidia-h100-80gb-hbm3.vulkaninfo.txt',
};

const cache = new Map<ProfileName, DeviceDescription>();

/** The vulkaninfo text of a real profile. */
export function profileText(name: ProfileName): string {
  return readFileSync(path.join(repoRoot, 'assets', 'profiles', files[name]), 'utf8');
}

export function profileDescription(name: ProfileName): DeviceDescription {
  let d = cache.get(name);
  if (!d) {
    d = parseVulkaninfo(profileText(name), files[name]);
    cache.set(name, d);
  }
  return d;
}

/** A simulated device from a real profile, optionally with every heap shrunk to `heapSize` bytes. */
export function simulatedDevice(name: ProfileName, options: { heapSize?: number } = {}) {
  const base = profileDescription(name);
  const description: DeviceDescription =
    options.heapSize === undefined
      ? base
      : { ...base, heaps: base.heaps.map((h) => ({ ...h, size: options.heapSize! })) };
  return createSimulatedDevice(description);
}
