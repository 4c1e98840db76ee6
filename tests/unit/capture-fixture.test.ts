// A stream the capture layer recorded on an NVIDIA H200 (tests/fixtures/capture/PROVENANCE.md) through the
// whole TypeScript side: `capture --from` -> trace -> every fact the test program printed is in it, its
// deliberate problems are reported, budgets (which lavapipe cannot produce) become budget samples, and
// memory-type choices are judged on a GPU with five memory types.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { analyzeCapture } from '../../allocator/analysis/index.ts';
import { TraceEventKind } from '../../allocator/event-log.ts';
import type { LoadedTrace } from '../../allocator/trace/index.ts';
import { convertCaptureFile } from '../../src-main/capture/capture-session.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import {
  checkCounts,
  checkDeviceAndThreads,
  checkMemory,
  checkResources,
  eventsOf,
  type AppReport,
} from '../support/capture-facts.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'capture');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-capture-fixture-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the H200 capture stream', () => {
  let app: AppReport;
  let trace: LoadedTrace;
  let warnings: readonly string[];
  beforeAll(() => {
    app = JSON.parse(readFileSync(path.join(fixtures, 'h200-app.json'), 'utf8')) as AppReport;
    const result = convertCaptureFile(path.join(fixtures, 'h200-app.vrscap'), {
      cwd: tmp,
      out: 'h200.trace',
    });
    warnings = result.warnings;
    expect(result.tracks).toHaveLength(1);
    trace = loadTraceSync(path.join(tmp, 'h200.trace'));
  });

  test('device, threads, every block and resource, call counts', () => {
    expect(warnings).toEqual([]);
    expect(trace.header.device).toMatchObject({
      name: 'NVIDIA H200',
      deviceType: 'discrete',
      vendorId: 0x10de,
    });
    expect(trace.header.device.heaps).toHaveLength(2);
    expect(trace.header.device.types).toHaveLength(5);
    expect(trace.header.device.extensions.memoryBudget).toBe(true);
    checkDeviceAndThreads(app, trace);
    checkMemory(app, trace);
    checkResources(app, trace);
    checkCounts(app, trace);
  });

  test('budgets become budget samples of both heaps', () => {
    const heaps = new Set(eventsOf(trace, TraceEventKind.BudgetSample, (i) => trace.events.columns.id[i]!));
    expect([...heaps].sort()).toEqual([0, 1]);
    const budgets = eventsOf(trace, TraceEventKind.BudgetSample, (i) => trace.events.columns.offset[i]!);
    expect(budgets.every((b) => b > 0)).toBe(true);
  });

  test('the deliberate problems, and memory-type choices on five memory types', () => {
    const a = analyzeCapture(trace.events, trace.header.device);
    const kinds = a.problems.map((p) => p.kind);
    expect(kinds.filter((k) => k === 'memory-not-freed')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'resource-not-destroyed')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'freed-while-bound')).toHaveLength(1);
    // The staging buffers are mapped transfer sources: CpuToGpu, where gpu-allocator picks ReBAR memory.
    const staging = a.decisions.find((d) => d.location === 'CpuToGpu')!;
    expect(staging.appFlags).toMatch(/HOST_VISIBLE/);
    expect(staging.ruleFlags).toBe('DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT');
    expect(a.decisions.reduce((n, d) => n + d.count, 0)).toBe(a.resourcesBound);
  });
});
