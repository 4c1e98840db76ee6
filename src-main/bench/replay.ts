// Replays a parsed workload on an allocator and measures it. Only the replay loop is timed; parsing,
// device and allocator creation happen before the clock starts.
import {
  Allocator,
  workloadLocations,
  WorkloadOp,
  type Allocation,
  type BlockPolicy,
  type Device,
  type PlacementStrategyName,
  type RelocationOptions,
  type Workload,
} from '../../allocator/index.ts';

export interface ReplayResult {
  readonly ops: number;
  /** Wall-clock nanoseconds of the replay loop. */
  readonly nanoseconds: number;
  /**
   * CPU nanoseconds (user + system, every thread of the process) of the replay loop: unlike wall time it
   * leaves out the time other processes had the CPU, so it stays comparable on a shared machine.
   */
  readonly cpuNanoseconds: number;
  /** Device memory blocks allocated (vkAllocateMemory calls) and freed over the replay. */
  readonly blocksAllocated: number;
  readonly blocksFreed: number;
  /**
   * Wall-clock nanoseconds spent inside the device's allocateBlock/freeBlock during the replay loop: on a real
   * device the driver's vkAllocateMemory/vkFreeMemory (and mapping), on a simulated one its bookkeeping. Part
   * of `nanoseconds`, not added to it.
   */
  readonly driverNanoseconds: number;
  /** Allocations that got a block of their own. */
  readonly dedicated: number;
  /** Bytes. */
  readonly committedPeak: number;
  readonly livePeak: number;
  /** Index of the op after which live bytes peaked. */
  readonly livePeakOp: number;
  readonly failures: number;
  readonly firstFailure: string | null;
  /** Relocation before growth (ReplayOptions.relocation): moves made and their requested bytes. */
  readonly moves: number;
  readonly movedBytes: number;
}

class CountingDevice implements Device {
  blocksAllocated = 0;
  blocksFreed = 0;
  /** Nanoseconds inside the inner device's block calls (a few dozen calls per replay: the clock costs nothing). */
  driverNanoseconds = 0;
  constructor(private readonly inner: Device) {}
  get description() {
    return this.inner.description;
  }
  allocateBlock(request: Parameters<Device['allocateBlock']>[0]) {
    const start = process.hrtime.bigint();
    const block = this.inner.allocateBlock(request);
    this.driverNanoseconds += Number(process.hrtime.bigint() - start);
    this.blocksAllocated++;
    return block;
  }
  freeBlock(block: Parameters<Device['freeBlock']>[0]) {
    const start = process.hrtime.bigint();
    this.inner.freeBlock(block);
    this.driverNanoseconds += Number(process.hrtime.bigint() - start);
    this.blocksFreed++;
  }
  budgets() {
    return this.inner.budgets();
  }
}

export interface ReplayOptions {
  readonly device: Device;
  readonly strategy: PlacementStrategyName;
  readonly blockPolicy?: Partial<BlockPolicy>;
  /** Opt-in relocation before growth (tlsf); its copy runs inside the timed loop. */
  readonly relocation?: RelocationOptions | null;
  /** Stop after this many ops (the whole workload by default). */
  readonly stopAfter?: number;
  /** Called after the loop, before the allocator is destroyed (e.g. to measure the heap). */
  readonly beforeDestroy?: (allocator: Allocator, live: (Allocation | undefined)[]) => void;
}

/** Replays `workload` once on a fresh allocator over `device`; frees what is left afterwards. */
export function replayWorkload(workload: Workload, options: ReplayOptions): ReplayResult {
  const device = new CountingDevice(options.device);
  const allocator = new Allocator({
    device,
    strategy: options.strategy,
    blockPolicy: options.blockPolicy ?? {},
    relocation: options.relocation ?? null,
    debugSettings: { logLeaksOnShutdown: false },
  });
  const live: (Allocation | undefined)[] = new Array<Allocation | undefined>(workload.idLimit).fill(
    undefined,
  );
  const { op, id, size, alignment, linear, location } = workload;
  const n = Math.min(workload.length, options.stopAfter ?? workload.length);
  const allTypes = 0xffffffff;
  let livePeak = 0;
  let livePeakOp = 0;
  let committedPeak = 0;
  let failures = 0;
  let dedicated = 0;
  let firstFailure: string | null = null;
  // One create desc, refilled for every request: the allocator reads a desc during allocate() and keeps
  // none of it, so the clock times the allocator rather than the replay building two objects per request
  // (what a Rust or C++ caller's stack-allocated desc costs nothing for).
  const requirements = { size: 0, alignment: 0, memoryTypeBits: allTypes };
  const desc = { name: '', requirements, location: workloadLocations[0]!, linear: true };
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const allocationId = id[i]!;
    if (op[i] === WorkloadOp.Allocate) {
      try {
        requirements.size = size[i]!;
        requirements.alignment = alignment[i]!;
        desc.location = workloadLocations[location[i]!]!;
        desc.linear = linear[i] === 1;
        const a = allocator.allocate(desc);
        live[allocationId] = a;
        if (a.isDedicated) dedicated++;
        // Live bytes as the allocator counts them (requested bytes), not a second tally kept here.
        const liveBytes = allocator.allocatedBytes;
        if (liveBytes > livePeak) {
          livePeak = liveBytes;
          livePeakOp = i;
        }
        const committed = allocator.capacity();
        if (committed > committedPeak) committedPeak = committed;
      } catch (error) {
        failures++;
        firstFailure ??= `op ${i}: ${(error as Error).message}`;
      }
    } else {
      const a = live[allocationId];
      if (a !== undefined) {
        allocator.free(a);
        live[allocationId] = undefined;
      }
    }
  }
  const nanoseconds = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpuStart);
  options.beforeDestroy?.(allocator, live);
  // Blocks still alive at the end are freed by destroy(), not by the replay: not counted as freed (nor timed).
  const blocksFreed = device.blocksFreed;
  const driverNanoseconds = device.driverNanoseconds;
  const moves = allocator.relocationMoveCount;
  const movedBytes = allocator.relocationMovedBytes;
  allocator.destroy();
  return {
    ops: n,
    nanoseconds,
    cpuNanoseconds: (cpu.user + cpu.system) * 1000,
    blocksAllocated: device.blocksAllocated,
    blocksFreed,
    driverNanoseconds,
    dedicated,
    committedPeak,
    livePeak,
    livePeakOp,
    failures,
    firstFailure,
    moves,
    movedBytes,
  };
}
