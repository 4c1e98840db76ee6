// Streams a session's events into a trace file (the trace module's TraceWriter) while the scenario runs.
// The runner drives the flushes (at least every 250 ms while ops run, before a pause, at the end), so the
// writer's own timer is off: a worker busy in a synchronous script loop would never let a timer fire.
import { createTraceHeader } from '../trace/header.ts';
import { TraceWriter } from '../trace/writer.ts';
import type { RunInfo } from './run-protocol.ts';
import type { Session, SessionEventConsumer } from './session.ts';

export function createTraceConsumer(path: string, info: RunInfo, session: Session): SessionEventConsumer {
  // The settings the allocator actually uses (RunInfo takes them from the live allocator).
  const header = createTraceHeader({
    device: info.device,
    allocator: {
      strategy: info.strategy,
      allocationSizes: { ...info.allocationSizes },
      debugSettings: info.debugSettings,
      bufferDeviceAddress: info.bufferDeviceAddress,
      budget: info.budget,
      resources: info.resources,
    },
    session: { scenario: info.scenario.name, params: info.params, seed: info.seed },
  });
  let writer: TraceWriter;
  try {
    writer = new TraceWriter(path, session.log, { header, flushIntervalMs: 0 });
  } catch (error) {
    throw new Error(`cannot write the trace ${path}: ${(error as Error).message}`);
  }
  return {
    append: () => writer.flush(),
    close: () => writer.close(),
  };
}
