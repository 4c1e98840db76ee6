// `resources: real` on the real lavapipe device: each allocation creates its buffer/image, takes the driver's
// requirements, binds and destroys it. Checked against the driver itself (the requirements recorded equal
// what it reports for the same resource), against the addon's live counts (nothing leaks), and against the
// same scenarios with `resources: none` (same ops, failures, leaks). Skipped, saying why, without the addon.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { TraceEventKind, type AllocationCreateDesc } from '../../allocator/index.ts';
import { isNativeAddonBuilt } from '../../native/index.ts';
import { openVulkanDevice } from '../../native/vulkan-device.ts';
import { createRelocationCopy, newDefragmentCopyStats } from '../../native/defrag-copy.ts';
import { bytePattern, sameBytes } from '../support/vulkan-checks.ts';
import {
  imageExtentFor,
  scenarioBufferUsage,
  scenarioImageFormat,
  scenarioImageUsage,
  vulkanResources,
} from '../../src-main/session/resources.ts';
import { startScenario } from '../../src-main/session/scenario-host.ts';
import { Session } from '../../src-main/session/session.ts';
import type { RunRequest } from '../../src-main/session/run-protocol.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const built = isNativeAddonBuilt();
const skipReason = 'the native Vulkan addon is not built (npm run setup)';
const MiB = 1024 * 1024;

function desc(name: string, size: number, linear: boolean): AllocationCreateDesc {
  return {
    name,
    requirements: { size, alignment: linear ? 256 : 65536, memoryTypeBits: 0xffffffff },
    location: 'GpuOnly',
    linear,
    stack: `test:${name}`,
  };
}

describe.skipIf(!built)(
  `resources real on the lavapipe device${built ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const device = built ? openVulkanDevice(0) : null;
    afterAll(() => device?.close());

    test('the recorded requirements are the driver’s, resources are bound, and every one is destroyed', () => {
      const vk = device!;
      const backend = vulkanResources(vk.context);
      const before = vk.context.liveCounts();
      const session = new Session({ device: vk, resources: backend });
      expect(session.resources).toBe('real');
      // Sizes that are not multiples of anything the driver rounds to, a buffer and an image each.
      const requests = [
        desc('vb', 1_000_003, true),
        desc('tex', 3 * MiB + 17, false),
        desc('ub', 200, true),
        desc('big-tex', 40 * MiB + 1, false),
      ];
      const allocations = requests.map((r) => session.allocate(r));
      expect(vk.context.liveCounts().buffers - before.buffers).toBe(2);
      expect(vk.context.liveCounts().images - before.images).toBe(2);
      expect(session.boundResourceCount).toBe(4);

      // What the driver says for the same resources, asked directly.
      const c = session.log.columns;
      const allocateEvents: number[] = [];
      for (let i = 0; i < session.log.length; i++)
        if (c.kind[i] === TraceEventKind.Allocate) allocateEvents.push(i);
      expect(allocateEvents).toHaveLength(4);
      requests.forEach((r, k) => {
        const direct = r.linear
          ? vk.context.createBuffer(r.requirements.size, scenarioBufferUsage)
          : vk.context.createImage({
              ...imageExtentFor(r.requirements.size),
              mipLevels: 1,
              format: scenarioImageFormat,
              usage: scenarioImageUsage,
              tiling: 'optimal',
            });
        const req = direct.requirements;
        if (direct.handle.kind === 'buffer') vk.context.destroyBuffer(direct.handle);
        else vk.context.destroyImage(direct.handle);
        const i = allocateEvents[k]!;
        expect(c.size[i]).toBe(req.size);
        expect(c.typeBits[i]).toBe(req.memoryTypeBits);
        expect(c.alignment[i]).toBe(Math.max(req.alignment, r.requirements.alignment));
        expect(allocations[k]!.size).toBe(req.size);
        expect(req.size).toBeGreaterThanOrEqual(r.requirements.size);
        expect(allocations[k]!.offset % req.alignment).toBe(0);
      });

      // Free two: their resources go with them.
      session.free(allocations[0]!);
      session.free(allocations[1]!);
      expect(vk.context.liveCounts().buffers - before.buffers).toBe(1);
      expect(vk.context.liveCounts().images - before.images).toBe(1);
      // Close with two still live (leaks): their resources are destroyed before their memory.
      session.close();
      expect(session.boundResourceCount).toBe(0);
      const after = vk.context.liveCounts();
      expect(after.buffers).toBe(before.buffers);
      expect(after.images).toBe(before.images);
      expect(after.memory).toBe(before.memory);
    });

    test('relocation with real resources: moved buffers are recreated at their new place, bytes follow', () => {
      const vk = device!;
      const before = vk.context.liveCounts();
      const stats = newDefragmentCopyStats();
      const session = new Session({
        device: vk,
        resources: vulkanResources(vk.context),
        relocation: createRelocationCopy(vk.context, 'transfer', stats),
      });
      // 2 MiB buffers filling the first 128 MiB block, every other one (by address) freed: 2 MiB holes.
      const all = Array.from({ length: 64 }, (_, i) => session.allocate(desc(`b${i}`, 2 * MiB, true)));
      expect(new Set(all.map((a) => a.block)).size).toBe(1);
      all.sort((x, y) => x.offset - y.offset);
      const kept = all.filter((_, i) => i % 2 === 1);
      for (const [i, a] of all.entries()) if (i % 2 === 0) session.free(a);
      const patterns = new Map(kept.map((a, i) => [a, bytePattern(a.size, 40 + i)] as const));
      for (const [a, pattern] of patterns) a.block.mapped!.write(a.offset, pattern);
      const where = new Map(kept.map((a) => [a, a.offset]));
      // 5 MiB fits no hole: the session moves a buffer (bytes on the device, a new VkBuffer bound at the
      // new place, the old one destroyed) instead of creating a block.
      const big = session.allocate(desc('big', 5 * MiB, true));
      const moved = kept.filter((a) => a.offset !== where.get(a));
      expect(moved.length).toBeGreaterThan(0);
      expect(session.allocator.relocationMoveCount).toBe(moved.length);
      expect(session.allocator.stats().blockCount).toBe(1);
      expect(stats.transferSubmits).toBe(1);
      expect(stats.tempBlocks).toBe(0);
      for (const [a, pattern] of patterns)
        expect(sameBytes(a.block.mapped!.read(a.offset, a.size), pattern)).toBe(true);
      // One resource per live allocation: the moved ones' old buffers are gone.
      expect(session.boundResourceCount).toBe(kept.length + 1);
      expect(vk.context.liveCounts().buffers - before.buffers).toBe(kept.length + 1);
      const c = session.log.columns;
      let moves = 0;
      for (let i = 0; i < session.log.length; i++) if (c.kind[i] === TraceEventKind.Move) moves++;
      expect(moves).toBe(moved.length);
      session.free(big);
      session.close();
      const after = vk.context.liveCounts();
      expect([after.buffers, after.images, after.memory]).toEqual([
        before.buffers,
        before.images,
        before.memory,
      ]);
    });

    const runBoth = async (scenario: string, params: Record<string, string>) => {
      const base: RunRequest = {
        scenario,
        params,
        device: { kind: 'real', index: 0 },
        seed: 11,
        cwd: repoRoot,
      };
      const real = startScenario(base);
      const realResult = await real.done;
      const none = startScenario({ ...base, resources: 'none' });
      const noneResult = await none.done;
      return { real, realResult, none, noneResult };
    };

    test.each([
      ['leaks', {}],
      ['fragmentation', { rounds: '2', allocationsPerRound: '150' }],
      ['budget-overflow', {}],
      // Moves recreate each moved allocation's resource at the new place (and destroy the old one).
      ['defragment', { allocations: '200', movesPerPass: '32' }],
    ] as const)('%s: same ops, failures and leaks as with resources none', async (name, params) => {
      const { real, realResult, none, noneResult } = await runBoth(name, params);
      expect(realResult.error).toBeNull();
      expect(noneResult.error).toBeNull();
      expect(real.info?.resources).toBe('real');
      expect(none.info?.resources).toBe('none');
      const r = realResult.summary!;
      const n = noneResult.summary!;
      expect(r.resources).toBe('real');
      expect([r.ops, r.allocations, r.frees, r.failures]).toEqual([
        n.ops,
        n.allocations,
        n.frees,
        n.failures,
      ]);
      expect(r.failuresByCode).toEqual(n.failuresByCode);
      expect(r.leaks.map((l) => l.name)).toEqual(n.leaks.map((l) => l.name));
      // Every allocate of the real run carries the driver's memoryTypeBits; none of the other run does.
      const bits = (events: typeof real.events): number[] => {
        const c = events.columns();
        const out: number[] = [];
        for (let i = 0; i < events.length; i++)
          if (c.kind[i] === TraceEventKind.Allocate) out.push(c.typeBits[i] as number);
        return out;
      };
      expect(bits(real.events).every((b) => b !== 0)).toBe(true);
      expect(bits(none.events).every((b) => b === 0)).toBe(true);
    });
  },
);
