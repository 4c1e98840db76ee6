// `vramscope bench <workload> [--strategy tlsf|freelist|all] [--profile FILE] [--runs N]`: replays a
// workload (bench/gen-workload.mjs format) and prints one line per strategy with ns/op, blocks,
// committed and live peaks, and the JS heap at the live peak.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createSimulatedDevice,
  parseDeviceProfile,
  parseWorkload,
  placementStrategyNames,
  WorkloadParseError,
  type BlockPolicy,
  type Device,
  type PlacementStrategyName,
  type RelocationOptions,
  type Workload,
} from '../../../allocator/index.ts';
import {
  createRelocationCopy,
  defragmentCopyModes,
  newDefragmentCopyStats,
  type DefragmentCopyStats,
} from '../../../native/defrag-copy.ts';
import { openVulkanDevice, VulkanDevice } from '../../../native/vulkan-device.ts';
import { collectAndMeasureMemory } from '../../bench/gc.ts';
import { replayWorkload, type ReplayOptions, type ReplayResult } from '../../bench/replay.ts';
import {
  choiceOption,
  CommandFailure,
  integerOption,
  stringOption,
  UsageError,
  type Command,
  type ParsedValues,
} from '../command.ts';
import { defaultProfilePath } from '../paths.ts';

const MiB = 1024 * 1024;
/**
 * Untimed runs before the timed ones. Traced per run (CPU time, workload-a, `taskset -c 1`), the first three
 * runs cost 1.5–7x the steady state while TurboFan compiles on the same CPU, and around the 11th run
 * optimized code is thrown away once ("wrong map" deopts in allocate/free/place, once per process: objects
 * made once per allocator change map, most likely when V8's in-object slack tracking ends), so the next run
 * costs about 3x again; from the 13th run on, runs are steady. 2 warm-up runs timed part of the warm-up.
 */
const WARMUP_RUNS = 15;
/** Allocators held at their live peak at once for one heap measurement (see measureHeapAtPeak). */
const HEAP_REPLICAS = 8;
/** Heap measurements per strategy; the median is printed. */
const HEAP_MEASUREMENTS = 3;

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CommandFailure(
      `cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

export async function loadProfileDevice(profileFile: string | undefined): Promise<Device> {
  const file = profileFile ?? defaultProfilePath();
  const text = await readText(file, 'device profile');
  try {
    return createSimulatedDevice(parseDeviceProfile(text, path.basename(file)));
  } catch (error) {
    throw new CommandFailure(`${file}: ${(error as Error).message}`);
  }
}

/**
 * Bytes of JS heap the allocator's bookkeeping holds per live allocation, measured at the live peak, the
 * bytes of typed-array storage it holds besides (outside the JS heap: TLSF's chunk records), and the JS
 * heap (bytes) with one allocator at its peak.
 *
 * Measured as what the heap gives back once the allocators and their allocations are released: heap data
 * (every space but compiled code: collectAndMeasureMemory) with HEAP_REPLICAS allocators replayed to the live
 * peak at once, each on its own simulated device (`device()`), minus heap data afterwards, less the replays'
 * own handle arrays, divided by the live allocations of all.
 * A baseline taken before the replays would also count garbage and lazily compiled code; and with one
 * allocator (about 740 allocations at workload-a's peak) code the JIT installs between the two readings
 * moved the figure by ±50 bytes per allocation.
 *
 * One more allocator, replayed to the peak first, stays alive across both readings (the anchor, not
 * counted): V8's hidden classes of the allocator's objects (about 180 maps with their descriptor and
 * transition arrays, 30 KB) live as long as any such object does, so without it they were released with
 * the replicas and counted as theirs, 30 KB / HEAP_REPLICAS spread over their allocations (7 bytes per
 * allocation on gen-workload seed 3): a cost of the process, shared by every allocator, not of an allocation.
 */
function measureHeapAtPeak(
  workload: Workload,
  device: () => Device,
  options: Omit<ReplayOptions, 'device' | 'relocation' | 'stopAfter' | 'beforeDestroy'>,
  relocationFor: (device: Device, strategy: PlacementStrategyName) => RelocationOptions | null,
  peakOp: number,
) {
  const handleArrayBytes = 8 * workload.idLimit;
  let atPeak = { heapUsed: 0, heapData: 0, arrayBuffers: 0 };
  let released = atPeak;
  let liveAllocations = 0;
  // Replica k's allocator is still alive (the replay calls beforeDestroy before destroying it) while
  // replica k + 1 replays; the last one reads the heap with all of them at their peak. Replica 0 is the
  // anchor: the released reading is taken while it is still at its peak, after the others are gone.
  const replicate = (k: number): void => {
    const replicaDevice = device();
    replayWorkload(workload, {
      ...options,
      device: replicaDevice,
      relocation: relocationFor(replicaDevice, options.strategy),
      stopAfter: peakOp + 1,
      beforeDestroy: (allocator) => {
        if (k > 0) liveAllocations += allocator.stats().allocationCount;
        if (k < HEAP_REPLICAS) replicate(k + 1);
        else atPeak = collectAndMeasureMemory();
        if (k === 0) released = collectAndMeasureMemory();
      },
    });
  };
  replicate(0);
  const retained = atPeak.heapData - released.heapData - HEAP_REPLICAS * handleArrayBytes;
  const typedArrays = atPeak.arrayBuffers - released.arrayBuffers;
  return {
    // The released reading holds one allocator at its peak: the anchor.
    heapAtPeak: released.heapUsed,
    bytesPerAllocation: liveAllocations > 0 ? retained / liveAllocations : 0,
    typedArrayBytesPerAllocation: liveAllocations > 0 ? typedArrays / liveAllocations : 0,
  };
}

function parseBlockPolicy(values: ParsedValues): Partial<BlockPolicy> {
  const policy: { dedicatedAbove?: number; spareEmptyBlocks?: number } = {};
  const above = stringOption(values, 'dedicated-above');
  if (above !== undefined) {
    const f = Number(above);
    if (!(f > 0 && f <= 1)) throw new UsageError(`--dedicated-above must be in (0, 1], got "${above}"`);
    policy.dedicatedAbove = f;
  }
  const spare = integerOption(values, 'spare-empty-blocks', 0, 1024);
  if (spare !== undefined) policy.spareEmptyBlocks = spare;
  return policy;
}

function formatLine(
  strategy: string,
  mode: string,
  extra: string,
  r: ReplayResult,
  nsPerOp: number,
  cpuNsPerOp: number,
  driverNsPerOp: number,
  relocating: boolean,
  copies: DefragmentCopyStats | null,
): string {
  return [
    'allocator=vramscope',
    `strategy=${strategy}`,
    `mode=${mode}`,
    ...(extra ? [extra] : []),
    `ops=${r.ops}`,
    `ns_per_op=${nsPerOp.toFixed(1)}`,
    `blocks_allocated=${r.blocksAllocated}`,
    `blocks_freed=${r.blocksFreed}`,
    `dedicated=${r.dedicated}`,
    `committed_peak_mib=${(r.committedPeak / MiB).toFixed(1)}`,
    `live_peak_mib=${(r.livePeak / MiB).toFixed(1)}`,
    `overhead_ratio=${r.livePeak > 0 ? (r.committedPeak / r.livePeak).toFixed(3) : 'n/a'}`,
    `failures=${r.failures}`,
    `cpu_ns_per_op=${cpuNsPerOp.toFixed(1)}`,
    `driver_ns_per_op=${driverNsPerOp.toFixed(1)}`,
    `relocation=${relocating ? 'on' : 'off'}`,
    ...(relocating ? [`moves=${r.moves}`, `moved_mib=${(r.movedBytes / MiB).toFixed(1)}`] : []),
    // Device mode: what the copies of the last run took on the device. temp_blocks are vkAllocateMemory
    // calls of the copier itself, on top of blocks_allocated.
    ...(copies === null
      ? []
      : [
          `mapped_moves=${copies.mappedMoves}`,
          `transfer_moves=${copies.transferMoves}`,
          `transfer_submits=${copies.transferSubmits}`,
          `copy_buffers=${copies.buffers}`,
          `temp_blocks=${copies.tempBlocks}`,
        ]),
  ].join(' ');
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'replay an allocation workload and print ns/op, blocks and memory overhead',
  help: `Usage: vramscope bench <workload> [options]

Replays a workload in the bench/gen-workload.mjs format (a <id> <size> <align> <buffer|image>
<gpu|upload|readback> / f <id>) on the allocator. Parsing and 15 warm-up runs are not timed; each run uses a
fresh device and allocator; the median of the runs is printed, one line per strategy (ns_per_op is wall time,
cpu_ns_per_op the process's CPU time, which stays comparable on a busy machine, driver_ns_per_op the part of
ns_per_op spent inside the device's block calls: vkAllocateMemory / vkFreeMemory on a real device), then a
line with each timed run's figures in order (runs_ns_per_op= runs_cpu_ns_per_op= runs_driver_ns_per_op=),
then the memory at the live peak.

Options:
  --strategy S     tlsf, freelist or all (default: all)
  --profile FILE   vulkaninfo text of the simulated device (default: the lavapipe profile in assets/profiles)
  --device N       replay on the real Vulkan device N (see \`vramscope devices\`) instead of a
                   simulated one: every block is a real vkAllocateMemory (mode=device)
  --dedicated-above F     block policy: a request larger than F × block size gets its own block (0 < F <= 1;
                          default: tlsf 0.5, freelist 1 as gpu-allocator)
  --spare-empty-blocks N  block policy: emptied blocks kept per memory type besides the last (default: tlsf 4,
                          freelist 0 as gpu-allocator)
  --relocate       tlsf (the default there): relocation before growth (AllocatorCreateDesc.relocation): a
                   request that fits no free range while the type has free bytes moves a few live
                   allocations instead of creating a block (on a CPU device such as lavapipe, where a
                   move is a CPU copy, only when the block would take the type past 1.25 x its peak
                   used bytes: cpuRelocatingBlockPolicy). The bench owns every allocation, so it can
                   move them; the line says relocation=on and ends with moves= and moved_mib=. Simulated
                   mode copies no bytes (there is no GPU behind it); with --device the bytes are copied on
                   the device (native/defrag-copy.ts), inside the timed loop, and the line adds
                   mapped_moves= transfer_moves= transfer_submits= copy_buffers= temp_blocks= (the last
                   run's copies; temp_blocks are vkAllocateMemory calls besides blocks_allocated)
  --no-relocate    tlsf without relocation (relocation=off): allocate() never moves anything, as the
                   library does without a copy callback. freelist never relocates
  --max-moved F    with relocation: bytes moved per request at most, as a multiple of its size (default 1)
  --copy MODE      with relocation and --device: auto (default: through the mapping when both blocks are
                   mapped and the source is HOST_CACHED, else vkCmdCopyBuffer), transfer or mapped
  --runs N         timed runs per strategy (default 3)
  --help           this text`,
  options: {
    strategy: { type: 'string' },
    profile: { type: 'string' },
    device: { type: 'string' },
    'dedicated-above': { type: 'string' },
    'spare-empty-blocks': { type: 'string' },
    relocate: { type: 'boolean' },
    'no-relocate': { type: 'boolean' },
    copy: { type: 'string' },
    'max-moved': { type: 'string' },
    runs: { type: 'string' },
  },
  maxPositionals: 1,
  async run(values, positionals, io) {
    const file = positionals[0];
    if (file === undefined) throw new UsageError('missing <workload> file');
    const strategyOption =
      choiceOption(values, 'strategy', [...placementStrategyNames, 'all'] as const) ?? 'all';
    const strategies: PlacementStrategyName[] =
      strategyOption === 'all' ? [...placementStrategyNames] : [strategyOption];
    const runs = integerOption(values, 'runs', 1, 100) ?? 3;
    const profile = stringOption(values, 'profile');
    const blockPolicy = parseBlockPolicy(values);
    // Relocation is on for tlsf unless --no-relocate; freelist never relocates (the crate's behaviour).
    if (values['relocate'] === true && values['no-relocate'] === true) {
      throw new UsageError('--relocate and --no-relocate exclude each other');
    }
    if (values['relocate'] === true && strategyOption !== 'tlsf') {
      throw new UsageError("--relocate needs --strategy tlsf (freelist keeps the crate's behaviour)");
    }
    const relocationOn = values['no-relocate'] !== true;
    const relocatesWith = (strategy: PlacementStrategyName): boolean => relocationOn && strategy === 'tlsf';
    const maxMovedText = stringOption(values, 'max-moved');
    const maxMoved = maxMovedText === undefined ? 1 : Number(maxMovedText);
    if (!(maxMoved >= 0 && maxMoved <= 1024)) {
      throw new UsageError(`--max-moved must be in [0, 1024], got "${maxMovedText}"`);
    }
    if (maxMovedText !== undefined && !relocationOn) throw new UsageError('--max-moved needs relocation');
    const copyMode = choiceOption(values, 'copy', defragmentCopyModes) ?? 'auto';
    const deviceIndex = integerOption(values, 'device', 0, 63);
    if (values['copy'] !== undefined && (!relocationOn || deviceIndex === undefined)) {
      throw new UsageError('--copy needs relocation and --device');
    }
    /** Copies of the latest run made on a real device (null when simulated: no bytes are copied). */
    let lastCopies: DefragmentCopyStats | null = null;
    /** The relocation options for one run on `device`: bytes copied on a real device, none when simulated. */
    const relocationFor = (device: Device, strategy: PlacementStrategyName): RelocationOptions | null => {
      if (!relocatesWith(strategy)) return null;
      if (!(device instanceof VulkanDevice)) return { copy: () => {}, maxMovedPerRequest: maxMoved };
      lastCopies = newDefragmentCopyStats();
      return { ...createRelocationCopy(device.context, copyMode, lastCopies), maxMovedPerRequest: maxMoved };
    };
    if (deviceIndex !== undefined && profile !== undefined) {
      throw new UsageError('--device and --profile exclude each other');
    }
    const text = await readText(path.resolve(io.cwd, file), 'workload');
    let workload: Workload;
    try {
      workload = parseWorkload(text);
    } catch (error) {
      if (error instanceof WorkloadParseError) throw new CommandFailure(`${file}: ${error.message}`);
      throw error;
    }
    const profilePath = profile === undefined ? undefined : path.resolve(io.cwd, profile);
    // A fresh device per run; a real one is closed after its run (the allocator has freed its blocks by then).
    const withDevice = async <T>(use: (device: Device) => T): Promise<T> => {
      if (deviceIndex === undefined) return use(await loadProfileDevice(profilePath));
      let real: ReturnType<typeof openVulkanDevice>;
      try {
        real = openVulkanDevice(deviceIndex);
      } catch (error) {
        throw new CommandFailure(`cannot open Vulkan device ${deviceIndex}: ${(error as Error).message}`);
      }
      try {
        return use(real);
      } finally {
        real.close();
      }
    };
    const mode = deviceIndex === undefined ? 'simulated' : 'device';
    const description = await withDevice((d) => d.description);
    const deviceName = description.name;
    const extra = deviceIndex === undefined ? '' : `device="${deviceName.replace(/"/g, "'")}"`;
    for (const strategy of strategies) {
      const results: ReplayResult[] = [];
      // Untimed runs first, so the JIT has compiled the hot paths before the clock starts (WARMUP_RUNS). No
      // forced GC between runs: a full collection shrinks the young generation and makes the next run pay for it.
      const replayOnce = () =>
        withDevice((device) =>
          replayWorkload(workload, {
            device,
            strategy,
            blockPolicy,
            relocation: relocationFor(device, strategy),
          }),
        );
      for (let warm = 0; warm < WARMUP_RUNS; warm++) await replayOnce();
      for (let run = 0; run < runs; run++) results.push(await replayOnce());
      const last = results[results.length - 1]!;
      const nsPerOp = median(results.map((r) => r.nanoseconds / r.ops));
      const cpuNsPerOp = median(results.map((r) => r.cpuNanoseconds / r.ops));
      const driverNsPerOp = median(results.map((r) => r.driverNanoseconds / r.ops));
      const relocating = relocatesWith(strategy);
      const copies = relocating ? lastCopies : null;
      io.stdout.write(
        `${formatLine(strategy, mode, extra, last, nsPerOp, cpuNsPerOp, driverNsPerOp, relocating, copies)}\n`,
      );
      // Every timed run, in order, so that a median moved by one or two slow runs shows as such.
      const perRun = (value: (r: ReplayResult) => number): string =>
        results.map((r) => (value(r) / r.ops).toFixed(1)).join(',');
      io.stdout.write(
        `runs_ns_per_op=${perRun((r) => r.nanoseconds)} runs_cpu_ns_per_op=${perRun((r) => r.cpuNanoseconds)} runs_driver_ns_per_op=${perRun((r) => r.driverNanoseconds)}\n`,
      );
      // On simulated twins of the device (same description): the allocator's bookkeeping does not depend on
      // the device, and replicas on a real one would each commit its memory.
      const heaps: ReturnType<typeof measureHeapAtPeak>[] = [];
      for (let m = 0; m < HEAP_MEASUREMENTS; m++) {
        heaps.push(
          measureHeapAtPeak(
            workload,
            () => createSimulatedDevice(description),
            { strategy, blockPolicy },
            relocationFor,
            last.livePeakOp,
          ),
        );
      }
      const heapAtPeak = median(heaps.map((h) => h.heapAtPeak));
      const bytesPerAllocation = median(heaps.map((h) => h.bytesPerAllocation));
      const typedArrayBytes = median(heaps.map((h) => h.typedArrayBytesPerAllocation));
      io.stdout.write(
        `js_heap_mib=${(heapAtPeak / MiB).toFixed(1)} bookkeeping_bytes_per_allocation=${bytesPerAllocation.toFixed(0)} typed_array_bytes_per_allocation=${typedArrayBytes.toFixed(0)}\n`,
      );
      if (last.firstFailure) io.stderr.write(`first failure (${strategy}): ${last.firstFailure}\n`);
    }
    return 0;
  },
};
