// Built-in scenario: pushes a heap past its budget and shows what the session's budget mode does about it.
// A probe finds the heap that `location` memory lands in; the session then gives that heap a smaller budget
// (emulated, as VK_EXT_memory_budget would report it: nothing fails at the device because of it) and a hard
// limit above it (like VMA's heap size limit, so this is safe on a real GPU too), and the scenario allocates
// chunks until requests fail. What happens past the budget is the budget mode's (`run --budget`):
// - ignore: blocks past the budget are created silently, until the hard limit makes the device refuse;
// - warn (default): the same, but each block that pushes the heap past its budget is flagged in the event
//   stream (a budget sample marked "crossed"), logged, and shown on the timeline;
// - strict: the budget refuses such blocks: the request goes to its decision's fallback memory type (on a
//   GPU with ReBAR, CpuToGpu falls back from DEVICE_LOCAL|HOST_VISIBLE to HOST_VISIBLE system memory) or,
//   on a device with a single heap, fails with OutOfMemory naming the budget.
// GpuOnly requests on the full heap are tried last to show they fail (or are refused) too.
export const meta = {
  name: 'budget-overflow',
  description:
    'Fills a heap past its budget: the budget mode (ignore, warn, strict) decides; failures and the ReBAR fallback.',
  parameters: {
    location: {
      type: 'string',
      default: 'CpuToGpu',
      description: 'Memory location of the chunks: GpuOnly, CpuToGpu or GpuToCpu.',
    },
    chunkMiB: { type: 'integer', default: 16, min: 1, max: 4096, description: 'Size of each chunk in MiB.' },
    budgetMiB: {
      type: 'integer',
      default: 128,
      min: 0,
      max: 16777216,
      description: 'Emulated budget of the target heap in MiB (0: the budget the device reports).',
    },
    heapLimitMiB: {
      type: 'integer',
      default: 256,
      min: 0,
      max: 16777216,
      description: 'Hard limit of the target heap in MiB, where the device refuses blocks (0: none).',
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

  if (params.budgetMiB > 0) ctx.setHeapBudget(heap, params.budgetMiB * MiB);
  if (params.heapLimitMiB > 0) ctx.limitHeap(heap, params.heapLimitMiB * MiB);
  const budget = (ctx.budgets() ?? []).find((b) => b.heapIndex === heap);
  ctx.mark(
    `budget mode ${ctx.budgetMode}: filling heap ${heap} (budget ${budget ? Math.round(budget.budget / MiB) : '?'} MiB${params.heapLimitMiB > 0 ? `, limit ${params.heapLimitMiB} MiB` : ''}) with ${params.chunkMiB} MiB chunks`,
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
  const s = ctx.state();
  ctx.log(
    `${chunks.length} chunks placed (${fellBack} in a fallback type), ${failures} failed; budget mode ${ctx.budgetMode}: ${s.budgetCrossings} blocks past the budget, ${s.budgetRefusals} refused by it`,
  );

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
  if (params.budgetMiB > 0) ctx.setHeapBudget(heap, null);
  ctx.frame('released');
}
