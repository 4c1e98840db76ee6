import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { endState, summaryLine } from '../../allocator/import/index.ts';
import { MemoryPropertyFlags, TraceEventKind } from '../../allocator/index.ts';
import {
  expectedTotals,
  importBytes,
  importFixture,
  realVmaSample,
  totalsOf,
} from '../support/import-fixtures.ts';

type J = Record<string, unknown>;

/** Walks a VMA 3.x dump the plain way: every block and dedicated allocation of every pool. */
function walkVma3(doc: J): { total: number[]; perType: Map<number, number[]> } {
  const total = [0, 0, 0, 0];
  const perType = new Map<number, number[]>();
  const add = (type: number, blocks: number, blockBytes: number, allocs: number, bytes: number): void => {
    const t = perType.get(type) ?? [0, 0, 0, 0];
    const d = [blocks, blockBytes, allocs, bytes];
    d.forEach((v, i) => {
      t[i]! += v;
      total[i]! += v;
    });
    perType.set(type, t);
  };
  const pool = (type: number, p: J): void => {
    for (const block of Object.values((p.Blocks ?? {}) as Record<string, J>)) {
      const subs = (block.Suballocations as J[]).filter((s) => s.Type !== 'FREE');
      add(
        type,
        1,
        block.TotalBytes as number,
        subs.length,
        subs.reduce((s, x) => s + (x.Size as number), 0),
      );
    }
    for (const d of (p.DedicatedAllocations ?? []) as J[])
      add(type, 1, d.Size as number, 1, d.Size as number);
  };
  for (const [key, p] of Object.entries(doc.DefaultPools as Record<string, J>)) pool(Number(key.slice(5)), p);
  for (const [key, list] of Object.entries((doc.CustomPools ?? {}) as Record<string, J[]>))
    for (const p of list) pool(Number(key.slice(5)), p);
  return { total, perType };
}

describe('VMA 3.x: the real dump shipped with VMA (AMD Radeon RX 6600 XT)', () => {
  const bytes = new Uint8Array(readFileSync(realVmaSample));
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as J;

  test("totals equal a plain walk of the JSON and the dump's own Total", async () => {
    const r = await importBytes('vma3-sample-amd-rx6600xt.json', bytes);
    const walked = walkVma3(doc);
    const t = r.totals;
    expect([t.blocks, t.blockBytes, t.allocations, t.allocatedBytes]).toEqual(walked.total);
    const own = doc.Total as J;
    expect([t.blocks, t.blockBytes, t.allocations, t.allocatedBytes]).toEqual([
      own.BlockCount,
      own.BlockBytes,
      own.AllocationCount,
      own.AllocationBytes,
    ]);
    expect(r.warnings).toEqual([]);
    expect(summaryLine(r)).toBe(
      `format=vma version=3 blocks=${own.BlockCount} block_bytes=${own.BlockBytes} allocations=${own.AllocationCount} allocated_bytes=${own.AllocationBytes}`,
    );
  });

  test("per memory type and per heap, the totals equal the dump's MemoryInfo statistics", async () => {
    const r = await importBytes('vma3-sample-amd-rx6600xt.json', bytes);
    const info = doc.MemoryInfo as Record<string, J>;
    for (const [heapKey, heap] of Object.entries(info)) {
      const heapIndex = Number(heapKey.slice(5));
      const heapSum = [0, 0, 0, 0];
      for (const [typeKey, type] of Object.entries(heap.MemoryPools as Record<string, J>)) {
        const index = Number(typeKey.slice(5));
        const stats = type.Stats as J;
        const mine = r.perType[index]!;
        expect([mine.blocks, mine.blockBytes, mine.allocations, mine.allocatedBytes]).toEqual([
          stats.BlockCount,
          stats.BlockBytes,
          stats.AllocationCount,
          stats.AllocationBytes,
        ]);
        expect(r.header.device.types[index]!.heapIndex).toBe(heapIndex);
        [mine.blocks, mine.blockBytes, mine.allocations, mine.allocatedBytes].forEach(
          (v, i) => (heapSum[i]! += v),
        );
      }
      const hs = heap.Stats as J;
      expect(heapSum).toEqual([hs.BlockCount, hs.BlockBytes, hs.AllocationCount, hs.AllocationBytes]);
      expect(r.header.device.heaps[heapIndex]!.size).toBe(heap.Size);
    }
  });

  test('the device description and the event log reproduce the dump', async () => {
    const r = await importBytes('vma3-sample-amd-rx6600xt.json', bytes, 333);
    const d = r.header.device;
    expect(d.name).toBe('AMD Radeon RX 6600 XT');
    expect(d.api).toBe('vulkan');
    expect(d.deviceType).toBe('discrete');
    expect(d.types).toHaveLength(8);
    expect(d.types[0]!.propertyFlags).toBe(MemoryPropertyFlags.DEVICE_LOCAL);
    expect(d.types[7]!.propertyFlags & MemoryPropertyFlags.DEVICE_UNCACHED_AMD).not.toBe(0);
    expect(d.limits.nonCoherentAtomSize).toBe(128);
    expect(r.header.importedFrom).toEqual({
      format: 'vma',
      version: '3',
      file: 'vma3-sample-amd-rx6600xt.json',
    });
    expect(r.header.allocator.imported).toBe(true);
    const end = endState(r.log);
    expect(end.totals).toEqual(r.totals);
    expect(end.unknownIds).toBe(0);
    // Names and CustomData survive: count named allocations in the JSON and in the log.
    const text = new TextDecoder().decode(bytes);
    const namedInJson = (text.match(/"Name": "(?!\d+( - |"))/g) ?? []).length;
    const c = r.log.columns;
    let named = 0;
    let withCustomData = 0;
    for (let i = 0; i < r.log.length; i++) {
      if (c.kind[i] !== TraceEventKind.Allocate) continue;
      if (c.name[i] !== 0) named++;
      if (r.log.strings.get(c.stack[i]!).includes('CustomData')) withCustomData++;
    }
    expect(named).toBe(namedInJson);
    expect(withCustomData).toBe((text.match(/"CustomData"/g) ?? []).length);
    // Two budget samples, one per heap.
    let budgets = 0;
    for (let i = 0; i < r.log.length; i++) if (c.kind[i] === TraceEventKind.BudgetSample) budgets++;
    expect(budgets).toBe(2);
  });

  test('chunk size does not change the result', async () => {
    const a = await importBytes('s.json', bytes, 1);
    const b = await importBytes('s.json', bytes, 1 << 20);
    expect(a.totals).toEqual(b.totals);
    expect(a.log.length).toBe(b.log.length);
    expect(Array.from(a.log.columns.offset.subarray(0, a.log.length))).toEqual(
      Array.from(b.log.columns.offset.subarray(0, b.log.length)),
    );
  });
});

describe('VMA fixtures made from the 3.x and 2.x writers', () => {
  for (const name of [
    'vma3-pools.json',
    'vma3-dedicated-only.json',
    'vma3-empty.json',
    'vma2-pools.json',
    'vma2-empty.json',
  ]) {
    test(`${name}: totals, no warnings, timeline ends in the dump's state`, async () => {
      const r = await importFixture(name, 4093);
      expect(totalsOf(r)).toEqual(expectedTotals(name));
      expect(r.warnings).toEqual([]);
      expect(endState(r.log).totals).toEqual(r.totals);
      expect(r.header.importedFrom.version).toBe(name.startsWith('vma2') ? '2' : '3');
    });
  }

  test('VMA 2.x and 3.x layouts of the same state import to the same totals per memory type', async () => {
    const v3 = await importFixture('vma3-pools.json');
    const v2 = await importFixture('vma2-pools.json');
    expect(v2.perType).toEqual(v3.perType);
    expect(v2.header.device.types.map((t) => [t.heapIndex, t.propertyFlags])).toEqual(
      v3.header.device.types.map((t) => [t.heapIndex, t.propertyFlags]),
    );
  });

  test('dedicated-only: every allocation is its own dedicated block at offset 0', async () => {
    const r = await importFixture('vma3-dedicated-only.json');
    const c = r.log.columns;
    let blocks = 0;
    for (let i = 0; i < r.log.length; i++) {
      if (c.kind[i] === TraceEventKind.BlockCreate) {
        blocks++;
        expect(c.flags[i]! & 0x20).toBe(0x20);
      }
      if (c.kind[i] === TraceEventKind.Allocate) expect(c.offset[i]).toBe(0);
    }
    expect(blocks).toBe(r.totals.allocations);
  });

  test('an inconsistent dump is reported, not corrected', async () => {
    const r = await importFixture('vma3-inconsistent.json');
    expect(totalsOf(r)).toEqual(expectedTotals('vma3-inconsistent.json'));
    const doc = JSON.parse(
      readFileSync(new URL('../fixtures/import/vma3-inconsistent.json', import.meta.url), 'utf8'),
    ) as J;
    const statedBytes = (doc.Total as J).BlockBytes as number;
    expect(
      r.warnings.some(
        (w) =>
          w.includes('Total') && w.includes(String(statedBytes)) && w.includes(String(r.totals.blockBytes)),
      ),
    ).toBe(true);
    expect(r.warnings.some((w) => w.includes('UnusedBytes'))).toBe(true);
  });
});
