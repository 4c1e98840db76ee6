// The API contract exercised through one transport. Written once; api-web.test.ts runs it over the web
// server (a real `vramscope serve` process) and api-ipc.test.ts over the IPC endpoint without Electron.
// Every result is checked against the contract's result schema on the client side.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ApiRequestError,
  requestNames,
  requests,
  type ApiErrorCode,
  type CaptureInfo,
  type EventName,
  type EventPayload,
  type RequestName,
  type RequestParams,
  type RequestResult,
  type RunInfo,
  type TraceSummary,
} from '../../src-main/api/contract.ts';
import { repoRoot, type ContractTransport, type TestClient } from './api-transports.ts';
import { analyzeTrace, planDefragmentationOfSnapshot } from '../../allocator/analysis/index.ts';
import { TraceEventKind } from '../../allocator/index.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { writeBigTrace } from './big-trace.ts';

export async function call<N extends RequestName>(
  client: TestClient,
  name: N,
  params: RequestParams<N>,
): Promise<RequestResult<N>> {
  const result = await client.api.request(name, params);
  const checked = requests[name].result.safeParse(result);
  if (!checked.success) throw new Error(`${name} broke its result schema: ${checked.error.message}`);
  return result;
}

export async function failure(promise: Promise<unknown>): Promise<{ code: ApiErrorCode; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiRequestError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the request succeeded but should have failed');
}

/** Params that fail each request's schema: an unknown key (every params object is strict). */
function invalidParamsFor(name: RequestName): unknown[] {
  const bad: unknown[] = [{ notAParam: 1 }, 42, 'text', [1, 2]];
  // Requests whose params are all optional accept {}; the others miss a required field.
  if (requests[name].params.safeParse({}).success === false) bad.push({});
  return bad;
}

export function defineContractSuite(
  makeTransport: () => Promise<ContractTransport> | ContractTransport,
): void {
  let transport: ContractTransport;
  let a: TestClient;
  let b: TestClient;

  beforeAll(async () => {
    transport = await makeTransport();
    a = await transport.connect();
    b = await transport.connect();
  });
  afterAll(async () => {
    await transport?.close();
  });

  describe('state', () => {
    test('getState lists sample traces with sizes and no open sources at start', async () => {
      const state = await call(a, 'getState', {});
      expect(state.sessions).toEqual([]);
      expect(state.traces).toEqual([]);
      expect(state.sampleTraces.length).toBeGreaterThan(0);
      for (const sample of state.sampleTraces) {
        expect(sample.name.endsWith('.trace')).toBe(true);
        expect(sample.fileId).toMatch(/^file-[A-Za-z0-9_-]{22}$/);
        expect(JSON.stringify(sample)).not.toContain(repoRoot);
        expect(sample.bytes).toBeGreaterThan(0);
      }
      // The same sample keeps its fileId from one getState to the next.
      expect((await call(b, 'getState', {})).sampleTraces).toEqual(state.sampleTraces);
    });
  });

  describe('invalid requests get typed error responses and never reach a handler', () => {
    test('every request rejects params that break its schema with InvalidRequest', async () => {
      let checked = 0;
      for (const name of requestNames) {
        for (const params of invalidParamsFor(name)) {
          const error = await failure(a.api.request(name, params as never));
          expect(error.code, `${name} with ${JSON.stringify(params)}`).toBe('InvalidRequest');
          expect(error.message).toContain(name);
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(requestNames.length * 4);
    });

    test('the message names the field that is wrong', async () => {
      const error = await failure(
        a.api.request('queryTimeline', { sourceId: 'trace-1', buckets: 0 } as RequestParams<'queryTimeline'>),
      );
      expect(error.code).toBe('InvalidRequest');
      expect(error.message).toContain('params.buckets');
    });

    test('sizes past 2^53 and non-integers are refused', async () => {
      for (const eventIndex of [2 ** 53, 1.5, -1, Number.NaN]) {
        const error = await failure(a.api.request('snapshotAt', { sourceId: 'trace-1', eventIndex }));
        expect(error.code).toBe('InvalidRequest');
      }
    });

    test('an unknown request name is UnknownRequest', async () => {
      const error = await failure(a.api.request('dropAllTables' as RequestName, {} as never));
      expect(error.code).toBe('UnknownRequest');
    });

    test('unknown sources, sessions and runs are NotFound', async () => {
      expect(
        (await failure(a.api.request('snapshotAt', { sourceId: 'trace-999', eventIndex: 0 }))).code,
      ).toBe('NotFound');
      expect((await failure(a.api.request('closeSession', { sessionId: 'session-999' }))).code).toBe(
        'NotFound',
      );
      expect((await failure(a.api.request('pauseRun', { runId: 'run-999' }))).code).toBe('NotFound');
    });
  });

  describe('clients', () => {
    test('two clients are answered independently and concurrently', async () => {
      const [x, y] = await Promise.all([call(a, 'getState', {}), call(b, 'getState', {})]);
      expect(x).toEqual(y);
    });
  });

  describe('devices and scenarios', () => {
    test('listDevices: the shipped profiles, the built-in models, and real devices or a reason', async () => {
      const list = await call(a, 'listDevices', {});
      expect(list.profiles.map((p) => p.name)).toEqual(
        expect.arrayContaining(['mesa-lavapipe', 'nvidia-h100-80gb-hbm3']),
      );
      expect(list.profiles.find((p) => p.name === 'nvidia-h100-80gb-hbm3')?.deviceName).toContain('H100');
      expect(list.builtinModels).toEqual(['d3d12-tier1', 'd3d12-tier2', 'metal']);
      if (list.devices.length === 0) expect(list.unavailableReason).toBeTruthy();
      else {
        expect(list.defaultIndex).not.toBeNull();
        for (const d of list.devices) expect(d.description.types.length).toBeGreaterThan(0);
      }
    });

    test('listScenarios: the seven built-ins with typed parameters', async () => {
      const { scenarios } = await call(a, 'listScenarios', {});
      expect(scenarios.map((s) => s.id).sort()).toEqual([
        'budget-overflow',
        'defragment',
        'fragmentation',
        'leaks',
        'replay-workload',
        'streaming',
        'transient-ring',
      ]);
      const ring = scenarios.find((s) => s.id === 'transient-ring')!;
      expect(ring.params.find((p) => p.name === 'frames')).toMatchObject({ type: 'integer', min: 1 });
    });
  });

  describe('traces', () => {
    let sample: { name: string; fileId: string; bytes: number };
    let leaksSample: { name: string; fileId: string; bytes: number };
    let trace: TraceSummary;

    beforeAll(async () => {
      const state = await call(a, 'getState', {});
      sample = state.sampleTraces.find((t) => t.name === 'streaming-h100.trace')!;
      leaksSample = state.sampleTraces.find((t) => t.name === 'leaks-lavapipe.trace')!;
      expect(sample).toBeDefined();
      expect(leaksSample).toBeDefined();
    });

    test('loadTrace by fileId: summary, progress events for its task, and the second client sees stateChanged', async () => {
      const seenByB = b.frames.length;
      trace = await call(a, 'loadTrace', {
        source: { kind: 'file', fileId: sample.fileId },
        taskId: 'load-sample',
      });
      expect(trace.name).toBe('streaming-h100.trace');
      expect(trace.device.name).toContain('H100');
      expect(trace.eventCount).toBeGreaterThan(1000);
      expect(trace.peakCommittedBytes).toBeGreaterThan(0);
      await expect
        .poll(
          () =>
            eventsOf(a, 'progress').filter((p) => p.taskId === 'load-sample' && p.phase === 'done').length,
        )
        .toBe(1);
      const phases = eventsOf(a, 'progress')
        .filter((p) => p.taskId === 'load-sample')
        .map((p) => p.phase);
      expect(phases[0]).toBe('start');
      expect(phases.at(-1)).toBe('done');
      await expect
        .poll(() =>
          b.frames
            .slice(seenByB)
            .some((f) =>
              f.frame.events.some(
                (e) =>
                  e.name === 'stateChanged' && e.payload.traces.some((t) => t.sourceId === trace.sourceId),
              ),
            ),
        )
        .toBe(true);
      const state = await call(b, 'getState', {});
      expect(state.traces.map((t) => t.sourceId)).toContain(trace.sourceId);
      expect(state.recentTraces[0]).toEqual({ name: sample.name, fileId: sample.fileId });
    });

    test('loadTrace by bytes (drag and drop) gives the same trace', async () => {
      const bytes = new Uint8Array(readFileSync(path.join(repoRoot, 'assets', 'traces', sample.name)));
      const dropped = await call(a, 'loadTrace', {
        source: { kind: 'bytes', name: 'dropped.trace', data: bytes },
      });
      expect(dropped.eventCount).toBe(trace.eventCount);
      expect(dropped.peakCommittedBytes).toBe(trace.peakCommittedBytes);
      expect(dropped.sourceId).not.toBe(trace.sourceId);
      expect(await call(a, 'closeTrace', { sourceId: dropped.sourceId })).toEqual({ ok: true });
      expect((await failure(a.api.request('closeTrace', { sourceId: dropped.sourceId }))).code).toBe(
        'NotFound',
      );
    });

    test('a file that is not a trace is Failed with one sentence; a fileId never granted is NotFound', async () => {
      const bad = await failure(
        a.api.request('loadTrace', {
          source: { kind: 'bytes', name: 'x.trace', data: new Uint8Array([1, 2, 3]) },
        }),
      );
      expect(bad.code).toBe('Failed');
      expect(bad.message).toContain('x.trace');
      const missing = await failure(
        a.api.request('loadTrace', { source: { kind: 'file', fileId: 'file-AAAAAAAAAAAAAAAAAAAAAA' } }),
      );
      expect(missing.code).toBe('NotFound');
    });

    test('queryTimeline: total, per heap and per type, at the asked resolution, ending at the final state', async () => {
      const end = await call(a, 'snapshotAt', { sourceId: trace.sourceId, eventIndex: trace.eventCount });
      for (const groupBy of ['total', 'heap', 'type'] as const) {
        const t = await call(a, 'queryTimeline', { sourceId: trace.sourceId, buckets: 300, groupBy });
        expect(t.buckets).toBe(300);
        expect(t.bucketStart).toHaveLength(300);
        expect(t.eventCount).toBe(trace.eventCount);
        const total = t.series.find((s) => s.key === -1)!;
        expect(total.committedLast.at(-1)).toBe(end.committedBytes);
        expect(Math.max(...total.committedMax)).toBe(trace.peakCommittedBytes);
        if (groupBy === 'heap') expect(t.series).toHaveLength(trace.device.heaps.length + 1);
        if (groupBy === 'type') expect(t.series).toHaveLength(trace.device.types.length + 1);
        for (let i = 1; i < t.bucketStart.length; i++)
          expect(t.bucketStart[i]).toBeGreaterThanOrEqual(t.bucketStart[i - 1]!);
      }
      const frames = await call(a, 'queryTimeline', {
        sourceId: trace.sourceId,
        buckets: 10,
        maxMarkers: 50,
      });
      expect(frames.markers.length).toBeGreaterThan(0);
      expect(frames.markers.length).toBeLessThanOrEqual(50);
      const zoom = await call(a, 'queryTimeline', {
        sourceId: trace.sourceId,
        startTime: trace.durationMs / 4,
        endTime: trace.durationMs / 2,
        buckets: 20,
      });
      expect(zoom.bucketStart[0]).toBeGreaterThanOrEqual(trace.durationMs / 4);
      expect(zoom.bucketFirstEvent[0]).toBeGreaterThan(0);
    });

    test('queryTimeline boundariesOnly: the same bucket edges as the full answer, without series, markers or budgets', async () => {
      for (const range of [{}, { startTime: trace.durationMs / 3, endTime: trace.durationMs * 0.9 }]) {
        for (const buckets of [1, 7, 300, trace.eventCount + 5]) {
          const full = await call(a, 'queryTimeline', { sourceId: trace.sourceId, buckets, ...range });
          const edges = await call(a, 'queryTimeline', {
            sourceId: trace.sourceId,
            buckets,
            boundariesOnly: true,
            ...range,
          });
          expect(full.series.length).toBeGreaterThan(0);
          expect(edges.series).toEqual([]);
          expect(edges.markers).toEqual([]);
          expect(edges.budgets).toEqual([]);
          const { series: _s, markers: _m, budgets: _b, ...fullEdges } = full;
          const { series: _s2, markers: _m2, budgets: _b2, ...onlyEdges } = edges;
          expect(onlyEdges).toEqual(fullEdges);
        }
      }
    });

    test('defragmentPlan: the engine plan at an index, moves capped by limit, bad options refused', async () => {
      const name = 'fragmentation-lavapipe.trace';
      const fragSample = (await call(a, 'getState', {})).sampleTraces.find((t) => t.name === name)!;
      const frag = await call(a, 'loadTrace', { source: { kind: 'file', fileId: fragSample.fileId } });
      // The same plan computed here from the file with allocator/analysis (what report --defrag prints).
      const file = loadTraceSync(path.join(repoRoot, 'assets', 'traces', name));
      const analysis = analyzeTrace(file.events, file.header.device);
      // The state before the scenario's teardown (at the end everything is freed: nothing to move).
      const c = file.events.columns;
      let teardown = -1;
      for (let i = 0; i < file.events.length && teardown < 0; i++)
        if (c.kind[i] === TraceEventKind.Mark && file.events.strings[c.name[i]!] === 'teardown') teardown = i;
      expect(teardown).toBeGreaterThan(0);
      for (const [at, algorithm] of [
        [teardown, 'full'],
        [Math.floor(frag.eventCount * 0.6), 'fast'],
      ] as const) {
        const expected = planDefragmentationOfSnapshot(analysis.snapshotAt(at), file.header.device, {
          algorithm,
        });
        const got = await call(a, 'defragmentPlan', { sourceId: frag.sourceId, eventIndex: at, algorithm });
        expect(got.eventIndex).toBe(at);
        expect(got.moveCount).toBe(expected.moves.length);
        expect(got.moves).toEqual(
          expected.moves.map((m) => ({
            allocationId: m.allocationId,
            name: m.name,
            memoryTypeIndex: m.memoryTypeIndex,
            size: m.size,
            fromBlock: m.fromBlock,
            fromOffset: m.fromOffset,
            toBlock: m.toBlock,
            toOffset: m.toOffset,
          })),
        );
        expect([got.bytesMoved, got.emptiedBlocks, got.blocksBefore, got.blocksAfter]).toEqual([
          expected.bytesMoved,
          expected.emptiedBlocks,
          expected.blocksBefore,
          expected.blocksAfter,
        ]);
        expect(got.fragmentationAfter).toBeCloseTo(expected.fragmentationAfter, 12);
      }
      const capped = await call(a, 'defragmentPlan', {
        sourceId: frag.sourceId,
        eventIndex: teardown,
        limit: 3,
      });
      expect(capped.moves).toHaveLength(3);
      expect(capped.moveCount).toBeGreaterThan(3);
      expect(capped.fragmentationAfter).toBeLessThan(capped.fragmentationBefore);
      // Without an index: the end, where the teardown freed everything.
      const end = await call(a, 'defragmentPlan', { sourceId: frag.sourceId });
      expect([end.eventIndex, end.moveCount]).toEqual([frag.eventCount, 0]);
      const bad = await failure(
        a.api.request('defragmentPlan', { sourceId: frag.sourceId, algorithm: 'balanced' as 'full' }),
      );
      expect(bad.code).toBe('InvalidRequest');
      await call(a, 'closeTrace', { sourceId: frag.sourceId });
    });

    test('snapshotAt: blocks hold their allocations and free gaps, and totals add up', async () => {
      const timeline = await call(a, 'queryTimeline', { sourceId: trace.sourceId, buckets: 1 });
      const peakAt = Math.floor(trace.eventCount / 2);
      const snap = await call(a, 'snapshotAt', { sourceId: trace.sourceId, eventIndex: peakAt });
      expect(snap.eventIndex).toBe(peakAt);
      let committed = 0;
      let allocated = 0;
      let count = 0;
      for (const block of snap.blocks) {
        committed += block.size;
        const used = block.allocations.reduce((s, x) => s + x.size, 0);
        expect(used).toBe(block.allocatedBytes);
        allocated += used;
        count += block.allocations.length;
        const free = block.freeRanges.reduce((s, r) => s + r.size, 0);
        expect(used + free).toBeLessThanOrEqual(block.size);
        for (const x of block.allocations) expect(x.offset + x.size).toBeLessThanOrEqual(block.size);
      }
      expect(committed).toBe(snap.committedBytes);
      expect(allocated).toBe(snap.allocatedBytes);
      expect(count).toBe(snap.allocationCount);
      expect(timeline.eventCount).toBe(trace.eventCount);
      const one = await call(a, 'snapshotAt', {
        sourceId: trace.sourceId,
        eventIndex: peakAt,
        blockIds: [snap.blocks[0]!.id],
      });
      expect(one.blocks).toHaveLength(1);
    });

    test('listAllocations: live + freed = all; sorted; paged', async () => {
      const at = Math.floor(trace.eventCount / 2);
      const count = async (status: 'live' | 'freed' | 'all'): Promise<number> =>
        (
          await call(a, 'listAllocations', {
            sourceId: trace.sourceId,
            eventIndex: at,
            filter: { status },
            limit: 1,
          })
        ).total;
      const [live, freed, all] = [await count('live'), await count('freed'), await count('all')];
      expect(live + freed).toBe(all);
      expect(all).toBeGreaterThan(0);
      const snap = await call(a, 'snapshotAt', { sourceId: trace.sourceId, eventIndex: at });
      expect(live).toBe(snap.allocationCount);
      const bySize = await call(a, 'listAllocations', {
        sourceId: trace.sourceId,
        filter: { status: 'all' },
        sort: { key: 'size', dir: 'desc' },
        limit: 50,
      });
      for (let i = 1; i < bySize.rows.length; i++)
        expect(bySize.rows[i]!.size).toBeLessThanOrEqual(bySize.rows[i - 1]!.size);
      const page2 = await call(a, 'listAllocations', {
        sourceId: trace.sourceId,
        filter: { status: 'all' },
        sort: { key: 'size', dir: 'desc' },
        offset: 25,
        limit: 25,
      });
      expect(page2.rows.map((r) => r.id)).toEqual(bySize.rows.slice(25, 50).map((r) => r.id));
      const type1 = await call(a, 'listAllocations', {
        sourceId: trace.sourceId,
        filter: { status: 'all', memoryTypeIndex: 1 },
      });
      for (const r of type1.rows) expect(r.memoryTypeIndex).toBe(1);
    });

    test('allocationDetail: the decision record that placed it, its origin and its history', async () => {
      const { rows } = await call(a, 'listAllocations', {
        sourceId: trace.sourceId,
        filter: { status: 'freed' },
        limit: 1,
      });
      const row = rows[0]!;
      const detail = await call(a, 'allocationDetail', { sourceId: trace.sourceId, allocationId: row.id });
      expect(detail.allocation.id).toBe(row.id);
      expect(detail.decision?.winner).toBe(row.memoryTypeIndex);
      expect(detail.decision?.reason.length).toBeGreaterThan(0);
      expect(detail.history[0]!.kind).toBe('allocate');
      expect(detail.history.at(-1)!.kind).toBe('free');
      expect(detail.stack).toMatch(/streaming\.mjs:\d+/);
      expect(
        (
          await failure(
            a.api.request('allocationDetail', { sourceId: trace.sourceId, allocationId: 987654321 }),
          )
        ).code,
      ).toBe('NotFound');
    });

    test('allocationBands: the allocations alive in a window, largest first, the rest summed', async () => {
      const e = Math.floor(trace.eventCount / 2);
      // A window of one event: exactly what is alive after it, as listAllocations ranks it by size.
      const live = await call(a, 'listAllocations', {
        sourceId: trace.sourceId,
        eventIndex: e + 1,
        filter: { status: 'live' },
        sort: { key: 'size', dir: 'desc' },
        limit: 5_000,
      });
      expect(live.total).toBeGreaterThan(3);
      expect(live.rows.length).toBe(live.total);
      // Ties: the earlier allocation first (listAllocations' desc reverses ties too).
      live.rows.sort((x, y) => y.size - x.size || x.allocatedAt - y.allocatedAt);
      const all = await call(a, 'allocationBands', {
        sourceId: trace.sourceId,
        startIndex: e,
        endIndex: e + 1,
        limit: 50_000,
        buckets: 1,
      });
      expect(all.alive).toBe(live.total);
      expect(Array.from(all.id)).toEqual(live.rows.map((r) => r.id));
      expect(Array.from(all.size)).toEqual(live.rows.map((r) => r.size));
      expect(Array.from(all.block)).toEqual(live.rows.map((r) => r.blockId));
      expect(Array.from(all.offset)).toEqual(live.rows.map((r) => r.offset));
      expect(Array.from(all.from)).toEqual(live.rows.map((r) => r.allocatedAt));
      for (let k = 0; k < all.to.length; k++) expect(all.to[k]).toBeGreaterThan(e);
      expect(Array.from(all.restMax)).toEqual([0]);
      const top = await call(a, 'allocationBands', {
        sourceId: trace.sourceId,
        startIndex: e,
        endIndex: e + 1,
        limit: 3,
        buckets: 1,
      });
      expect(Array.from(top.id)).toEqual(live.rows.slice(0, 3).map((r) => r.id));
      const snap = await call(a, 'snapshotAt', { sourceId: trace.sourceId, eventIndex: e + 1 });
      const shown = Array.from(top.size).reduce((x, y) => x + y, 0);
      expect(top.restMax[0]).toBe(snap.allocatedBytes - shown);
      // The whole trace: the rest series has the buckets asked for and ends at the end.
      const whole = await call(a, 'allocationBands', {
        sourceId: trace.sourceId,
        startIndex: 0,
        endIndex: trace.eventCount,
        limit: 10,
        buckets: 100,
      });
      expect(whole.id.length).toBe(Math.min(10, whole.alive));
      expect(whole.restMax.length).toBe(100);
      expect(whole.restBoundaries.at(-1)).toBe(trace.eventCount);
      expect(
        (
          await failure(
            a.api.request('allocationBands', { sourceId: trace.sourceId, startIndex: 5, endIndex: 2 }),
          )
        ).code,
      ).toBe('InvalidRequest');
    });

    test('searchAllocations: by block + offset and by stack-frame text', async () => {
      const every = await call(a, 'listAllocations', {
        sourceId: trace.sourceId,
        filter: { status: 'all' },
        limit: 5_000,
      });
      expect(every.rows.length).toBe(every.total);
      const row = every.rows[Math.floor(every.rows.length / 2)]!;
      const inside = row.offset + Math.floor(row.size / 2);
      const byAddress = await call(a, 'searchAllocations', {
        sourceId: trace.sourceId,
        address: `block ${row.blockId} + 0x${inside.toString(16)}`,
        limit: 1_000,
      });
      const holding = every.rows.filter(
        (r) => r.blockId === row.blockId && r.offset <= inside && inside < r.offset + Math.max(1, r.size),
      );
      expect(byAddress.total).toBe(holding.length);
      expect(byAddress.rows.map((r) => r.id)).toEqual(holding.map((r) => r.id));
      expect(byAddress.rows.map((r) => r.id)).toContain(row.id);
      const frame = /streaming\.mjs:\d+/.exec(row.origin ?? '')?.[0];
      if (!frame) throw new Error(`the sample's allocation has no streaming.mjs frame: ${row.origin}`);
      const byText = await call(a, 'searchAllocations', {
        sourceId: trace.sourceId,
        text: frame.toUpperCase(),
        limit: 1_000,
      });
      const withFrame = every.rows.filter((r) => (r.origin ?? '').includes(frame));
      expect(byText.total).toBe(withFrame.length);
      expect(byText.rows.map((r) => r.id)).toEqual(withFrame.slice(0, 1_000).map((r) => r.id));
      const bad = await failure(
        a.api.request('searchAllocations', { sourceId: trace.sourceId, address: 'somewhere' }),
      );
      expect(bad.code).toBe('InvalidRequest');
      expect(
        (await failure(a.api.request('searchAllocations', { sourceId: trace.sourceId } as never))).code,
      ).toBe('InvalidRequest');
    });

    test('leaks and diff on the leaks sample', async () => {
      const leaky = await call(a, 'loadTrace', { source: { kind: 'file', fileId: leaksSample.fileId } });
      const report = await call(a, 'leaks', { sourceId: leaky.sourceId, groupBy: 'origin' });
      expect(report.count).toBeGreaterThan(0);
      expect(report.groups.reduce((s, g) => s + g.count, 0)).toBe(report.count);
      expect(report.groups.reduce((s, g) => s + g.bytes, 0)).toBe(report.bytes);
      for (const groupBy of ['name', 'type'] as const) {
        const other = await call(a, 'leaks', { sourceId: leaky.sourceId, groupBy });
        expect(other.count).toBe(report.count);
      }
      const diff = await call(a, 'diff', {
        sourceId: leaky.sourceId,
        fromIndex: 0,
        toIndex: leaky.eventCount,
      });
      expect(diff.allocated.count).toBe(report.count);
      expect(diff.allocated.bytes).toBe(report.bytes);
      expect(diff.freed.count).toBe(0);
      expect(diff.perType.reduce((s, t) => s + t.allocatedDelta, 0)).toBe(report.bytes);
      expect(
        (await failure(a.api.request('diff', { sourceId: leaky.sourceId, fromIndex: 5, toIndex: 1 }))).code,
      ).toBe('InvalidRequest');
    });

    test('exportReport as text and JSON; setActiveSource', async () => {
      const text = await call(a, 'exportReport', { sourceId: trace.sourceId, format: 'text' });
      expect(text.content).toContain('NVIDIA H100');
      expect(text.fileName).toBe('streaming-h100-report.txt');
      const json = await call(a, 'exportReport', { sourceId: trace.sourceId, format: 'json' });
      expect(JSON.parse(json.content).summary.eventCount).toBe(trace.eventCount);
      // The JSON export is getReport's answer, whose shape the contract checks.
      const report = await call(a, 'getReport', { sourceId: trace.sourceId });
      expect(JSON.parse(json.content)).toEqual(JSON.parse(JSON.stringify(report)));
      expect(await call(a, 'setActiveSource', { sourceId: trace.sourceId })).toEqual({ ok: true });
      expect((await failure(a.api.request('setActiveSource', { sourceId: 'trace-404' }))).code).toBe(
        'NotFound',
      );
    });

    test('importFile: a D3D12MA dump, a PyTorch snapshot and an RMV trace become sources; a non-dump is Failed', async () => {
      const fixtures = path.join(repoRoot, 'tests', 'fixtures', 'import');
      const d3dId = await transport.grantFile(path.join(fixtures, 'd3d12ma-tier2-utf16.json'), a);
      const d3d = await call(a, 'importFile', { source: { kind: 'file', fileId: d3dId } });
      expect(d3d.device.api).toBe('d3d12');
      expect(d3d.allocationCount).toBeGreaterThan(0);
      const snap = await call(a, 'snapshotAt', { sourceId: d3d.sourceId, eventIndex: d3d.eventCount });
      expect(snap.allocationCount).toBeGreaterThan(0);
      const bytes = new Uint8Array(readFileSync(path.join(fixtures, 'pytorch-ringbuffer-2dev-p4.pickle')));
      const torch = await call(a, 'importFile', {
        source: { kind: 'bytes', name: 'snap.pickle', data: bytes },
        format: 'pytorch',
      });
      expect(torch.eventCount).toBeGreaterThan(0);
      // An RMV trace (AMD's sample, RDF container) through the same path as the UI's drop: format detected.
      const rmvId = await transport.grantFile(path.join(fixtures, 'rmv-amd-sample-rdf.rmv'), a);
      const rmv = await call(a, 'importFile', { source: { kind: 'file', fileId: rmvId } });
      expect(rmv.device.name).toBe('AMD Radeon RX 6600');
      const rmvExpected = JSON.parse(
        readFileSync(path.join(fixtures, 'rmv-amd-sample-rdf.rmv.expected.json'), 'utf8'),
      ) as { allocations: number };
      const rmvEnd = await call(a, 'snapshotAt', { sourceId: rmv.sourceId, eventIndex: rmv.eventCount });
      expect(rmvEnd.allocationCount).toBe(rmvExpected.allocations);
      const bad = await failure(
        a.api.request('importFile', { source: { kind: 'file', fileId: sample.fileId } }),
      );
      expect(bad.code).toBe('Failed');
    });

    test('a large trace loads with progress events while other requests are answered', async () => {
      const big = writeBigTrace(400_000);
      const taskId = 'load-big';
      const bigId = await transport.grantFile(big, a);
      const loading = call(a, 'loadTrace', { source: { kind: 'file', fileId: bigId }, taskId });
      let answeredDuring = 0;
      let loaded = false;
      void loading.then(() => (loaded = true));
      const latencies: number[] = [];
      while (!loaded) {
        // Paced like a UI polling; also lets an in-process transport's event loop breathe.
        await new Promise((r) => setTimeout(r, 10));
        const t0 = performance.now();
        await call(b, 'getState', {});
        latencies.push(performance.now() - t0);
        if (!loaded) answeredDuring++;
      }
      const summary = await loading;
      expect(summary.eventCount).toBeGreaterThan(390_000);
      // Events travel in the next flush after the response: wait for the task's last one.
      await expect
        .poll(() => eventsOf(a, 'progress').some((p) => p.taskId === taskId && p.phase === 'done'))
        .toBe(true);
      const progress = eventsOf(a, 'progress').filter((p) => p.taskId === taskId);
      expect(progress[0]!.phase).toBe('start');
      expect(progress.at(-1)!.phase).toBe('done');
      const middle = progress.filter((p) => p.phase === 'progress');
      expect(middle.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < middle.length; i++)
        expect(middle[i]!.done).toBeGreaterThanOrEqual(middle[i - 1]!.done);
      expect(answeredDuring).toBeGreaterThan(0);
      console.log(
        `[${transport.name}] big trace: ${summary.eventCount} events loaded in ${summary.loadMs.toFixed(0)} ms; ${answeredDuring} getState answered meanwhile, slowest ${Math.max(...latencies).toFixed(0)} ms`,
      );
    });
  });

  describe('sessions and runs', () => {
    let sessionId: string;

    test('openSession on a profile; a bad profile name is refused', async () => {
      const session = await call(a, 'openSession', { device: { kind: 'profile', name: 'lavapipe' } });
      sessionId = session.sessionId;
      expect(session.sourceId).toBe(sessionId);
      expect(session.device.name).toContain('llvmpipe');
      expect(session.run).toBeNull();
      expect(
        (await failure(a.api.request('openSession', { device: { kind: 'profile', name: 'no-such-gpu' } })))
          .code,
      ).toBe('NotFound');
      expect(
        (
          await failure(
            a.api.request('openSession', { device: { kind: 'profile', name: '../../etc/passwd' } }),
          )
        ).code,
      ).toBe('InvalidRequest');
      const d3d = await call(a, 'openSession', { device: { kind: 'builtin', model: 'd3d12-tier1' } });
      expect(d3d.device.api).toBe('d3d12');
      await call(a, 'closeSession', { sessionId: d3d.sessionId });
    });

    test('runScenario paused, step exactly N ops, resume to the end; both clients get the same events', async () => {
      const run = await call(a, 'runScenario', {
        sessionId,
        scenario: 'transient-ring',
        params: { frames: 20 },
        seed: 1,
        startPaused: true,
      });
      expect(run.state).toBe('paused');
      const paused = await call(a, 'pauseRun', { runId: run.runId });
      expect(paused.state).toBe('paused');
      const stepped = await call(a, 'stepRun', { runId: run.runId, ops: 3 });
      expect(stepped.opsDone).toBe(paused.opsDone + 3);
      expect((await failure(a.api.request('stepRun', { runId: run.runId, ops: 0 }))).code).toBe(
        'InvalidRequest',
      );
      await call(a, 'resumeRun', { runId: run.runId });
      await expect.poll(() => lastRunState(a, run.runId)?.state, { timeout: 20_000 }).toBe('finished');
      await expect.poll(() => lastRunState(b, run.runId)?.state, { timeout: 5_000 }).toBe('finished');
      const state = await call(a, 'getState', {});
      const info = state.sessions.find((s) => s.sessionId === sessionId)!;
      await expect.poll(() => sessionEventCount(a, run.runId), { timeout: 5_000 }).toBe(info.eventCount);
      expect(sessionEventCount(b, run.runId)).toBe(info.eventCount);
      expect((await failure(a.api.request('resumeRun', { runId: run.runId }))).code).toBe('InvalidState');
      // The recording answers the same queries as a trace.
      const t = await call(a, 'queryTimeline', { sourceId: sessionId, buckets: 50, groupBy: 'type' });
      expect(t.eventCount).toBe(info.eventCount);
      const leaks = await call(a, 'leaks', { sourceId: sessionId });
      expect(leaks.count).toBe(0);
    });

    test('script parameters are checked before the run starts; unknown scenarios are NotFound', async () => {
      expect(
        (
          await failure(
            a.api.request('runScenario', { sessionId, scenario: 'transient-ring', params: { frames: -5 } }),
          )
        ).code,
      ).toBe('InvalidRequest');
      expect(
        (await failure(a.api.request('runScenario', { sessionId, scenario: 'nope', params: {} }))).code,
      ).toBe('NotFound');
      expect(
        (await failure(a.api.request('runScenario', { sessionId, scenario: '/tmp/evil.mjs', params: {} })))
          .code,
      ).toBe('NotFound');
    });

    // The ≤ 30 frames/s bound is the sender's (EventBatcher, tested on a fake clock in event-batcher.test.ts):
    // arrival times depend on the transport and the machine's load, so here the rate is only printed.
    test('an allocation storm reaches the clients coalesced: one slice per session per frame, nothing lost', async () => {
      const firstFrame = a.frames.length;
      const run = await call(a, 'runScenario', {
        sessionId,
        scenario: 'transient-ring',
        params: { frames: 4000 },
        seed: 2,
      });
      expect(
        (await failure(a.api.request('runScenario', { sessionId, scenario: 'leaks', params: {} }))).code,
      ).toBe('InvalidState');
      await expect
        .poll(() => lastRunState(a, run.runId)?.state, { timeout: 50_000, interval: 200 })
        .toBe('finished');
      // Every recorded event arrives: the slices add up to the session's count (no sleep-and-hope).
      const recorded = (await call(a, 'getState', {})).sessions.find(
        (s) => s.sessionId === sessionId,
      )!.eventCount;
      await expect
        .poll(() => sessionEventCount(a, run.runId), { timeout: 10_000, interval: 50 })
        .toBe(recorded);
      const frames = a.frames.slice(firstFrame);
      const events = sessionEventCount(a, run.runId);
      expect(events).toBeGreaterThan(50_000);
      const slicesPerFrame = frames.map(
        (f) =>
          f.frame.events.filter(
            (e) => e.name === 'sessionEvents' && (e.payload as { runId: string }).runId === run.runId,
          ).length,
      );
      expect(Math.max(...slicesPerFrame)).toBe(1);
      // Coalesced: far fewer messages than events (a frame per allocator event would be > 50,000).
      expect(slicesPerFrame.filter((n) => n === 1).length).toBeLessThan(events / 100);
      const seconds = (frames.at(-1)!.at - frames[0]!.at) / 1000;
      console.log(
        `[${transport.name}] storm: ${events} allocator events in ${frames.length} messages over ${seconds.toFixed(2)} s = ${((frames.length - 1) / seconds).toFixed(1)} messages/s received`,
      );
    });

    test('cancel a long run; closeSession', async () => {
      const run = await call(a, 'runScenario', {
        sessionId,
        scenario: 'transient-ring',
        params: { frames: 1_000_000 },
      });
      await new Promise((r) => setTimeout(r, 300));
      const cancelled = await call(a, 'cancelRun', { runId: run.runId });
      expect(cancelled.state).toBe('cancelled');
      expect((await failure(a.api.request('cancelRun', { runId: run.runId }))).code).toBe('InvalidState');
      expect(await call(a, 'closeSession', { sessionId })).toEqual({ ok: true });
      expect((await failure(a.api.request('queryTimeline', { sourceId: sessionId, buckets: 5 }))).code).toBe(
        'NotFound',
      );
    });
  });
}

function eventsOf<E extends EventName>(client: TestClient, name: E): EventPayload<E>[] {
  const out: EventPayload<E>[] = [];
  for (const f of client.frames)
    for (const e of f.frame.events) if (e.name === name) out.push(e.payload as EventPayload<E>);
  return out;
}

function lastRunState(client: TestClient, runId: string): RunInfo | undefined {
  return eventsOf(client, 'runState')
    .filter((r) => r.runId === runId)
    .at(-1);
}

function sessionEventCount(client: TestClient, runId: string): number {
  let expectedStart = 0;
  let n = 0;
  for (const batch of eventsOf(client, 'sessionEvents')) {
    if (batch.runId !== runId) continue;
    // Slices of one run are contiguous and in order.
    if (batch.start !== expectedStart)
      throw new Error(`slice starts at ${batch.start}, expected ${expectedStart}`);
    expectedStart += batch.count;
    n += batch.count;
    if (batch.columns.kind.length !== batch.count) throw new Error('slice columns do not match its count');
  }
  return n;
}

// ---- Captures (issue 10) ------------------------------------------------------------------------------

/** The layer's test program (native/layer/test-app), relative to the repository root (the servers' cwd). */
export const captureTestApp = path.join('native', 'layer', 'build', 'capture-test-app');

/** What the test program reports about itself (its JSON on stdout): the blocks it allocates. */
export function captureTestAppBlocks(
  args: readonly string[],
): { size: number; name: string; freed: boolean }[] {
  const out = execFileSync(path.join(repoRoot, captureTestApp), [...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 120_000,
  });
  return (JSON.parse(out) as { memory: { size: number; name: string; freed: boolean }[] }).memory;
}

/** Resolves with the first captureState of `captureId` that `done` accepts (or throws after 120 s). */
export function captureStateWhere(
  client: TestClient,
  captureId: string,
  done: (info: CaptureInfo) => boolean,
): Promise<CaptureInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`capture ${captureId}: the awaited state never came`));
    }, 120_000);
    const off = client.api.on('captureState', (info) => {
      if (info.captureId !== captureId || !done(info)) return;
      clearTimeout(timer);
      off();
      resolve(info);
    });
  });
}

/**
 * startCapture/stopCapture through one transport whose server allows captures (desktop app; serve
 * --allow-capture). Runs the layer's C test program: its blocks (sizes from the program's own report)
 * appear in the capture's live source, its exit is reported, and the events carry the capture columns.
 */
export function defineCaptureContractSuite(
  makeTransport: () => Promise<ContractTransport> | ContractTransport,
): void {
  let transport: ContractTransport;
  let a: TestClient;
  const args = ['--threads', '2', '--per-thread', '2', '--leak-memory', '1'];
  let expected: { size: number; name: string; freed: boolean }[] = [];

  beforeAll(async () => {
    execFileSync('make', ['-C', path.join(repoRoot, 'native', 'layer'), '--quiet'], {
      stdio: 'pipe',
      timeout: 240_000,
    });
    expected = captureTestAppBlocks(args);
    transport = await makeTransport();
    a = await transport.connect();
  }, 300_000);
  afterAll(async () => {
    await transport?.close();
  });

  test('listCaptures: starting is allowed here', async () => {
    const list = await call(a, 'listCaptures', {});
    expect(list.canStart).toBe(true);
    expect(list.startRefusal).toBeNull();
  });

  test('startCapture runs the test program: its blocks, its exit and the capture columns reach the client', async () => {
    const slices: EventPayload<'sessionEvents'>[] = [];
    const offEvents = a.api.on('sessionEvents', (e) => slices.push(e));
    const started = await call(a, 'startCapture', { command: [captureTestApp, ...args] });
    expect(started.state).toBe('running');
    expect(started.origin).toBe('started');
    expect(started.command).toEqual([captureTestApp, ...args]);
    const ended = await captureStateWhere(a, started.captureId, (i) => i.state !== 'running');
    offEvents();
    expect(ended.state).toBe('exited');
    expect(ended.exitCode).toBe(0);
    expect(ended.tracks).toHaveLength(1);
    const sourceId = ended.tracks[0]!.sourceId;
    // The live source answers like any other: every vkAllocateMemory of the program is a block.
    const report = await call(a, 'getReport', { sourceId });
    expect(report.summary.counts.blocksCreated).toBe(expected.length);
    expect(report.summary.counts.blocksDestroyed).toBe(expected.filter((m) => m.freed).length);
    const end = await call(a, 'snapshotAt', { sourceId, eventIndex: report.summary.eventCount });
    expect(end.blocks.map((b) => b.size).sort((x, y) => x - y)).toEqual(
      expected
        .filter((m) => !m.freed)
        .map((m) => m.size)
        .sort((x, y) => x - y),
    );
    const leaks = await call(a, 'leaks', { sourceId, groupBy: 'origin' });
    expect((leaks.problems ?? []).filter((p) => p.kind === 'memory-not-freed')).toHaveLength(
      expected.filter((m) => !m.freed).length,
    );
    // sessionEvents of the track: contiguous from 0, with the calling threads.
    const mine = slices.filter((s) => s.sessionId === sourceId);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((s) => s.runId === started.captureId)).toBe(true);
    let next = 0;
    let threads = 0;
    for (const s of mine) {
      expect(s.start).toBe(next);
      next += s.count;
      for (const t of s.columns.thread) if (t !== 0) threads++;
    }
    expect(next).toBe(report.summary.eventCount);
    expect(threads).toBeGreaterThan(0);
    const list = await call(a, 'listCaptures', {});
    expect(list.captures.find((c) => c.captureId === started.captureId)?.state).toBe('exited');
  }, 180_000);

  test('stopCapture ends a running program (SIGTERM: exit 143); a missing program is reported as failed', async () => {
    const started = await call(a, 'startCapture', { command: [captureTestApp, '--pause-ms', '60000'] });
    await captureStateWhere(a, started.captureId, (i) => i.tracks.length > 0);
    const stopped = await call(a, 'stopCapture', { captureId: started.captureId });
    expect(stopped.captureId).toBe(started.captureId);
    const ended = await captureStateWhere(a, started.captureId, (i) => i.state !== 'running');
    expect(ended.state).toBe('exited');
    expect(ended.signal).toBe('SIGTERM');
    expect(ended.exitCode).toBe(143);
    expect((await failure(a.api.request('stopCapture', { captureId: started.captureId }))).code).toBe(
      'InvalidState',
    );
    const missing = await call(a, 'startCapture', { command: ['./no-such-program-vramscope'] });
    const failed = await captureStateWhere(a, missing.captureId, (i) => i.state !== 'running');
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/no such program/);
  }, 180_000);
}
