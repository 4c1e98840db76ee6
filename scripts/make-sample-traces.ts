// Regenerates the sample traces shipped in assets/traces/ (what `npm start` offers a first-time user):
// built-in scenarios run on simulated devices with fixed seeds, recorded with the trace writer.
// Usage: node --import tsx scripts/make-sample-traces.ts
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startScenario } from '../src-main/session/scenario-host.ts';
import { createTraceHeader } from '../src-main/trace/header.ts';
import { TraceWriter } from '../src-main/trace/writer.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(repoRoot, 'assets', 'traces');

const samples = [
  { file: 'streaming-h100.trace', scenario: 'streaming', profile: 'h100', seed: 7, params: { frames: 600 } },
  {
    file: 'fragmentation-lavapipe.trace',
    scenario: 'fragmentation',
    profile: 'lavapipe',
    seed: 5,
    params: {},
  },
  { file: 'leaks-lavapipe.trace', scenario: 'leaks', profile: 'lavapipe', seed: 3, params: {} },
] as const;

mkdirSync(outDir, { recursive: true });
for (const sample of samples) {
  const run = startScenario({
    scenario: sample.scenario,
    params: sample.params,
    device: { kind: 'profile', profile: sample.profile },
    strategy: 'tlsf',
    seed: sample.seed,
    tracePath: null,
    cwd: repoRoot,
  });
  const result = await run.done;
  if (result.outcome !== 'completed' || !run.info) {
    throw new Error(`${sample.scenario} did not complete: ${result.error?.message ?? result.outcome}`);
  }
  const mirror = run.events;
  const header = createTraceHeader({
    device: run.info.device,
    allocator: { strategy: run.info.strategy },
    session: { scenario: sample.scenario, params: run.info.params, seed: run.info.seed },
  });
  const file = path.join(outDir, sample.file);
  const writer = new TraceWriter(
    file,
    {
      length: mirror.length,
      columns: mirror.columns(),
      strings: mirror.strings,
      decisions: mirror.decisions,
    },
    { header, flushIntervalMs: 0 },
  );
  writer.close();
  console.log(`${path.relative(repoRoot, file)}: ${mirror.length} events, ${writer.bytesWritten} bytes`);
}
