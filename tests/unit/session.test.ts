// The Session (device + allocator + recorder) and the heap-limit wrapper, on simulated devices built from
// the shipped profiles.
import { describe, expect, test } from 'vitest';
import {
  AllocationError,
  createSimulatedDevice,
  DeviceError,
  TraceEventKind,
  type AllocationCreateDesc,
} from '../../allocator/index.ts';
import { HeapLimitedDevice } from '../../src-main/session/heap-limit.ts';
import { Session } from '../../src-main/session/session.ts';
import { profileDescription } from '../support/profiles.ts';

const MiB = 1024 * 1024;

function desc(
  name: string,
  size: number,
  location: AllocationCreateDesc['location'] = 'GpuOnly',
): AllocationCreateDesc {
  return {
    name,
    requirements: { size, alignment: 256, memoryTypeBits: 0x1f },
    location,
    linear: true,
    stack: `test:${name}`,
  };
}

function kinds(session: Session): number[] {
  return Array.from(session.log.columns.kind.subarray(0, session.log.length));
}

describe('HeapLimitedDevice', () => {
  test('blocks past a heap limit fail like the driver would; budgets report the limit; clearing lifts it', () => {
    const device = new HeapLimitedDevice(createSimulatedDevice(profileDescription('h100')));
    device.setHeapLimit(0, 96 * MiB);
    const a = device.allocateBlock({ memoryTypeIndex: 1, size: 64 * MiB, deviceAddress: false, map: false });
    expect(device.heapUsage(0)).toBe(64 * MiB);
    expect(() =>
      device.allocateBlock({ memoryTypeIndex: 4, size: 64 * MiB, deviceAddress: false, map: false }),
    ).toThrow(DeviceError);
    // Heap 1 (system memory) is not limited.
    const b = device.allocateBlock({ memoryTypeIndex: 2, size: 64 * MiB, deviceAddress: false, map: false });
    expect(device.budgets()?.find((x) => x.heapIndex === 0)?.budget).toBe(96 * MiB);
    expect(device.budgets()?.find((x) => x.heapIndex === 1)?.budget).toBeGreaterThan(96 * MiB);
    device.setHeapLimit(0, null);
    const c = device.allocateBlock({ memoryTypeIndex: 1, size: 64 * MiB, deviceAddress: false, map: false });
    for (const block of [a, b, c]) device.freeBlock(block);
    expect(device.heapUsage(0)).toBe(0);
    expect(() => device.setHeapLimit(5, 1)).toThrow(/heap 5 does not exist/);
    expect(() => device.setHeapLimit(0, 1.5)).toThrow(/safe integer/);
  });
});

describe('Session', () => {
  test('records every op, tracks peaks and leaks, and ends with the live state intact', () => {
    const session = new Session({ device: createSimulatedDevice(profileDescription('h100')) });
    const first = kinds(session).length;
    expect(first).toBe(2); // one budget sample per heap at start
    const a = session.allocate(desc('a', 4 * MiB));
    const b = session.allocate(desc('b', 4 * MiB, 'CpuToGpu'));
    session.rename(b, 'b2');
    session.frame('f0');
    session.free(a);
    const s = session.state();
    expect(s).toMatchObject({
      ops: 4,
      frame: 1,
      allocationCount: 2,
      freeCount: 1,
      liveAllocations: 1,
      allocatedBytes: 4 * MiB,
    });
    expect(s.committedBytes).toBeGreaterThan(0);
    expect(session.peakCommittedBytes).toBeGreaterThanOrEqual(s.committedBytes);
    expect(session.leaks()).toEqual([
      { id: b.id, name: 'b2', size: 4 * MiB, memoryTypeIndex: 4, stack: 'test:b' },
    ]);
    const before = session.log.length;
    session.close();
    // close adds the final budget samples and nothing else: the destroyed blocks are not recorded.
    expect(kinds(session).slice(before)).toEqual([TraceEventKind.BudgetSample, TraceEventKind.BudgetSample]);
    const all = kinds(session);
    expect(all.filter((k) => k === TraceEventKind.Allocate)).toHaveLength(2);
    expect(all.filter((k) => k === TraceEventKind.Rename)).toHaveLength(1);
    expect(all.filter((k) => k === TraceEventKind.Free)).toHaveLength(1);
    expect(all.filter((k) => k === TraceEventKind.Frame)).toHaveLength(1);
  });

  test('a failed allocation is recorded, counted as an op and followed by a budget sample', () => {
    const session = new Session({ device: createSimulatedDevice(profileDescription('lavapipe')) });
    session.device.setHeapLimit(0, 8 * MiB);
    expect(() => session.allocate(desc('too-big', 64 * MiB))).toThrow(AllocationError);
    const k = kinds(session);
    const at = k.indexOf(TraceEventKind.Failure);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(k[at + 1]).toBe(TraceEventKind.BudgetSample);
    expect(session.state()).toMatchObject({ ops: 1, failureCount: 1, allocationCount: 0 });
    session.close();
  });

  test('flush hands each new range of events to the consumer exactly once, then close closes it', () => {
    const ranges: [number, number][] = [];
    let closed = 0;
    const session = new Session({
      device: createSimulatedDevice(profileDescription('lavapipe')),
      consumer: { append: (_log, start, end) => ranges.push([start, end]), close: () => closed++ },
    });
    session.flush();
    session.allocate(desc('x', MiB));
    session.flush();
    session.flush();
    session.close();
    session.close();
    expect(closed).toBe(1);
    expect(ranges[0]?.[0]).toBe(0);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]?.[0]).toBe(ranges[i - 1]?.[1]);
    expect(ranges.at(-1)?.[1]).toBe(session.log.length);
  });
});
