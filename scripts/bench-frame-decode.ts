// Decoding the WebSocket answers the timeline asks for while zooming (contract.ts decodeFrame), at
// 1,000,000 events; prints, asserts nothing. For each answer: its size, and the median ms of
//   - decodeFrame: JSON.parse, then one walk restoring the typed arrays (what the page runs);
//   - reviver:     JSON.parse with a reviver restoring them (the former decodeFrame), for comparison;
//   - parse:       JSON.parse alone (the floor).
// Runs interleave the three so a busy machine slows them alike. Node's V8 is Chromium's engine; the page's
// atob is native where Node's is not, so absolute numbers differ there, the reviver's overhead does not.
//
//   node --import tsx scripts/bench-frame-decode.ts [--events 1000000] [--runs 31]
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AnalyzedSource } from '../src-main/api/analyzed-source.ts';
import { decodeFrame, encodeFrame } from '../src-main/api/contract.ts';
import { loadTrace } from '../src-main/trace/reader.ts';
import { writeBigTrace } from '../tests/support/big-trace.ts';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '31' } },
});
const runs = Number(values.runs);

/** The former decodeFrame: a reviver restoring {$ta, b64} objects (atob, as in the page). */
function decodeWithReviver(text: string): unknown {
  const ctors = { Uint8Array, Int16Array, Int32Array, Uint32Array, Float32Array, Float64Array } as const;
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && '$ta' in value && 'b64' in value) {
      const { $ta, b64 } = value as { $ta: keyof typeof ctors; b64: string };
      const binary = atob(b64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      return new ctors[$ta](bytes.buffer, 0, bytes.byteLength / ctors[$ta].BYTES_PER_ELEMENT);
    }
    return value;
  });
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const file = writeBigTrace(Number(values.events));
try {
  const trace = await loadTrace(file);
  const source = AnalyzedSource.ofLoadedTrace('bench', 'big', trace);
  const duration = trace.events.columns.time[trace.events.length - 1]!;
  console.log(
    `bench-frame-decode: ${trace.events.length.toLocaleString('en-US')} events, ${runs} runs, load average ${loadavg()[0]!.toFixed(2)}`,
  );
  // The whole trace at a plot's width, and a zoomed view with one view width on either side (as the page asks).
  const answers = [
    { label: 'whole trace, 1,410 buckets', startTime: 0, endTime: duration, buckets: 1410 },
    {
      label: '40% of the trace, 4,230 buckets',
      startTime: duration * 0.3,
      endTime: duration * 0.7,
      buckets: 4230,
    },
  ];
  for (const a of answers) {
    const result = source.timeline({
      sourceId: 'bench',
      startTime: a.startTime,
      endTime: a.endTime,
      buckets: a.buckets,
      groupBy: 'heap',
      maxMarkers: 2000,
      boundariesOnly: false,
    });
    const text = encodeFrame({ t: 'res', id: 1, ok: true, result });
    const times = { decodeFrame: [] as number[], reviver: [] as number[], parse: [] as number[] };
    const ways: [keyof typeof times, (t: string) => unknown][] = [
      ['decodeFrame', decodeFrame],
      ['reviver', decodeWithReviver],
      ['parse', (t) => JSON.parse(t)],
    ];
    for (let k = 0; k < runs; k++) {
      for (const [name, decode] of k % 2 === 0 ? ways : ways.slice().reverse()) {
        const t0 = performance.now();
        decode(text);
        times[name].push(performance.now() - t0);
      }
    }
    console.log(
      `${a.label}: ${(text.length / 1024).toFixed(0)} KiB, ${result.markers.length} markers; median ms ` +
        `decodeFrame ${median(times.decodeFrame).toFixed(2)}, reviver ${median(times.reviver).toFixed(2)}, ` +
        `JSON.parse alone ${median(times.parse).toFixed(2)}; load average ${loadavg()[0]!.toFixed(2)}`,
    );
  }
} finally {
  rmSync(path.dirname(file), { recursive: true, force: true });
}
