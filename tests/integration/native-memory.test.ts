// Memory, buffers and images on the real device with the Khronos validation layer ON: allocate / map /
// write / read back / free round trips, dedicated allocations, flush/invalidate, resources bound at
// packed offsets (a linear buffer and an optimal image neighbouring across one bufferImageGranularity
// page boundary), and out-of-memory. Any validation message of severity error fails the file.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MemoryPropertyFlags, isHostVisible } from '../../allocator/index.ts';
import {
  BufferUsage,
  ImageUsage,
  VulkanContext,
  isCodedError,
  type DebugMessage,
  type MemoryHandle,
} from '../../native/index.ts';
import { bytePattern, sameBytes, typeWithFlags } from '../support/vulkan-checks.ts';
import { addonBuilt, alignUp, page, placeAfter, skipReason, type Placed } from './native-support.ts';

const messages: DebugMessage[] = [];
let ctx: VulkanContext;

function hostType(): number {
  const t = ctx.info.types.find(isHostVisible);
  if (t === undefined) throw new Error('the device has no host-visible memory type');
  return t.index;
}

/** The lowest type allowed by `bits` whose flags contain `flags`. */
function typeFor(bits: number, flags: number): number {
  return typeWithFlags(ctx.info.types, bits, flags);
}

function validationErrors(): DebugMessage[] {
  return messages.filter((m) => m.severity === 'error');
}

describe.skipIf(!addonBuilt)(
  `memory on the real device, validation on (${addonBuilt ? 'addon built' : skipReason})`,
  () => {
    beforeAll(() => {
      ctx = VulkanContext.open({ validation: true, onMessage: (m) => messages.push(m) });
    });

    afterAll(() => {
      if (ctx !== undefined) ctx.close();
      // Messages from vkDestroyDevice / vkDestroyInstance (e.g. leaked objects) arrive on close.
      expect(validationErrors()).toEqual([]);
    });

    test('the validation layer is on for this file', () => {
      expect(ctx.info.validation).toBe(true);
      expect(validationErrors()).toEqual([]);
    });

    test('allocate, map, write, read back, free: every size class round-trips', () => {
      const type = hostType();
      for (const [i, size] of [1, 63, 64, 4096, 65_537, 1 << 20, 16 << 20].entries()) {
        const mem = ctx.allocateMemory(type, size, { map: true });
        const data = bytePattern(size, i + 1);
        ctx.writeMemory(mem, 0, data);
        ctx.flushMemory(mem, 0, size);
        ctx.invalidateMemory(mem, 0, size);
        expect(sameBytes(ctx.readMemory(mem, 0, size), data)).toBe(true);
        // Partial reads and writes at odd offsets.
        if (size > 10) {
          ctx.writeMemory(mem, size - 7, new Uint8Array([9, 8, 7, 6, 5, 4, 3]));
          expect(Array.from(ctx.readMemory(mem, size - 7, 7))).toEqual([9, 8, 7, 6, 5, 4, 3]);
        }
        expect(ctx.memoryInfo(mem)).toMatchObject({ memoryTypeIndex: type, size, mapped: true });
        ctx.freeMemory(mem);
      }
      expect(ctx.liveCounts()).toEqual({ memory: 0, mapped: 0, buffers: 0, images: 0 });
      expect(validationErrors()).toEqual([]);
    });

    test('copyMappedMemory copies between blocks and within one, overlapping both ways, like memmove', () => {
      const type = hostType();
      const size = 1 << 16;
      const a = ctx.allocateMemory(type, size, { map: true });
      const b = ctx.allocateMemory(type, size, { map: true });
      const data = bytePattern(size, 7);
      ctx.writeMemory(a, 0, data);
      // Between blocks, at odd offsets.
      ctx.copyMappedMemory(a, 3, b, 1001, 5000);
      expect(sameBytes(ctx.readMemory(b, 1001, 5000), data.subarray(3, 5003))).toBe(true);
      // Within one block, sliding down over its own bytes, then up over them: the result is what a copy
      // through a temporary gives.
      const expected = data.slice();
      expected.copyWithin(100, 300, 300 + 4000);
      ctx.copyMappedMemory(a, 300, a, 100, 4000);
      expect(sameBytes(ctx.readMemory(a, 0, size), expected)).toBe(true);
      expected.copyWithin(2000, 1000, 1000 + 9000);
      ctx.copyMappedMemory(a, 1000, a, 2000, 9000);
      expect(sameBytes(ctx.readMemory(a, 0, size), expected)).toBe(true);
      ctx.freeMemory(a);
      ctx.freeMemory(b);
      expect(validationErrors()).toEqual([]);
    });

    test('map later, unmap, map again keeps the bytes', () => {
      const mem = ctx.allocateMemory(hostType(), 8192);
      expect(ctx.memoryInfo(mem).mapped).toBe(false);
      ctx.mapMemory(mem);
      ctx.writeMemory(mem, 100, new Uint8Array([1, 2, 3, 4]));
      ctx.unmapMemory(mem);
      ctx.mapMemory(mem);
      expect(Array.from(ctx.readMemory(mem, 100, 4))).toEqual([1, 2, 3, 4]);
      ctx.freeMemory(mem);
      expect(validationErrors()).toEqual([]);
    });

    test('buffers and images report requirements, including dedicated preferences', () => {
      const buf = ctx.createBuffer(1000, BufferUsage.STORAGE_BUFFER | BufferUsage.TRANSFER_DST);
      expect(buf.requirements.size).toBeGreaterThanOrEqual(1000);
      expect(buf.requirements.alignment & (buf.requirements.alignment - 1)).toBe(0);
      expect(buf.requirements.memoryTypeBits).toBeGreaterThan(0);
      expect(typeof buf.requirements.prefersDedicated).toBe('boolean');
      const img = ctx.createImage({ width: 256, height: 256, tiling: 'optimal' });
      expect(img.requirements.size).toBeGreaterThanOrEqual(256 * 256 * 4);
      ctx.destroyBuffer(buf.handle);
      ctx.destroyImage(img.handle);
      expect(validationErrors()).toEqual([]);
    });

    test('a linear buffer and an optimal image neighbour across one granularity page, bound without errors', () => {
      const granularity = ctx.info.limits.bufferImageGranularity;
      // Sizes chosen so the buffer ends inside a page: the image must then start on the next page.
      const bufA = ctx.createBuffer(granularity + 100, BufferUsage.STORAGE_BUFFER | BufferUsage.TRANSFER_SRC);
      const img = ctx.createImage({
        width: 64,
        height: 64,
        tiling: 'optimal',
        usage: ImageUsage.SAMPLED | ImageUsage.TRANSFER_DST,
      });
      const linImg = ctx.createImage({
        width: 16,
        height: 16,
        tiling: 'linear',
        usage: ImageUsage.TRANSFER_SRC,
      });
      const bufB = ctx.createBuffer(300, BufferUsage.UNIFORM_BUFFER);
      const resources = [
        { r: bufA, linear: true },
        { r: img, linear: false },
        { r: linImg, linear: true },
        { r: bufB, linear: true },
      ];
      let bits = 0xffffffff;
      for (const { r } of resources) bits &= r.requirements.memoryTypeBits;
      const type = typeFor(bits, MemoryPropertyFlags.DEVICE_LOCAL);

      const placed: Placed[] = [];
      let previous: Placed | null = null;
      for (const { r, linear } of resources) {
        const offset = placeAfter(previous, r.requirements.alignment, linear, granularity);
        previous = { offset, size: r.requirements.size, linear };
        placed.push(previous);
      }
      const blockSize = alignUp(previous!.offset + previous!.size, granularity);
      const mem = ctx.allocateMemory(type, blockSize);

      // The optimal image starts on the page right after the one where the buffer ends: neighbours, not sharers.
      const [a, b] = [placed[0]!, placed[1]!];
      expect(page(b.offset, granularity)).toBe(page(a.offset + a.size - 1, granularity) + 1);
      ctx.bindBufferMemory(bufA.handle, mem, placed[0]!.offset);
      ctx.bindImageMemory(img.handle, mem, placed[1]!.offset);
      ctx.bindImageMemory(linImg.handle, mem, placed[2]!.offset);
      ctx.bindBufferMemory(bufB.handle, mem, placed[3]!.offset);

      ctx.destroyBuffer(bufA.handle);
      ctx.destroyImage(img.handle);
      ctx.destroyImage(linImg.handle);
      ctx.destroyBuffer(bufB.handle);
      ctx.freeMemory(mem);
      expect(messages).toEqual([]);
    });

    test('dedicated allocations for a buffer and an image bind at offset 0', () => {
      const buf = ctx.createBuffer(1 << 20);
      const bufMem = ctx.allocateMemory(typeFor(buf.requirements.memoryTypeBits, 0), buf.requirements.size, {
        dedicatedBuffer: buf.handle,
      });
      expect(ctx.memoryInfo(bufMem).dedicated).toBe(true);
      ctx.bindBufferMemory(buf.handle, bufMem, 0);
      const img = ctx.createImage({ width: 512, height: 512, tiling: 'optimal' });
      const imgMem = ctx.allocateMemory(typeFor(img.requirements.memoryTypeBits, 0), img.requirements.size, {
        dedicatedImage: img.handle,
      });
      ctx.bindImageMemory(img.handle, imgMem, 0);
      ctx.destroyBuffer(buf.handle);
      ctx.destroyImage(img.handle);
      ctx.freeMemory(bufMem);
      ctx.freeMemory(imgMem);
      expect(validationErrors()).toEqual([]);
    });

    test('device-address memory and a SHADER_DEVICE_ADDRESS buffer (when the feature exists)', () => {
      if (!ctx.info.extensions.bufferDeviceAddress) return;
      const buf = ctx.createBuffer(4096, BufferUsage.STORAGE_BUFFER | BufferUsage.SHADER_DEVICE_ADDRESS);
      const mem = ctx.allocateMemory(typeFor(buf.requirements.memoryTypeBits, 0), 65536, {
        deviceAddress: true,
      });
      expect(ctx.memoryInfo(mem).deviceAddress).toBe(true);
      ctx.bindBufferMemory(buf.handle, mem, 0);
      ctx.destroyBuffer(buf.handle);
      ctx.freeMemory(mem);
      expect(validationErrors()).toEqual([]);
    });

    test('more than the heap is VK_ERROR_OUT_OF_DEVICE_MEMORY and the device stays usable', () => {
      const type = hostType();
      const heap = ctx.info.heaps[ctx.info.types[type]!.heapIndex]!;
      const before = ctx.liveCounts();
      let code: string | undefined;
      try {
        ctx.allocateMemory(type, heap.size + 1);
      } catch (error) {
        if (isCodedError(error)) code = error.code;
      }
      expect(code).toMatch(/^VK_ERROR_OUT_OF_(DEVICE|HOST)_MEMORY$/);
      expect(ctx.liveCounts()).toEqual(before);
      const mem: MemoryHandle = ctx.allocateMemory(type, 4096, { map: true });
      ctx.writeMemory(mem, 0, new Uint8Array([42]));
      expect(ctx.readMemory(mem, 0, 1)[0]).toBe(42);
      ctx.freeMemory(mem);
      expect(validationErrors()).toEqual([]);
    });

    test('budgets are reported exactly when VK_EXT_memory_budget is present', () => {
      const budgets = ctx.budgets();
      if (!ctx.info.extensions.memoryBudget) {
        expect(budgets).toBeNull();
        return;
      }
      expect(budgets).not.toBeNull();
      expect(budgets!.length).toBe(ctx.info.heaps.length);
      for (const b of budgets!) expect(b.budget).toBeGreaterThan(0);
    });

    test('messages reach JS: through onMessage synchronously, or queued for takeMessages()', () => {
      // A second context whose messages are only queued. vkSubmitDebugUtilsMessageEXT goes through the layer
      // chain to the messenger exactly like a validation report.
      const other = VulkanContext.open({ validation: true });
      other.submitDebugMessage('error', 'VRAMSCOPE-test', 'probe message');
      const queued = other.takeMessages();
      expect(queued).toEqual([
        {
          severity: 'error',
          type: 'validation',
          messageIdName: 'VRAMSCOPE-test',
          messageIdNumber: 0,
          message: 'probe message',
        },
      ]);
      const mem = other.allocateMemory(0, 1024);
      other.close(); // frees `mem` first, then device, messenger, instance
      expect(other.takeMessages().filter((m) => m.severity === 'error')).toEqual([]);
      expect(() => other.memoryInfo(mem)).toThrow(/closed/);

      const seen: DebugMessage[] = [];
      const third = VulkanContext.open({ validation: true, onMessage: (m) => seen.push(m) });
      third.submitDebugMessage('warning', 'VRAMSCOPE-test', 'delivered');
      expect(seen.map((m) => m.message)).toEqual(['delivered']);
      third.close();
    });
  },
);
