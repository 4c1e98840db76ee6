// A large, well-formed trace for load-progress tests, written fast: one block per memory type pool and a
// rolling window of allocations (allocate k, free k - window), through the real EventLog and TraceWriter.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AllocationKind, EventLog } from '../../allocator/index.ts';
import { loadProfile } from '../../src-main/session/open-device.ts';
import { createTraceHeader } from '../../src-main/trace/header.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { repoRoot } from './api-transports.ts';

/** Writes a trace of about `events` events on the lavapipe profile; returns its path. */
export function writeBigTrace(events: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vramscope-big-'));
  const file = path.join(dir, 'big.trace');
  const device = loadProfile('lavapipe', repoRoot);
  let t = 0;
  const log = new EventLog({ initialCapacity: events + 16, clock: () => (t += 0.01) });
  const blockSize = 256 * 1024 * 1024;
  const slot = 64 * 1024;
  const window = 1000;
  log.blockCreate({ blockId: 1, memoryTypeIndex: 0, size: blockSize, dedicated: false });
  let id = 1;
  while (log.length < events - 2) {
    log.allocate({
      allocationId: id,
      blockId: 1,
      memoryTypeIndex: 0,
      offset: (id % (window * 2)) * slot,
      size: slot / 2,
      alignment: 256,
      kind: AllocationKind.Linear,
      location: 'GpuOnly',
      name: `buf ${id % 97}`,
      decisionId: -1,
      usedRetry: false,
      stack: 'big-trace.ts:30 [bulk]',
    });
    if (id > window) log.free(id - window);
    if (id % 500 === 0) log.frame(id / 500);
    id++;
  }
  const writer = new TraceWriter(file, log, { header: createTraceHeader({ device }), flushIntervalMs: 0 });
  writer.close();
  return file;
}
