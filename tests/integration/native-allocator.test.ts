// The Allocator over the real device (VulkanDevice on lavapipe, validation layer on): the first 20,000 ops
// of workload-a (bench/workload-a.mjs) with validate() after every op; real buffers and images bound at the
// offsets the allocator chooses (linear and non-linear neighbours, granularity respected); dedicated
// allocations; out-of-memory through the allocator leaves allocator and device usable. Any validation
// error fails the file.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  AllocationError,
  Allocator,
  parseWorkload,
  workloadLocations,
  WorkloadOp,
  type Allocation,
} from '../../allocator/index.ts';
import { ensureWorkloadA } from '../../bench/workload-a.mjs';
import type { DebugMessage, MemoryHandle } from '../../native/index.ts';
import { openVulkanDevice, type VulkanDevice } from '../../native/vulkan-device.ts';
import { bindMixedResources, blockNeighbours } from '../support/vulkan-checks.ts';
import { addonBuilt, page, skipReason } from './native-support.ts';

const messages: DebugMessage[] = [];
let device: VulkanDevice;

const errors = (): DebugMessage[] => messages.filter((m) => m.severity === 'error');

describe.skipIf(!addonBuilt)(
  `Allocator on the real device (${addonBuilt ? 'addon built' : skipReason})`,
  () => {
    beforeAll(() => {
      device = openVulkanDevice(undefined, { validation: true, onMessage: (m) => messages.push(m) });
    });
    afterAll(() => {
      device?.close();
      expect(errors()).toEqual([]);
    });

    test('replays the first 20,000 ops of workload-a with validate() after each op', () => {
      const workload = parseWorkload(readFileSync(ensureWorkloadA(), 'utf8'));
      const allocator = new Allocator({ device, debugSettings: { logLeaksOnShutdown: false } });
      const live = new Map<number, Allocation>();
      const n = Math.min(20_000, workload.length);
      let allocations = 0;
      for (let i = 0; i < n; i++) {
        const id = workload.id[i]!;
        if (workload.op[i] === WorkloadOp.Allocate) {
          const a = allocator.allocate({
            name: `w${id}`,
            requirements: {
              size: workload.size[i]!,
              alignment: workload.alignment[i]!,
              memoryTypeBits: 0xffffffff,
            },
            location: workloadLocations[workload.location[i]!]!,
            linear: workload.linear[i] === 1,
          });
          expect(a.offset % workload.alignment[i]!).toBe(0);
          live.set(id, a);
          allocations++;
        } else {
          const a = live.get(id);
          if (a !== undefined) {
            allocator.free(a);
            live.delete(id);
          }
        }
        allocator.validate();
      }
      expect(allocations).toBeGreaterThan(5000);
      // Every live block is real device memory, one per allocator block.
      expect(device.liveBlockCount()).toBe(allocator.blocks().length);
      expect(allocator.capacity()).toBe(allocator.blocks().reduce((s, b) => s + b.size, 0));
      for (const a of live.values()) allocator.free(a);
      allocator.validate();
      allocator.destroy();
      expect(device.liveBlockCount()).toBe(0);
      expect(errors()).toEqual([]);
    });

    test('real buffers and images bound at the offsets the allocator chooses, zero validation errors', () => {
      const ctx = device.context;
      const granularity = device.description.limits.bufferImageGranularity;
      // Small blocks so that many resources share each block and linear/non-linear neighbours occur.
      const allocator = new Allocator({
        device,
        debugSettings: { logLeaksOnShutdown: false },
        allocationSizes: { deviceMemblockSize: 4 << 20, hostMemblockSize: 4 << 20 },
      });
      const made = bindMixedResources(ctx, allocator, 60);
      // Neighbours of different linearity in one block never share a granularity page.
      let mixedNeighbours = 0;
      for (const [p, q] of blockNeighbours(made.map((m) => m.allocation)).pairs) {
        expect(q.offset).toBeGreaterThanOrEqual(p.offset + p.size);
        if (p.linear !== q.linear) {
          mixedNeighbours++;
          expect(page(q.offset, granularity)).toBeGreaterThan(page(p.offset + p.size - 1, granularity));
        }
      }
      expect(mixedNeighbours).toBeGreaterThan(0);
      // Host-visible allocations: bytes through the allocation's mapped view land in the block.
      const upload = allocator.allocate({
        name: 'upload',
        requirements: { size: 4096, alignment: 256, memoryTypeBits: 0xffffffff },
        location: 'CpuToGpu',
        linear: true,
      });
      upload.mapped!.write(10, new Uint8Array([1, 2, 3]));
      expect(Array.from(ctx.readMemory(upload.block.handle as MemoryHandle, upload.offset + 10, 3))).toEqual([
        1, 2, 3,
      ]);
      allocator.free(upload);
      for (const { allocation, destroy } of made) {
        destroy();
        allocator.free(allocation);
      }
      allocator.validate();
      allocator.destroy();
      expect(errors()).toEqual([]);
    });

    test('dedicated allocations made for a real image and buffer bind at offset 0', () => {
      const ctx = device.context;
      const allocator = new Allocator({ device, debugSettings: { logLeaksOnShutdown: false } });
      const img = ctx.createImage({ width: 1024, height: 1024, tiling: 'optimal' });
      const a = allocator.allocate({
        name: 'dedicated image',
        requirements: img.requirements,
        location: 'GpuOnly',
        linear: false,
        scheme: { kind: 'dedicatedImage', image: img.handle },
      });
      expect(a.isDedicated).toBe(true);
      expect(ctx.memoryInfo(a.block.handle as MemoryHandle).dedicated).toBe(true);
      ctx.bindImageMemory(img.handle, a.block.handle as MemoryHandle, a.offset);
      const buf = ctx.createBuffer(3 << 20);
      const b = allocator.allocate({
        name: 'dedicated buffer',
        requirements: buf.requirements,
        location: 'GpuOnly',
        linear: true,
        scheme: { kind: 'dedicatedBuffer', buffer: buf.handle },
      });
      ctx.bindBufferMemory(buf.handle, b.block.handle as MemoryHandle, b.offset);
      ctx.destroyImage(img.handle);
      ctx.destroyBuffer(buf.handle);
      allocator.free(a);
      allocator.free(b);
      allocator.destroy();
      expect(errors()).toEqual([]);
    });

    test('out of memory through the allocator is a clean OutOfMemory; allocator and device stay usable', () => {
      const allocator = new Allocator({ device, debugSettings: { logLeaksOnShutdown: false } });
      const keep = allocator.allocate({
        name: 'kept',
        requirements: { size: 1 << 20, alignment: 256, memoryTypeBits: 0xffffffff },
        location: 'CpuToGpu',
        linear: true,
      });
      const heap = device.description.heaps[device.description.types[keep.memoryTypeIndex]!.heapIndex]!;
      const before = allocator.stats();
      let error: unknown = null;
      try {
        allocator.allocate({
          name: 'too big',
          requirements: { size: heap.size + 4096, alignment: 256, memoryTypeBits: 0xffffffff },
          location: 'GpuOnly',
          linear: true,
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AllocationError);
      expect((error as AllocationError).code).toBe('OutOfMemory');
      expect(allocator.stats()).toEqual(before);
      allocator.validate();
      keep.mapped!.write(0, new Uint8Array([9]));
      expect(keep.mapped!.read(0, 1)[0]).toBe(9);
      const again = allocator.allocate({
        name: 'after',
        requirements: { size: 64 << 10, alignment: 256, memoryTypeBits: 0xffffffff },
        location: 'GpuOnly',
        linear: true,
      });
      allocator.free(again);
      allocator.free(keep);
      allocator.destroy();
      expect(device.liveBlockCount()).toBe(0);
    });
  },
);
