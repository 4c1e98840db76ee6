// Device check for a machine with a real GPU (used on the NVIDIA H100; works on any Vulkan device): writes
// `devices --json`, then on the default device runs memory round trips on every host-visible type, binds a
// linear buffer and an optimal image across one bufferImageGranularity page (validation on when the layer
// is installed), records real memory requirements and the memory-type choices made on them, checks
// budget fidelity (VK_EXT_memory_budget usage increase per heap vs the bytes of blocks allocated, for raw
// blocks and after replaying a workload through the Allocator), and probes out-of-memory. Writes
// <out>/<name>.devices.json and <out>/<name>.check.json.
//
// Usage: tsx scripts/native-device-check.ts --out DIR --name NAME [--workload FILE [--ops N] [--profile FILE]]
// With --profile, the workload is also timed (no validation) on the real device and on the simulated device
// of that vulkaninfo profile, best of 3 runs each.
// (bundled with esbuild for machines without node_modules; VRAMSCOPE_NATIVE_ADDON names the addon file).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  AllocationError,
  Allocator,
  MemoryPropertyFlags,
  WorkloadOp,
  workloadLocations,
  type Allocation,
  chooseMemoryType,
  createSimulatedDevice,
  parseVulkaninfo,
  isHostVisible,
  memoryPropertyFlagNames,
  parseWorkload,
  type DeviceDescription,
  type MemoryLocation,
} from '../allocator/index.ts';
import {
  BufferUsage,
  ImageUsage,
  VulkanContext,
  isCodedError,
  type DebugMessage,
  type MemoryHandle,
} from '../native/index.ts';
import { VulkanDevice } from '../native/vulkan-device.ts';
import { replayWorkload } from '../src-main/bench/replay.ts';
import { buildDevicesReport, formatDevicesReport } from '../src-main/cli/commands/devices.ts';
import {
  bindMixedResources,
  blockNeighbours,
  bytePattern,
  sameBytes,
  typeWithFlags,
} from '../tests/support/vulkan-checks.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    name: { type: 'string' },
    workload: { type: 'string' },
    profile: { type: 'string' },
    'allocator-checks': { type: 'boolean' },
    'time-driver': { type: 'boolean' },
    ops: { type: 'string' },
  },
});
const outDir = values.out ?? '.';
const name = values.name ?? 'device';
const results: Record<string, unknown> = {};
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    return isCodedError(error) ? error.code : String(error);
  }
}

// 1. devices --json
const report = buildDevicesReport();
writeFileSync(path.join(outDir, `${name}.devices.json`), `${JSON.stringify(report, null, 2)}\n`);
log(formatDevicesReport(report));

// 2. open the default device, validation when available
const messages: DebugMessage[] = [];
let ctx: VulkanContext;
try {
  ctx = VulkanContext.open({ validation: true, onMessage: (m) => messages.push(m) });
  results.validation = true;
} catch (error) {
  log(`validation unavailable (${isCodedError(error) ? error.code : String(error)}); running without`);
  ctx = VulkanContext.open({ validation: false });
  results.validation = false;
}
const info = ctx.info;
results.device = { index: info.index, name: info.name, driver: `${info.driverName} ${info.driverVersion}` };
const heapOf = (type: number): number => info.types[type]!.heapIndex;
const typeFor = (bits: number, flags: number): number => typeWithFlags(info.types, bits, flags);

// 3. round trips on every host-visible type
const roundTrips: unknown[] = [];
for (const t of info.types.filter(isHostVisible)) {
  for (const [i, size] of [1, 4096, MiB + 3, 64 * MiB].entries()) {
    const mem = ctx.allocateMemory(t.index, size, { map: true });
    const data = bytePattern(size, i + 7);
    ctx.writeMemory(mem, 0, data);
    ctx.flushMemory(mem, 0, size);
    ctx.invalidateMemory(mem, 0, size);
    const ok = sameBytes(ctx.readMemory(mem, 0, size), data);
    ctx.freeMemory(mem);
    roundTrips.push({ type: t.index, flags: memoryPropertyFlagNames(t.propertyFlags), size, ok });
  }
}
results.roundTrips = roundTrips;
log(`round trips: ${roundTrips.length}, all ok: ${roundTrips.every((r) => (r as { ok: boolean }).ok)}`);

// 4. resources: linear buffer + optimal image neighbours across a granularity page, linear image, dedicated
const granularity = info.limits.bufferImageGranularity;
const bufA = ctx.createBuffer(granularity + 100, BufferUsage.STORAGE_BUFFER | BufferUsage.TRANSFER_SRC);
const img = ctx.createImage({
  width: 64,
  height: 64,
  tiling: 'optimal',
  usage: ImageUsage.SAMPLED | ImageUsage.TRANSFER_DST,
});
const linImg = ctx.createImage({ width: 16, height: 16, tiling: 'linear', usage: ImageUsage.TRANSFER_SRC });
const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;
const offA = 0;
const endA = offA + bufA.requirements.size;
const offImg = alignUp(alignUp(endA, granularity), img.requirements.alignment);
const offLin = alignUp(alignUp(offImg + img.requirements.size, granularity), linImg.requirements.alignment);
const bits =
  bufA.requirements.memoryTypeBits & img.requirements.memoryTypeBits & linImg.requirements.memoryTypeBits;
const localType = typeFor(bits, MemoryPropertyFlags.DEVICE_LOCAL);
const block = ctx.allocateMemory(localType, alignUp(offLin + linImg.requirements.size, granularity));
ctx.bindBufferMemory(bufA.handle, block, offA);
ctx.bindImageMemory(img.handle, block, offImg);
ctx.bindImageMemory(linImg.handle, block, offLin);
const bigImage = ctx.createImage({
  width: 4096,
  height: 4096,
  tiling: 'optimal',
  usage: ImageUsage.SAMPLED | ImageUsage.COLOR_ATTACHMENT,
});
const bigBuffer = ctx.createBuffer(256 * MiB, BufferUsage.STORAGE_BUFFER | BufferUsage.TRANSFER_DST);
const dedicatedType = typeFor(bigImage.requirements.memoryTypeBits, MemoryPropertyFlags.DEVICE_LOCAL);
const dedicated = ctx.allocateMemory(dedicatedType, bigImage.requirements.size, {
  dedicatedImage: bigImage.handle,
});
ctx.bindImageMemory(bigImage.handle, dedicated, 0);
results.resources = {
  granularity,
  placement: {
    buffer: [offA, bufA.requirements.size],
    optimalImage: [offImg, img.requirements.size],
    linearImage: [offLin, linImg.requirements.size],
  },
  requirements: {
    buffer: bufA.requirements,
    optimalImage64: img.requirements,
    linearImage16: linImg.requirements,
    optimalImage4096: bigImage.requirements,
    buffer256MiB: bigBuffer.requirements,
  },
};
for (const h of [bufA.handle, bigBuffer.handle]) ctx.destroyBuffer(h);
for (const h of [img.handle, linImg.handle, bigImage.handle]) ctx.destroyImage(h);
ctx.freeMemory(block);
ctx.freeMemory(dedicated);

// 5. memory-type choices on real memoryTypeBits
const description: DeviceDescription = new VulkanDevice(ctx).description;
const locations: MemoryLocation[] = ['GpuOnly', 'CpuToGpu', 'GpuToCpu', 'Unknown'];
const choices: unknown[] = [];
for (const [what, req, linear] of [
  ['buffer', bufA.requirements, true],
  ['optimalImage', img.requirements, false],
  ['linearImage', linImg.requirements, true],
] as const) {
  for (const location of locations) {
    const d = chooseMemoryType(
      description,
      { memoryTypeBits: req.memoryTypeBits, location, linear, scheme: 'managed' },
      0,
    );
    choices.push({ resource: what, memoryTypeBits: req.memoryTypeBits, location, linear, winner: d.winner });
  }
}
results.choices = choices;

// 6. budget fidelity, raw blocks: usage increase per heap vs the bytes allocated
function budgetsByHeap(): number[] | null {
  const b = ctx.budgets();
  return b === null ? null : b.map((x) => x.usage);
}
if (info.extensions.memoryBudget) {
  const sizes = [2 * MiB, 3 * MiB + 4096, 64 * MiB, 256 * MiB, 1000, 33 * MiB + 17];
  const fidelity: unknown[] = [];
  for (let round = 0; round < 2; round++) {
    const before = budgetsByHeap()!;
    const expected = info.heaps.map(() => 0);
    const live: MemoryHandle[] = [];
    for (const t of info.types) {
      for (const size of sizes) {
        live.push(ctx.allocateMemory(t.index, size));
        expected[heapOf(t.index)]! += size;
      }
    }
    const after = budgetsByHeap()!;
    for (const m of live) ctx.freeMemory(m);
    const freed = budgetsByHeap()!;
    fidelity.push({
      round,
      blocks: live.length,
      perHeap: info.heaps.map((h) => ({
        heap: h.index,
        allocatedBytes: expected[h.index],
        usageIncrease: after[h.index]! - before[h.index]!,
        usageAfterFree: freed[h.index]! - before[h.index]!,
      })),
    });
  }
  results.rawFidelity = fidelity;
  log(`raw fidelity: ${JSON.stringify(fidelity)}`);
}

// 7. the Allocator replaying a workload on the device: live block bytes per heap vs usage increase
if (values.workload !== undefined) {
  const workload = parseWorkload(readFileSync(values.workload, 'utf8'));
  const ops = values.ops !== undefined ? Number(values.ops) : workload.length;
  const device = new VulkanDevice(ctx);
  for (const strategy of ['tlsf', 'freelist'] as const) {
    const before = budgetsByHeap();
    let atEnd: unknown = null;
    const r = replayWorkload(workload, {
      device,
      strategy,
      stopAfter: ops,
      beforeDestroy: (allocator) => {
        const blockBytes = info.heaps.map(() => 0);
        for (const b of allocator.blocks()) blockBytes[heapOf(b.memoryTypeIndex)]! += b.size;
        allocator.validate();
        const now = budgetsByHeap();
        atEnd = {
          capacity: allocator.capacity(),
          stats: allocator.stats(),
          perHeap: info.heaps.map((h) => ({
            heap: h.index,
            liveBlockBytes: blockBytes[h.index],
            usageIncrease: before && now ? now[h.index]! - before[h.index]! : null,
          })),
        };
      },
    });
    const entry = {
      strategy,
      ops: r.ops,
      nsPerOp: r.nanoseconds / r.ops,
      blocksAllocated: r.blocksAllocated,
      failures: r.failures,
      firstFailure: r.firstFailure,
      atEnd,
    };
    (results.replay ??= [] as unknown[]) as unknown[];
    (results.replay as unknown[]).push(entry);
    log(`replay ${strategy}: ${JSON.stringify(entry)}`);
  }
}

// 7b. timing: device mode (no validation) vs the simulated device of a profile, same workload, best of 3
if (values.workload !== undefined && values.profile !== undefined) {
  const workload = parseWorkload(readFileSync(values.workload, 'utf8'));
  const simulated = createSimulatedDevice(
    parseVulkaninfo(readFileSync(values.profile, 'utf8'), path.basename(values.profile)),
  );
  const fast = new VulkanDevice(VulkanContext.open({ deviceIndex: info.index }));
  const timing: unknown[] = [];
  for (const strategy of ['tlsf', 'freelist'] as const) {
    for (const [mode, device] of [
      ['simulated', simulated],
      ['device', fast],
    ] as const) {
      let best = Infinity;
      let blocks = 0;
      for (let run = 0; run < 3; run++) {
        const r = replayWorkload(workload, { device, strategy });
        best = Math.min(best, r.nanoseconds / r.ops);
        blocks = r.blocksAllocated;
      }
      timing.push({
        strategy,
        mode,
        nsPerOp: Math.round(best),
        blocksAllocated: blocks,
        ops: workload.length,
      });
      log(`bench ${strategy} mode=${mode} ns/op=${Math.round(best)} blocks=${blocks}`);
    }
  }
  fast.close();
  results.timing = timing;
}

// 7c. the Allocator on this device: a 20,000-op replay with validate() after each op and budget fidelity
// checkpoints every 2,000 ops; real resources bound at allocator-chosen offsets; OOM through the allocator.
if (values['allocator-checks'] === true) {
  const device = new VulkanDevice(ctx);
  const checks: Record<string, unknown> = {};
  if (values.workload !== undefined) {
    const workload = parseWorkload(readFileSync(values.workload, 'utf8'));
    const allocator = new Allocator({ device, debugSettings: { logLeaksOnShutdown: false } });
    const live = new Map<number, Allocation>();
    const before = budgetsByHeap();
    const checkpoints: unknown[] = [];
    const n = Math.min(20_000, workload.length);
    const t0 = Date.now();
    for (let i = 0; i < n; i++) {
      const id = workload.id[i]!;
      if (workload.op[i] === WorkloadOp.Allocate) {
        live.set(
          id,
          allocator.allocate({
            name: `w${id}`,
            requirements: {
              size: workload.size[i]!,
              alignment: workload.alignment[i]!,
              memoryTypeBits: 0xffffffff,
            },
            location: workloadLocations[workload.location[i]!]!,
            linear: workload.linear[i] === 1,
          }),
        );
      } else {
        const a = live.get(id);
        if (a !== undefined) {
          allocator.free(a);
          live.delete(id);
        }
      }
      allocator.validate();
      if ((i + 1) % 2000 === 0 && before !== null) {
        const now = budgetsByHeap()!;
        const blockBytes = info.heaps.map(() => 0);
        const blockCounts = info.heaps.map(() => 0);
        for (const b of allocator.blocks()) {
          blockBytes[heapOf(b.memoryTypeIndex)]! += b.size;
          blockCounts[heapOf(b.memoryTypeIndex)]! += 1;
        }
        checkpoints.push({
          op: i + 1,
          perHeap: info.heaps.map((h) => ({
            heap: h.index,
            blocks: blockCounts[h.index],
            liveBlockBytes: blockBytes[h.index],
            usageIncrease: now[h.index]! - before[h.index]!,
          })),
        });
      }
    }
    checks.replay20k = {
      ops: n,
      ms: Date.now() - t0,
      validatedEveryOp: true,
      liveAllocations: live.size,
      checkpoints,
    };
    for (const a of live.values()) allocator.free(a);
    allocator.validate();
    allocator.destroy();
    log(`allocator replay 20k: ${JSON.stringify(checks.replay20k)}`);
  }
  // Real resources at allocator-chosen offsets, small blocks so linear/non-linear neighbours share blocks.
  {
    const allocator = new Allocator({
      device,
      debugSettings: { logLeaksOnShutdown: false },
      allocationSizes: { deviceMemblockSize: 4 * MiB, hostMemblockSize: 4 * MiB },
    });
    const made = bindMixedResources(ctx, allocator, 90);
    let mixedNeighbours = 0;
    let granularityViolations = 0;
    const neighbours = blockNeighbours(made.map((m) => m.allocation));
    for (const [p, q] of neighbours.pairs) {
      if (p.linear !== q.linear) {
        mixedNeighbours++;
        if (Math.floor(q.offset / granularity) <= Math.floor((p.offset + p.size - 1) / granularity))
          granularityViolations++;
      }
    }
    for (const { allocation, destroy } of made) {
      destroy();
      allocator.free(allocation);
    }
    allocator.destroy();
    checks.binds = {
      resources: made.length,
      blocks: neighbours.blocks,
      mixedNeighbours,
      granularityViolations,
      validationErrorsSoFar: messages.filter((m) => m.severity === 'error').length,
    };
    log(`allocator binds: ${JSON.stringify(checks.binds)}`);
  }
  // OOM through the allocator: maxMemoryAllocationSize-sized GpuOnly allocations until the driver refuses.
  {
    const allocator = new Allocator({ device, debugSettings: { logLeaksOnShutdown: false } });
    const held: Allocation[] = [];
    let failure: string | null = null;
    for (let i = 0; i < 64 && failure === null; i++) {
      try {
        held.push(
          allocator.allocate({
            name: `huge${i}`,
            requirements: {
              size: info.limits.maxMemoryAllocationSize,
              alignment: 65536,
              memoryTypeBits: 0xffffffff,
            },
            location: 'GpuOnly',
            linear: true,
          }),
        );
      } catch (error) {
        failure = error instanceof AllocationError ? `${error.code}: ${error.message}` : String(error);
      }
    }
    const statsAtFailure = allocator.stats();
    allocator.validate();
    const small = allocator.allocate({
      name: 'after oom',
      requirements: { size: 65536, alignment: 256, memoryTypeBits: 0xffffffff },
      location: 'CpuToGpu',
      linear: true,
    });
    small.mapped!.write(0, new Uint8Array([3, 1, 4]));
    const usable = Array.from(small.mapped!.read(0, 3)).join(',') === '3,1,4';
    allocator.free(small);
    for (const a of held) allocator.free(a);
    allocator.validate();
    allocator.destroy();
    checks.oomThroughAllocator = {
      allocations: held.length,
      failure,
      statsAtFailure,
      usableAfter: usable,
      liveBlocksAfter: device.liveBlockCount(),
    };
    log(`allocator oom: ${JSON.stringify(checks.oomThroughAllocator)}`);
  }
  results.allocatorChecks = checks;
}

// 7d. where device-mode time goes: vkAllocateMemory/vkFreeMemory of 256 MiB blocks per type (mapped when
// host-visible, as the allocator asks), and a tlsf replay with every native call timed.
if (values['time-driver'] === true) {
  const fast = VulkanContext.open({ deviceIndex: info.index });
  const perType: unknown[] = [];
  for (const t of info.types) {
    const allocMs: number[] = [];
    const freeMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t0 = process.hrtime.bigint();
      const m = fast.allocateMemory(t.index, 256 * MiB, { map: isHostVisible(t) });
      allocMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      t0 = process.hrtime.bigint();
      fast.freeMemory(m);
      freeMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    perType.push({ type: t.index, flags: memoryPropertyFlagNames(t.propertyFlags), allocMs, freeMs });
  }
  const calls: Record<string, { count: number; ms: number }> = {};
  const target = fast as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ['allocateMemory', 'freeMemory', 'budgets', 'readMemory', 'writeMemory']) {
    const original = target[method]!.bind(fast);
    target[method] = (...args: unknown[]): unknown => {
      const t0 = process.hrtime.bigint();
      try {
        return original(...args);
      } finally {
        const c = (calls[method] ??= { count: 0, ms: 0 });
        c.count++;
        c.ms += Number(process.hrtime.bigint() - t0) / 1e6;
      }
    };
  }
  let replay: unknown = null;
  if (values.workload !== undefined) {
    const workload = parseWorkload(readFileSync(values.workload, 'utf8'));
    const r = replayWorkload(workload, { device: new VulkanDevice(fast), strategy: 'tlsf' });
    replay = { ops: r.ops, totalMs: r.nanoseconds / 1e6, nsPerOp: r.nanoseconds / r.ops, calls };
  }
  fast.close();
  results.driverTiming = { blockSize: 256 * MiB, perType, replay };
  log(`driver timing: ${JSON.stringify(results.driverTiming)}`);
}

// 8. out of memory
const oom: Record<string, unknown> = {};
const localHeap = info.heaps[heapOf(localType)]!;
oom.moreThanHeap = codeOf(() => ctx.allocateMemory(localType, localHeap.size + 1));
const overMax = Math.min(localHeap.size, 2 * info.limits.maxMemoryAllocationSize);
oom.aboveMaxAllocationSize = {
  size: overMax,
  code: codeOf(() => {
    const m = ctx.allocateMemory(localType, overMax);
    ctx.freeMemory(m);
  }),
};
// Exhaust the device-local heap in maxMemoryAllocationSize blocks until the driver refuses.
const chunk = info.limits.maxMemoryAllocationSize;
const held: MemoryHandle[] = [];
let exhaustCode: string | null = null;
const start = Date.now();
for (let i = 0; i < Math.ceil(localHeap.size / chunk) + 2; i++) {
  try {
    held.push(ctx.allocateMemory(localType, chunk));
  } catch (error) {
    exhaustCode = isCodedError(error) ? error.code : String(error);
    break;
  }
}
const usageAtFull = budgetsByHeap();
for (const m of held) ctx.freeMemory(m);
oom.exhaust = {
  chunk,
  blocks: held.length,
  bytes: held.length * chunk,
  code: exhaustCode,
  ms: Date.now() - start,
  usageAtFull: usageAtFull?.[localHeap.index] ?? null,
};
const probe = ctx.allocateMemory(info.types.find(isHostVisible)!.index, 4096, { map: true });
ctx.writeMemory(probe, 0, new Uint8Array([5, 6, 7]));
oom.usableAfter = Array.from(ctx.readMemory(probe, 0, 3)).join(',') === '5,6,7';
ctx.freeMemory(probe);
results.oom = oom;
log(`oom: ${JSON.stringify(oom)}`);

ctx.close();
results.validationErrors = messages.filter((m) => m.severity === 'error');
results.validationWarnings = messages.filter((m) => m.severity === 'warning').length;
results.gib = GiB;
writeFileSync(path.join(outDir, `${name}.check.json`), `${JSON.stringify(results, null, 2)}\n`);
log(
  `validation errors: ${(results.validationErrors as unknown[]).length}, warnings: ${String(results.validationWarnings)}`,
);
