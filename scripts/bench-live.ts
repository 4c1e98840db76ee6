// Benchmark: a live scenario of ~2,000,000 events through the real backend (AppBackend in this process,
// as `vramscope serve` and the Electron main run it), with one simulated UI: every event frame is
// serialised as the WebSocket sends it, and each pushed analysisChanged triggers the queries the inspector
// makes (a 2,000-bucket timeline and the snapshot at the end). Prints main's event-loop delay
// (perf_hooks.monitorEventLoopDelay) per 250,000 events and overall: the live analysis runs in the trace
// worker, so main must stay responsive (target: p99 <= 50 ms throughout).
//
// Usage: node --import tsx scripts/bench-live.ts [--events 2000000] [--profile lavapipe]
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AppBackend } from '../src-main/api/app-backend.ts';
import { encodeFrame, type EventBatchFrame, type ResponseFrame } from '../src-main/api/contract.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '2000000' },
    profile: { type: 'string', default: 'lavapipe' },
  },
});
const target = Number(values.events);
const backend = new AppBackend({ checkResults: false });
let nextId = 1;
async function request(name: string, params: Record<string, unknown>): Promise<unknown> {
  const r: ResponseFrame = await backend.dispatch(
    { t: 'req', id: nextId++, name, params },
    { clientId: 'bench', transport: 'in-process' },
  );
  if (!r.ok) throw new Error(`${name}: ${r.error.code}: ${r.error.message}`);
  // The web transport serialises every answer on main.
  encodeFrame(r);
  return r.result;
}

const profiles = (await request('listDevices', {})) as { profiles: { name: string }[] };
const profile = profiles.profiles.find((p) => p.name.includes(values.profile ?? 'lavapipe'));
if (!profile) throw new Error(`no profile matching ${values.profile}`);
const session = (await request('openSession', { device: { kind: 'profile', name: profile.name } })) as {
  sessionId: string;
  sourceId: string;
};

let analysed = 0;
let sessionEvents = 0;
let frames = 0;
let frameBytes = 0;
let queriesInFlight = 0;
let queries = 0;
let stopping = false;
backend.batcher.subscribe((frame: EventBatchFrame) => {
  frames++;
  frameBytes += encodeFrame(frame).length;
  for (const e of frame.events) {
    if (e.name === 'sessionEvents') sessionEvents = e.payload.start + e.payload.count;
    if (e.name === 'log' && e.payload.level === 'error') console.error(`log: ${e.payload.message}`);
    if (e.name === 'analysisChanged' && e.payload.sourceId === session.sourceId) {
      analysed = e.payload.summary.eventCount;
      // The inspector redraws on a push: one timeline and one snapshot at a time, like the UI.
      if (queriesInFlight === 0 && !stopping) {
        queriesInFlight++;
        void Promise.all([
          request('queryTimeline', { sourceId: session.sourceId, buckets: 2000, groupBy: 'heap' }),
          request('snapshotAt', { sourceId: session.sourceId, eventIndex: analysed }),
        ])
          .catch((error: unknown) => console.error(`query failed: ${(error as Error).message}`))
          .finally(() => {
            queriesInFlight--;
            queries++;
          });
      }
    }
  }
});

const overall = monitorEventLoopDelay({ resolution: 5 });
let segment = monitorEventLoopDelay({ resolution: 5 });
overall.enable();
segment.enable();
const ms = (ns: number): string => (ns / 1e6).toFixed(1);
const started = performance.now();
let nextReport = 250_000;
let worstP99 = 0;

const run = (await request('runScenario', {
  sessionId: session.sessionId,
  scenario: 'transient-ring',
  params: { frames: 1_000_000, buffersPerFrame: 200, framesInFlight: 3, maxBufferKiB: 64 },
  seed: 1,
})) as { runId: string };

await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    while (analysed >= nextReport) {
      const p99 = segment.percentile(99);
      worstP99 = Math.max(worstP99, p99);
      console.log(
        `events=${nextReport} analysed=${analysed} received=${sessionEvents} elapsed_s=${((performance.now() - started) / 1000).toFixed(1)} ` +
          `main_loop_delay_ms p50=${ms(segment.percentile(50))} p99=${ms(p99)} max=${ms(segment.max)} ui_frames=${frames} ui_queries=${queries}`,
      );
      segment.disable();
      segment = monitorEventLoopDelay({ resolution: 5 });
      segment.enable();
      nextReport += 250_000;
    }
    if (analysed >= target) {
      clearInterval(timer);
      resolve();
    }
  }, 100);
});
stopping = true;
await request('cancelRun', { runId: run.runId }).catch(() => undefined);
// Let the simulated UI's last queries finish before the backend (and its trace worker) goes away.
while (queriesInFlight > 0) await new Promise((r) => setTimeout(r, 20));
overall.disable();
worstP99 = Math.max(worstP99, segment.percentile(99));
console.log(
  `bench-live events=${analysed} wall_s=${((performance.now() - started) / 1000).toFixed(1)} ` +
    `main_loop_delay_ms p50=${ms(overall.percentile(50))} p99=${ms(overall.percentile(99))} max=${ms(overall.max)} ` +
    `worst_segment_p99_ms=${ms(worstP99)} ui_frames=${frames} ui_mib=${(frameBytes / 2 ** 20).toFixed(1)} ui_queries=${queries} ` +
    `target_p99_ms=50 ${worstP99 / 1e6 <= 50 ? 'ok' : 'OVER'}`,
);
await backend.dispose();
process.exit(0);
