// Fuzzing the trace reader: ≥ 10,000 mutated and truncated traces. Every load must end in a LoadedTrace (a
// valid prefix, at most one warning) or one TraceFormatError; never another exception, never a hang. Some
// mutations re-seal the record checksum (and re-compress) so they reach the column and semantic checks.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  type TraceEvents,
  TraceEncoder,
  TraceFormatError,
  crc32,
  frameRecord,
  traceEventsOf,
  RecordType,
  type TraceHeader,
} from '../../allocator/trace/index.ts';
import { analyzeTrace } from '../../allocator/analysis/index.ts';
import type { MemoryTypeDecision } from '../../allocator/types.ts';
import { nodeDeflate } from '../../src-main/trace/codec.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { rng } from '../support/rng.ts';
import { generateWorkload, testHeader } from '../support/trace-fixtures.ts';

const baseLog = generateWorkload({ events: 300, seed: 1234, liveTarget: 40, nameVariety: 30 });

function encode(
  header: TraceHeader,
  compress: boolean,
  decisions?: readonly (MemoryTypeDecision | undefined)[],
): { bytes: Uint8Array; events: number } {
  const log = baseLog;
  const events = traceEventsOf(log);
  const source: TraceEvents = decisions
    ? { length: log.length, columns: log.columns, strings: events.strings, decisions }
    : events;
  const enc = new TraceEncoder({ deflate: compress ? nodeDeflate : null, maxEventsPerChunk: 50 });
  const parts = [enc.start(header), ...enc.encodePending(source), enc.finish()];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, events: log.length };
}

interface Rec {
  type: number;
  start: number;
  payload: Uint8Array;
}

function records(bytes: Uint8Array): Rec[] {
  const out: Rec[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 12;
  while (p + 9 <= bytes.length) {
    const len = dv.getUint32(p + 1, true);
    out.push({ type: bytes[p]!, start: p, payload: bytes.slice(p + 9, p + 9 + len) });
    p += 9 + len;
  }
  return out;
}

function assemble(preamble: Uint8Array, recs: { type: number; payload: Uint8Array }[]): Uint8Array {
  const framed = recs.map((r) => frameRecord(r.type, r.payload));
  const out = new Uint8Array(preamble.length + framed.reduce((n, f) => n + f.length, 0));
  out.set(preamble);
  let o = preamble.length;
  for (const f of framed) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, n: number): number => Math.floor(r() * n);

const weird: unknown[] = [
  null,
  -1,
  2 ** 53,
  1.5,
  '',
  'x',
  [],
  {},
  true,
  1e308,
  -0,
  '__proto__',
  { __proto__: { polluted: 1 } },
];

function mutateJson(r: Rand, value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 6) return r() < 0.5 ? pick(r, weird) : value;
  if (Array.isArray(value)) {
    const copy = value.slice();
    if (copy.length > 0 && r() < 0.3) copy.splice(int(r, copy.length), 1);
    else if (copy.length > 0) copy[int(r, copy.length)] = mutateJson(r, copy[int(r, copy.length)], depth + 1);
    else copy.push(pick(r, weird));
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const op = r();
  if (op < 0.2 && keys.length > 0) delete copy[pick(r, keys)];
  else if (op < 0.3) copy[`extra${int(r, 3)}`] = pick(r, weird);
  else if (keys.length > 0) {
    const k = pick(r, keys);
    copy[k] = mutateJson(r, copy[k], depth + 1);
  }
  return copy;
}

describe('trace reader fuzzing', () => {
  const raw = encode(testHeader(), false);
  const packed = encode(testHeader(), true);
  const rawRecs = records(raw.bytes);
  const packedRecs = records(packed.bytes);
  const preamble = raw.bytes.slice(0, 12);
  const utf8 = new TextEncoder();

  const mutators: [string, (r: Rand) => Uint8Array][] = [
    [
      'byte flips',
      (r) => {
        const b = (r() < 0.5 ? raw : packed).bytes.slice();
        const n = 1 + int(r, 8);
        for (let k = 0; k < n; k++) b[int(r, b.length)] ^= 1 << int(r, 8);
        return b;
      },
    ],
    ['truncation', (r) => (r() < 0.5 ? raw : packed).bytes.slice(0, int(r, raw.bytes.length + 1))],
    [
      'inserted garbage',
      (r) => {
        const src = (r() < 0.5 ? raw : packed).bytes;
        const at = int(r, src.length + 1);
        const junk = new Uint8Array(1 + int(r, 64)).map(() => int(r, 256));
        const out = new Uint8Array(src.length + junk.length);
        out.set(src.subarray(0, at));
        out.set(junk, at);
        out.set(src.subarray(at), at + junk.length);
        return out;
      },
    ],
    [
      'header JSON mutation (checksum re-sealed)',
      (r) => {
        const json = JSON.parse(new TextDecoder().decode(rawRecs[0]!.payload)) as unknown;
        let mutated = json;
        for (let k = 1 + int(r, 3); k > 0; k--) mutated = mutateJson(r, mutated);
        const text = r() < 0.1 ? JSON.stringify(mutated).slice(0, -1 - int(r, 5)) : JSON.stringify(mutated);
        return assemble(preamble, [
          { type: RecordType.Header, payload: utf8.encode(text) },
          ...rawRecs.slice(1),
        ]);
      },
    ],
    [
      'raw chunk payload flips (checksum re-sealed)',
      (r) => {
        const recs = rawRecs.map((x) => ({ type: x.type, payload: x.payload.slice() }));
        const target = recs[1 + int(r, recs.length - 1)]!;
        const n = 1 + int(r, 4);
        for (let k = 0; k < n; k++) {
          const p = int(r, target.payload.length);
          target.payload[p] = r() < 0.5 ? target.payload[p]! ^ (1 << int(r, 8)) : int(r, 256);
        }
        return assemble(preamble, recs);
      },
    ],
    [
      'compressed chunk body flips (re-compressed and re-sealed)',
      (r) => {
        const recs = packedRecs.map((x) => ({ type: x.type, payload: x.payload }));
        const k = 1 + int(r, recs.length - 2);
        const p = recs[k]!.payload;
        // Payload: uvar first, uvar count, uvar firstString, u8 encoding, uvar bodyLength, body. Small values: 1-2 bytes each.
        let pos = 0;
        const skipVar = (): void => {
          while (p[pos]! & 0x80) pos++;
          pos++;
        };
        skipVar();
        skipVar();
        skipVar();
        const encoding = p[pos++];
        const lenStart = pos;
        skipVar();
        if (encoding !== 1) return assemble(preamble, recs);
        const body = new Uint8Array(inflateRawSync(p.subarray(pos)));
        const n = 1 + int(r, 3);
        for (let m = 0; m < n; m++) body[int(r, body.length)] = int(r, 256);
        const repacked = deflateRawSync(body);
        const out = new Uint8Array(pos + repacked.length);
        out.set(p.subarray(0, pos));
        out.set(repacked, pos);
        void lenStart;
        recs[k] = { type: RecordType.Chunk, payload: out };
        return assemble(preamble, recs);
      },
    ],
    [
      'decision record mutation (valid framing)',
      (r) => {
        const decisions = baseLog.decisions.map((d) =>
          d && r() < 0.5 ? (mutateJson(r, d) as MemoryTypeDecision) : d,
        );
        return encode(testHeader(), r() < 0.5, decisions).bytes;
      },
    ],
    [
      'records dropped, duplicated or swapped',
      (r) => {
        const recs = (r() < 0.5 ? rawRecs : packedRecs).map((x) => ({ type: x.type, payload: x.payload }));
        const i = 1 + int(r, recs.length - 1);
        const j = 1 + int(r, recs.length - 1);
        const op = int(r, 3);
        if (op === 0) recs.splice(i, 1);
        else if (op === 1) recs.splice(i, 0, recs[j]!);
        else [recs[i], recs[j]] = [recs[j]!, recs[i]!];
        return assemble(preamble, recs);
      },
    ],
  ];

  test('10,400 mutated traces: always a result or one TraceFormatError, never a crash or hang', () => {
    const r = rng(20261126);
    const outcomes = new Map<string, { loaded: number; errors: number; warnings: number }>();
    let slowest = 0;
    let total = 0;
    for (let k = 0; k < 10_400; k++) {
      const [name, mutate] = mutators[k % mutators.length]!;
      const bytes = mutate(r);
      const o = outcomes.get(name) ?? { loaded: 0, errors: 0, warnings: 0 };
      outcomes.set(name, o);
      const t0 = performance.now();
      try {
        const trace = loadTraceSync(bytes);
        o.loaded++;
        expect(trace.warnings.length).toBeLessThanOrEqual(1);
        if (trace.warnings.length > 0) o.warnings++;
        expect(trace.events.length).toBeLessThanOrEqual(raw.events);
        // What the reader accepts is self-consistent: replaying it finds nothing impossible.
        const analysis = analyzeTrace(trace.events, trace.header.device);
        expect(analysis.summary.anomalies).toBe(0);
      } catch (error) {
        if (!(error instanceof TraceFormatError))
          throw new Error(`mutation "${name}" #${k} threw ${String(error)}`);
        expect(Number.isSafeInteger(error.position)).toBe(true);
        expect(error.message.length).toBeGreaterThan(10);
        o.errors++;
      }
      const dt = performance.now() - t0;
      slowest = Math.max(slowest, dt);
      total++;
    }
    console.log(`fuzz: ${total} loads, slowest ${slowest.toFixed(1)} ms`, Object.fromEntries(outcomes));
    expect(total).toBeGreaterThanOrEqual(10_000);
    // No wall-clock bound: a hang fails by the test timeout; the slowest load is printed above.
    // Every mutator reached both outcomes or at least loaded prefixes with warnings.
    for (const [name, o] of outcomes) expect(o.errors + o.warnings, name).toBeGreaterThan(0);
  });

  test('a file decoded from disk record by record gives what the same bytes in memory give (1,300 mutations)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vramscope-fuzz-file-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'mutated.vrt');
    /** Everything a load answers, or the error it throws (message and byte position). */
    const outcome = (input: string | Uint8Array): { kind: string; text: string } => {
      try {
        const t = loadTraceSync(input);
        return {
          kind: t.warnings.length > 0 ? 'warning' : 'clean',
          text: JSON.stringify([t.warnings, t.complete, t.chunkCount, t.fileBytes, t.events]),
        };
      } catch (error) {
        if (!(error instanceof TraceFormatError)) throw error;
        return { kind: 'error', text: `error at ${error.position}: ${error.message}` };
      }
    };
    const r = rng(20261203);
    const kinds = new Set<string>();
    for (let k = 0; k < 1300; k++) {
      const [name, mutate] = mutators[k % mutators.length]!;
      const bytes = mutate(r);
      writeFileSync(file, bytes);
      const fromFile = outcome(file);
      expect(fromFile, `mutation "${name}" #${k}`).toEqual(outcome(bytes));
      kinds.add(fromFile.kind);
    }
    expect([...kinds].sort()).toEqual(['clean', 'error', 'warning']);
  });

  test('the unmutated traces load completely without warnings', () => {
    for (const t of [raw, packed]) {
      const trace = loadTraceSync(t.bytes);
      expect(trace.warnings).toEqual([]);
      expect(trace.events.length).toBe(t.events);
      expect(crc32(t.bytes)).toBe(crc32(t.bytes.slice()));
    }
  });
});
