// Shared by the trace tests and scripts/bench-trace.ts: a hand-written two-heap device description, sample
// decision records and a seeded generator of valid event sequences written straight into an EventLog.
import type { DeviceDescription } from '../../allocator/device.ts';
import { AllocationKind, type MemoryLocation, type MemoryTypeDecision } from '../../allocator/types.ts';
import { EventLog } from '../../allocator/event-log.ts';
import type { TraceHeader } from '../../allocator/trace/index.ts';
import { TRACE_FORMAT_NAME, TRACE_FORMAT_VERSION } from '../../allocator/trace/index.ts';
import { defaultDebugSettings } from '../../allocator/types.ts';
import { rng } from './rng.ts';

/** An H100-like layout: heap 0 device-local (80 GiB), heap 1 host (64 GiB); 5 memory types. */
export const testDevice: DeviceDescription = {
  name: 'Test GPU ✓ (ユニコード)',
  api: 'vulkan',
  deviceType: 'discrete',
  vendorId: 0x10de,
  deviceId: 0x2330,
  driverVersion: '550.0',
  apiVersion: '1.3.280',
  heaps: [
    { index: 0, size: 80 * 2 ** 30, flags: 1 },
    { index: 1, size: 64 * 2 ** 30, flags: 0 },
  ],
  types: [
    { index: 0, propertyFlags: 0, heapIndex: 1 },
    { index: 1, propertyFlags: 1, heapIndex: 0 },
    { index: 2, propertyFlags: 6, heapIndex: 1 },
    { index: 3, propertyFlags: 14, heapIndex: 1 },
    { index: 4, propertyFlags: 7, heapIndex: 0 },
  ],
  limits: {
    bufferImageGranularity: 1024,
    nonCoherentAtomSize: 64,
    maxMemoryAllocationCount: 4096,
    maxMemoryAllocationSize: 2 ** 53 - 1,
  },
  extensions: { memoryBudget: true, dedicatedAllocation: true, bufferDeviceAddress: true },
  source: 'test',
};

export function testHeader(overrides: Partial<TraceHeader> = {}): TraceHeader {
  return {
    format: TRACE_FORMAT_NAME,
    version: TRACE_FORMAT_VERSION,
    toolVersion: '0.1.0-test',
    createdAt: '2026-11-26T12:00:00.000Z',
    device: testDevice,
    allocator: {
      strategy: 'tlsf',
      allocationSizes: { deviceMemblockSize: 256 * 2 ** 20, hostMemblockSize: 64 * 2 ** 20 },
      debugSettings: { ...defaultDebugSettings, storeStackTraces: true },
      bufferDeviceAddress: false,
    },
    ...overrides,
  };
}

export function testDecision(id: number, winner: number, location: MemoryLocation): MemoryTypeDecision {
  return {
    id,
    api: 'vulkan',
    memoryTypeBits: 0x1f,
    location,
    linear: id % 2 === 0,
    scheme: 'managed',
    resourceCategory: null,
    candidates: testDevice.types.map((t) => ({
      typeIndex: t.index,
      propertyFlags: t.propertyFlags,
      heapIndex: t.heapIndex,
      allowedByBits: true,
      matchesAttempt: [t.index === winner],
    })),
    attempts: [{ requiredFlags: 1, typeIndex: winner, label: `preferred: type ${winner} — “quoted”` }],
    winner,
    reason: `type ${winner} is the first allowed type with the wanted flags`,
    fallbacks: [],
    retryTypeIndex: null,
  };
}

/** A clock in whole microseconds (returned as ms) so times survive the trace's µs precision exactly. */
export function microClock(): { clock: () => number; advance: (micros: number) => void } {
  let micros = 0;
  return { clock: () => micros / 1000, advance: (m) => (micros += Math.max(0, Math.round(m))) };
}

export interface WorkloadOptions {
  readonly events: number;
  readonly seed: number;
  /** Distinct allocation names (default: every allocation unique, "tex_<n>"). */
  readonly nameVariety?: number;
  /** Target live allocations (default 2000). */
  readonly liveTarget?: number;
}

interface LiveAlloc {
  id: number;
  block: number;
  size: number;
}
interface Block {
  id: number;
  type: number;
  size: number;
  top: number;
  live: number;
}

const locations: MemoryLocation[] = ['GpuOnly', 'CpuToGpu', 'GpuToCpu', 'Unknown'];

/**
 * Writes a valid event sequence (blocks created before use and destroyed when empty, frees and renames of
 * live allocations only) into a new EventLog with a µs clock. Decisions 0..3 are known to the log.
 */
export function generateWorkload(options: WorkloadOptions): EventLog {
  const r = rng(options.seed);
  const { clock, advance } = microClock();
  const log = new EventLog({ clock, initialCapacity: Math.max(16, options.events + 16) });
  const decisions = [
    testDecision(0, 1, 'GpuOnly'),
    testDecision(1, 4, 'CpuToGpu'),
    testDecision(2, 3, 'GpuToCpu'),
    testDecision(3, 2, 'Unknown'),
  ];
  log.setDecisionSource((id) => decisions[id]);
  const live: LiveAlloc[] = [];
  const blocks = new Map<number, Block>();
  const openBlock: (Block | null)[] = [null, null, null, null, null];
  let nextAlloc = 1;
  let nextBlock = 1;
  let frame = 0;
  const liveTarget = options.liveTarget ?? 2000;
  const stacks = Array.from({ length: 40 }, (_, i) => `scenario.mjs:${10 + i}`);
  while (log.length < options.events) {
    advance(r() * 40);
    const p = r();
    if (p < 0.02) {
      log.frame(++frame, frame % 10 === 0 ? `frame ${frame}` : '');
    } else if (p < 0.025) {
      log.mark(`mark ${Math.floor(r() * 50)}`, stacks[Math.floor(r() * stacks.length)]!);
    } else if (p < 0.03) {
      const heap = r() < 0.5 ? 0 : 1;
      log.budgetSample({
        heapIndex: heap,
        budget: testDevice.heaps[heap]!.size,
        usage: Math.floor(r() * 2 ** 34),
      });
    } else if (p < 0.033) {
      const d = Math.floor(r() * 4);
      log.failure({
        name: `huge_${Math.floor(r() * 100)}`,
        size: 2 ** 40 + Math.floor(r() * 2 ** 20),
        alignment: 256,
        location: locations[d]!,
        linear: r() < 0.5,
        code: 'OutOfMemory',
        message: 'out of device memory',
        decisionId: d,
        stack: stacks[d]!,
      });
    } else if (p < 0.04 && live.length > 0) {
      const a = live[Math.floor(r() * live.length)]!;
      log.rename(a.id, `renamed_${a.id}`);
    } else if (live.length > 0 && (p < 0.52 ? live.length > liveTarget * (0.5 + r()) : r() < 0.35)) {
      const index = Math.floor(r() * live.length);
      const a = live[index]!;
      live[index] = live[live.length - 1]!;
      live.pop();
      log.free(a.id);
      const b = blocks.get(a.block)!;
      if (--b.live === 0 && openBlock[b.type] !== b) {
        blocks.delete(b.id);
        log.blockDestroy(b.id);
      }
    } else {
      const d = Math.floor(r() * 4);
      const type = decisions[d]!.winner!;
      const alignment = 2 ** (8 + Math.floor(r() * 6));
      const size = Math.ceil((r() * r() * 8 * 2 ** 20 + 64) / 256) * 256;
      let b = openBlock[type];
      const aligned = b ? Math.ceil(b.top / alignment) * alignment : 0;
      if (!b || aligned + size > b.size) {
        if (b && b.live === 0) {
          blocks.delete(b.id);
          log.blockDestroy(b.id);
        }
        b = { id: nextBlock++, type, size: 256 * 2 ** 20, top: 0, live: 0 };
        blocks.set(b.id, b);
        openBlock[type] = b;
        log.blockCreate({ blockId: b.id, memoryTypeIndex: type, size: b.size, dedicated: false });
      }
      const offset = Math.ceil(b.top / alignment) * alignment;
      b.top = offset + size;
      b.live++;
      const id = nextAlloc++;
      const name = options.nameVariety ? `buf_${Math.floor(r() * options.nameVariety)}` : `tex_${id}`;
      log.allocate({
        allocationId: id,
        blockId: b.id,
        memoryTypeIndex: type,
        offset,
        size,
        alignment,
        kind: d % 2 === 0 ? AllocationKind.Linear : AllocationKind.NonLinear,
        location: locations[d]!,
        name,
        decisionId: d,
        usedRetry: false,
        stack: stacks[Math.floor(r() * stacks.length)]!,
      });
      live.push({ id, block: b.id, size });
    }
  }
  return log;
}
