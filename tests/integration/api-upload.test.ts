// Chunked uploads through the API: over the real web transport (a `vramscope serve` process, WebSocket
// frames within the contract's limits) and in process (where the private temporary files can be checked).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { ApiClient } from '../../src-main/api/contract.ts';
import { maxUploadChunkBytes } from '../../src-main/api/contract.ts';
import { ipcLikeTransport, repoRoot, webTransport } from '../support/api-transports.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-upload-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const snapshotFile = path.join(dir, 'training.pickle');
writeTrainingPickle(snapshotFile, simulateTraining({ entries: 30_000, layers: 2, hidden: 256, batch: 2 }));
const snapshot = new Uint8Array(readFileSync(snapshotFile));
const traceFile = path.join(repoRoot, 'assets', 'traces', 'streaming-h100.trace');

async function upload(api: ApiClient, name: string, bytes: Uint8Array, chunk = 1 << 20): Promise<string> {
  const { uploadId, chunkBytes } = await api.request('beginUpload', { name, bytes: bytes.length });
  expect(chunkBytes).toBe(maxUploadChunkBytes);
  for (let offset = 0; offset < bytes.length; offset += chunk) {
    const data = bytes.subarray(offset, Math.min(bytes.length, offset + chunk));
    const { received } = await api.request('uploadChunk', { uploadId, offset, data });
    expect(received).toBe(offset + data.length);
  }
  const done = await api.request('finishUpload', { uploadId });
  expect(done).toEqual({ uploadId, name, bytes: bytes.length });
  return uploadId;
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

  test('an uploaded PyTorch snapshot imports like the same file opened by path', async () => {
    const uploadId = await upload(api, 'training.pickle', snapshot);
    const viaUpload = await api.request('importFile', { source: { kind: 'upload', uploadId } });
    const viaPath = await api.request('importFile', { source: { kind: 'path', path: snapshotFile } });
    expect(viaUpload.name).toBe(viaPath.name);
    expect(viaUpload.eventCount).toBe(viaPath.eventCount);
    expect(viaUpload.peakAllocatedBytes).toBe(viaPath.peakAllocatedBytes);
    expect(viaUpload.warnings).toEqual([]);
    // An upload opens once: it is gone afterwards.
    expect((await failure(api.request('importFile', { source: { kind: 'upload', uploadId } }))).code).toBe(
      'NotFound',
    );
  });

  test('an uploaded trace loads like the file by path', async () => {
    const bytes = new Uint8Array(readFileSync(traceFile));
    const uploadId = await upload(api, 'streaming-h100.trace', bytes, 100_000);
    const s = await api.request('loadTrace', { source: { kind: 'upload', uploadId } });
    const p = await api.request('loadTrace', { source: { kind: 'path', path: traceFile } });
    expect(s.name).toBe('streaming-h100.trace');
    expect(s.eventCount).toBe(p.eventCount);
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
    expect((await failure(api.request('loadTrace', { source: { kind: 'upload', uploadId } }))).code).toBe(
      'InvalidState',
    );
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
  });
});

describe('chunked uploads in process: the temporary files', () => {
  test('are deleted once opened, once cancelled, and with the backend', async () => {
    const transport = ipcLikeTransport();
    const client = await transport.connect();
    const api = client.api;
    const uploads = transport.backend.uploads;
    const uploadId = await upload(api, 'training.pickle', snapshot);
    const root = uploads.directory!;
    expect(readdirSync(root)).toEqual([uploadId]);
    expect(readdirSync(path.join(root, uploadId))).toEqual(['training.pickle']);
    await api.request('importFile', { source: { kind: 'upload', uploadId } });
    expect(readdirSync(root)).toEqual([]);
    // Cancelled halfway: nothing stays.
    const half = await api.request('beginUpload', { name: 'half.pickle', bytes: snapshot.length });
    await api.request('uploadChunk', {
      uploadId: half.uploadId,
      offset: 0,
      data: snapshot.subarray(0, snapshot.length >> 1),
    });
    expect(readdirSync(root)).toEqual([half.uploadId]);
    await api.request('cancelUpload', { uploadId: half.uploadId });
    expect(readdirSync(root)).toEqual([]);
    // A failed import deletes its upload too.
    const bad = await upload(api, 'bad.pickle', new TextEncoder().encode('not a pickle at all'));
    await expect(api.request('importFile', { source: { kind: 'upload', uploadId: bad } })).rejects.toThrow();
    expect(readdirSync(root)).toEqual([]);
    // A name is only a name: separators and dot names do not leave the upload's folder.
    const odd = await api.request('beginUpload', { name: '../../evil/..', bytes: 1 });
    expect(readdirSync(path.join(root, odd.uploadId))).toEqual(['.._.._evil_..']);
    client.close();
    await transport.close();
    expect(existsSync(root)).toBe(false);
  });
});
