// The inspector's API source (src-renderer/data/api-source.ts) over the real backend (AppBackend behind
// the IPC endpoint, frames structured-cloned as Electron does): a shipped trace opened by path answers
// the overview with the numbers of `report --json`, and timeline buckets, snapshots, pages, details,
// leaks and diffs agree with each other and with the trace file itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ApiSource } from '../../src-renderer/data/api-source.ts';
import { maxUploadChunkBytes } from '../../src-main/api/contract.ts';
import { defaultAllocationQuery } from '../../src-renderer/data/source.ts';
import { loadTraceSync } from '../../src-main/trace/reader.ts';
import { ipcLikeTransport } from '../support/api-transports.ts';
import type { TestClient } from '../support/api-transports.ts';
import { realVmaSample } from '../support/import-fixtures.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';
import type { FirstTimelineView, LoadProgress, PickedFile } from '../../src-renderer/data/source.ts';
import { repoRoot } from '../support/ui-trace.ts';

const fixture = path.join(repoRoot, 'assets', 'traces', 'streaming-h100.trace');
let transport: ReturnType<typeof ipcLikeTransport>;
let client: TestClient;
let source: ApiSource;

beforeAll(async () => {
  transport = ipcLikeTransport();
  client = await transport.connect();
  source = new ApiSource(client.api);
  await source.loadTraceFile(transport.backend.grantFile(fixture, 'command-line').fileId);
}, 60_000);

afterAll(async () => {
  client?.close();
  await transport?.close();
});

describe('ApiSource over the real backend', () => {
  test('the overview carries the numbers report --json prints for the same file', async () => {
    const r = spawnSync(process.execPath, ['bin/vramscope.mjs', 'report', fixture, '--json'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as {
      summary: {
        eventCount: number;
        counts: { allocations: number; frees: number; failures: number; blocksCreated: number };
        total: { peakCommitted: { bytes: number; eventIndex: number }; peakAllocated: { bytes: number } };
        heaps: { index: number; peakCommitted: { bytes: number }; final: { committed: number } }[];
      };
      leaks: { count: number; bytes: number };
    };
    const o = await source.overview();
    if (!o) throw new Error('no overview');
    const s = report.summary;
    expect(o.eventCount).toBe(s.eventCount);
    expect(o.allocationCount).toBe(s.counts.allocations);
    expect(o.freeCount).toBe(s.counts.frees);
    expect(o.failureCount).toBe(s.counts.failures);
    expect(o.blockCount).toBe(s.counts.blocksCreated);
    expect(o.peakCommittedBytes).toBe(s.total.peakCommitted.bytes);
    expect(o.peakAllocatedBytes).toBe(s.total.peakAllocated.bytes);
    expect(o.liveAllocationsAtEnd).toBe(report.leaks.count);
    for (const h of s.heaps) {
      expect(o.heaps[h.index]?.peakCommittedBytes).toBe(h.peakCommitted.bytes);
      expect(o.heaps[h.index]?.committedBytesAtEnd).toBe(h.final.committed);
    }
    // The cursor the overview offers for the peak shows exactly the peak's bytes.
    expect((await source.snapshot(o.peakCommittedAt)).committedBytes).toBe(s.total.peakCommitted.bytes);
  });

  test('timeline buckets cover the range in event order and bound every snapshot inside them', async () => {
    const o = await source.overview();
    if (!o) throw new Error('no overview');
    const start = Math.floor(o.eventCount / 4);
    const end = Math.floor((3 * o.eventCount) / 4);
    const b = await source.timeline({ start, end, buckets: 200, groupBy: 'heap' });
    expect(b.count).toBeGreaterThan(0);
    expect(b.count).toBeLessThanOrEqual(200);
    expect(b.groups).toHaveLength(o.heaps.length);
    for (let k = 1; k <= b.count; k++)
      expect(b.firstEvent[k]).toBeGreaterThanOrEqual(b.firstEvent[k - 1] ?? 0);
    // A snapshot after an event of bucket k never holds more than the bucket's maximum.
    for (const k of [0, Math.floor(b.count / 2), b.count - 1]) {
      const first = b.firstEvent[k] ?? 0;
      const next = b.firstEvent[k + 1] ?? first;
      if (next <= first) continue;
      const snap = await source.snapshot(first + 1);
      expect(snap.committedBytes).toBeLessThanOrEqual(b.committedTotal[k] ?? 0);
      expect(snap.allocatedBytes).toBeLessThanOrEqual(b.allocatedTotal[k] ?? 0);
    }
  });

  test("pages, details and snapshots agree; the decision is the trace file's own record", async () => {
    const o = await source.overview();
    if (!o) throw new Error('no overview');
    const at = o.peakCommittedAt;
    const snap = await source.snapshot(at);
    const liveInSnapshot = snap.blocks.reduce((n, blk) => n + blk.allocations.length, 0);
    const page = await source.allocations({ ...defaultAllocationQuery, liveAt: at, limit: 50 });
    expect(page.total).toBe(liveInSnapshot);
    const row = page.rows[0];
    if (!row) throw new Error('no rows');
    const detail = await source.allocation(row.id);
    expect(detail?.allocation.id).toBe(row.id);
    const trace = loadTraceSync(fixture);
    const c = trace.events.columns;
    let decisionId = -1;
    for (let i = 0; i < trace.events.length; i++)
      if (c.kind[i] === 1 && c.id[i] === row.id) decisionId = c.decision[i] ?? -1;
    expect(detail?.decision?.reason).toBe(trace.events.decisions[decisionId]?.reason);
    expect(detail?.decision?.winner).toBe(row.memoryTypeIndex);
    const sorted = await source.allocations({
      ...defaultAllocationQuery,
      sort: 'size',
      descending: true,
      limit: 20,
    });
    for (let i = 1; i < sorted.rows.length; i++)
      expect(sorted.rows[i - 1]?.size).toBeGreaterThanOrEqual(sorted.rows[i]?.size ?? 0);
  });

  test('leaks and diffs: what appeared minus what disappeared is the change in allocated bytes', async () => {
    const o = await source.overview();
    if (!o) throw new Error('no overview');
    const a = Math.floor(o.eventCount / 5);
    const b = o.peakAllocatedAt;
    const [sa, sb, d, back] = await Promise.all([
      source.snapshot(a),
      source.snapshot(b),
      source.diff(a, b),
      source.diff(b, a),
    ]);
    expect(d.appeared.bytes - d.disappeared.bytes).toBe(sb.allocatedBytes - sa.allocatedBytes);
    expect(back.appeared.count).toBe(d.disappeared.count);
    expect(back.disappeared.count).toBe(d.appeared.count);
    const leaks = await source.leaks(b, 'name');
    expect(leaks.count).toBe(sb.blocks.reduce((n, blk) => n + blk.allocations.length, 0));
    expect(leaks.bytes).toBe(sb.allocatedBytes);
  });
});

describe('one report: the CLI and the API', () => {
  test("report --json is the API's getReport for the same file, plus the CLI's own fields", async () => {
    const r = spawnSync(process.execPath, ['bin/vramscope.mjs', 'report', fixture, '--json'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const { file, header, complete, performance, ...cliReport } = JSON.parse(r.stdout) as Record<
      string,
      unknown
    >;
    expect([file, header, complete, performance].every((v) => v !== undefined)).toBe(true);
    const sourceId = (await client.api.request('getState', {})).traces.find((t) =>
      t.name.endsWith('streaming-h100.trace'),
    )?.sourceId;
    if (!sourceId) throw new Error('the fixture is not loaded');
    const apiReport = await client.api.request('getReport', { sourceId });
    expect(cliReport).toEqual(JSON.parse(JSON.stringify(apiReport)));
    const exported = await client.api.request('exportReport', { sourceId, format: 'json' });
    expect(JSON.parse(exported.content)).toEqual(cliReport);
  });
});

describe('ApiSource: the first timeline of a file just opened', () => {
  /** An ApiSource whose requests are listed in order (a totals query as "totals:<buckets>"). */
  function listingSource(view: (() => FirstTimelineView | null) | undefined): {
    source: ApiSource;
    sent: string[];
  } {
    const sent: string[] = [];
    const request = client.api.request.bind(client.api);
    const listing = {
      ...client.api,
      request: ((method, params) => {
        const p = params as { boundariesOnly?: boolean; buckets?: number };
        sent.push(method === 'queryTimeline' && p.boundariesOnly !== true ? `totals:${p.buckets}` : method);
        return request(method, params);
      }) as typeof client.api.request,
    };
    return { source: new ApiSource(listing, undefined, view), sent };
  }

  test('its totals are asked for right behind its report, where the timeline will draw them, and given once', async () => {
    const { source: opener, sent } = listingSource(() => ({ plotWidth: 321.7, groupBy: 'type' }));
    const o = await opener.loadTraceFile(transport.backend.grantFile(fixture, 'command-line').fileId);
    // Sent with the overview's requests, before the overview was answered: no view had mounted yet.
    const report = sent.indexOf('getReport');
    expect(sent.slice(0, report + 2)).toEqual(['loadTrace', 'setActiveSource', 'getReport', 'totals:321']);
    const primed = opener.takePrimedTimeline();
    if (!primed) throw new Error('no primed timeline');
    expect(primed.query).toEqual({ start: 0, end: o.eventCount, buckets: 321, groupBy: 'type' });
    expect(opener.takePrimedTimeline()).toBeNull();
    // The same buckets the view's own query for that range gives (that one goes through the time index).
    const answer = await primed.answer;
    const asked = await opener.timeline(primed.query);
    expect(sent.filter((name) => name.startsWith('totals:'))).toEqual(['totals:321', 'totals:321']);
    expect(answer).toEqual(asked);
    expect(answer.count).toBeGreaterThan(0);
    expect(answer.firstEvent[0]).toBe(0);
    expect(answer.firstEvent[answer.count]).toBe(o.eventCount);
  });

  test('none without a view to draw it, none for another source shown meanwhile', async () => {
    const plain = listingSource(undefined);
    await plain.source.loadTraceFile(transport.backend.grantFile(fixture, 'command-line').fileId);
    expect(plain.source.takePrimedTimeline()).toBeNull();
    expect(plain.sent.some((name) => name.startsWith('totals:'))).toBe(false);
    const unknown = listingSource(() => null);
    await unknown.source.loadTraceFile(transport.backend.grantFile(fixture, 'command-line').fileId);
    expect(unknown.source.takePrimedTimeline()).toBeNull();
    const moved = listingSource(() => ({ plotWidth: 500, groupBy: 'heap' }));
    await moved.source.loadTraceFile(transport.backend.grantFile(fixture, 'command-line').fileId);
    // The newest source is the one just opened; the first one is another (loaded before all tests).
    const traces = (await client.api.request('getState', {})).traces;
    const other = traces[0];
    if (!other || other.sourceId === traces.at(-1)?.sourceId) throw new Error('no other loaded source');
    await moved.source.showSource(other.sourceId);
    expect(moved.source.takePrimedTimeline()).toBeNull();
  });
});

describe('ApiSource importing a foreign dump', () => {
  const dump = realVmaSample;
  test('a dropped VMA JSON dump goes through the importer and shows the totals `vramscope import` prints', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'vramscope-ui-import-'));
    const r = spawnSync(
      process.execPath,
      ['bin/vramscope.mjs', 'import', dump, '--out', path.join(out, 'sample.trace')],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    rmSync(out, { recursive: true, force: true });
    const line = /format=vma version=\S+ blocks=(\d+) block_bytes=\d+ allocations=(\d+)/.exec(r.stdout);
    if (!line) throw new Error(`no summary line from import: ${r.stdout}${r.stderr}`);
    const o = await source.loadTrace(path.basename(dump), readFileSync(dump));
    expect(o.title.startsWith(path.basename(dump))).toBe(true);
    expect(o.blockCount).toBe(Number(line[1]));
    expect(o.allocationCount).toBe(Number(line[2]));
  });
});

describe('ApiSource uploads', () => {
  test('a file over the inline size goes up in chunks; the granted file holds the same bytes', async () => {
    // Over ApiSource's 8 MiB inline size: three chunks of at most maxUploadChunkBytes.
    const size = 2 * maxUploadChunkBytes + 1024 * 1024 + 123;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 12)) & 0xff;
    const chunks: number[] = [];
    const request = client.api.request.bind(client.api);
    const counting = {
      ...client.api,
      request: ((method, params) => {
        if (method === 'uploadChunk') chunks.push((params as { data: Uint8Array }).data.byteLength);
        return request(method, params);
      }) as typeof client.api.request,
    };
    const uploader = new ApiSource(counting);
    const fileId = await uploader.uploadFile('workload.bin', bytes);
    expect(chunks).toEqual([maxUploadChunkBytes, maxUploadChunkBytes, 1024 * 1024 + 123]);
    const stored = readFileSync(transport.backend.grants.resolve(fileId).path);
    expect(stored.equals(Buffer.from(bytes))).toBe(true);
  });

  test('a dump over the inline size is imported while it uploads; a cancel mid-upload stops both', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-api-source-'));
    const held = transport.backend.uploads.count; // uploads of earlier tests, granted and not opened
    try {
      const file = path.join(dir, 'training.pickle');
      writeTrainingPickle(file, simulateTraining({ entries: 80_000, layers: 2, hidden: 256, batch: 2 }));
      const bytes = new Uint8Array(readFileSync(file));
      expect(bytes.length).toBeGreaterThan(8 * 1024 * 1024); // over ApiSource's inline size
      const picked: PickedFile = {
        name: 'training.pickle',
        size: bytes.length,
        slice: (start, end) => new Blob([bytes.subarray(start, end)]),
      };
      const sent: string[] = [];
      const request = client.api.request.bind(client.api);
      const recording = {
        ...client.api,
        request: ((method, params) => {
          const kind = (params as { source?: { kind?: string } }).source?.kind;
          sent.push(kind === undefined ? method : `${method}:${kind}`);
          return request(method, params);
        }) as typeof client.api.request,
      };
      const uploader = new ApiSource(recording);
      const phases: string[] = [];
      const overview = await uploader.loadFile(picked, (p: LoadProgress) => {
        if (phases.at(-1) !== p.phase) phases.push(p.phase ?? 'reading');
      });
      // The import is asked for right after beginUpload, before the first chunk; no finishUpload.
      expect(sent.slice(0, 3)).toEqual(['beginUpload', 'importFile:arriving', 'uploadChunk']);
      expect(sent.filter((m) => m === 'uploadChunk')).toHaveLength(
        Math.ceil(bytes.length / maxUploadChunkBytes),
      );
      expect(sent).not.toContain('finishUpload');
      // Progress: the upload's, then the import's.
      expect(phases[0]).toBe('uploading');
      expect(phases.indexOf('uploading', 1)).toBe(-1);
      const granted = transport.backend.grantFile(file, 'picked').fileId;
      const whole = await client.api.request('importFile', { source: { kind: 'file', fileId: granted } });
      expect(overview.eventCount).toBe(whole.eventCount);
      expect(transport.backend.uploads.count).toBe(held);

      // Cancelled once the first chunk is acknowledged: the upload and its import stop, nothing is kept.
      const control = new AbortController();
      const cancelled = uploader.loadFile(
        picked,
        (p) => {
          if (p.phase === 'uploading') control.abort();
        },
        control.signal,
      );
      await expect(cancelled).rejects.toThrow('Opening training.pickle was cancelled');
      expect(transport.backend.uploads.count).toBe(held);
      // The trace worker is free again: the next import goes through.
      expect(
        (await client.api.request('importFile', { source: { kind: 'file', fileId: granted } })).eventCount,
      ).toBe(whole.eventCount);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
