// Node-side helpers for the inspector's tests: load a device profile from assets/ and build workloads.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseVulkaninfo } from '../../allocator/index.ts';
import type { DeviceDescription } from '../../allocator/index.ts';
import { buildWorkloadOn } from './ui-workload.ts';
import type { Workload, WorkloadOptions } from './ui-workload.ts';

export type { Workload, WorkloadOptions } from './ui-workload.ts';
export { rng } from './rng.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function loadProfile(name = 'nvidia-h100-80gb-hbm3'): DeviceDescription {
  const file = path.join(repoRoot, 'assets', 'profiles', `${name}.vulkaninfo.txt`);
  return parseVulkaninfo(readFileSync(file, 'utf8'), `${name}.vulkaninfo.txt`);
}

export function buildWorkload(options: WorkloadOptions & { device?: DeviceDescription }): Workload {
  return buildWorkloadOn(options.device ?? loadProfile(), options);
}
