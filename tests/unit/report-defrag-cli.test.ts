// `vramscope report --defrag`: the plan for a recorded state equals the live allocator's own plan for that
// state (sizes and alignments chosen so no padding hides from the trace), and bad usage is refused.
import { afterAll, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Allocator, EventLog, type Allocation, type DefragmentationPlan } from '../../allocator/index.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { runCliInProcess } from '../support/cli-in-process.ts';
import { simulatedDevice } from '../support/profiles.ts';
import { testHeader } from '../support/trace-fixtures.ts';

const MiB = 1024 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-report-defrag-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const report = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  runCliInProcess(['report', ...args], dir);

// Fragment 6 blocks of 4 MiB, remember the allocator's own plans, mark, then free everything.
const log = new EventLog();
const allocator = new Allocator({
  device: simulatedDevice('lavapipe'),
  // Both pairs: the tlsf block policy sizes lavapipe's device-local host-visible types by the device pair.
  allocationSizes: {
    hostMemblockSize: 4 * MiB,
    hostMaxMemblockSize: 4 * MiB,
    deviceMemblockSize: 4 * MiB,
    deviceMaxMemblockSize: 4 * MiB,
  },
  events: log,
  debugSettings: { logLeaksOnShutdown: false },
});
log.setDecisionSource((id) => allocator.decision(id));
const all: Allocation[] = [];
for (let i = 0; i < 300; i++) {
  all.push(
    allocator.allocate({
      name: `a${i}`,
      requirements: { size: 256 * (64 + ((i * 37) % 200)), alignment: 256, memoryTypeBits: 0xffffffff },
      location: 'CpuToGpu',
      linear: true,
    }),
  );
}
const live = all.filter((a, i) => {
  if (i % 3 === 0) return true;
  allocator.free(a);
  return false;
});
const expected: Record<string, DefragmentationPlan> = {
  full: allocator.planDefragmentation({ algorithm: 'full' }),
  fast: allocator.planDefragmentation({ algorithm: 'fast' }),
};
log.mark('teardown');
for (const a of live) allocator.free(a);
const file = path.join(dir, 'frag.vrt');
new TraceWriter(file, log, {
  header: testHeader({ device: allocator.device.description }),
  flushIntervalMs: 0,
}).close();

test.each(['full', 'fast'])(
  'report --defrag --algorithm %s at a mark gives the allocator’s own plan',
  async (algorithm) => {
    const r = await report([
      'frag.vrt',
      '--defrag',
      '--algorithm',
      algorithm,
      '--at',
      'mark:teardown',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as DefragmentationPlan;
    const want = expected[algorithm]!;
    expect(want.moves.length).toBeGreaterThan(0);
    const strip = (p: DefragmentationPlan) =>
      p.moves.map((m) => [m.allocationId, m.fromBlock, m.fromOffset, m.toBlock, m.toOffset]);
    expect(strip(plan)).toEqual(strip(want));
    expect(plan.emptiedBlocks).toEqual(want.emptiedBlocks);
    expect(plan.fragmentationAfter).toBeCloseTo(want.fragmentationAfter, 12);
  },
);

test('report --defrag prints the plan as text; the end state (all freed) needs no moves', async () => {
  const text = await report(['frag.vrt', '--defrag', '--at', 'mark:teardown']);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain('defragmentation plan (full):');
  expect(text.stdout).toContain('fragmentation:');
  expect(text.stdout).toMatch(/#\d+ "a\d+" .*: \d+@\d+ -> \d+@\d+/);
  const end = await report(['frag.vrt', '--defrag', '--json']);
  expect((JSON.parse(end.stdout) as DefragmentationPlan).moves).toEqual([]);
});

test('bad --defrag usage is exit 2 (or 1 for a missing mark) with a clear message', async () => {
  const bad = await report(['frag.vrt', '--defrag', '--algorithm', 'balanced']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--algorithm must be full or fast');
  expect((await report(['frag.vrt', '--at', '5'])).code).toBe(2);
  expect((await report(['frag.vrt', '--defrag', '--at', 'x'])).code).toBe(2);
  expect((await report(['frag.vrt', '--defrag', '--at', '99999999'])).code).toBe(2);
  const missing = await report(['frag.vrt', '--defrag', '--at', 'mark:nope']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('no mark labelled "nope"');
});
