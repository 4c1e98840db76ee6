// Built-in scenario: defragmentation. Fills memory with small allocations of random sizes, frees all but
// every k-th (holes pinned between survivors, as in `fragmentation`), then defragments in passes of at most
// `movesPerPass` moves (ctx.defragment: the allocator moves allocations, a real device moves their bytes),
// and finally asks for large allocations that now fit the space the passes freed. Its images are marked
// movable (`moveImages`, default true; ctx.defragment leaves unmarked images in place). Each pass leaves a
// mark "defragment pass N: ..." and `move` events.
export const meta = {
  name: 'defragment',
  description: 'Fragment the heap, defragment it in passes, then reuse the freed space.',
  parameters: {
    allocations: {
      type: 'integer',
      default: 1500,
      min: 1,
      max: 1000000,
      description: 'Small allocations made before the holes are punched.',
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
    algorithm: {
      type: 'string',
      default: 'full',
      description: 'Defragmentation algorithm: full (fewest blocks) or fast (empty the emptiest blocks).',
    },
    movesPerPass: {
      type: 'integer',
      default: 64,
      min: 1,
      max: 1000000,
      description: 'Moves at most per defragmentation pass.',
    },
    maxPasses: {
      type: 'integer',
      default: 100,
      min: 1,
      max: 100000,
      description: 'Passes at most (a pass that moves nothing ends the defragmentation early).',
    },
    copy: {
      type: 'string',
      default: 'auto',
      description:
        'How a real device moves the bytes: auto, mapped (host copies) or transfer (vkCmdCopyBuffer). Simulated devices: auto or mapped.',
    },
    moveImages: {
      type: 'boolean',
      default: true,
      description:
        'Mark the images movable (ctx.defragment leaves images in place unless marked); false shows how pinned images keep blocks alive.',
    },
    bigKiB: {
      type: 'integer',
      default: 8192,
      min: 1,
      max: 4194304,
      description: 'Size of the large requests made after defragmenting, in KiB.',
    },
    bigCount: {
      type: 'integer',
      default: 4,
      min: 0,
      max: 10000,
      description: 'Large requests made after defragmenting.',
    },
  },
};

const percent = (x) => `${(x * 100).toFixed(1)}%`;

export function run(ctx, params) {
  if (params.minKiB > params.maxKiB)
    throw new RangeError(`minKiB (${params.minKiB}) must not exceed maxKiB (${params.maxKiB})`);
  if (params.algorithm !== 'full' && params.algorithm !== 'fast')
    throw new RangeError(`algorithm must be full or fast, got ${params.algorithm}`);

  ctx.mark('fill');
  const fill = [];
  for (let i = 0; i < params.allocations; i++) {
    const kib = ctx.randomInt(params.minKiB, params.maxKiB);
    const image = ctx.random() < 0.5;
    fill.push(
      ctx.allocate({
        name: `${image ? 'image' : 'buffer'}-${i}`,
        size: kib * 1024,
        alignment: image ? 4096 : 256,
        kind: image ? 'image' : 'buffer',
        movable: image ? params.moveImages : true,
        tags: ['fill'],
      }),
    );
  }
  ctx.mark('punch holes');
  const survivors = [];
  fill.forEach((a, i) => {
    if (i % params.keepEvery === 0) survivors.push(a);
    else ctx.free(a);
  });
  const fragmented = ctx.state();
  ctx.log(`fragmented: ${fragmented.blockCount} blocks, ${fragmented.liveAllocations} live allocations`);
  ctx.frame('fragmented');

  ctx.mark('defragment');
  let moves = 0;
  let bytes = 0;
  let freed = 0;
  for (let n = 0; n < params.maxPasses; n++) {
    const pass = ctx.defragment({
      algorithm: params.algorithm,
      maxMovesPerPass: params.movesPerPass,
      copy: params.copy,
    });
    moves += pass.moves;
    bytes += pass.bytesMoved;
    freed += pass.blocksFreed;
    if (n === 0) ctx.log(`fragmentation before: ${percent(pass.fragmentationBefore)}`);
    ctx.frame(`defragment pass ${pass.pass}`);
    if (pass.moves === 0 || pass.complete) {
      ctx.log(`fragmentation after: ${percent(pass.fragmentationAfter)}`);
      break;
    }
  }
  const compacted = ctx.state();
  ctx.log(
    `defragmented: ${moves} moves, ${(bytes / 1048576).toFixed(1)} MiB moved, ${freed} blocks freed, ${compacted.blockCount} blocks left`,
  );

  ctx.mark('reuse freed space');
  const big = [];
  for (let i = 0; i < params.bigCount; i++) {
    const a = ctx.tryAllocate({
      name: `large-${i}`,
      size: params.bigKiB * 1024,
      kind: 'buffer',
      tags: ['large'],
    });
    if (a) big.push(a);
  }
  const after = ctx.state();
  ctx.log(`large requests: ${big.length} of ${params.bigCount} placed; ${after.blockCount} blocks`);
  ctx.frame('reuse');

  ctx.mark('teardown');
  for (const a of big) ctx.free(a);
  for (const a of survivors) ctx.free(a);
  ctx.frame('teardown');
}
