// Built-in scenario: forgets some frees. Which ones is deterministic (not random), and every leaked
// allocation's name starts with "leak/": every `leakEvery`-th resource of a scene is never freed, and a
// cache keeps `cacheLeaks` entries alive forever (from a second code line, so leaks group by two origins).
// Everything else is freed before the run ends.
export const meta = {
  name: 'leaks',
  description: 'Frees most resources but deterministically forgets some (named leak/...).',
  parameters: {
    objects: {
      type: 'integer',
      default: 200,
      min: 1,
      max: 1000000,
      description: 'Scene resources to create.',
    },
    leakEvery: {
      type: 'integer',
      default: 7,
      min: 2,
      max: 1000000,
      description: 'Every n-th scene resource is leaked.',
    },
    cacheLeaks: {
      type: 'integer',
      default: 5,
      min: 0,
      max: 100000,
      description: 'Cache entries that are never evicted.',
    },
  },
};

function createResource(ctx, index, leaked) {
  const image = index % 3 === 0;
  const size = (1 + ctx.randomInt(0, 63)) * (image ? 65536 : 4096);
  const name = `${leaked ? 'leak' : 'scene'}/${image ? 'texture' : 'buffer'}-${index}`;
  return ctx.allocate({ name, size, kind: image ? 'image' : 'buffer', tags: ['scene'] });
}

export function run(ctx, params) {
  const scene = [];
  for (let i = 0; i < params.objects; i++) {
    const leaked = i % params.leakEvery === params.leakEvery - 1;
    scene.push({ handle: createResource(ctx, i, leaked), leaked });
    if (i % 50 === 49) ctx.frame();
  }
  for (let i = 0; i < params.cacheLeaks; i++) {
    ctx.allocate({
      name: `leak/cache-entry-${i}`,
      size: 64 * 1024,
      kind: 'buffer',
      location: 'CpuToGpu',
      tags: ['cache'],
    });
  }
  ctx.mark('scene teardown');
  for (const r of scene) if (!r.leaked) ctx.free(r.handle);
  ctx.frame('teardown');
}
