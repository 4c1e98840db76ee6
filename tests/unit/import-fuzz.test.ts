// Malformed inputs never crash an importer: every mutated or truncated file gives either a result whose
// numbers are safe integers or one ImportError sentence. Seeded, so a failure reproduces.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ImportError, type ImportResult } from '../../allocator/import/index.ts';
import { fixture, importBytes, realVmaSample } from '../support/import-fixtures.ts';
import { rng } from '../support/rng.ts';
import { rdfFile, rmtFile, type RmvDescription } from '../support/rmv-writer.ts';

function mutate(bytes: Uint8Array, r: () => number): Uint8Array {
  const kind = Math.floor(r() * 4);
  const at = Math.floor(r() * bytes.length);
  if (kind === 0) return bytes.slice(0, at); // truncated
  const out = bytes.slice();
  if (kind === 1) {
    for (let k = 0; k < 1 + Math.floor(r() * 6); k++)
      out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
    return out;
  }
  if (kind === 2) {
    // a run of bytes deleted
    const len = 1 + Math.floor(r() * 64);
    return new Uint8Array([...bytes.subarray(0, at), ...bytes.subarray(Math.min(bytes.length, at + len))]);
  }
  // a run of bytes duplicated (inserted)
  const len = 1 + Math.floor(r() * 64);
  return new Uint8Array([...bytes.subarray(0, at + len), ...bytes.subarray(at)]);
}

/** Wrong types: walks parsed JSON and replaces one random value with a value of another type. */
function wrongType(doc: unknown, r: () => number): unknown {
  const replacements: unknown[] = ['text', -1, 1.5, null, true, [], {}, 2 ** 60, 'FREE'];
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        nodes.push({ parent: v, key: i });
        walk(x);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        nodes.push({ parent: v as Record<string, unknown>, key: k });
        walk(x);
      }
    }
  };
  walk(doc);
  for (let k = 0; k < 3 && nodes.length > 0; k++) {
    const n = nodes[Math.floor(r() * nodes.length)]!;
    (n.parent as Record<string | number, unknown>)[n.key] =
      replacements[Math.floor(r() * replacements.length)];
  }
  return doc;
}

function checkResult(r: ImportResult): void {
  for (const v of [r.totals.blocks, r.totals.blockBytes, r.totals.allocations, r.totals.allocatedBytes])
    expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
}

async function survives(name: string, bytes: Uint8Array, partial: boolean): Promise<'ok' | 'error'> {
  try {
    checkResult(await importBytes(name, bytes, 1 + (bytes.length % 4093), { partial }));
    return 'ok';
  } catch (error) {
    if (!(error instanceof ImportError))
      throw new Error(`${name}: not an ImportError: ${String(error)}`, { cause: error });
    expect(error.message.length).toBeGreaterThan(10);
    expect(error.message).not.toContain('\n');
    return 'error';
  }
}

const inputs: [string, Uint8Array][] = [
  ['vma3-sample.json', new Uint8Array(readFileSync(realVmaSample))],
  ['vma2-pools.json', new Uint8Array(readFileSync(fixture('vma2-pools.json')))],
  ['d3d12ma-tier2-utf16.json', new Uint8Array(readFileSync(fixture('d3d12ma-tier2-utf16.json')))],
  ['pytorch-trace-p2.pickle', new Uint8Array(readFileSync(fixture('pytorch-trace-p2.pickle')))],
  [
    'pytorch-ringbuffer-2dev-p4.pickle',
    new Uint8Array(readFileSync(fixture('pytorch-ringbuffer-2dev-p4.pickle'))),
  ],
  [
    'pytorch-segments-list-p0.pickle',
    new Uint8Array(readFileSync(fixture('pytorch-segments-list-p0.pickle'))),
  ],
  ['pytorch-trace.json', new Uint8Array(readFileSync(fixture('pytorch-trace.json')))],
];

/** A small RMV trace with every token kind the importer reads (the real samples are fuzzed less: 450 KB). */
const rmvDescription: RmvDescription = {
  adapter: 'Fuzz Radeon',
  segments: [
    { heap: 0, base: 0, size: 1 << 28 },
    { heap: 1, base: 1 << 28, size: 2 ** 33 },
  ],
  streams: [
    {
      major: 1,
      minor: 6,
      ops: [
        { op: 'va', address: 0x100000, pages: 4, heap: 1, dt: 3 },
        { op: 'create', id: 1, type: 1 },
        { op: 'bind', id: 1, address: 0x100000, size: 4096 },
        { op: 'create', id: 2, type: 0 },
        { op: 'bind', id: 2, address: 0x101000, size: 8192 },
        { op: 'name', id: 2, name: 'fuzzed' },
        { op: 'create', id: 3, type: 14, poolSizes: 3 },
        { op: 'snapshot', name: 'snap', dt: 40 },
        { op: 'pageTable' },
        { op: 'destroy', id: 1, dt: 2 },
        { op: 'vf', address: 0x100000, dt: 9 },
      ],
    },
    { ops: [{ op: 'va', address: 0x200000, pages: 1, heap: 0 }, { op: 'residency' }] },
  ],
  snapshots: [{ ts: 40_000, name: 'chunk snapshot' }],
};
const rmvInputs: [string, Uint8Array][] = [
  ['generated-rmt.rmv', rmtFile(rmvDescription)],
  ['generated-rdf.rmv', rdfFile(rmvDescription, { chunkBytes: 13, interleave: true })],
];
inputs.push(...rmvInputs);

describe('fuzzed inputs never crash the importers', () => {
  for (const [name, bytes] of inputs) {
    test(`${name}: 150 byte-level mutations (truncate, flip, delete, duplicate), with and without --partial`, async () => {
      const r = rng(name.length * 7919);
      const outcomes = { ok: 0, error: 0 };
      for (let i = 0; i < 150; i++) {
        const m = mutate(bytes, r);
        outcomes[await survives(name, m, i % 2 === 1)]++;
      }
      expect(outcomes.ok + outcomes.error).toBe(150);
      expect(outcomes.error).toBeGreaterThan(0); // the mutations do break things
    });
  }

  for (const [name, bytes] of inputs.filter(([n]) => n.endsWith('.json'))) {
    test(`${name}: 100 documents with values of the wrong type`, async () => {
      const r = rng(name.length * 104729);
      const text = name.includes('utf16')
        ? new TextDecoder('utf-16le').decode(bytes.subarray(2))
        : new TextDecoder().decode(bytes);
      for (let i = 0; i < 100; i++) {
        const doc = wrongType(JSON.parse(text), r);
        await survives(name, new Uint8Array(Buffer.from(JSON.stringify(doc), 'utf8')), false);
      }
    });
  }

  for (const file of ['rmv-amd-sample-rdf.rmv', 'rmv-amd-sample-rmt.rmv']) {
    test(`${file} (AMD's sample trace): 20 byte-level mutations, with and without --partial`, async () => {
      const bytes = new Uint8Array(readFileSync(fixture(file)));
      const r = rng(file.length * 6007);
      for (let i = 0; i < 20; i++) await survives(file, mutate(bytes, r), i % 2 === 1);
    });
  }

  test('RMV truncated at every byte: an error naming the truncation (or, for a legacy file cut between two chunks, what came before), and with --partial never a crash', async () => {
    for (const [name, bytes] of rmvInputs) {
      // A legacy RMT file has no total size or chunk count: cut exactly between two chunks it is a
      // shorter valid file. An RDF file keeps its index at the end: every cut loses it.
      const boundaries = new Set<number>();
      if (name.includes('rmt')) {
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let at = 56; at < bytes.length; at += dv.getInt32(at + 8, true)) boundaries.add(at);
      }
      for (let cut = 1; cut < bytes.length; cut++) {
        const message = await importBytes(name, bytes.subarray(0, cut)).then(
          () => 'imported',
          (error: unknown) =>
            error instanceof ImportError ? error.message : `not an ImportError: ${String(error)}`,
        );
        if (boundaries.has(cut)) expect(message).toBe('imported');
        else expect(message).toMatch(/truncated|cut off|is not a VMA/);
        await survives(name, bytes.subarray(0, cut), true);
      }
    }
  });

  test('truncation at every 97th byte of a pickle: an error naming the truncation, or with --partial what came before', async () => {
    const bytes = inputs[3]![1];
    for (let cut = 1; cut < bytes.length - 1; cut += 97) {
      await expect(importBytes('t.pickle', bytes.subarray(0, cut))).rejects.toThrow(
        /not a readable PyTorch snapshot pickle/,
      );
      const partial = await importBytes('t.pickle', bytes.subarray(0, cut), 4096, { partial: true });
      expect(partial.warnings.some((w) => w.startsWith('Reading stopped early'))).toBe(true);
    }
  });

  test('not a dump at all: one sentence naming the formats expected', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [
        new Uint8Array(Buffer.from('hello world')),
        /not a VMA JSON dump, a D3D12MA JSON dump, a PyTorch memory snapshot or an RMV trace: its first bytes match none of those formats \(at byte 0\)$/,
      ],
      [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]), /its first bytes match none of those formats/],
      [
        new Uint8Array(Buffer.from('{"secret": 1}')),
        /it is JSON, but its first key is none of those formats/,
      ],
      [new Uint8Array(0), /it is empty/],
      [new Uint8Array(Buffer.from('{"foo": 1}')), /not a VMA JSON dump/],
      [
        new Uint8Array(Buffer.from('{"General": {"API": "Metal"}, "Total": {}}')),
        /not a VMA or D3D12MA dump/,
      ],
    ];
    for (const [bytes, message] of cases) await expect(importBytes('f', bytes)).rejects.toThrow(message);
  });
});
