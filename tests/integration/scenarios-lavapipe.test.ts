// Every built-in scenario on the real lavapipe Vulkan device (native addon), in the scenario worker.
// Skipped, saying why, when the addon is not built (npm run setup builds it).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { packedBlockPolicy, TraceEventKind } from '../../allocator/index.ts';
import { generateWorkload } from '../../bench/workload-a.mjs';
import { isNativeAddonBuilt } from '../../native/index.ts';
import { startScenario } from '../../src-main/session/scenario-host.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-lavapipe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const built = isNativeAddonBuilt();
const skipReason = 'the native Vulkan addon is not built (npm run setup)';

const scenarios: Record<string, () => Record<string, string>> = {
  streaming: () => ({ frames: '40', levelResources: '100' }),
  'transient-ring': () => ({ frames: '60' }),
  fragmentation: () => ({ rounds: '2', allocationsPerRound: '150' }),
  // Bytes through vkCmdCopyBuffer (lavapipe's memory is all host-visible, so auto would map).
  defragment: () => ({ allocations: '200', movesPerPass: '32', copy: 'transfer', moveImages: 'true' }),
  'budget-overflow': () => ({}),
  leaks: () => ({}),
  'replay-workload': () => {
    const file = path.join(tmp, 'w.workload');
    if (!existsSync(file)) writeFileSync(file, generateWorkload([9, 2000, 32]));
    return { file };
  },
};

describe.skipIf(!built)(`on the real lavapipe device${built ? '' : ` (skipped: ${skipReason})`}`, () => {
  test.each(Object.keys(scenarios))('%s runs to completion', async (name) => {
    const run = startScenario({
      scenario: name,
      params: scenarios[name]?.() ?? {},
      device: { kind: 'real', index: 0 },
      seed: 4,
      cwd: repoRoot,
    });
    const result = await run.done;
    expect(result.error).toBeNull();
    expect(result.outcome).toBe('completed');
    expect(run.info?.device.source).toBe('vulkan');
    expect(run.info?.device.types).toHaveLength(1);
    expect(result.summary?.allocations).toBeGreaterThan(0);
    // Every block the device handed out was recorded and, leaks aside, given back (the tlsf policy keeps
    // up to blockPolicy.spareEmptyBlocks, at least one, empty blocks per memory type; lavapipe has one).
    const c = run.events.columns();
    let created = 0;
    let destroyed = 0;
    for (let i = 0; i < run.events.length; i++) {
      if (c.kind[i] === TraceEventKind.BlockCreate) created++;
      if (c.kind[i] === TraceEventKind.BlockDestroy) destroyed++;
    }
    expect(created).toBeGreaterThan(0);
    if (name !== 'leaks')
      expect(created - destroyed).toBeLessThanOrEqual(Math.max(1, packedBlockPolicy.spareEmptyBlocks));
    if (name === 'budget-overflow') expect(result.summary?.failuresByCode.OutOfMemory).toBeGreaterThan(0);
    if (name === 'defragment') {
      let moves = 0;
      const passMarks: string[] = [];
      for (let i = 0; i < run.events.length; i++) {
        if (c.kind[i] === TraceEventKind.Move) moves++;
        if (c.kind[i] === TraceEventKind.Mark) {
          const label = run.events.string(c.name[i] as number);
          if (label.startsWith('defragment pass')) passMarks.push(label);
        }
      }
      // The passes' marks add up to the move events recorded (each mark: "...: N moves, ...").
      expect(moves).toBeGreaterThan(0);
      expect(passMarks.length).toBeGreaterThan(1);
      const marked = passMarks.map((l) => Number(/: (\d+) moves/.exec(l)?.[1]));
      expect(marked.reduce((a, b) => a + b, 0)).toBe(moves);
    }
  });
});

describe.skipIf(!built)(`device choice${built ? '' : ` (skipped: ${skipReason})`}`, () => {
  test('without --device or --profile the real device is used', async () => {
    const run = startScenario({ scenario: 'leaks', params: { objects: '10' }, seed: 1, cwd: repoRoot });
    await run.done;
    expect(run.info?.device.source).toBe('vulkan');
    expect(run.info?.deviceNote).toBeNull();
  });
});

test('without the addon, the default device falls back to the simulated lavapipe profile and says so', async () => {
  const saved = process.env.VRAMSCOPE_NATIVE_ADDON;
  process.env.VRAMSCOPE_NATIVE_ADDON = path.join(tmp, 'no-such-addon.node');
  try {
    const run = startScenario({ scenario: 'leaks', params: { objects: '10' }, seed: 1, cwd: repoRoot });
    const result = await run.done;
    expect(result.outcome).toBe('completed');
    expect(run.info?.device.source).toBe('profile:mesa-lavapipe.vulkaninfo.txt');
    expect(run.info?.deviceNote).toMatch(/native Vulkan addon is not built .* simulated lavapipe profile/);
  } finally {
    if (saved === undefined) delete process.env.VRAMSCOPE_NATIVE_ADDON;
    else process.env.VRAMSCOPE_NATIVE_ADDON = saved;
  }
});
