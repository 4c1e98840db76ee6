// Replay ("what would happen on GPU X"): the allocation requests of a recorded run, replayed on another
// device profile, land in the memory types that device's flags call for: CpuToGpu in the ReBAR type
// (DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT) on the H100, everything in the single type on lavapipe.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { createSimulatedDevice } from '../../allocator/index.ts';
import { loadProfile } from '../../src-main/session/open-device.ts';
import { replayRequests, type ReplayReport } from '../../src-main/session/replay.ts';
import { startScenario } from '../../src-main/session/scenario-host.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { realVmaSample } from '../support/import-fixtures.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function recordAndReplay(
  from: string,
  to: string,
  strategy: 'tlsf' | 'freelist' = 'tlsf',
): Promise<ReplayReport> {
  const run = startScenario({
    scenario: 'streaming',
    params: { frames: '30', levelResources: '120' },
    device: { kind: 'profile', profile: from },
    seed: 8,
    cwd: repoRoot,
  });
  const result = await run.done;
  expect(result.outcome).toBe('completed');
  const original = loadProfile(from, repoRoot);
  return replayRequests(run.events.view(), {
    original: { device: original, strategy: 'tlsf' },
    target: createSimulatedDevice(loadProfile(to, repoRoot)),
    strategy,
  });
}

function typesBy(side: ReplayReport['baseline']): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const u of side.typeUse) {
    const key = `${u.location} ${u.linear ? 'linear' : 'non-linear'}`;
    (out[key] ??= []).push(u.typeIndex);
  }
  return out;
}

test('lavapipe recording replayed on the H100 profile: CpuToGpu moves to the ReBAR type', async () => {
  const r = await recordAndReplay('lavapipe', 'h100');
  expect(r.requests).toBeGreaterThan(100);
  // Recorded on lavapipe: one memory type for everything.
  expect(typesBy(r.baseline)).toEqual({
    'CpuToGpu linear': [0],
    'GpuOnly linear': [0],
    'GpuOnly non-linear': [0],
  });
  // On the H100: GpuOnly → type 1 (DEVICE_LOCAL), CpuToGpu → type 4 (DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT).
  expect(typesBy(r.replay)).toEqual({
    'CpuToGpu linear': [4],
    'GpuOnly linear': [1],
    'GpuOnly non-linear': [1],
  });
  const upload = r.typeChanges.find((c) => c.location === 'CpuToGpu');
  expect(upload?.from).toMatch(/^type 0 \(DEVICE_LOCAL\|HOST_VISIBLE\|HOST_COHERENT\|HOST_CACHED, heap 0\)$/);
  expect(upload?.to).toBe('type 4 (DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT, heap 0)');
  expect(r.typeChanges.reduce((n, c) => n + c.count, 0)).toBe(r.requests);
  expect(r.baseline.failures).toBe(0);
  expect(r.replay.failures).toBe(0);
  expect(r.replay.allocations).toBe(r.baseline.allocations);
  expect(r.replay.peakCommittedBytes).toBeGreaterThan(0);
});

test('H100 recording replayed on the lavapipe profile: everything in the single type', async () => {
  const r = await recordAndReplay('h100', 'lavapipe');
  expect(typesBy(r.baseline)['CpuToGpu linear']).toEqual([4]);
  expect(new Set(r.replay.typeUse.map((u) => u.typeIndex))).toEqual(new Set([0]));
});

test('same device, same strategy: no differences', async () => {
  const r = await recordAndReplay('h100', 'h100');
  expect(r.typeChanges).toEqual([]);
  expect(r.replay.peakCommittedBytes).toBe(r.baseline.peakCommittedBytes);
  expect(r.replay.blocksCreated).toBe(r.baseline.blocksCreated);
  expect(r.replay.peakBlocks).toBe(r.baseline.peakBlocks);
});

const vmaDump = realVmaSample;

test.skipIf(!existsSync(vmaDump))(
  'an imported VMA dump (no locations, no alignments) replays on the H100 profile',
  () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-replay-'));
    try {
      const tracePath = path.join(tmp, 'vma.trace');
      const bin = path.join(repoRoot, 'bin', 'vramscope.mjs');
      const imp = spawnSync(process.execPath, [bin, 'import', vmaDump, '--out', tracePath], {
        encoding: 'utf8',
      });
      expect(imp.status).toBe(0);
      const trace = loadTraceSync(tracePath);
      const r = replayRequests(trace.events, {
        original: { device: trace.header.device, strategy: trace.header.allocator.strategy },
        target: createSimulatedDevice(loadProfile('h100', repoRoot)),
        strategy: 'tlsf',
      });
      expect(r.requests).toBeGreaterThan(0);
      expect(r.inferredLocations).toBe(r.requests);
      expect(r.replay.failures).toBe(0);
      // The dump's DEVICE_LOCAL-only type maps to GpuOnly: type 1 on the H100.
      const gpuOnly = r.replay.typeUse.filter((u) => u.location === 'GpuOnly');
      expect(gpuOnly.length).toBeGreaterThan(0);
      expect(new Set(gpuOnly.map((u) => u.typeIndex))).toEqual(new Set([1]));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
