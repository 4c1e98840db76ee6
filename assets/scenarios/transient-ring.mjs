// Built-in scenario: per-frame transient buffers. Each frame allocates a batch of short-lived upload and
// readback buffers (uniforms, staging, query results) and frees the batch of the frame that is
// `framesInFlight` frames older, as a renderer with N frames in flight does.
export const meta = {
  name: 'transient-ring',
  description: 'Per-frame transient upload/readback buffers, freed after N frames in flight.',
  parameters: {
    frames: { type: 'integer', default: 240, min: 1, max: 1000000, description: 'Frames to run.' },
    framesInFlight: {
      type: 'integer',
      default: 3,
      min: 1,
      max: 16,
      description: "A frame's buffers are freed this many frames later.",
    },
    buffersPerFrame: {
      type: 'integer',
      default: 24,
      min: 1,
      max: 10000,
      description: 'Most transient buffers per frame.',
    },
    maxBufferKiB: {
      type: 'integer',
      default: 256,
      min: 1,
      max: 1048576,
      description: 'Largest transient buffer in KiB.',
    },
    readbackShare: {
      type: 'number',
      default: 0.2,
      min: 0,
      max: 1,
      description: 'Share of buffers that are GPU-to-CPU readbacks.',
    },
  },
};

export function run(ctx, params) {
  const ring = []; // ring[i] = the buffers of one frame in flight
  for (let f = 0; f < params.frames; f++) {
    if (ring.length === params.framesInFlight) {
      for (const b of ring.shift()) ctx.free(b);
    }
    const batch = [];
    const n = ctx.randomInt(1, params.buffersPerFrame);
    for (let i = 0; i < n; i++) {
      const readback = ctx.random() < params.readbackShare;
      const size = Math.max(256, Math.ceil((ctx.random() * params.maxBufferKiB * 1024) / 256) * 256);
      batch.push(
        ctx.allocate({
          name: `frame${f}/${readback ? 'readback' : 'upload'}-${i}`,
          size,
          alignment: 256,
          kind: 'buffer',
          location: readback ? 'GpuToCpu' : 'CpuToGpu',
          tags: ['transient', readback ? 'readback' : 'upload'],
        }),
      );
    }
    ring.push(batch);
    ctx.frame();
  }
  for (const batch of ring) for (const b of batch) ctx.free(b);
  ctx.frame('drained');
}
