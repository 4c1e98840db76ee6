// The compare view's difference table (src-renderer/views/compare.tsx diffRows) on a real replay: the
// shipped H100 sample trace replayed on the lavapipe profile, as `vramscope replay` does it.
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { createSimulatedDevice, formatBytes } from '../../allocator/index.ts';
import { replaySideDto } from '../../src-main/api/dto.ts';
import { loadProfile } from '../../src-main/session/open-device.ts';
import { replayRequests } from '../../src-main/session/replay.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { diffRows } from '../../src-renderer/views/compare.tsx';
import { repoRoot } from '../support/ui-trace.ts';

describe('compare: difference table', () => {
  test('largest relative differences first, numbers formatted as replay prints them', () => {
    const trace = loadTraceSync(path.join(repoRoot, 'assets', 'traces', 'streaming-h100.trace'));
    const report = replayRequests(trace.events, {
      original: { device: trace.header.device, strategy: trace.header.allocator.strategy },
      target: createSimulatedDevice(loadProfile('lavapipe', repoRoot)),
      strategy: 'tlsf',
    });
    const rows = diffRows(replaySideDto(report.baseline), replaySideDto(report.replay));
    // Scores never increase down the table.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.score).toBeLessThanOrEqual(rows[i - 1]!.score);
    const peak = rows.find((r) => r.metric === 'peak committed')!;
    expect([peak.a, peak.b]).toEqual([
      formatBytes(report.baseline.peakCommittedBytes),
      formatBytes(report.replay.peakCommittedBytes),
    ]);
    // The top row is the metric with the largest relative change, computed here from the report itself.
    const rel = (a: number, b: number): number => Math.abs(b - a) / Math.max(a, 1);
    const numeric: [string, number][] = [
      ['peak committed', rel(report.baseline.peakCommittedBytes, report.replay.peakCommittedBytes)],
      ['peak blocks', rel(report.baseline.peakBlocks, report.replay.peakBlocks)],
      ['blocks created', rel(report.baseline.blocksCreated, report.replay.blocksCreated)],
    ];
    const biggest = numeric.reduce((m, x) => (x[1] > m[1] ? x : m));
    if (biggest[1] > 1) expect(rows[0]!.metric).toBe(biggest[0]);
    // Every request class changes memory type (lavapipe has one type), which outranks peak committed here.
    const typeRows = rows.filter((r) => r.metric.startsWith('memory type'));
    expect(typeRows.length).toBeGreaterThan(0);
    for (const r of typeRows) expect(r.difference).toBe('different type');
    expect(rows.indexOf(typeRows.at(-1)!)).toBeLessThan(rows.indexOf(peak));
    expect(report.baseline.failures).toBe(report.replay.failures);
    expect(rows.find((r) => r.metric === 'failures')?.difference).toBe('same');
  });
});
