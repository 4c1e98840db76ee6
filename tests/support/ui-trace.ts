// Builds event streams for the inspector's tests: a seeded workload of allocations and frees written into
// a real EventLog, with memory types chosen by the allocator's real chooseMemoryType on a real device
// profile. Placement is a simple first fit over 64 MiB blocks (tests of the views need realistic events,
// not the allocator's placement quality).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventLog, MemoryTypeDecisionCache, parseVulkaninfo } from '../../allocator/index.ts';
import type { DeviceDescription, MemoryLocation } from '../../allocator/index.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function loadProfile(name = 'nvidia-h100-80gb-hbm3'): DeviceDescription {
  const file = path.join(repoRoot, 'assets', 'profiles', `${name}.vulkaninfo.txt`);
  return parseVulkaninfo(readFileSync(file, 'utf8'), `profile:${name}`);
}

/** Mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadOptions {
  readonly ops: number;
  readonly seed?: number;
  /** Fraction of allocations never freed (leaks), default 0.02. */
  readonly leakRate?: number;
  /** A frame marker every this many ops (0: none). */
  readonly frameEvery?: number;
  readonly device?: DeviceDescription;
}

export interface Workload {
  readonly device: DeviceDescription;
  readonly log: EventLog;
  /** Ids of allocations that are never freed. */
  readonly leaked: readonly number[];
}

const blockSize = 64 * 1024 * 1024;
const locations: readonly MemoryLocation[] = ['GpuOnly', 'GpuOnly', 'GpuOnly', 'CpuToGpu', 'GpuToCpu'];

interface Block {
  id: number;
  type: number;
  size: number;
  /** Sorted [offset, end) of live allocations. */
  used: { offset: number; end: number; id: number }[];
}

export function buildWorkload(options: WorkloadOptions): Workload {
  const device = options.device ?? loadProfile();
  const random = rng(options.seed ?? 1);
  let clock = 0;
  const log = new EventLog({ initialCapacity: Math.max(64, options.ops * 2), clock: () => clock });
  const decisions = new MemoryTypeDecisionCache(device);
  log.setDecisionSource((id) => decisions.get(id));
  const allBits = (1 << device.types.length) - 1;
  const blocks: Block[] = [];
  let nextBlock = 1;
  let nextAlloc = 1;
  const live: { id: number; block: Block; leak: boolean }[] = [];
  const leaked: number[] = [];
  const leakRate = options.leakRate ?? 0.02;
  const frameEvery = options.frameEvery ?? 0;
  let frame = 0;

  for (let op = 0; op < options.ops; op++) {
    clock += 0.05 + random() * 0.1;
    if (frameEvery > 0 && op % frameEvery === 0) log.frame(frame++);
    const freeable = live.filter((l) => !l.leak);
    if (freeable.length > 0 && (random() < 0.45 || live.length > 400)) {
      const victim = freeable[Math.floor(random() * freeable.length)];
      if (!victim) continue;
      live.splice(live.indexOf(victim), 1);
      const b = victim.block;
      b.used.splice(
        b.used.findIndex((u) => u.id === victim.id),
        1,
      );
      log.free(victim.id);
      if (b.used.length === 0 && blocks.filter((x) => x.type === b.type).length > 1) {
        blocks.splice(blocks.indexOf(b), 1);
        log.blockDestroy(b.id);
      }
      continue;
    }
    const location = locations[Math.floor(random() * locations.length)] ?? 'GpuOnly';
    const linear = random() < 0.7;
    const decision = decisions.get({ memoryTypeBits: allBits, location, linear, scheme: 'managed' });
    const type = decision.winner ?? 0;
    const alignment = linear ? 256 : 65536;
    const size = Math.max(256, Math.floor(Math.exp(random() * Math.log(8 * 1024 * 1024))));
    let placed: { block: Block; offset: number } | null = null;
    for (const b of blocks) {
      if (b.type !== type) continue;
      let at = 0;
      for (let i = 0; i <= b.used.length; i++) {
        const aligned = Math.ceil(at / alignment) * alignment;
        const next = b.used[i];
        const limit = next ? next.offset : b.size;
        if (aligned + size <= limit) {
          placed = { block: b, offset: aligned };
          break;
        }
        if (next) at = next.end;
      }
      if (placed) break;
    }
    if (!placed) {
      const b: Block = { id: nextBlock++, type, size: blockSize, used: [] };
      blocks.push(b);
      log.blockCreate(b.id, type, blockSize, false);
      placed = { block: b, offset: 0 };
    }
    const id = nextAlloc++;
    const leak = random() < leakRate;
    const name = `${linear ? 'buffer' : 'texture'}-${location}-${id % 7}`;
    const stack = `scenario.mjs:${10 + (id % 5)} ${leak ? 'leaky-path' : 'frame-loop'}`;
    placed.block.used.push({ offset: placed.offset, end: placed.offset + size, id });
    placed.block.used.sort((x, y) => x.offset - y.offset);
    log.allocate(
      id,
      placed.block.id,
      type,
      placed.offset,
      size,
      alignment,
      linear ? 0 : 1,
      location,
      name,
      decision.id,
      false,
      stack,
    );
    live.push({ id, block: placed.block, leak });
    if (leak) leaked.push(id);
  }
  // Free every non-leaked allocation at the end, so what stays alive is exactly the leaks.
  for (const l of live) {
    if (l.leak) continue;
    clock += 0.01;
    log.free(l.id);
  }
  return { device, log, leaked };
}
