// Built-in scenario: pushes a heap past its budget and shows what fails and how the allocator falls back.
// A probe finds the heap that `location` memory lands in; the session then limits that heap (like VMA's heap
// size limit, so this is safe on a real GPU too) and the scenario allocates chunks until requests fail.
// On a GPU with ReBAR, CpuToGpu first lands in DEVICE_LOCAL|HOST_VISIBLE memory and, once that heap is full,
// the allocator retries in plain HOST_VISIBLE|HOST_COHERENT system memory; on a device with a single heap
// there is nowhere to fall back to and the requests fail with OutOfMemory. GpuOnly requests on the full
// heap are tried last to show they fail too.
export const meta = {
  name: 'budget-overflow',
  description:
    'Fills a heap past its (limited) budget: shows failures and the CpuToGpu fallback out of ReBAR.',
  parameters: {
    location: {
      type: 'string',
      default: 'CpuToGpu',
      description: 'Memory location of the chunks: GpuOnly, CpuToGpu or GpuToCpu.',
    },
    chunkMiB: { type: 'integer', default: 16, min: 1, max: 4096, description: 'Size of each chunk in MiB.' },
    heapLimitMiB: {
      type: 'integer',
      default: 256,
      min: 0,
      max: 16777216,
      description: 'Limit the target heap to this many MiB (0: use the budget the device reports).',
    },
    maxChunks: {
      type: 'integer',
      default: 40,
      min: 1,
      max: 100000,
      description: 'Most chunks to allocate (bounds real memory use).',
    },
    maxFailures: {
      type: 'integer',
      default: 4,
      min: 1,
      max: 1000,
      description: 'Stop after this many failed chunk requests.',
    },
  },
};

const MiB = 1024 * 1024;

export function run(ctx, params) {
  const locations = ['GpuOnly', 'CpuToGpu', 'GpuToCpu'];
  if (!locations.includes(params.location))
    throw new RangeError(`location must be one of ${locations.join(', ')}, got "${params.location}"`);
  const chunk = params.chunkMiB * MiB;

  const probe = ctx.allocate({
    name: 'probe',
    size: 256,
    kind: 'buffer',
    location: params.location,
    tags: ['probe'],
  });
  const heap = probe.heapIndex;
  const firstType = probe.memoryTypeIndex;
  ctx.free(probe);
  ctx.log(`${params.location} memory lands in type ${firstType} (heap ${heap})`);

  if (params.heapLimitMiB > 0) ctx.limitHeap(heap, params.heapLimitMiB * MiB);
  const budget = (ctx.budgets() ?? []).find((b) => b.heapIndex === heap);
  ctx.mark(
    `filling heap ${heap} (budget ${budget ? Math.round(budget.budget / MiB) : '?'} MiB) with ${params.chunkMiB} MiB chunks`,
  );

  const chunks = [];
  let failures = 0;
  let fellBack = 0;
  for (let i = 0; i < params.maxChunks && failures < params.maxFailures; i++) {
    const a = ctx.tryAllocate({
      name: `chunk-${i}`,
      size: chunk,
      kind: 'buffer',
      location: params.location,
      tags: ['overflow'],
    });
    if (a === null) {
      failures++;
      continue;
    }
    if (a.memoryTypeIndex !== firstType) {
      if (fellBack === 0)
        ctx.mark(`fallback: chunk-${i} went to type ${a.memoryTypeIndex} (heap ${a.heapIndex})`);
      fellBack++;
    }
    chunks.push(a);
    if (i % 4 === 3) ctx.frame();
  }
  ctx.log(`${chunks.length} chunks placed (${fellBack} in a fallback type), ${failures} failed`);

  ctx.mark('GpuOnly requests on the full heap');
  const gpu = [];
  for (let i = 0; i < 2; i++) {
    const a = ctx.tryAllocate({
      name: `gpu-only-${i}`,
      size: chunk,
      kind: 'image',
      location: 'GpuOnly',
      tags: ['overflow', 'gpu-only'],
    });
    if (a) gpu.push(a);
  }
  ctx.frame('overflowed');

  ctx.mark('release');
  for (const a of gpu) ctx.free(a);
  for (const a of chunks) ctx.free(a);
  if (params.heapLimitMiB > 0) ctx.limitHeap(heap, null);
  ctx.frame('released');
}
