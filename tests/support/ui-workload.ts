// Builds event streams for the inspector's tests (in Node and in the browser harness): a seeded workload
// of allocations and frees written into a real EventLog, with memory types chosen by the allocator's real
// chooseMemoryType on a real device description. Placement is a simple first fit over 64 MiB blocks
// (tests of the views need realistic events, not the allocator's placement quality).
import { EventLog, MemoryTypeDecisionCache } from '../../allocator/index.ts';
import type { DeviceDescription, MemoryLocation } from '../../allocator/index.ts';
import { rng } from './rng.ts';

export interface WorkloadOptions {
  readonly ops: number;
  readonly seed?: number;
  /** Fraction of allocations never freed (leaks), default 0.02. */
  readonly leakRate?: number;
  /** A frame marker every this many ops (0: none). */
  readonly frameEvery?: number;
}

export interface Workload {
  readonly device: DeviceDescription;
  readonly log: EventLog;
  /** Ids of allocations that are never freed. */
  readonly leaked: readonly number[];
  /** Ids of allocations placed in their decision's allocation-time retry type (usedRetry). */
  readonly retried: readonly number[];
}

const blockSize = 64 * 1024 * 1024;
const locations: readonly MemoryLocation[] = ['GpuOnly', 'GpuOnly', 'GpuOnly', 'CpuToGpu', 'GpuToCpu'];

/** A block filled by a bump pointer; emptied blocks are reused from offset 0 (holes are not reused). */
interface Block {
  id: number;
  type: number;
  top: number;
  liveCount: number;
}

export function buildWorkloadOn(device: DeviceDescription, options: WorkloadOptions): Workload {
  const random = rng(options.seed ?? 1);
  let clock = 0;
  const log = new EventLog({ initialCapacity: Math.max(64, options.ops * 2), clock: () => clock });
  const decisions = new MemoryTypeDecisionCache(device);
  log.setDecisionSource((id) => decisions.get(id));
  const allBits = (1 << device.types.length) - 1;
  const byType = new Map<number, Block[]>();
  let nextBlock = 1;
  let nextAlloc = 1;
  /** Live allocations that will be freed (leaks are never in here). */
  const live: { id: number; block: Block }[] = [];
  const leaked: number[] = [];
  const retried: number[] = [];
  const leakRate = options.leakRate ?? 0.02;
  const frameEvery = options.frameEvery ?? 0;
  let frame = 0;

  for (let op = 0; op < options.ops; op++) {
    clock += 0.05 + random() * 0.1;
    if (frameEvery > 0 && op % frameEvery === 0) {
      log.frame(frame++);
      // The driver's budget per heap (VK_EXT_memory_budget), sampled once per frame.
      for (const h of device.heaps) {
        let used = 0;
        for (const [type, blocks] of byType)
          if (device.types[type]?.heapIndex === h.index) used += blocks.length * blockSize;
        log.budgetSample({ heapIndex: h.index, budget: Math.floor(h.size * 0.9), usage: used });
      }
    }
    if (live.length > 0 && (random() < 0.45 || live.length > 400)) {
      const k = Math.floor(random() * live.length);
      const victim = live[k];
      if (!victim) continue;
      // Swap-remove: order of the live list does not matter.
      live[k] = live[live.length - 1] as (typeof live)[number];
      live.pop();
      log.free(victim.id);
      const b = victim.block;
      b.liveCount--;
      if (b.liveCount === 0) {
        const list = byType.get(b.type) ?? [];
        const empty = list.filter((x) => x.liveCount === 0);
        if (empty.length > 1) {
          list.splice(list.indexOf(b), 1);
          log.blockDestroy(b.id);
        } else b.top = 0;
      }
      continue;
    }
    const location = locations[Math.floor(random() * locations.length)] ?? 'GpuOnly';
    const linear = random() < 0.7;
    const decision = decisions.get({ memoryTypeBits: allBits, location, linear, scheme: 'managed' });
    // Now and then the first choice "fails" and the decision's retry type is used, as the allocator does.
    const retry = decision.retryTypeIndex !== null && random() < 0.2;
    const type = retry ? (decision.retryTypeIndex ?? 0) : (decision.winner ?? 0);
    const alignment = linear ? 256 : 65536;
    const size = Math.max(256, Math.floor(Math.exp(random() * Math.log(8 * 1024 * 1024))));
    let list = byType.get(type);
    if (!list) byType.set(type, (list = []));
    let block: Block | null = null;
    let offset = 0;
    // The newest block first, then any emptied one, else a new block.
    for (let i = list.length - 1; i >= 0 && !block; i--) {
      const b = list[i] as Block;
      const aligned = Math.ceil(b.top / alignment) * alignment;
      if (aligned + size <= blockSize && (i === list.length - 1 || b.liveCount === 0)) {
        if (b.liveCount === 0) b.top = 0;
        block = b;
        offset = Math.ceil(b.top / alignment) * alignment;
      }
    }
    if (!block) {
      block = { id: nextBlock++, type, top: 0, liveCount: 0 };
      list.push(block);
      log.blockCreate({ blockId: block.id, memoryTypeIndex: type, size: blockSize, dedicated: false });
      offset = 0;
    } else if (block !== list[list.length - 1]) {
      // Reused an emptied block: it becomes the newest.
      list.splice(list.indexOf(block), 1);
      list.push(block);
    }
    block.top = offset + size;
    block.liveCount++;
    const id = nextAlloc++;
    const leak = random() < leakRate;
    const name = `${linear ? 'buffer' : 'texture'}-${location}-${id % 7}`;
    const stack = `scenario.mjs:${10 + (id % 5)} ${leak ? 'leaky-path' : 'frame-loop'}`;
    log.allocate({
      allocationId: id,
      blockId: block.id,
      memoryTypeIndex: type,
      offset,
      size,
      alignment,
      kind: linear ? 0 : 1,
      location,
      name,
      decisionId: decision.id,
      usedRetry: retry,
      stack,
    });
    if (retry) retried.push(id);
    if (leak) leaked.push(id);
    else live.push({ id, block });
  }
  // Free every non-leaked allocation at the end, so what stays alive is exactly the leaks.
  for (const l of live) {
    clock += 0.01;
    log.free(l.id);
  }
  return { device, log, leaked, retried };
}
