// The device library over the API (deviceLibrary, describeDevice, addDeviceProfile, removeDeviceProfile)
// on a real AppBackend that checks every result against the contract: shipped profiles, real devices,
// a dropped gpuinfo.org report kept in the user's data folder and a session opened on it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { AppBackend } from '../../src-main/api/app-backend.ts';
import type { ApiError, RequestName, RequestParams, RequestResult } from '../../src-main/api/contract.ts';
import { repoRoot } from '../support/api-transports.ts';

const userDir = path.join(mkdtempSync(path.join(tmpdir(), 'vramscope-profiles-')), 'profiles');
const backend = new AppBackend({ checkResults: true, userProfilesDir: userDir });
afterAll(async () => {
  await backend.dispose();
  rmSync(path.dirname(userDir), { recursive: true, force: true });
});

let nextId = 1;
async function call<N extends RequestName>(name: N, params: RequestParams<N>): Promise<RequestResult<N>> {
  const res = await backend.dispatch(
    { t: 'req', id: nextId++, name, params },
    { clientId: 't', transport: 'in-process' },
  );
  if (!res.ok) throw Object.assign(new Error(res.error.message), { code: res.error.code });
  return res.result as RequestResult<N>;
}
async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { code: ApiError['code'] }).code, message: (error as Error).message };
  }
  throw new Error('expected the request to fail');
}
const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(path.join(repoRoot, 'tests', 'fixtures', 'profiles', name)));

describe('device library', () => {
  test('lists the shipped profiles and the built-in models; describes one with its choice table', async () => {
    const lib = await call('deviceLibrary', {});
    const shipped = lib.entries.filter((e) => e.origin === 'shipped');
    expect(shipped.map((e) => e.label)).toContain('NVIDIA H100 80GB HBM3');
    expect(lib.entries.filter((e) => e.origin === 'builtin')).toHaveLength(3);
    expect(lib.canAddProfiles).toBe(true);
    const h100 = shipped.find((e) => e.label === 'NVIDIA H100 80GB HBM3');
    const d = await call('describeDevice', { device: h100!.ref });
    expect(d.devices).toHaveLength(1);
    const detail = d.devices[0]!;
    expect(detail.choices).toHaveLength(24);
    const winner = (loc: string): number | null =>
      detail.choices.find((c) => c.location === loc && c.linear && c.scheme === 'managed')!.decision.winner;
    // H100 types (assets/profiles): 0 none, 1 DL, 2 HV|HC, 3 HV|HC|HCached, 4 DL|HV|HC.
    expect([winner('GpuOnly'), winner('CpuToGpu'), winner('GpuToCpu'), winner('Unknown')]).toEqual([
      1, 4, 3, 0,
    ]);
    expect(detail.typeFlagNames[4]).toEqual(['DEVICE_LOCAL', 'HOST_VISIBLE', 'HOST_COHERENT']);
    expect(detail.budgets).toBeNull();
  });

  test('a dropped gpuinfo.org report is validated, kept in the user folder and usable for a session', async () => {
    const entry = await call('addDeviceProfile', {
      name: 'gpuinfo-17922-nvidia-rtx-4090.json',
      data: fixture('gpuinfo-17922-nvidia-rtx-4090.json'),
    });
    expect(entry).toMatchObject({
      ref: { kind: 'profile', name: 'gpuinfo-17922-nvidia-rtx-4090' },
      origin: 'user',
      label: 'NVIDIA GeForce RTX 4090',
      formatLabel: 'vulkan.gpuinfo.org report JSON',
      error: null,
    });
    expect(readdirSync(userDir)).toEqual(['gpuinfo-17922-nvidia-rtx-4090.gpuinfo.json']);
    const lib = await call('deviceLibrary', {});
    expect(lib.entries.filter((e) => e.origin === 'user').map((e) => e.label)).toEqual([
      'NVIDIA GeForce RTX 4090',
    ]);
    const described = await call('describeDevice', { device: entry.ref });
    expect(described.devices[0]!.description.heaps.map((h) => h.size)).toEqual([0x5ff400000, 0xb9ca6a800]);
    const session = await call('openSession', { device: entry.ref });
    expect(session.device.name).toBe('NVIDIA GeForce RTX 4090');
    await call('closeSession', { sessionId: session.sessionId });
    await call('removeDeviceProfile', { name: 'gpuinfo-17922-nvidia-rtx-4090' });
    expect(readdirSync(userDir)).toEqual([]);
    expect((await failure(call('describeDevice', { device: entry.ref }))).code).toBe('NotFound');
  });

  test('a profile that does not parse is refused naming the JSON path; names are never paths', async () => {
    const bad = await failure(
      call('addDeviceProfile', {
        name: 'k4200.json',
        data: fixture('profiles-vp_gpuinfo_nvidia_quadro_k4200_0_0_157_53_osx_10_15.json'),
      }),
    );
    expect(bad.code).toBe('InvalidRequest');
    expect(bad.message).toContain('at capabilities.device.properties.VkPhysicalDeviceMemoryProperties');
    const traversal = await failure(
      call('addDeviceProfile', {
        name: '../../evil.vulkaninfo.txt',
        data: fixture('intel-xe-tgl-vulkaninfo-1.2.141.txt'),
      }),
    );
    expect(traversal.code).toBe('InvalidRequest');
    expect(readdirSync(userDir)).toEqual([]);
    // A profile file beside the user folder (not in it) is not a profile name a session can open.
    writeFileSync(
      path.join(path.dirname(userDir), 'beside.vulkaninfo.txt'),
      fixture('intel-xe-tgl-vulkaninfo-1.2.141.txt'),
    );
    const beside = await failure(call('openSession', { device: { kind: 'profile', name: 'beside' } }));
    expect(beside.code).toBe('NotFound');
    const parent = await failure(call('openSession', { device: { kind: 'profile', name: '../beside' } }));
    expect(parent.code).toBe('InvalidRequest');
    const shippedName = await failure(
      call('addDeviceProfile', {
        name: 'mesa-lavapipe.vulkaninfo.txt',
        data: fixture('intel-xe-tgl-vulkaninfo-1.2.141.txt'),
      }),
    );
    expect(shippedName.message).toContain('shipped profile');
  });
});

describe('Replay on… and compare', () => {
  test('replayTrace answers what `vramscope replay --json` prints; the replay is a trace of its own', async () => {
    const tracePath = path.join(repoRoot, 'assets', 'traces', 'streaming-h100.trace');
    // Clients name files by the fileId main granted (here as `serve TRACE` does for its command line).
    const { fileId } = backend.grantFile(tracePath, 'command-line');
    const loaded = await call('loadTrace', { source: { kind: 'file', fileId } });
    const result = await call('replayTrace', {
      sourceId: loaded.sourceId,
      device: { kind: 'profile', name: 'lavapipe' },
    });
    const cli = spawnSync(
      process.execPath,
      ['bin/vramscope.mjs', 'replay', tracePath, '--profile', 'lavapipe', '--json'],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr).toBe(0);
    expect(result.report).toEqual(JSON.parse(cli.stdout));
    expect(result.baseline.sourceId).toBe(loaded.sourceId);
    expect(result.replay.device.name).toContain('llvmpipe');
    expect(result.replay.peakCommittedBytes).toBe(result.report.replay.peakCommittedBytes);
    // The replay's clock follows the recording's request times: it ends at the last request, which is at
    // most the recording's end (the recording may have budget samples after it).
    expect(result.replay.durationMs).toBeLessThanOrEqual(loaded.durationMs);
    expect(result.replay.durationMs).toBeGreaterThan(loaded.durationMs * 0.99);
    const state = await call('getState', {});
    expect(state.traces.map((t) => t.sourceId)).toContain(result.replay.sourceId);

    const compared = await call('compareSources', { a: loaded.sourceId, b: result.replay.sourceId });
    expect(compared.a.side).toEqual(result.report.baseline);
    expect(compared.b.side.peakCommittedBytes).toBe(result.report.replay.peakCommittedBytes);
    expect(compared.b.side.blocksCreated).toBe(result.report.replay.blocksCreated);
    expect(compared.b.side.failures).toBe(result.report.replay.failures);
  });
});
