// The simulated device built from the real profiles: heap accounting and exhaustion, driver limits,
// budgets, block ids, lazy mapped memory and flush/invalidate range rules.
import { describe, expect, test } from 'vitest';
import {
  DeviceError,
  SparseMappedMemory,
  builtinD3D12Description,
  builtinMetalDescription,
  createSimulatedDevice,
  mappedPageSize,
  parseVulkaninfo,
} from '../../allocator/index.ts';
import type { BlockAllocateRequest, DeviceMemoryBlock } from '../../allocator/index.ts';
import { thrownBy } from '../support/errors.ts';
import { profileText } from '../support/profiles.ts';

const h100Text = profileText('h100');
const h100 = parseVulkaninfo(h100Text, 'h100');
const lavapipe = parseVulkaninfo(profileText('lavapipe'), 'lavapipe');
const MiB = 1024 * 1024;
// Numbers from the H100 profile text.
const h100DeviceHeap = 85520809984;
const h100HostHeap = 101361423360;
const h100MaxAllocation = 0xffe00000;

function req(
  memoryTypeIndex: number,
  size: number,
  extra: Partial<BlockAllocateRequest> = {},
): BlockAllocateRequest {
  return { memoryTypeIndex, size, deviceAddress: false, map: false, ...extra };
}

function deviceError(fn: () => unknown): DeviceError {
  return thrownBy(DeviceError, fn);
}

describe('heap accounting and limits', () => {
  test('blocks count against their type heap; freeing gives it back', () => {
    const dev = createSimulatedDevice(h100);
    const a = dev.allocateBlock(req(1, 256 * MiB)); // type 1 → heap 0
    const b = dev.allocateBlock(req(2, 64 * MiB)); // type 2 → heap 1
    const c = dev.allocateBlock(req(4, 16 * MiB)); // type 4 → heap 0
    expect(dev.heapUsage()).toEqual([272 * MiB, 64 * MiB]);
    expect(dev.liveBlockCount).toBe(3);
    expect([a.memoryTypeIndex, a.size, b.size, c.memoryTypeIndex]).toEqual([1, 256 * MiB, 64 * MiB, 4]);
    dev.freeBlock(a);
    expect(dev.heapUsage()).toEqual([16 * MiB, 64 * MiB]);
    dev.freeBlock(b);
    dev.freeBlock(c);
    expect(dev.heapUsage()).toEqual([0, 0]);
    expect(dev.liveBlockCount).toBe(0);
  });

  test('device-local heap exhaustion: VK_ERROR_OUT_OF_DEVICE_MEMORY, state unchanged', () => {
    const dev = createSimulatedDevice(h100);
    const fits = Math.floor(h100DeviceHeap / h100MaxAllocation);
    for (let i = 0; i < fits; i++) dev.allocateBlock(req(1, h100MaxAllocation));
    const e = deviceError(() => dev.allocateBlock(req(1, h100MaxAllocation)));
    expect(e.code).toBe('VK_ERROR_OUT_OF_DEVICE_MEMORY');
    expect(e.message).toContain('Heap 0');
    expect(dev.heapUsage()[0]).toBe(fits * h100MaxAllocation);
    expect(dev.liveBlockCount).toBe(fits);
    // The remainder still fits exactly.
    const rest = h100DeviceHeap - fits * h100MaxAllocation;
    dev.allocateBlock(req(4, rest));
    expect(dev.heapUsage()[0]).toBe(h100DeviceHeap);
    expect(deviceError(() => dev.allocateBlock(req(4, 1))).code).toBe('VK_ERROR_OUT_OF_DEVICE_MEMORY');
  });

  test('host heap exhaustion: VK_ERROR_OUT_OF_HOST_MEMORY', () => {
    const dev = createSimulatedDevice(h100);
    const fits = Math.floor(h100HostHeap / h100MaxAllocation);
    for (let i = 0; i < fits; i++) dev.allocateBlock(req(2, h100MaxAllocation, { map: true }));
    expect(deviceError(() => dev.allocateBlock(req(3, h100MaxAllocation))).code).toBe(
      'VK_ERROR_OUT_OF_HOST_MEMORY',
    );
    // Heap 0 is untouched and still usable.
    dev.allocateBlock(req(1, h100MaxAllocation));
  });

  test('a block larger than maxMemoryAllocationSize fails even in an empty heap', () => {
    const dev = createSimulatedDevice(h100);
    const e = deviceError(() => dev.allocateBlock(req(1, h100MaxAllocation + 1)));
    expect(e.code).toBe('VK_ERROR_OUT_OF_DEVICE_MEMORY');
    expect(e.message).toContain('maxMemoryAllocationSize');
    expect(dev.liveBlockCount).toBe(0);
  });

  test('more live blocks than maxMemoryAllocationCount: VK_ERROR_TOO_MANY_OBJECTS', () => {
    // lavapipe with its count limit lowered to 3 (its real limit is 2^32 − 1).
    const dev = createSimulatedDevice({
      ...lavapipe,
      limits: { ...lavapipe.limits, maxMemoryAllocationCount: 3 },
    });
    const blocks = [0, 1, 2].map(() => dev.allocateBlock(req(0, MiB)));
    expect(deviceError(() => dev.allocateBlock(req(0, MiB))).code).toBe('VK_ERROR_TOO_MANY_OBJECTS');
    dev.freeBlock(blocks[1]);
    dev.allocateBlock(req(0, MiB));
    expect(dev.liveBlockCount).toBe(3);
  });

  test('bad requests are validation errors; mapping a device-only type fails to map', () => {
    const dev = createSimulatedDevice(h100);
    expect(deviceError(() => dev.allocateBlock(req(5, MiB))).code).toBe('VK_ERROR_VALIDATION');
    expect(deviceError(() => dev.allocateBlock(req(1, 0))).code).toBe('VK_ERROR_VALIDATION');
    expect(deviceError(() => dev.allocateBlock(req(1, 1.5))).code).toBe('VK_ERROR_VALIDATION');
    expect(deviceError(() => dev.allocateBlock(req(1, 2 ** 53))).code).toBe('VK_ERROR_VALIDATION');
    expect(deviceError(() => dev.allocateBlock(req(1, MiB, { map: true }))).code).toBe(
      'VK_ERROR_MEMORY_MAP_FAILED',
    );
    expect(dev.liveBlockCount).toBe(0);
  });

  test('failAfterBytes injects an out-of-memory once the lifetime total would pass it', () => {
    const dev = createSimulatedDevice(h100, { failAfterBytes: 100 * MiB });
    const a = dev.allocateBlock(req(1, 64 * MiB));
    dev.freeBlock(a);
    dev.allocateBlock(req(1, 36 * MiB)); // 100 MiB handed out in total: allowed
    const e = deviceError(() => dev.allocateBlock(req(1, 1)));
    expect(e.code).toBe('VK_ERROR_OUT_OF_DEVICE_MEMORY');
    expect(e.message).toContain('Injected');
    expect(dev.lifetimeAllocatedBytes).toBe(100 * MiB);
  });

  test('option values are checked', () => {
    expect(() => createSimulatedDevice(h100, { budgetFraction: 0 })).toThrow(RangeError);
    expect(() => createSimulatedDevice(h100, { budgetFraction: 1.5 })).toThrow(RangeError);
    expect(() => createSimulatedDevice(h100, { failAfterBytes: -1 })).toThrow(RangeError);
  });
});

describe('block ids and freeing', () => {
  test('ids are unique and never reused', () => {
    const dev = createSimulatedDevice(lavapipe);
    const ids = new Set<number>();
    let last: DeviceMemoryBlock | null = null;
    for (let i = 0; i < 20; i++) {
      const b = dev.allocateBlock(req(0, MiB));
      expect(ids.has(b.id)).toBe(false);
      ids.add(b.id);
      if (i % 2 === 0) dev.freeBlock(b);
      else last = b;
    }
    expect(ids.size).toBe(20);
    expect(last).not.toBeNull();
  });

  test('freeing twice, or a block of another device, throws', () => {
    const dev = createSimulatedDevice(lavapipe);
    const other = createSimulatedDevice(lavapipe);
    const b = dev.allocateBlock(req(0, MiB));
    const foreign = other.allocateBlock(req(0, MiB));
    expect(foreign.id).toBe(b.id); // same id on another device...
    expect(deviceError(() => dev.freeBlock(foreign)).code).toBe('VK_ERROR_VALIDATION'); // ...is not ours
    dev.freeBlock(b);
    const e = deviceError(() => dev.freeBlock(b));
    expect(e.code).toBe('VK_ERROR_VALIDATION');
    expect(e.message).toContain(`Block ${b.id}`);
    expect(dev.heapUsage()).toEqual([0]);
  });
});

describe('budgets', () => {
  test('H100 (VK_EXT_memory_budget): heap size × 0.8 and live usage', () => {
    const dev = createSimulatedDevice(h100);
    dev.allocateBlock(req(4, 256 * MiB));
    expect(dev.budgets()).toEqual([
      { heapIndex: 0, budget: Math.floor(h100DeviceHeap * 0.8), usage: 256 * MiB },
      { heapIndex: 1, budget: Math.floor(h100HostHeap * 0.8), usage: 0 },
    ]);
  });

  test('budgetFraction option', () => {
    const dev = createSimulatedDevice(h100, { budgetFraction: 0.5 });
    expect(dev.budgets()?.map((b) => b.budget)).toEqual([h100DeviceHeap / 2, h100HostHeap / 2]);
  });

  test('lavapipe has no VK_EXT_memory_budget: null', () => {
    expect(createSimulatedDevice(lavapipe).budgets()).toBeNull();
  });

  test('the built-in models report budgets', () => {
    expect(createSimulatedDevice(builtinD3D12Description(1)).budgets()).toHaveLength(2);
    expect(createSimulatedDevice(builtinMetalDescription()).budgets()).toHaveLength(1);
  });
});

describe('lazy mapped memory', () => {
  test('a 256 MiB mapped block holds no pages until written; round trip across a page boundary', () => {
    const dev = createSimulatedDevice(h100);
    const block = dev.allocateBlock(req(2, 256 * MiB, { map: true }));
    const mapped = block.mapped;
    if (!(mapped instanceof SparseMappedMemory)) throw new Error('expected sparse mapped memory');
    expect(mapped.size).toBe(256 * MiB);
    expect(mapped.residentPages).toBe(0);
    expect(mapped.read(200 * MiB, 16)).toEqual(new Uint8Array(16));
    expect(mapped.residentPages).toBe(0);

    const data = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
    const offset = 100 * MiB - 50; // straddles two 64 KiB pages
    mapped.write(offset, data);
    expect(mapped.residentPages).toBe(2);
    expect(mapped.residentBytes).toBe(2 * mappedPageSize);
    expect(mapped.read(offset, 100)).toEqual(data);
    // Untouched neighbours still read as zeros.
    const around = mapped.read(offset - 10, 120);
    expect(Array.from(around.subarray(0, 10))).toEqual(new Array(10).fill(0));
    expect(around.subarray(10, 110)).toEqual(data);
    expect(Array.from(around.subarray(110))).toEqual(new Array(10).fill(0));
    // The last byte of the block.
    mapped.write(256 * MiB - 1, Uint8Array.of(0xab));
    expect(mapped.read(256 * MiB - 1, 1)).toEqual(Uint8Array.of(0xab));
  });

  test('blocks without map: true have no mapping', () => {
    const dev = createSimulatedDevice(h100);
    expect(dev.allocateBlock(req(2, MiB)).mapped).toBeNull();
    expect(dev.allocateBlock(req(1, MiB)).mapped).toBeNull();
  });

  test('out-of-range access and access after free throw', () => {
    const dev = createSimulatedDevice(lavapipe);
    const block = dev.allocateBlock(req(0, MiB, { map: true }));
    const mapped = block.mapped;
    if (mapped === null) throw new Error('expected a mapping');
    expect(deviceError(() => mapped.read(MiB - 4, 8)).code).toBe('VK_ERROR_VALIDATION');
    expect(deviceError(() => mapped.write(-1, Uint8Array.of(1))).code).toBe('VK_ERROR_VALIDATION');
    expect(deviceError(() => mapped.read(0.5, 1)).code).toBe('VK_ERROR_VALIDATION');
    dev.freeBlock(block);
    expect(deviceError(() => mapped.read(0, 1)).message).toContain('freed');
  });

  test('coherent memory: flush/invalidate check bounds only', () => {
    const dev = createSimulatedDevice(h100);
    const mapped = dev.allocateBlock(req(4, MiB, { map: true })).mapped;
    if (mapped === null) throw new Error('expected a mapping');
    mapped.flush(3, 5);
    mapped.invalidate(1, 1);
    expect(deviceError(() => mapped.flush(MiB, 1)).code).toBe('VK_ERROR_VALIDATION');
  });

  test('non-coherent memory: ranges must follow nonCoherentAtomSize (64 bytes)', () => {
    // The H100 profile with type 3 edited to HOST_VISIBLE|HOST_CACHED (non-coherent), as on mobile GPUs.
    const nc = parseVulkaninfo(
      h100Text.replace('propertyFlags = 0x000e: count = 3', 'propertyFlags = 0x000a: count = 2'),
      'h100-noncoherent',
    );
    const dev = createSimulatedDevice(nc);
    const size = MiB + 100; // not a multiple of the atom: the tail range may end at the block's end
    const mapped = dev.allocateBlock(req(3, size, { map: true })).mapped;
    if (mapped === null) throw new Error('expected a mapping');
    mapped.flush(0, 64);
    mapped.flush(128, 256);
    mapped.invalidate(0, size);
    mapped.flush(MiB, 100); // ends at the end of the block
    const misaligned = deviceError(() => mapped.flush(1, 64));
    expect(misaligned.code).toBe('VK_ERROR_VALIDATION');
    expect(misaligned.message).toContain('nonCoherentAtomSize 64');
    expect(deviceError(() => mapped.invalidate(64, 100)).message).toContain('length 100');
    expect(deviceError(() => mapped.flush(0, size + 64)).code).toBe('VK_ERROR_VALIDATION');
  });
});
