// VulkanDevice: the allocator's Device contract over the real device. Its description is the enumeration
// with source "vulkan"; blocks are real VkDeviceMemory; mapped blocks round-trip bytes; failures are
// DeviceErrors whose code is the VkResult name; memory-type choices work on the live description.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DeviceError,
  chooseMemoryType,
  isHostVisible,
  type DeviceMemoryBlock,
} from '../../allocator/index.ts';
import { enumerateDevices } from '../../native/index.ts';
import { describeNativeDevice, openVulkanDevice, type VulkanDevice } from '../../native/vulkan-device.ts';
import { addonBuilt, skipReason } from './native-support.ts';

let device: VulkanDevice;

describe.skipIf(!addonBuilt)(`VulkanDevice (${addonBuilt ? 'addon built' : skipReason})`, () => {
  beforeAll(() => {
    device = openVulkanDevice(undefined, { validation: true });
  });
  afterAll(() => {
    device?.close();
    expect(device.context.takeMessages().filter((m) => m.severity === 'error')).toEqual([]);
  });

  test('the description is the enumeration of the opened device, source "vulkan"', () => {
    const d = device.description;
    expect(d.source).toBe('vulkan');
    expect(d.api).toBe('vulkan');
    expect(d).toEqual(describeNativeDevice(enumerateDevices()[device.context.info.index]!));
  });

  test('allocateBlock / mapped read-write / freeBlock', () => {
    const type = device.description.types.find(isHostVisible)!.index;
    const blocks: DeviceMemoryBlock[] = [];
    for (let i = 0; i < 8; i++) {
      const b = device.allocateBlock({
        memoryTypeIndex: type,
        size: 65536 * (i + 1),
        deviceAddress: false,
        map: true,
      });
      expect(b.size).toBe(65536 * (i + 1));
      expect(b.mapped).not.toBeNull();
      b.mapped!.write(b.size - 4, new Uint8Array([i, i + 1, i + 2, i + 3]));
      b.mapped!.flush(0, b.size);
      blocks.push(b);
    }
    expect(new Set(blocks.map((b) => b.id)).size).toBe(8);
    expect(device.liveBlockCount()).toBe(8);
    for (const [i, b] of blocks.entries()) {
      b.mapped!.invalidate(b.size - 4, 4);
      expect(Array.from(b.mapped!.read(b.size - 4, 4))).toEqual([i, i + 1, i + 2, i + 3]);
    }
    for (const b of blocks) device.freeBlock(b);
    expect(device.liveBlockCount()).toBe(0);
    // A freed block's mapping is dead: touching it is a DeviceError, not a use-after-free.
    expect(() => blocks[0]!.mapped!.read(0, 1)).toThrow(DeviceError);
    expect(() => device.freeBlock(blocks[0]!)).toThrow(DeviceError);
  });

  test('failures are DeviceErrors with VkResult / addon codes', () => {
    const heap = device.description.heaps[device.description.types[0]!.heapIndex]!;
    const oom = (() => {
      try {
        device.allocateBlock({ memoryTypeIndex: 0, size: heap.size + 1, deviceAddress: false, map: false });
      } catch (error) {
        return error;
      }
      return null;
    })();
    expect(oom).toBeInstanceOf(DeviceError);
    expect((oom as DeviceError).code).toBe('VK_ERROR_OUT_OF_DEVICE_MEMORY');
    expect(() =>
      device.allocateBlock({ memoryTypeIndex: 99, size: 64, deviceAddress: false, map: false }),
    ).toThrow(expect.objectContaining({ code: 'ERR_VRAMSCOPE_INVALID_ARGUMENT' }) as Error);
  });

  test('dedicated blocks carry the resource; budgets follow the extension', () => {
    const buf = device.context.createBuffer(1 << 16);
    const block = device.allocateBlock({
      memoryTypeIndex: 0,
      size: buf.requirements.size,
      deviceAddress: false,
      map: false,
      dedicatedTo: { kind: 'buffer', handle: buf.handle },
    });
    device.context.bindBufferMemory(buf.handle, block.handle as never, 0);
    device.context.destroyBuffer(buf.handle);
    device.freeBlock(block);
    const budgets = device.budgets();
    expect(budgets === null).toBe(!device.description.extensions.memoryBudget);
  });

  test('chooseMemoryType works on the live description for every location', () => {
    const all = (1 << device.description.types.length) - 1;
    for (const location of ['GpuOnly', 'CpuToGpu', 'GpuToCpu', 'Unknown'] as const) {
      const decision = chooseMemoryType(
        device.description,
        { memoryTypeBits: all, location, linear: true, scheme: 'managed' },
        0,
      );
      expect(decision.winner).not.toBeNull();
    }
  });
});
