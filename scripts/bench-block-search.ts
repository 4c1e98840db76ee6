// Cross-block search micro-benchmark: the cost of a 2 MiB request that fits only the newest general block
// of a memory type, with 11, 51 and 201 blocks of 256 MiB on the simulated H100 profile (its device heap
// holds about 318). Every older block is filled to within 1 MiB of its end, so a search that tries blocks
// one by one (freelist, the crate's policy) visits them all; tlsf searches one index per memory type.
// Each timed op is one allocate() + free() pair of the 2 MiB request. Prints, never asserts.
// Usage: node --import tsx scripts/bench-block-search.ts [--reps N]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Allocator,
  createSimulatedDevice,
  parseVulkaninfo,
  type AllocationCreateDesc,
  type PlacementStrategyName,
} from '../allocator/index.ts';

const MiB = 1024 * 1024;
const BLOCK = 256 * MiB;
const BLOCK_COUNTS = [11, 51, 201];
const STRATEGIES: PlacementStrategyName[] = ['tlsf', 'freelist'];

const here = path.dirname(fileURLToPath(import.meta.url));
const profile = path.join(here, '..', 'assets', 'profiles', 'nvidia-h100-80gb-hbm3.vulkaninfo.txt');
const description = parseVulkaninfo(readFileSync(profile, 'utf8'), path.basename(profile));

const repsArg = process.argv.indexOf('--reps');
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 200_000;
if (!Number.isSafeInteger(reps) || reps <= 0) throw new Error('--reps needs a positive whole number');

function request(size: number): AllocationCreateDesc {
  return {
    name: 'r',
    requirements: { size, alignment: 256, memoryTypeBits: 0xffffffff },
    location: 'GpuOnly',
    linear: true,
  };
}

/** Nanoseconds per allocate + free of a 2 MiB request with `blocks` general blocks of 256 MiB. */
function measure(strategy: PlacementStrategyName, blocks: number): number {
  const allocator = new Allocator({
    device: createSimulatedDevice(description),
    strategy,
    // Fixed 256 MiB blocks, nothing dedicated, nothing released: exactly `blocks` blocks.
    blockPolicy: { growth: 0, dedicatedAbove: 1, spareEmptyBlocks: 0, order: 'oldestFirst' },
    debugSettings: { logLeaksOnShutdown: false },
  });
  // Each block: 255 MiB in one allocation and 1 MiB free (too small for the request)...
  for (let b = 0; b < blocks - 1; b++) allocator.allocate(request(BLOCK - MiB));
  // ...but the newest, which keeps 64 MiB free.
  allocator.allocate(request(BLOCK - 64 * MiB));
  if (allocator.stats().blockCount !== blocks) throw new Error(`expected ${blocks} blocks`);
  const probe = request(2 * MiB);
  for (let i = 0; i < 10_000; i++) allocator.free(allocator.allocate(probe));
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) allocator.free(allocator.allocate(probe));
  const ns = Number(process.hrtime.bigint() - start) / reps;
  if (allocator.stats().blockCount !== blocks) throw new Error('the probe created a block');
  allocator.destroy();
  return ns;
}

// One untimed pass over every configuration first, so the JIT has compiled the paths before the clock.
for (const strategy of STRATEGIES) for (const n of BLOCK_COUNTS) measure(strategy, n);
for (const strategy of STRATEGIES) {
  const cells = BLOCK_COUNTS.map((n) => `blocks_${n}_ns=${measure(strategy, n).toFixed(0)}`);
  console.log(`block_search strategy=${strategy} request_mib=2 ${cells.join(' ')}`);
}
