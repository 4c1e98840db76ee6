// Built-in scenario: replays an allocation workload file in the format of bench/gen-workload.mjs:
//   a <id> <size> <alignment> <buffer|image> <gpu|upload|readback>
//   f <id>
// gpu -> GpuOnly, upload -> CpuToGpu, readback -> GpuToCpu; image -> non-linear (optimal tiling).
// A relative `file` is taken from the working directory (over the API, `file` is a fileId that main
// resolves to the granted file before the run starts). The file is data: it is read through
// ctx.readLines (a regular file only, bounded, cancellable) and parsed, never evaluated. Errors name the
// line and byte offset and what was expected, never the file's text.

export const meta = {
  name: 'replay-workload',
  description: 'Replays a workload file (gen-workload.mjs format) against the allocator.',
  parameters: {
    file: { type: 'file', default: '', description: 'The workload file (a/f lines).' },
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
const expected = '"a <id> <size> <align> <buffer|image> <gpu|upload|readback>" or "f <id>"';
/** Workload ids are decimal numbers; anything else is refused without being echoed. */
const idPattern = /^\d{1,16}$/;

export function run(ctx, params) {
  if (params.file === '') throw new Error('replay-workload needs --param file=<workload file>');
  const live = new Map();
  const failed = new Set();
  let ops = 0;
  for (const { line: n, offset, text } of ctx.readLines(params.file)) {
    const line = text.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (params.maxOps > 0 && ops >= params.maxOps) break;
    const f = line.split(/\s+/);
    const where = `workload line ${n} (byte ${offset})`;
    if (f[0] === 'a' && f.length === 6) {
      const [, id, sizeText, alignText, kind, loc] = f;
      const size = Number(sizeText);
      const alignment = Number(alignText);
      if (!idPattern.test(id)) throw new Error(`${where}: the id (field 2) is not a decimal number`);
      if (!Number.isSafeInteger(size) || size <= 0)
        throw new Error(`${where}: the size (field 3) is not a positive integer of bytes`);
      if (!Number.isSafeInteger(alignment) || alignment <= 0)
        throw new Error(`${where}: the alignment (field 4) is not a positive integer of bytes`);
      if (kind !== 'buffer' && kind !== 'image')
        throw new Error(`${where}: the kind (field 5) must be buffer or image`);
      const location = locations[loc];
      if (!location) throw new Error(`${where}: the location (field 6) must be gpu, upload or readback`);
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
      const id = f[1];
      if (!idPattern.test(id)) throw new Error(`${where}: the id (field 2) is not a decimal number`);
      const handle = live.get(id);
      // A free of an allocation that failed is skipped; a free of an id that is not live is an error.
      if (handle) {
        live.delete(id);
        ctx.free(handle);
      } else if (failed.has(id)) failed.delete(id);
      else throw new Error(`${where}: free of id ${id}, which is not live`);
    } else {
      throw new Error(`${where}: expected ${expected}`);
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
