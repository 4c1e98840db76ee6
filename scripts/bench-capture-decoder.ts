// Benchmark of the TypeScript capture decoder (allocator/capture/): a synthetic stream in the layer's
// format (docs/capture.md) with the mix of an application that allocates, binds, maps and frees from 8
// threads (records interleaved by thread between Flush records, as the layer's writer drains them), decoded
// in 64 KiB chunks as the socket delivers it. Prints CPU µs per record for the stream reader alone, reader +
// call ordering, and the whole decoder (reader + ordering + mapping into trace events), best of --runs.
// Numbers, not assertions: on a shared machine they are noisy (the load average is printed beside them).
//
// Usage: node --import tsx scripts/bench-capture-decoder.ts [--cycles 20000] [--runs 5] [--stacks]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CaptureDecoder, CaptureStreamReader, SequenceOrderer } from '../allocator/capture/index.ts';
import { CaptureStreamWriter, lavapipeDeviceFields } from '../tests/support/capture-stream.ts';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '5' },
    stacks: { type: 'boolean', default: false },
  },
});
/** With --stacks: every call has a Stack record of 10 frames (from 16 call sites), as VRAMSCOPE_CAPTURE_STACKS=1 writes. */
const withStacks = values.stacks;
const cycles = Number(values.cycles);
const runs = Number(values.runs);
const DEV = 0xd00n;
const THREADS = 8;

/** One application cycle per (thread, i): allocate, buffer, requirements, bind, map, unmap, destroy, free. */
function buildStream(): { bytes: Uint8Array; records: number } {
  const w = new CaptureStreamWriter();
  let records = 0;
  const rec = (...args: Parameters<CaptureStreamWriter['record']>): number => {
    records++;
    return w.record(...args);
  };
  rec('ProcessStart', {}, { strings: ['/bench/app', 'app'] });
  rec('DeviceCreate', lavapipeDeviceFields(DEV), { strings: ['bench device', '', '', ''] });
  if (withStacks)
    for (let site = 0; site < 16 * 10; site++)
      rec(
        'Symbol',
        {
          pc: BigInt(0x5000_0000 + site * 0x40),
          moduleBase: 0x5000_0000n,
          symbolAddress: BigInt(0x5000_0000 + site * 0x40 - 8),
        },
        { strings: ['/bench/libapp.so', `app::Renderer::function_${site}(int, float)`] },
      );
  rec('Flush', { watermark: w.nextSequence });
  // Records of a flush window are written thread by thread (the writer drains each thread's buffer in
  // turn), so sequences arrive out of order and the orderer has to sort them.
  const perWindow = 64;
  for (let base = 0; base < cycles; base += perWindow) {
    const n = Math.min(perWindow, cycles - base);
    const start = w.nextSequence;
    const per = 8;
    const byThread: { seq: number; emit: (seq: number) => void }[][] = Array.from(
      { length: THREADS },
      () => [],
    );
    for (let k = 0; k < n; k++) {
      const i = base + k;
      const thread = k % THREADS;
      const mem = BigInt(0x100000 + i * 16);
      const buf = BigInt(0x900000 + i * 16);
      const s = start + k * per;
      const tid = 1000 + thread;
      const ops: ((seq: number) => void)[] = [
        (seq) =>
          w.record(
            'AllocateMemory',
            { device: DEV, memory: mem, size: 65536, memoryTypeIndex: 0 },
            { sequence: seq, thread: tid },
          ),
        (seq) =>
          w.record(
            'CreateBuffer',
            { device: DEV, buffer: buf, size: 4096, usage: 0x80 },
            { sequence: seq, thread: tid },
          ),
        (seq) =>
          w.record(
            'BufferRequirements',
            { device: DEV, buffer: buf, size: 4096, alignment: 256, memoryTypeBits: 1 },
            { sequence: seq, thread: tid },
          ),
        (seq) =>
          w.record(
            'BindBuffer',
            { device: DEV, buffer: buf, memory: mem, offset: 0 },
            { sequence: seq, thread: tid },
          ),
        (seq) =>
          w.record(
            'MapMemory',
            { device: DEV, memory: mem, offset: 0, size: 65536, pointer: 0x7f00_0000_0000n },
            { sequence: seq, thread: tid },
          ),
        (seq) => w.record('UnmapMemory', { device: DEV, memory: mem }, { sequence: seq, thread: tid }),
        (seq) => w.record('DestroyBuffer', { device: DEV, buffer: buf }, { sequence: seq, thread: tid }),
        (seq) => w.record('FreeMemory', { device: DEV, memory: mem }, { sequence: seq, thread: tid }),
      ];
      ops.forEach((emit, o) => {
        byThread[thread]!.push({ seq: s + o, emit });
        if (withStacks) {
          const site = (i + o) % 16;
          const pcs = Array.from({ length: 10 }, (_, f) => BigInt(0x5000_0000 + (site * 10 + f) * 0x40));
          byThread[thread]!.push({
            seq: -1,
            emit: () =>
              w.record('Stack', { ofSequence: s + o, frameCount: 10 }, { thread: tid, sequence: 0, pcs }),
          });
        }
      });
    }
    for (const list of byThread)
      for (const { seq, emit } of list) {
        emit(seq);
        records++;
      }
    // The writer's own counter did not move (explicit sequences): the watermark is start + n * per.
    rec('Flush', { watermark: start + n * per }, { sequence: start + n * per });
    advance(w, start + n * per + 1);
  }
  rec('ProcessEnd', { reason: 1 });
  return { bytes: w.bytes(), records };
}

/** Moves the writer's own sequence counter to `to` (records above used explicit sequences). */
function advance(w: CaptureStreamWriter, to: number): void {
  (w as unknown as { sequence: number }).sequence = to;
}

function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

function cpuMicros(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const d = process.cpuUsage(before);
  return d.user + d.system;
}

const { bytes, records } = buildStream();
const pieces = chunks(bytes, 64 * 1024);
const best = { reader: Infinity, ordered: Infinity, decoder: Infinity };
let events = 0;
for (let r = 0; r < runs; r++) {
  best.reader = Math.min(
    best.reader,
    cpuMicros(() => {
      const reader = new CaptureStreamReader();
      for (const p of pieces) reader.push(p);
      reader.end();
    }),
  );
  best.ordered = Math.min(
    best.ordered,
    cpuMicros(() => {
      const reader = new CaptureStreamReader();
      const orderer = new SequenceOrderer();
      for (const p of pieces) orderer.push(reader.push(p));
      orderer.end();
    }),
  );
  best.decoder = Math.min(
    best.decoder,
    cpuMicros(() => {
      const d = new CaptureDecoder();
      for (const p of pieces) d.push(p);
      const warnings = d.end();
      if (warnings.length > 0)
        throw new Error(`the bench stream decoded with warnings: ${warnings.join('; ')}`);
      events = d.mapper.tracks[0]!.log.length;
    }),
  );
}
const per = (us: number): string => (us / records).toFixed(3);
console.log(
  `capture decoder: ${records} records (${(bytes.length / 1048576).toFixed(1)} MiB) -> ${events} events, ` +
    `best of ${runs}, CPU µs per record: reader ${per(best.reader)}, reader+ordering ${per(best.ordered)}, ` +
    `whole decoder ${per(best.decoder)} (load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})`,
);
