// The analysis of an import's timeline made on another thread while the importer writes it
// (src-main/import/analysis-follower.ts, analysis-worker.ts): a real PyTorch snapshot imported as the web
// server's trace worker imports it (shared columns, a real worker thread), its analysis handed over and
// taken up, equals the analysis made on the importing thread afterwards. The same for a trace file analysed
// while it is decoded (loadTrace's follower).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TraceAnalysis, analyzeTrace } from '../../allocator/analysis/index.ts';
import { importSource, type ImportResult } from '../../allocator/import/index.ts';
import { traceEventsOf } from '../../allocator/trace/index.ts';
import {
  AnalysisFollower,
  followMinEvents,
  stopAnalysisThread,
} from '../../src-main/import/analysis-follower.ts';
import { fileSource } from '../../src-main/import/file-source.ts';
import { PrefaultedImportMemory } from '../../src-main/import/prefault.ts';
import { createTraceHeader } from '../../src-main/trace/header.ts';
import { loadTrace } from '../../src-main/trace/reader.ts';
import { TraceWriter } from '../../src-main/trace/writer.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';
import { generateWorkload, testDevice } from '../support/trace-fixtures.ts';

let dir: string;
let file: string;
let traceFile: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vramscope-follower-'));
  file = path.join(dir, 'training.pickle');
  writeTrainingPickle(file, simulateTraining({ entries: 150_000, layers: 2, hidden: 256, batch: 2 }));
  // Frames, marks, budget samples, failures with names and stacks: strings in many of its chunks.
  traceFile = path.join(dir, 'workload.trace');
  const log = generateWorkload({ events: 100_000, seed: 17, liveTarget: 500 });
  new TraceWriter(traceFile, log, {
    header: createTraceHeader({ device: testDevice }),
    flushIntervalMs: 0,
  }).close();
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await stopAnalysisThread();
});

/** Imports `file` as the trace worker does, a follower on the timeline's log. */
async function importFollowed(): Promise<{ result: ImportResult; follower: AnalysisFollower | null }> {
  const memory = new PrefaultedImportMemory(() => undefined);
  let follower = null as AnalysisFollower | null;
  const result = await importSource(await fileSource(file, {}), {
    entryMemory: memory.entryMemory,
    eventLog: (options, device) => {
      const log = memory.eventLog(options);
      follower ??= new AnalysisFollower();
      follower.follow(log, device, options.initialCapacity ?? 0);
      return log;
    },
  });
  return { result, follower };
}

describe('an import analysed while it is written', () => {
  test('the analysis taken up from the thread equals the one made here afterwards', async () => {
    const { result, follower } = await importFollowed();
    if (!follower) throw new Error('the importer made no timeline log');
    expect(follower.log).toBe(result.log);
    // Large enough that the trace worker follows it.
    expect(result.log.length).toBeGreaterThanOrEqual(followMinEvents);
    const parts = await follower.finish();
    if (!parts) throw new Error('the analysis thread handed nothing over');
    const events = traceEventsOf(result.log);
    const here = TraceAnalysis.fromParts(events, result.header.device, parts);
    expect(here.eventCount).toBe(events.length);
    expect(here.extend()).toBe(0);
    const once = analyzeTrace(events, result.header.device);
    expect(here.summary).toEqual(once.summary);
    expect(here.summary.counts.allocations).toBeGreaterThan(10_000);
    const n = events.length;
    for (const [a, b, buckets] of [
      [0, n, 1190],
      [1000, Math.floor(n / 2), 300],
      [n - 100, n, 100],
    ] as const) {
      const x = here.timeline.query(a, b, buckets, 'heap');
      const y = once.timeline.query(a, b, buckets, 'heap');
      expect(x.total).toEqual(y.total);
      expect(x.series).toEqual(y.series);
    }
    for (const at of [0, 5000, Math.floor(n / 3), n - 1, n])
      expect(here.snapshotAt(at)).toEqual(once.snapshotAt(at));
    expect(here.leaksAt()).toEqual(once.leaksAt());
  }, 60_000);

  test('one thread serves imports in turn; a thread that was stopped is replaced by the next import', async () => {
    // Two imports on the running thread, then one after it was stopped.
    for (const stopFirst of [false, false, true]) {
      if (stopFirst) await stopAnalysisThread();
      const { result, follower } = await importFollowed();
      const parts = await follower?.finish();
      if (!parts) throw new Error('the analysis thread handed nothing over');
      expect(parts.state.eventIndex).toBe(result.log.length);
    }
  }, 60_000);

  test('closed before it finishes (a failed or cancelled import), or following no log: nothing is handed over', async () => {
    const { follower } = await importFollowed();
    if (!follower) throw new Error('the importer made no timeline log');
    follower.close();
    expect(await follower.finish()).toBeNull();
    // Started for an import that made no timeline log (or a small one): nothing either.
    expect(await new AnalysisFollower().finish()).toBeNull();
  }, 60_000);
});

describe('a trace analysed while it is decoded', () => {
  test('the analysis taken up from the thread equals the one made after the load', async () => {
    let follower = null as AnalysisFollower | null;
    const batches: number[] = [];
    const loaded = await loadTrace(traceFile, {
      follower: {
        start: (events, device, expected) => {
          expect(device).toEqual(testDevice);
          expect(expected).toBeGreaterThanOrEqual(followMinEvents);
          follower = new AnalysisFollower();
          follower.start(events, device, expected);
          return true;
        },
        advance: (final) => {
          batches.push(final);
          follower?.advance(final);
        },
      },
    });
    if (!follower) throw new Error('the load started no follower');
    const events = loaded.events;
    // One batch per chunk of 16,384 events, each further than the last.
    expect(batches.length).toBe(Math.ceil(events.length / 16_384));
    expect(batches.at(-1)).toBe(events.length);
    const parts = await (follower as AnalysisFollower).finish();
    if (!parts) throw new Error('the analysis thread handed nothing over');
    const here = TraceAnalysis.fromParts(events, testDevice, parts);
    expect(here.extend()).toBe(0);
    const once = analyzeTrace(events, testDevice);
    // The failures' names and stacks are strings of the trace's string table: they came across.
    expect(here.summary).toEqual(once.summary);
    expect(here.summary.failures.length).toBeGreaterThan(10);
    expect(Array.from(here.markedEvents())).toEqual(Array.from(once.markedEvents()));
    const n = events.length;
    for (const [a, b, buckets] of [
      [0, n, 1190],
      [777, Math.floor(n / 2), 300],
    ] as const) {
      const x = here.timeline.query(a, b, buckets, 'type');
      const y = once.timeline.query(a, b, buckets, 'type');
      expect(x.total).toEqual(y.total);
      expect(x.series).toEqual(y.series);
    }
    for (const at of [0, 20_000, n]) expect(here.snapshotAt(at)).toEqual(once.snapshotAt(at));
    expect(here.leaksAt()).toEqual(once.leaksAt());
  }, 60_000);

  test('a follower that declines is told nothing more, and the trace loads as without one', async () => {
    let advanced = 0;
    const loaded = await loadTrace(traceFile, {
      follower: { start: () => false, advance: () => advanced++ },
    });
    expect(advanced).toBe(0);
    const plain = await loadTrace(traceFile);
    expect(loaded.events.length).toBe(plain.events.length);
    expect(Array.from(loaded.events.columns.size)).toEqual(Array.from(plain.events.columns.size));
  }, 60_000);
});
