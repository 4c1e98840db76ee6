// Built-in scenario: replays an allocation workload file in the format of bench/gen-workload.mjs:
//   a <id> <size> <alignment> <buffer|image> <gpu|upload|readback>
//   f <id>
// gpu -> GpuOnly, upload -> CpuToGpu, readback -> GpuToCpu; image -> non-linear (optimal tiling).
// A relative `file` is taken from the working directory. The file is data: it is parsed, never evaluated.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const meta = {
  name: 'replay-workload',
  description: 'Replays a workload file (gen-workload.mjs format) against the allocator.',
  parameters: {
    file: { type: 'string', default: '', description: 'The workload file (a/f lines).' },
    maxOps: {
      type: 'integer',
      default: 0,
      min: 0,
      max: 100000000,
      description: 'Stop after this many lines (0: all).',
    },
    opsPerFrame: {
      type: 'integer',
      default: 500,
      min: 1,
      max: 100000000,
      description: 'Record a frame event every this many lines.',
    },
    freeAtEnd: {
      type: 'boolean',
      default: true,
      description: 'Free what the workload leaves alive at its end.',
    },
  },
};

const locations = { gpu: 'GpuOnly', upload: 'CpuToGpu', readback: 'GpuToCpu' };

export function run(ctx, params) {
  if (params.file === '') throw new Error('replay-workload needs --param file=<workload file>');
  const path = resolve(params.file);
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read workload ${path}: ${error.message}`);
  }
  const lines = text.split('\n');
  const live = new Map();
  const failed = new Set();
  let ops = 0;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (params.maxOps > 0 && ops >= params.maxOps) break;
    const f = line.split(/\s+/);
    const where = `${params.file} line ${n + 1}`;
    if (f[0] === 'a' && f.length === 6) {
      const [, id, sizeText, alignText, kind, loc] = f;
      const size = Number(sizeText);
      const alignment = Number(alignText);
      if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`${where}: bad size "${sizeText}"`);
      if (!Number.isSafeInteger(alignment) || alignment <= 0)
        throw new Error(`${where}: bad alignment "${alignText}"`);
      if (kind !== 'buffer' && kind !== 'image')
        throw new Error(`${where}: kind must be buffer or image, got "${kind}"`);
      const location = locations[loc];
      if (!location) throw new Error(`${where}: location must be gpu, upload or readback, got "${loc}"`);
      if (live.has(id)) throw new Error(`${where}: id ${id} is already live`);
      const handle = ctx.tryAllocate({
        name: `wl/${id}`,
        size,
        alignment,
        kind,
        location,
        tags: [loc, kind],
      });
      if (handle) live.set(id, handle);
      else failed.add(id);
    } else if (f[0] === 'f' && f.length === 2) {
      const handle = live.get(f[1]);
      // A free of an allocation that failed is skipped; a free of an id that is not live is an error.
      if (handle) {
        live.delete(f[1]);
        ctx.free(handle);
      } else if (failed.has(f[1])) failed.delete(f[1]);
      else throw new Error(`${where}: free of id ${f[1]}, which is not live`);
    } else {
      throw new Error(
        `${where}: expected "a <id> <size> <align> <buffer|image> <gpu|upload|readback>" or "f <id>", got "${line}"`,
      );
    }
    ops++;
    if (ops % params.opsPerFrame === 0) ctx.frame();
  }
  ctx.log(`replayed ${ops} lines; ${live.size} allocations alive at the end of the workload`);
  if (params.freeAtEnd) {
    for (const handle of live.values()) ctx.free(handle);
  }
  ctx.frame('end');
}
