// `vramscope devices --profile FILE [--json]` end to end on real profile samples: the description and the
// choice table (with decision records), text and JSON, and the errors (line or JSON path, exit 1).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { ProfileFileReport } from '../../src-main/session/device-report.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repoRoot, 'bin', 'vramscope.mjs');
const fixtures = path.join('tests', 'fixtures', 'profiles');

function vramscope(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
}

describe('vramscope devices --profile', () => {
  test('a gpuinfo.org report: heaps, types and the choice per location with its decision record', () => {
    const r = vramscope('devices', '--profile', path.join(fixtures, 'gpuinfo-17922-nvidia-rtx-4090.json'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'gpuinfo-17922-nvidia-rtx-4090.json: vulkan.gpuinfo.org report JSON, 1 device(s)',
    );
    expect(r.stdout).toContain('Device: NVIDIA GeForce RTX 4090 [discrete]');
    expect(r.stdout).toContain('    0    23.99 GiB  DEVICE_LOCAL\n');
    expect(r.stdout).toContain(' 4  heap 0  DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT');
    // Hand-read from the file: GpuOnly → 1, CpuToGpu → 4 (ReBAR) retried with 2, GpuToCpu → 3.
    expect(r.stdout).toContain(
      'GpuOnly (linear and optimal; managed, dedicatedBuffer, dedicatedImage): type 1',
    );
    expect(r.stdout).toContain(
      'CpuToGpu (linear and optimal; managed, dedicatedBuffer, dedicatedImage): type 4',
    );
    expect(r.stdout).toContain('if allocating from type 4 fails: retried once with type 2');
    expect(r.stdout).toContain(
      'GpuToCpu (linear and optimal; managed, dedicatedBuffer, dedicatedImage): type 3',
    );
  });

  test('--json: every device of a two-GPU vulkaninfo file with 24 choices each', () => {
    const r = vramscope(
      'devices',
      '--profile',
      path.join(fixtures, 'nvidia-gtx1650-amd-igpu-vulkaninfo-1.3.224-2gpus.txt'),
      '--json',
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ProfileFileReport;
    expect(report.format).toBe('vulkaninfo-text');
    expect(report.devices.map((d) => d.description.name)).toEqual([
      'NVIDIA GeForce GTX 1650',
      'AMD Radeon(TM) Graphics',
    ]);
    for (const d of report.devices) {
      expect(d.choices).toHaveLength(24);
      expect(d.typeFlagNames).toHaveLength(d.description.types.length);
    }
    const gtx = report.devices[0];
    const cpuToGpu = gtx.choices.find((c) => c.location === 'CpuToGpu' && c.linear && c.scheme === 'managed');
    // Types of the GTX 1650 (read off the file): 0 none/h1, 1 DL/h0, 2 HV|HC/h1, 3 HV|HC|HCached/h1,
    // 4 DL|HV|HC/h2 (the 214 MiB BAR heap).
    expect(cpuToGpu?.decision.winner).toBe(4);
    expect(cpuToGpu?.decision.retryTypeIndex).toBe(2);
  });

  test('a Profiles JSON file fails with its JSON path, a broken text file with its line', () => {
    const json = vramscope(
      'devices',
      '--profile',
      path.join(fixtures, 'profiles-vp_gpuinfo_amd_radv_bonaire__aco__21_1_4_arch_unknown.json'),
    );
    expect(json.status).toBe(1);
    expect(json.stderr).toContain(
      'at capabilities.device.properties.VkPhysicalDeviceMemoryProperties: not present',
    );
    const missing = vramscope('devices', '--profile', 'no-such-profile.txt');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('cannot read profile no-such-profile.txt: ENOENT');
    const notProfile = vramscope('devices', '--profile', 'package.json');
    expect(notProfile.status).toBe(1);
    expect(notProfile.stderr).toContain('package.json line 1: this JSON is not a device profile');
  });
});
