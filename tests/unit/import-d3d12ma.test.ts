import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { detectFormat, endState } from '../../allocator/import/index.ts';
import { MemoryPropertyFlags, TraceEventKind } from '../../allocator/index.ts';
import { expectedTotals, fixture, importBytes, importFixture, totalsOf } from '../support/import-fixtures.ts';

type J = Record<string, unknown>;

function readUtf16(name: string): J {
  const bytes = readFileSync(fixture(name));
  expect([bytes[0], bytes[1]]).toEqual([0xff, 0xfe]); // the BOM the library writes
  return JSON.parse(new TextDecoder('utf-16le').decode(bytes)) as J;
}

describe('D3D12MA JSON dumps', () => {
  for (const name of [
    'd3d12ma-tier2-utf16.json',
    'd3d12ma-tier1-utf16.json',
    'd3d12ma-uma-utf8.json',
    'd3d12ma-empty-utf16.json',
  ]) {
    test(`${name}: totals, no warnings, timeline ends in the dump's state`, async () => {
      const r = await importFixture(name, 1021);
      expect(totalsOf(r)).toEqual(expectedTotals(name));
      expect(r.warnings).toEqual([]);
      expect(r.header.importedFrom.format).toBe('d3d12ma');
      expect(r.header.device.api).toBe('d3d12');
      expect(endState(r.log).totals).toEqual(r.totals);
    });
  }

  test("UTF-16 with a BOM is detected as D3D12MA, and totals equal the dump's Total and segment stats", async () => {
    const name = 'd3d12ma-tier2-utf16.json';
    const bytes = new Uint8Array(readFileSync(fixture(name)));
    expect(detectFormat(bytes.subarray(0, 4096))).toBe('d3d12ma');
    const doc = readUtf16(name);
    const r = await importBytes(name, bytes);
    const total = doc.Total as J;
    expect([r.totals.blocks, r.totals.blockBytes, r.totals.allocations, r.totals.allocatedBytes]).toEqual([
      total.BlockCount,
      total.BlockBytes,
      total.AllocationCount,
      total.AllocationBytes,
    ]);
    // Per memory segment: L0 is heap 0 (system), L1 heap 1 (video) on a discrete adapter.
    const info = doc.MemoryInfo as Record<string, J>;
    for (const [seg, heapIndex] of [
      ['L0', 0],
      ['L1', 1],
    ] as const) {
      const stats = info[seg]!.Stats as J;
      const sum = [0, 0, 0, 0];
      r.header.device.types.forEach((t, i) => {
        if (t.heapIndex !== heapIndex) return;
        const p = r.perType[i]!;
        [p.blocks, p.blockBytes, p.allocations, p.allocatedBytes].forEach((v, k) => (sum[k]! += v));
      });
      expect(sum).toEqual([stats.BlockCount, stats.BlockBytes, stats.AllocationCount, stats.AllocationBytes]);
    }
    // Non-ASCII names survive the UTF-16 decoding.
    const c = r.log.columns;
    const names = new Set<string>();
    for (let i = 0; i < r.log.length; i++)
      if (c.kind[i] === TraceEventKind.Allocate) names.add(r.log.strings.get(c.name[i]!));
    expect([...names].some((n) => n.startsWith('Ünïcødé текстура'))).toBe(true);
    // Heap types become memory types with D3D12 heap kinds.
    const kinds = r.header.device.types.map((t) => t.heapKind);
    expect(kinds).toContain('DEFAULT');
    expect(kinds).toContain('CUSTOM L1');
    const upload = r.header.device.types.find((t) => t.heapKind === 'UPLOAD')!;
    expect(upload.propertyFlags & MemoryPropertyFlags.HOST_VISIBLE).not.toBe(0);
  });

  test('tier 1: the committed list printed under three sub-types is counted once', async () => {
    const name = 'd3d12ma-tier1-utf16.json';
    const doc = readUtf16(name);
    const pools = doc.DefaultPools as Record<string, J>;
    const a = pools['DEFAULT - Buffers']!.DedicatedAllocations as unknown[];
    expect(pools['DEFAULT - Textures']!.DedicatedAllocations).toEqual(a);
    expect(a.length).toBeGreaterThan(0);
    const r = await importFixture(name);
    const committedBytes = (a as J[]).reduce((s, x) => s + (x.Size as number), 0);
    // Counting the three copies would overshoot Total by twice the list.
    expect(r.totals.blockBytes).toBe((doc.Total as J).BlockBytes);
    expect(r.totals.blockBytes).toBeLessThan(((doc.Total as J).BlockBytes as number) + committedBytes);
    expect(r.header.device.resourceHeapTier).toBe(1);
    expect(
      r.header.device.types
        .filter((t) => t.heapKind === 'DEFAULT')
        .map((t) => t.resourceCategory)
        .sort(),
    ).toEqual(['buffer', 'otherTexture', 'rtvDsvTexture']);
  });

  test('a tier-1 dump whose repeated committed lists differ is reported', async () => {
    const r = await importFixture('d3d12ma-tier1-inconsistent.json');
    expect(totalsOf(r)).toEqual(expectedTotals('d3d12ma-tier1-inconsistent.json'));
    expect(r.warnings.some((w) => w.includes('DEFAULT - Textures RT/DS') && w.includes('differ'))).toBe(true);
  });

  test('UMA: one memory segment, every type on heap 0', async () => {
    const r = await importFixture('d3d12ma-uma-utf8.json');
    expect(r.header.device.heaps).toHaveLength(1);
    expect(r.header.device.deviceType).toBe('integrated');
    expect(r.header.device.types.every((t) => t.heapIndex === 0)).toBe(true);
  });

  test('asking for VMA on a D3D12MA file names both formats', async () => {
    await expect(importFixture('d3d12ma-uma-utf8.json', 1 << 16, { format: 'vma' })).rejects.toThrow(
      /D3D12MA dump, not a VMA dump/,
    );
  });
});
