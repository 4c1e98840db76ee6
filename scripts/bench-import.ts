// Large-input benchmark for the importers (printed, not asserted): generates a PyTorch memory snapshot of
// about --mb megabytes as a pickle (protocol 4, written the way CPython's pickler writes it: memoized
// keys and shared frame dicts read back with BINGET, batches of 1000 APPENDS / SETITEMS) and/or as JSON,
// then imports it in a fresh child process through the CLI's own path (file source -> importer -> trace
// writer) and prints time, throughput and peak memory next to the file size.
//
//   node --import tsx scripts/bench-import.ts [--mb 500] [--format pickle|json|both] [--dir DIR] [--keep]
//
// The snapshot is consistent by construction: S segments allocated first, then a deterministic stream of
// alloc / free_requested / free_completed into fixed slots, with 2,000 distinct stacks built from 6,000
// distinct frames (each entry has its own frames list, as PyTorch writes them).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1 << 20;

// ---- The deterministic workload ------------------------------------------------------------------------

const SEGMENTS = 64;
const SEGMENT_BYTES = 64 * MB;
const SLOTS_PER_SEGMENT = 32;
const SLOT_BYTES = SEGMENT_BYTES / SLOTS_PER_SEGMENT;
const BASE = 0x7f0000000000;
const STACKS = 2000;
const FRAMES = 6000;

interface Entry {
  action: string;
  addr: number;
  size: number;
  time: number;
  stack: number;
}

/** Entry i of the trace (after the segment_allocs); the workload has no state beyond the slot index. */
function* workload(count: number): Generator<Entry> {
  let t = 1_700_000_000_000_000;
  for (let s = 0; s < SEGMENTS; s++)
    yield {
      action: 'segment_alloc',
      addr: BASE + s * SEGMENT_BYTES,
      size: SEGMENT_BYTES,
      time: (t += 3),
      stack: s % STACKS,
    };
  const slots = SEGMENTS * SLOTS_PER_SEGMENT;
  const busy = new Uint8Array(slots);
  let k = 0;
  for (let i = SEGMENTS; i < count;) {
    const slot = (k * 7919) % slots;
    k++;
    const addr =
      BASE + Math.floor(slot / SLOTS_PER_SEGMENT) * SEGMENT_BYTES + (slot % SLOTS_PER_SEGMENT) * SLOT_BYTES;
    const size = SLOT_BYTES - 512 * (k % 7);
    if (busy[slot]) {
      yield { action: 'free_requested', addr, size, time: (t += 5), stack: k % STACKS };
      yield { action: 'free_completed', addr, size, time: (t += 2), stack: k % STACKS };
      busy[slot] = 0;
      i += 2;
    } else {
      yield { action: 'alloc', addr, size, time: (t += 7), stack: k % STACKS };
      busy[slot] = 1;
      i += 1;
    }
  }
}

/** Which slots are allocated at the end, and with which size/stack (replays the workload without output). */
function finalState(count: number): Map<number, { size: number; stack: number }> {
  const live = new Map<number, { size: number; stack: number }>();
  for (const e of workload(count)) {
    if (e.action === 'alloc') live.set(e.addr, { size: e.size, stack: e.stack });
    else if (e.action === 'free_requested') live.delete(e.addr);
  }
  return live;
}

function frameOf(f: number): { filename: string; line: number; name: string } {
  return {
    filename: `/opt/model/src/module_${f % 97}/layer_${f % 13}.py`,
    line: 10 + (f % 997),
    name: `fn_${f % 331}_${f}`,
  };
}
function stackFrames(s: number): number[] {
  const depth = 8 + (s % 9);
  return Array.from({ length: depth }, (_v, d) => (s * 31 + d * 577) % FRAMES);
}

function segmentsSnapshot(
  count: number,
): { address: number; blocks: { address: number; size: number; state: string; stack: number }[] }[] {
  const live = finalState(count);
  const segs = [];
  for (let s = 0; s < SEGMENTS; s++) {
    const blocks = [];
    const segAddr = BASE + s * SEGMENT_BYTES;
    for (let j = 0; j < SLOTS_PER_SEGMENT; j++) {
      const addr = segAddr + j * SLOT_BYTES;
      const a = live.get(addr);
      if (a) {
        blocks.push({ address: addr, size: a.size, state: 'active_allocated', stack: a.stack });
        if (a.size < SLOT_BYTES)
          blocks.push({ address: addr + a.size, size: SLOT_BYTES - a.size, state: 'inactive', stack: -1 });
      } else blocks.push({ address: addr, size: SLOT_BYTES, state: 'inactive', stack: -1 });
    }
    segs.push({ address: segAddr, blocks });
  }
  return segs;
}

// ---- Writers --------------------------------------------------------------------------------------------

class Out {
  private buf = Buffer.allocUnsafe(8 * MB);
  private n = 0;
  bytes = 0;
  constructor(private readonly fd: number) {}
  ensure(k: number): void {
    if (this.n + k > this.buf.length) this.flush();
  }
  u8(b: number): void {
    this.ensure(1);
    this.buf[this.n++] = b;
    this.bytes++;
  }
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    this.bytes += b.length;
  }
  text(s: string): void {
    this.raw(Buffer.from(s, 'utf8'));
  }
  flush(): void {
    let d = 0;
    while (d < this.n) d += writeSync(this.fd, this.buf, d, this.n - d);
    this.n = 0;
  }
}

/** The opcodes CPython's protocol-4 pickler uses for dicts, lists, str and int, with its memo. */
class PickleOut {
  private memo = 0;
  private readonly strings = new Map<string, number>();
  readonly frameMemo = new Int32Array(FRAMES).fill(-1);
  constructor(readonly o: Out) {}
  memoize(): number {
    this.o.u8(0x94);
    return this.memo++;
  }
  get(index: number): void {
    if (index < 256) {
      this.o.u8(0x68);
      this.o.u8(index);
    } else {
      this.o.u8(0x6a);
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32LE(index);
      this.o.raw(b);
    }
  }
  str(s: string): void {
    const seen = this.strings.get(s);
    if (seen !== undefined) return this.get(seen);
    const b = Buffer.from(s, 'utf8');
    if (b.length < 256) {
      this.o.u8(0x8c);
      this.o.u8(b.length);
    } else {
      this.o.u8(0x58);
      const l = Buffer.allocUnsafe(4);
      l.writeUInt32LE(b.length);
      this.o.raw(l);
    }
    this.o.raw(b);
    this.strings.set(s, this.memoize());
  }
  int(v: number): void {
    if (v >= 0 && v < 256) {
      this.o.u8(0x4b);
      this.o.u8(v);
    } else if (v >= -(2 ** 31) && v < 2 ** 31) {
      this.o.u8(0x4a);
      const b = Buffer.allocUnsafe(4);
      b.writeInt32LE(v);
      this.o.raw(b);
    } else {
      // LONG1: minimal two's complement, little-endian.
      let x = BigInt(v);
      const bytes: number[] = [];
      while (true) {
        bytes.push(Number(x & 0xffn));
        x >>= 8n;
        if (
          (x === 0n && (bytes[bytes.length - 1]! & 0x80) === 0) ||
          (x === -1n && (bytes[bytes.length - 1]! & 0x80) !== 0)
        )
          break;
      }
      this.o.u8(0x8a);
      this.o.u8(bytes.length);
      this.o.raw(Uint8Array.from(bytes));
    }
  }
  dict(entries: [string, () => void][]): void {
    this.o.u8(0x7d);
    this.memoize();
    this.o.u8(0x28);
    for (const [k, v] of entries) {
      this.str(k);
      v();
    }
    this.o.u8(0x75);
  }
  frames(stack: number): void {
    this.o.u8(0x5d);
    this.memoize();
    this.o.u8(0x28);
    for (const f of stackFrames(stack)) {
      const m = this.frameMemo[f]!;
      if (m >= 0) this.get(m);
      else {
        const fr = frameOf(f);
        this.o.u8(0x7d);
        this.frameMemo[f] = this.memoize();
        this.o.u8(0x28);
        this.str('filename');
        this.str(fr.filename);
        this.str('line');
        this.int(fr.line);
        this.str('name');
        this.str(fr.name);
        this.o.u8(0x75);
      }
    }
    this.o.u8(0x65);
  }
}

function writePickle(file: string, count: number): number {
  const fd = openSync(file, 'w');
  const o = new Out(fd);
  const p = new PickleOut(o);
  o.u8(0x80);
  o.u8(4);
  o.u8(0x7d);
  p.memoize();
  o.u8(0x28);
  p.str('segments');
  o.u8(0x5d);
  p.memoize();
  o.u8(0x28);
  for (const s of segmentsSnapshot(count)) {
    p.dict([
      ['device', () => p.int(0)],
      ['address', () => p.int(s.address)],
      ['total_size', () => p.int(SEGMENT_BYTES)],
      ['stream', () => p.int(0)],
      ['segment_type', () => p.str('large')],
      ['is_expandable', () => o.u8(0x89)],
      [
        'blocks',
        () => {
          o.u8(0x5d);
          p.memoize();
          o.u8(0x28);
          for (const b of s.blocks)
            p.dict([
              ['address', () => p.int(b.address)],
              ['size', () => p.int(b.size)],
              ['requested_size', () => p.int(b.size)],
              ['state', () => p.str(b.state)],
              ['frames', () => (b.stack >= 0 ? p.frames(b.stack) : (o.u8(0x5d), p.memoize()))],
            ]);
          o.u8(0x65);
        },
      ],
    ]);
  }
  o.u8(0x65);
  p.str('device_traces');
  o.u8(0x5d);
  p.memoize();
  o.u8(0x5d);
  p.memoize();
  let inBatch = 0;
  o.u8(0x28);
  for (const e of workload(count)) {
    if (inBatch === 1000) {
      o.u8(0x65);
      o.u8(0x28);
      inBatch = 0;
    }
    p.dict([
      ['action', () => p.str(e.action)],
      ['addr', () => p.int(e.addr)],
      ['size', () => p.int(e.size)],
      ['stream', () => p.int(0)],
      ['time_us', () => p.int(e.time)],
      ['frames', () => p.frames(e.stack)],
    ]);
    inBatch++;
  }
  o.u8(0x65); // APPENDS into the device's list
  o.u8(0x61); // APPEND the device's list to device_traces
  o.u8(0x75); // SETITEMS of the root
  o.u8(0x2e);
  o.flush();
  closeSync(fd);
  return o.bytes;
}

function writeJson(file: string, count: number): number {
  const fd = openSync(file, 'w');
  const o = new Out(fd);
  const frames = (s: number): string => JSON.stringify(stackFrames(s).map(frameOf));
  o.text('{"segments": [');
  segmentsSnapshot(count).forEach((s, i) => {
    o.text(
      `${i ? ',' : ''}{"device": 0, "address": ${s.address}, "total_size": ${SEGMENT_BYTES}, "stream": 0, "segment_type": "large", "is_expandable": false, "blocks": [`,
    );
    s.blocks.forEach((b, j) =>
      o.text(
        `${j ? ',' : ''}{"address": ${b.address}, "size": ${b.size}, "requested_size": ${b.size}, "state": "${b.state}", "frames": ${b.stack >= 0 ? frames(b.stack) : '[]'}}`,
      ),
    );
    o.text(']}');
  });
  o.text('], "device_traces": [[');
  let first = true;
  for (const e of workload(count)) {
    o.text(
      `${first ? '' : ','}\n{"action": "${e.action}", "addr": ${e.addr}, "size": ${e.size}, "stream": 0, "time_us": ${e.time}, "frames": ${frames(e.stack)}}`,
    );
    first = false;
  }
  o.text(']]}\n');
  o.flush();
  closeSync(fd);
  return o.bytes;
}

/** Entries needed for about `mb` megabytes (measured bytes per entry of a small sample). */
function entriesFor(mb: number, format: 'pickle' | 'json', dir: string): number {
  const probe = path.join(dir, `probe.${format}`);
  const n = 20000;
  const bytes = format === 'pickle' ? writePickle(probe, n) : writeJson(probe, n);
  rmSync(probe);
  return Math.max(SEGMENTS + 10, Math.floor((mb * MB * n) / bytes));
}

// ---- The measured import (child process) ----------------------------------------------------------------

async function measure(file: string, out: string): Promise<void> {
  const { importSource } = await import('../allocator/import/index.ts');
  const { summaryLine } = await import('../allocator/import/model.ts');
  const { fileSource } = await import('../src-main/import/file-source.ts');
  const { writeImportedTrace } = await import('../src-main/import/write-imported.ts');
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed + m.arrayBuffers);
  };
  const timer = setInterval(sample, 50);
  let lastPhase = '';
  let lastPct = -10;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await importSource(await fileSource(file), {
    onProgress: (done, total, phase) => {
      sample();
      if (total === null) return;
      const pct = Math.floor((100 * done) / total);
      if (phase !== lastPhase || pct >= lastPct + 10) {
        process.stderr.write(`  progress: ${phase} ${pct}%\n`);
        lastPhase = phase;
        lastPct = pct;
      }
    },
  });
  const tImport = performance.now() - t0;
  // CPU time of the import (user + system, this process): on a loaded machine it varies far less than wall.
  const cpuUsed = process.cpuUsage(cpu0);
  const cpuImport = (cpuUsed.user + cpuUsed.system) / 1e6;
  const written = writeImportedTrace(result, out);
  const tTotal = performance.now() - t0;
  clearInterval(timer);
  sample();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const size = statSync(file).size;
  console.log(summaryLine(result));
  console.log(
    `bench-import file=${path.basename(file)} file_mb=${(size / MB).toFixed(1)} import_s=${(tImport / 1000).toFixed(2)} import_cpu_s=${cpuImport.toFixed(2)} total_s=${(tTotal / 1000).toFixed(2)} mb_per_s=${(size / MB / (tImport / 1000)).toFixed(1)} peak_rss_mb=${(Math.max(maxRss, peakRss) / MB).toFixed(0)} peak_heap_mb=${(peakHeap / MB).toFixed(0)} log_events=${result.log.length} trace_mb=${(written.bytes / MB).toFixed(1)} warnings=${result.warnings.length}`,
  );
}

async function mainBench(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '500' },
      format: { type: 'string', default: 'both' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      measure: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (values.measure) return measure(values.measure, values.out!);
  const mb = Number(values.mb);
  const dir = values.dir ?? mkdtempSync(path.join(tmpdir(), 'vramscope-bench-import-'));
  const formats =
    values.format === 'both' ? (['pickle', 'json'] as const) : ([values.format] as ('pickle' | 'json')[]);
  try {
    for (const format of formats) {
      const count = entriesFor(mb, format, dir);
      const file = path.join(dir, `snapshot-${mb}mb.${format === 'pickle' ? 'pickle' : 'json'}`);
      const t0 = performance.now();
      const bytes = format === 'pickle' ? writePickle(file, count) : writeJson(file, count);
      console.log(
        `generated ${file}: ${(bytes / MB).toFixed(1)} MB, ${count} trace entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      // The measured import runs in a fresh process: this script again (as .ts through tsx, or bundled).
      const self = process.argv[1]!;
      const child = spawnSync(
        process.execPath,
        [
          ...(self.endsWith('.ts') ? ['--import', 'tsx'] : []),
          self,
          '--measure',
          file,
          '--out',
          `${file}.trace`,
        ],
        { cwd: repoRoot, stdio: 'inherit' },
      );
      if (child.status !== 0) console.log(`import of ${file} failed (exit ${child.status})`);
      if (!values.keep) rmSync(file, { force: true });
      rmSync(`${file}.trace`, { force: true });
    }
  } finally {
    if (!values.keep && values.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await mainBench();
