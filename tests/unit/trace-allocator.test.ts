// The recorder on the real allocator and the simulated H100 (built from its real vulkaninfo profile): what
// the trace says after write + read + analysis must match what the allocator itself reports.
import { afterAll, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Allocator,
  AllocationError,
  createSimulatedDevice,
  parseVulkaninfo,
  type Allocation,
  type MemoryLocation,
} from '../../allocator/index.ts';
import { analyzeTrace } from '../../allocator/analysis/index.ts';
import { TraceRecorder } from '../../src-main/trace/recorder.ts';
import { createTraceHeader } from '../../src-main/trace/header.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { rng } from '../support/rng.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-rec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a recorded allocator session reads back with the allocator’s own totals, decisions and leaks', () => {
  const profile = path.join(repoRoot, 'assets/profiles/nvidia-h100-80gb-hbm3.vulkaninfo.txt');
  const description = parseVulkaninfo(
    readFileSync(profile, 'utf8'),
    'profile:nvidia-h100-80gb-hbm3.vulkaninfo.txt',
  );
  const device = createSimulatedDevice(description);
  const allocator = new Allocator({
    device,
    strategy: 'tlsf',
    debugSettings: { storeStackTraces: true, logLeaksOnShutdown: false },
  });
  const file = path.join(dir, 'session.vrt');
  const recorder = new TraceRecorder({
    path: file,
    header: createTraceHeader({
      device: description,
      allocator: { strategy: 'tlsf', debugSettings: { storeStackTraces: true } },
      session: { scenario: 'test', seed: 1 },
    }),
    maxEventsPerChunk: 256,
  });
  recorder.attach(allocator);
  const r = rng(77);
  const locations: MemoryLocation[] = ['GpuOnly', 'CpuToGpu', 'GpuToCpu'];
  const live: Allocation[] = [];
  for (let frame = 0; frame < 60; frame++) {
    recorder.log.frame(frame);
    for (let k = 0; k < 30; k++) {
      if (live.length > 0 && r() < 0.45) {
        const a = live.splice(Math.floor(r() * live.length), 1)[0]!;
        allocator.free(a);
      } else {
        const size = 256 * (1 + Math.floor(r() * r() * 40_000));
        const a = allocator.allocate({
          name: `res_${frame}_${k}`,
          requirements: { size, alignment: 256, memoryTypeBits: 0x1f },
          location: locations[Math.floor(r() * locations.length)]!,
          linear: r() < 0.7,
          stack: `frame.mjs:${10 + (k % 5)}`,
        });
        live.push(a);
        if (r() < 0.05) allocator.rename(a, `${a.name}_renamed`);
      }
      recorder.tick();
    }
  }
  expect(() =>
    allocator.allocate({
      name: 'too big',
      requirements: { size: 2 ** 50, alignment: 256, memoryTypeBits: 0x1f },
      location: 'GpuOnly',
      linear: true,
    }),
  ).toThrow(AllocationError);
  const stats = allocator.stats();
  const liveNames = allocator
    .liveAllocations()
    .map((a) => a.name)
    .sort();
  recorder.close();

  const trace = loadTraceSync(file);
  expect(trace.warnings).toEqual([]);
  expect(trace.events.length).toBe(recorder.log.length);
  const analysis = analyzeTrace(trace.events, trace.header.device);
  const s = analysis.summary;
  expect(s.anomalies).toBe(0);
  expect(s.total.final).toEqual({ committed: stats.committedBytes, allocated: stats.allocatedBytes });
  expect(s.liveAllocations).toBe(stats.allocationCount);
  expect(s.liveBlocks).toBe(stats.blockCount);
  expect(s.failures).toHaveLength(1);
  expect(s.failures[0]!.name).toBe('too big');
  expect(s.failures[0]!.code).toBe('OutOfMemory');
  expect(s.failures[0]!.size).toBe(2 ** 50);
  // Leaks: exactly the allocator's live allocations, names after renames.
  const leaks = analysis.leaksAt();
  expect(leaks.byName.flatMap((g) => Array(g.count).fill(g.key) as string[]).sort()).toEqual(liveNames);
  expect(new Set(leaks.byOrigin.map((g) => g.key))).toEqual(
    new Set(allocator.liveAllocations().map((a) => a.stack)),
  );
  // Every decision named by an event was copied into the trace, equal to the allocator's record.
  const used = new Set(Array.from(trace.events.columns.decision).filter((d) => d >= 0));
  expect(used.size).toBeGreaterThan(0);
  for (const id of used) expect(trace.events.decisions[id]).toEqual(allocator.decision(id));
  expect(trace.header.device).toEqual(description);
});
