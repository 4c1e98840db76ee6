// Uploads (chunked, and uploadFile in one message) through the API: over the real web transport (a `vramscope serve` process, WebSocket
// frames within the contract's limits) and in process (where the private temporary files can be checked).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { ApiClient } from '../../src-main/api/contract.ts';
import { maxUploadChunkBytes } from '../../src-main/api/contract.ts';
import { maxUploadBytesTotal } from '../../src-main/api/uploads.ts';
import { ipcLikeTransport, repoRoot, webTransport } from '../support/api-transports.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';
import { writeBigNamedTrace } from '../support/ui-upload.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-upload-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const snapshotFile = path.join(dir, 'training.pickle');
writeTrainingPickle(snapshotFile, simulateTraining({ entries: 30_000, layers: 2, hidden: 256, batch: 2 }));
const snapshot = new Uint8Array(readFileSync(snapshotFile));
const traceFile = path.join(repoRoot, 'assets', 'traces', 'streaming-h100.trace');

/** Uploads in chunks of `chunk` bytes; answers the upload's id and the fileId finishing it granted. */
async function upload(
  api: ApiClient,
  name: string,
  bytes: Uint8Array,
  chunk = 1 << 20,
): Promise<{ uploadId: string; fileId: string }> {
  const { uploadId, chunkBytes } = await api.request('beginUpload', { name, bytes: bytes.length });
  expect(chunkBytes).toBe(maxUploadChunkBytes);
  for (let offset = 0; offset < bytes.length; offset += chunk) {
    const data = bytes.subarray(offset, Math.min(bytes.length, offset + chunk));
    const { received } = await api.request('uploadChunk', { uploadId, offset, data });
    expect(received).toBe(offset + data.length);
  }
  const done = await api.request('finishUpload', { uploadId });
  expect(done).toEqual({ uploadId, fileId: expect.stringMatching(/^file-/), name, bytes: bytes.length });
  return { uploadId, fileId: done.fileId };
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected the request to fail');
}

describe('chunked uploads over the web transport', async () => {
  const transport = await webTransport();
  const client = await transport.connect();
  const api = client.api;
  afterAll(() => transport.close());

  test('an uploaded PyTorch snapshot imports like the same file granted to the server', async () => {
    const { fileId } = await upload(api, 'training.pickle', snapshot);
    const viaUpload = await api.request('importFile', { source: { kind: 'file', fileId } });
    const granted = await transport.grantFile(snapshotFile, client);
    const viaGrant = await api.request('importFile', { source: { kind: 'file', fileId: granted } });
    expect(viaUpload.name).toBe(viaGrant.name);
    expect(viaUpload.eventCount).toBe(viaGrant.eventCount);
    expect(viaUpload.peakAllocatedBytes).toBe(viaGrant.peakAllocatedBytes);
    expect(viaUpload.warnings).toEqual([]);
    // Opened, an upload is deleted: its fileId is gone.
    expect((await failure(api.request('importFile', { source: { kind: 'file', fileId } }))).code).toBe(
      'NotFound',
    );
  });

  test('an uploaded trace loads like the sample; uploadFile (one message) is the same upload', async () => {
    const bytes = new Uint8Array(readFileSync(traceFile));
    const { fileId } = await upload(api, 'streaming-h100.trace', bytes, 100_000);
    const s = await api.request('loadTrace', { source: { kind: 'file', fileId } });
    const sample = (await api.request('getState', {})).sampleTraces.find(
      (t) => t.name === 'streaming-h100.trace',
    );
    const p = await api.request('loadTrace', { source: { kind: 'file', fileId: sample!.fileId } });
    expect(s.name).toBe('streaming-h100.trace');
    expect(s.eventCount).toBe(p.eventCount);
    const whole = await api.request('uploadFile', {
      source: { kind: 'bytes', name: 'streaming-h100.trace', data: bytes },
    });
    expect(whole.bytes).toBe(bytes.length);
    expect(
      (await api.request('loadTrace', { source: { kind: 'file', fileId: whole.fileId } })).eventCount,
    ).toBe(p.eventCount);
  });

  test('chunks in order, within the declared size and the chunk limit; finish only when complete', async () => {
    const { uploadId } = await api.request('beginUpload', { name: 'x.trace', bytes: 10 });
    const data = new Uint8Array(4);
    expect((await failure(api.request('uploadChunk', { uploadId, offset: 4, data }))).message).toMatch(
      /chunks go in order/,
    );
    await api.request('uploadChunk', { uploadId, offset: 0, data });
    expect(
      (await failure(api.request('uploadChunk', { uploadId, offset: 4, data: new Uint8Array(7) }))).message,
    ).toMatch(/exceed the 10 declared/);
    expect((await failure(api.request('finishUpload', { uploadId }))).message).toMatch(/4 of its 10 bytes/);
    const big = new Uint8Array(maxUploadChunkBytes + 1);
    expect((await failure(api.request('uploadChunk', { uploadId, offset: 4, data: big }))).code).toBe(
      'InvalidRequest',
    );
    expect(await api.request('cancelUpload', { uploadId })).toEqual({ cancelled: true });
    expect(await api.request('cancelUpload', { uploadId })).toEqual({ cancelled: false });
    expect((await failure(api.request('uploadChunk', { uploadId, offset: 4, data }))).code).toBe('NotFound');
    expect((await failure(api.request('finishUpload', { uploadId: '../../etc' }))).code).toBe(
      'InvalidRequest',
    );
    // The old {kind: 'upload'} source is gone: uploads open by their fileId only.
    expect(
      (await failure(api.request('loadTrace', { source: { kind: 'upload', uploadId } } as never))).code,
    ).toBe('InvalidRequest');
  });

  test('an upload is imported while it arrives: the import waits for the bytes and equals the whole file', async () => {
    const { uploadId } = await api.request('beginUpload', {
      name: 'arriving.pickle',
      bytes: snapshot.length,
    });
    let settled = false;
    const importing = api.request('importFile', { source: { kind: 'arriving', uploadId } });
    void importing.finally(() => (settled = true)).catch(() => undefined);
    const chunk = 256 * 1024;
    const half = Math.floor(snapshot.length / chunk / 2) * chunk;
    for (let offset = 0; offset < half; offset += chunk)
      await api.request('uploadChunk', { uploadId, offset, data: snapshot.subarray(offset, offset + chunk) });
    // Half the file is on the server: the import is reading it and waits for the rest.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    // Meanwhile the trace worker answers queries of the sources it holds (the wait does not block it).
    const sample = (await api.request('getState', {})).sampleTraces[0]!;
    const loaded = await api.request('loadTrace', { source: { kind: 'file', fileId: sample.fileId } });
    const report = await api.request('getReport', { sourceId: loaded.sourceId });
    expect(report.summary.eventCount).toBe(loaded.eventCount);
    expect(settled).toBe(false);
    for (let offset = half; offset < snapshot.length; offset += chunk)
      await api.request('uploadChunk', { uploadId, offset, data: snapshot.subarray(offset, offset + chunk) });
    const viaArrival = await importing;
    const granted = await transport.grantFile(snapshotFile, client);
    const viaGrant = await api.request('importFile', { source: { kind: 'file', fileId: granted } });
    expect(viaArrival.eventCount).toBe(viaGrant.eventCount);
    expect(viaArrival.peakAllocatedBytes).toBe(viaGrant.peakAllocatedBytes);
    expect(viaArrival.name).toBe(viaGrant.name.replace('training.pickle', 'arriving.pickle'));
    // Opened, the upload is gone like an opened fileId.
    expect(await api.request('cancelUpload', { uploadId })).toEqual({ cancelled: false });
  });

  test('an arriving upload that is cancelled stops its import; one that is no dump fails before it is all sent', async () => {
    const { uploadId } = await api.request('beginUpload', { name: 'cut.pickle', bytes: snapshot.length });
    const importing = failure(api.request('importFile', { source: { kind: 'arriving', uploadId } }));
    await api.request('uploadChunk', { uploadId, offset: 0, data: snapshot.subarray(0, 100_000) });
    expect(await api.request('cancelUpload', { uploadId })).toEqual({ cancelled: true });
    expect((await importing).message).toMatch(/cut\.pickle was cancelled/);
    // 8 KiB, more than the importer looks at to tell the format, of a declared 80 KiB.
    const junk = new TextEncoder().encode('not a pickle at all. '.repeat(400));
    const other = await api.request('beginUpload', { name: 'junk.pickle', bytes: junk.length * 10 });
    const refused = failure(
      api.request('importFile', { source: { kind: 'arriving', uploadId: other.uploadId } }),
    );
    await api.request('uploadChunk', { uploadId: other.uploadId, offset: 0, data: junk });
    expect((await refused).message).toMatch(/junk\.pickle is not/);
    // The failed upload is kept (like a failed open of a fileId) until cancelled.
    expect(await api.request('cancelUpload', { uploadId: other.uploadId })).toEqual({ cancelled: true });
    // A finished upload opens by its fileId, not as arriving.
    const done = await upload(api, 'done.pickle', snapshot);
    const r = await failure(
      api.request('importFile', { source: { kind: 'arriving', uploadId: done.uploadId } }),
    );
    expect(r.code).toBe('InvalidState');
    await api.request('cancelUpload', { uploadId: done.uploadId });
  });

  test('more than the server holds for uploads at once is refused before a byte is sent', async () => {
    const r = await failure(api.request('beginUpload', { name: 'huge', bytes: maxUploadBytesTotal + 1 }));
    expect(r.code).toBe('TooLarge');
  });
});

describe('uploads in process: the temporary files', () => {
  test('a cancel after the last byte arrived stops the import or the load, deletes the upload, adds no trace', async () => {
    const transport = ipcLikeTransport();
    const client = await transport.connect();
    const api = client.api;
    const uploads = transport.backend.uploads;
    // 300,000 entries (45 MB): importing them takes far longer than sending them in process, so the
    // import is still running (reading the last chunks, building the events or analysing them) when
    // the cancel comes; the time it ran on is printed.
    const bigFile = path.join(dir, 'big.pickle');
    writeTrainingPickle(bigFile, simulateTraining({ entries: 300_000 }));
    const big = new Uint8Array(readFileSync(bigFile));
    const bigTrace = path.join(dir, 'big.trace');
    writeBigNamedTrace(bigTrace, 40e6);
    const traceBytes = new Uint8Array(readFileSync(bigTrace));
    const send = async (uploadId: string, bytes: Uint8Array): Promise<void> => {
      for (let offset = 0; offset < bytes.length; offset += maxUploadChunkBytes) {
        const data = bytes.subarray(offset, offset + maxUploadChunkBytes);
        await api.request('uploadChunk', { uploadId, offset, data });
      }
    };
    for (const how of ['cancelTask', 'cancelUpload'] as const) {
      const taskId = `task-${how}`;
      const { uploadId } = await api.request('beginUpload', { name: 'big.pickle', bytes: big.length });
      const started = performance.now();
      const importing = failure(
        api.request('importFile', { source: { kind: 'arriving', uploadId }, taskId }),
      );
      await send(uploadId, big);
      const sent = performance.now();
      const answer =
        how === 'cancelTask'
          ? await api.request('cancelTask', { taskId })
          : await api.request('cancelUpload', { uploadId });
      expect(answer).toEqual({ cancelled: true });
      expect((await importing).message).toMatch(/^(reading|importing) big\.pickle was cancelled\.$/);
      console.log(
        `upload-cancel-after-arrival how=${how} mb=${(big.length / 1e6).toFixed(1)} sent_ms=${(sent - started).toFixed(0)} stopped_ms_after_cancel=${(performance.now() - sent).toFixed(0)}`,
      );
      expect(readdirSync(uploads.directory!)).toEqual([]);
      expect(uploads.count).toBe(0);
    }
    // A trace is uploaded, then loaded by its fileId: a cancel while it decodes drops the upload too.
    const { fileId } = await upload(api, 'big.trace', traceBytes, maxUploadChunkBytes);
    const loading = failure(
      api.request('loadTrace', { source: { kind: 'file', fileId }, taskId: 'task-trace' }),
    );
    expect(await api.request('cancelTask', { taskId: 'task-trace' })).toEqual({ cancelled: true });
    expect((await loading).message).toMatch(/^(loading|reading) big\.trace was cancelled\.$/);
    expect(readdirSync(uploads.directory!)).toEqual([]);
    expect((await failure(api.request('loadTrace', { source: { kind: 'file', fileId } }))).code).toBe(
      'NotFound',
    );
    expect((await api.request('getState', {})).traces).toEqual([]);
    client.close();
    await transport.close();
  }, 120_000);

  test('live in a private folder under made-up names, and are deleted once opened, cancelled, and with the backend', async () => {
    const transport = ipcLikeTransport();
    const client = await transport.connect();
    const api = client.api;
    const uploads = transport.backend.uploads;
    const madeUp = /^[0-9a-f]{24}\.upload$/;
    const { fileId } = await upload(api, 'training.pickle', snapshot);
    const root = uploads.directory!;
    expect(statSync(root).mode & 0o777).toBe(0o700);
    const files = readdirSync(root);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(madeUp);
    expect(statSync(path.join(root, files[0]!)).mode & 0o777).toBe(0o600);
    await api.request('importFile', { source: { kind: 'file', fileId } });
    expect(readdirSync(root)).toEqual([]);
    // Cancelled halfway: nothing stays.
    const half = await api.request('beginUpload', { name: 'half.pickle', bytes: snapshot.length });
    await api.request('uploadChunk', {
      uploadId: half.uploadId,
      offset: 0,
      data: snapshot.subarray(0, snapshot.length >> 1),
    });
    expect(readdirSync(root)).toHaveLength(1);
    await api.request('cancelUpload', { uploadId: half.uploadId });
    expect(readdirSync(root)).toEqual([]);
    // A failed import keeps the upload, so that another format can be tried; cancelling it deletes it and
    // revokes its fileId.
    const bad = await upload(api, 'bad.pickle', new TextEncoder().encode('not a pickle at all'));
    const source = { kind: 'file', fileId: bad.fileId } as const;
    await expect(api.request('importFile', { source })).rejects.toThrow();
    await expect(api.request('importFile', { source, format: 'vma' })).rejects.toThrow();
    expect(readdirSync(root)).toHaveLength(1);
    expect(await api.request('cancelUpload', { uploadId: bad.uploadId })).toEqual({ cancelled: true });
    expect(readdirSync(root)).toEqual([]);
    expect((await failure(api.request('importFile', { source }))).code).toBe('NotFound');
    // A name is only a name: separators and dot names never reach the file system.
    const odd = await api.request('uploadFile', {
      source: { kind: 'bytes', name: '../../evil/..', data: new Uint8Array([1]) },
    });
    expect(odd.name).toBe('../../evil/..');
    expect(readdirSync(root)).toEqual([expect.stringMatching(madeUp)]);
    client.close();
    await transport.close();
    expect(existsSync(root)).toBe(false);
  });
});
