// Built-in scenario: fragmentation torture. Each round fills memory with many small allocations of random
// sizes, frees all but every k-th one (leaving small holes pinned between survivors), then asks for larger
// allocations that do not fit the holes, so the allocator must grow new blocks while free bytes pile up.
export const meta = {
  name: 'fragmentation',
  description: 'Swiss-cheese frees followed by larger requests: free space that cannot be used.',
  parameters: {
    rounds: {
      type: 'integer',
      default: 6,
      min: 1,
      max: 10000,
      description: 'Fill / punch / big-request rounds.',
    },
    allocationsPerRound: {
      type: 'integer',
      default: 400,
      min: 1,
      max: 1000000,
      description: 'Small allocations per round.',
    },
    minKiB: {
      type: 'integer',
      default: 4,
      min: 1,
      max: 1048576,
      description: 'Smallest small allocation in KiB.',
    },
    maxKiB: {
      type: 'integer',
      default: 512,
      min: 1,
      max: 1048576,
      description: 'Largest small allocation in KiB.',
    },
    keepEvery: {
      type: 'integer',
      default: 3,
      min: 2,
      max: 1000,
      description: 'Keep every k-th small allocation; free the rest.',
    },
    bigKiB: {
      type: 'integer',
      default: 8192,
      min: 1,
      max: 4194304,
      description: 'Size of the large requests in KiB.',
    },
  },
};

export function run(ctx, params) {
  if (params.minKiB > params.maxKiB)
    throw new RangeError(`minKiB (${params.minKiB}) must not exceed maxKiB (${params.maxKiB})`);
  const survivors = [];
  const big = [];
  for (let round = 0; round < params.rounds; round++) {
    ctx.mark(`round ${round}: fill`);
    const fill = [];
    for (let i = 0; i < params.allocationsPerRound; i++) {
      const kib = ctx.randomInt(params.minKiB, params.maxKiB);
      const image = ctx.random() < 0.5;
      fill.push(
        ctx.allocate({
          name: `r${round}/${image ? 'image' : 'buffer'}-${i}`,
          size: kib * 1024,
          alignment: image ? 4096 : 256,
          kind: image ? 'image' : 'buffer',
          tags: ['fill'],
        }),
      );
    }
    ctx.mark(`round ${round}: punch holes`);
    fill.forEach((a, i) => {
      if (i % params.keepEvery === 0) survivors.push(a);
      else ctx.free(a);
    });
    ctx.mark(`round ${round}: large requests`);
    for (let i = 0; i < 4; i++) {
      const a = ctx.tryAllocate({
        name: `r${round}/large-${i}`,
        size: params.bigKiB * 1024,
        kind: 'buffer',
        tags: ['large'],
      });
      if (a) big.push(a);
    }
    const s = ctx.state();
    const usable = s.committedBytes > 0 ? s.allocatedBytes / s.committedBytes : 1;
    ctx.log(
      `round ${round}: ${s.blockCount} blocks, ${(usable * 100).toFixed(1)}% of committed bytes in use`,
    );
    ctx.frame(`round ${round}`);
  }
  ctx.mark('teardown');
  for (const a of big) ctx.free(a);
  for (const a of survivors) ctx.free(a);
  ctx.frame('teardown');
}
