// Built-in scenario: a level load followed by texture streaming. The level load allocates long-lived
// geometry buffers, material textures and an upload ring; then each frame streams textures in (with a
// CPU-to-GPU staging buffer freed the next frame) and evicts the oldest streamed textures once the streaming
// pool exceeds its budget. Everything is freed at level unload.
export const meta = {
  name: 'streaming',
  description: 'Level load, then texture streaming under a pool budget with per-texture staging buffers.',
  parameters: {
    levelResources: {
      type: 'integer',
      default: 300,
      min: 1,
      max: 100000,
      description: 'Long-lived resources allocated at level load.',
    },
    frames: { type: 'integer', default: 120, min: 1, max: 1000000, description: 'Frames of streaming.' },
    streamsPerFrame: {
      type: 'integer',
      default: 4,
      min: 0,
      max: 1000,
      description: 'Most textures streamed in per frame.',
    },
    poolMiB: {
      type: 'integer',
      default: 256,
      min: 1,
      max: 1048576,
      description: 'Streaming pool budget in MiB; the oldest textures are evicted above it.',
    },
    maxTextureKiB: {
      type: 'integer',
      default: 16384,
      min: 64,
      max: 1048576,
      description: 'Largest streamed texture in KiB.',
    },
  },
};

const KiB = 1024;
const MiB = 1024 * 1024;

function roundUp(value, multiple) {
  return Math.ceil(value / multiple) * multiple;
}

// Log-uniform size in [lo, hi] bytes, rounded to `multiple`.
function logSize(ctx, lo, hi, multiple) {
  const v = Math.exp(Math.log(lo) + ctx.random() * (Math.log(hi) - Math.log(lo)));
  return roundUp(Math.round(v), multiple);
}

function loadLevel(ctx, count) {
  const level = [];
  for (let i = 0; i < count; i++) {
    const r = ctx.random();
    if (r < 0.5) {
      const size = logSize(ctx, 64 * KiB, 8 * MiB, 4 * KiB);
      level.push(
        ctx.allocate({ name: `level/texture-${i}`, size, kind: 'image', tags: ['level', 'texture'] }),
      );
    } else if (r < 0.9) {
      const size = logSize(ctx, 4 * KiB, 4 * MiB, 256);
      level.push(
        ctx.allocate({ name: `level/mesh-${i}`, size, kind: 'buffer', tags: ['level', 'geometry'] }),
      );
    } else {
      const size = logSize(ctx, 1 * KiB, 64 * KiB, 256);
      level.push(
        ctx.allocate({
          name: `level/constants-${i}`,
          size,
          kind: 'buffer',
          location: 'CpuToGpu',
          tags: ['level', 'constants'],
        }),
      );
    }
  }
  return level;
}

export async function run(ctx, params) {
  ctx.mark('level load');
  const level = loadLevel(ctx, params.levelResources);
  ctx.frame('level loaded');

  ctx.mark('streaming');
  const pool = []; // streamed textures, oldest first
  let poolBytes = 0;
  let staging = []; // staging buffers of the previous frame
  let streamed = 0;
  for (let f = 0; f < params.frames; f++) {
    for (const s of staging) ctx.free(s);
    staging = [];
    const n = ctx.randomInt(0, params.streamsPerFrame);
    for (let i = 0; i < n; i++) {
      const size = logSize(ctx, 64 * KiB, params.maxTextureKiB * KiB, 4 * KiB);
      while (poolBytes + size > params.poolMiB * MiB && pool.length > 0) {
        const victim = pool.shift();
        poolBytes -= victim.size;
        ctx.free(victim);
      }
      const id = streamed++;
      staging.push(
        ctx.allocate({
          name: `stream/staging-${id}`,
          size,
          kind: 'buffer',
          location: 'CpuToGpu',
          tags: ['stream', 'staging'],
        }),
      );
      const texture = ctx.tryAllocate({
        name: `stream/texture-${id}`,
        size,
        kind: 'image',
        tags: ['stream', 'texture'],
      });
      if (texture) {
        pool.push(texture);
        poolBytes += size;
      }
    }
    ctx.frame();
    if (f % 30 === 29) await ctx.sleep(0);
  }

  ctx.mark('level unload');
  for (const s of staging) ctx.free(s);
  for (const t of pool) ctx.free(t);
  for (const r of level) ctx.free(r);
  ctx.frame('unloaded');
  ctx.log(`streamed ${streamed} textures over ${params.frames} frames`);
}
