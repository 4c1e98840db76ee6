// Web mode's upload route (PUT /upload/<uploadId>, src-main/web/upload-route.ts) against a real
// `vramscope serve` process: an upload begun over the API and sent as HTTP bodies imports like a granted
// file (also while it arrives), and the route refuses what the WebSocket upgrade refuses (token, Host,
// Origin) plus what an upload must not take (unknown ids, other types, bodies beyond the declared size,
// writes after finish). Cancelling an upload mid-PUT, or the client going away, deletes its file. The
// server runs with its own TMPDIR, so that its private upload folder can be checked for leftovers.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { uploadPathPrefix } from '../../src-main/api/contract.ts';
import { simulateTraining, writeTrainingPickle } from '../../scripts/pytorch-training-snapshot.ts';
import { webTransport, type ServeProcess } from '../support/api-transports.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-upload-http-test-'));
const serverTmp = path.join(dir, 'server-tmp');
mkdirSync(serverTmp);
const snapshotFile = path.join(dir, 'training.pickle');
writeTrainingPickle(snapshotFile, simulateTraining({ entries: 30_000, layers: 2, hidden: 256, batch: 2 }));
const snapshot = new Uint8Array(readFileSync(snapshotFile));

const transport = await webTransport([], { ...process.env, TMPDIR: serverTmp });
const server = transport.server;
const api = (await transport.connect()).api;
afterAll(async () => {
  await transport.close();
  rmSync(dir, { recursive: true, force: true });
});

interface PutOptions {
  readonly offset?: number;
  /** null: none. Default: the server's own. */
  readonly origin?: string | null;
  /** 'cookie' (default), 'query', or a wrong value / null (none). */
  readonly token?: 'cookie' | 'query' | string | null;
  readonly host?: string;
  readonly contentType?: string | null;
  /** Default: the body's length. */
  readonly contentLength?: number;
  readonly method?: string;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A PUT to the upload route; `send` writes the body (default: `body` at once). */
function put(
  s: ServeProcess,
  uploadId: string,
  body: Uint8Array,
  options: PutOptions = {},
  send: (req: ClientRequest) => void = (req) => req.end(body),
): { answer: Promise<Answer>; req: ClientRequest } {
  const token = options.token === undefined ? 'cookie' : options.token;
  const query = new URLSearchParams({ offset: String(options.offset ?? 0) });
  if (token === 'query') query.set('token', s.token);
  const headers: Record<string, string> = {
    'Content-Length': String(options.contentLength ?? body.byteLength),
  };
  const origin = options.origin === undefined ? s.origin : options.origin;
  if (origin !== null) headers.Origin = origin;
  if (token === 'cookie') headers.Cookie = `vramscope_token_${s.port}=${s.token}`;
  else if (token !== null && token !== 'query') headers.Cookie = `vramscope_token_${s.port}=${token}`;
  if (options.host !== undefined) headers.Host = options.host;
  const type = options.contentType === undefined ? 'application/octet-stream' : options.contentType;
  if (type !== null) headers['Content-Type'] = type;
  const req = httpRequest({
    host: '127.0.0.1',
    port: s.port,
    method: options.method ?? 'PUT',
    path: `${uploadPathPrefix}${uploadId}?${query.toString()}`,
    headers,
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  send(req);
  return { answer, req };
}

/** Bytes in the server's private upload folder(s) under its TMPDIR: the upload files still there. */
function uploadFiles(): string[] {
  return readdirSync(serverTmp)
    .filter((d) => d.startsWith('vramscope-uploads-'))
    .flatMap((d) => readdirSync(path.join(serverTmp, d)).map((f) => path.join(serverTmp, d, f)));
}

describe('uploads as HTTP PUT bodies', () => {
  test('a snapshot PUT in two bodies imports while it arrives, like the same file granted', async () => {
    const { uploadId } = await api.request('beginUpload', {
      name: 'training.pickle',
      bytes: snapshot.length,
    });
    const importing = api.request('importFile', { source: { kind: 'arriving', uploadId } });
    const half = Math.floor(snapshot.length / 2);
    const first = await put(server, uploadId, snapshot.subarray(0, half)).answer;
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ received: half });
    // No CORS headers: no other origin may read an answer.
    expect(Object.keys(first.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const second = await put(server, uploadId, snapshot.subarray(half), { offset: half, token: 'query' })
      .answer;
    expect(second.status).toBe(200);
    expect(JSON.parse(second.body)).toEqual({ received: snapshot.length });
    const viaPut = await importing;
    const granted = await transport.grantFile(snapshotFile, { api, frames: [], close: () => undefined });
    const viaGrant = await api.request('importFile', { source: { kind: 'file', fileId: granted } });
    expect(viaPut.eventCount).toBe(viaGrant.eventCount);
    expect(viaPut.peakAllocatedBytes).toBe(viaGrant.peakAllocatedBytes);
    expect(viaPut.warnings).toEqual([]);
    // Imported, the upload is gone with its file.
    expect(await api.request('cancelUpload', { uploadId })).toEqual({ cancelled: false });
    expect(uploadFiles()).toEqual([]);
  });

  test('refuses requests without the token, Origin or Host of the server, and other methods and types', async () => {
    const { uploadId } = await api.request('beginUpload', { name: 'x.bin', bytes: 8 });
    const body = new Uint8Array(8).fill(7);
    const refused: [PutOptions, number][] = [
      [{ token: null }, 401],
      [{ token: 'wrong-token' }, 401],
      [{ origin: null }, 403],
      [{ origin: 'http://evil.example' }, 403],
      [{ origin: `http://127.0.0.1:${server.port + 1}` }, 403],
      [{ host: 'evil.example' }, 421],
      [{ host: `127.0.0.1:${server.port + 1}` }, 421],
      [{ contentType: 'text/plain' }, 415],
      [{ contentType: null }, 415],
      [{ method: 'POST' }, 405],
      [{ method: 'OPTIONS' }, 405],
      [{ offset: 4 }, 409],
      [{ offset: -1 } as PutOptions, 400],
    ];
    for (const [options, status] of refused) {
      const res = await put(server, uploadId, body, options).answer;
      expect(res.status, JSON.stringify(options)).toBe(status);
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
    // Unknown ids, of the contract's form or not.
    for (const id of ['upload-nope', 'nope', '..%2F..%2Fetc%2Fpasswd', 'upload-a/b']) {
      expect((await put(server, id, body).answer).status, id).toBe(404);
    }
    // None of it touched the upload: it still takes its bytes, then no more once finished.
    expect((await put(server, uploadId, body).answer).status).toBe(200);
    const { fileId } = await api.request('finishUpload', { uploadId });
    expect(fileId).toMatch(/^file-/);
    const late = await put(server, uploadId, new Uint8Array(0), { offset: 8 }).answer;
    expect(late.status).toBe(409);
    await api.request('cancelUpload', { uploadId });
    expect(uploadFiles()).toEqual([]);
  });

  test('a body beyond the declared size is refused (413) and drops the upload with its file', async () => {
    const { uploadId } = await api.request('beginUpload', { name: 'x.bin', bytes: 1000 });
    expect((await put(server, uploadId, new Uint8Array(600)).answer).status).toBe(200);
    expect(uploadFiles()).toHaveLength(1);
    const res = await put(server, uploadId, new Uint8Array(401), { offset: 600 }).answer;
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'TooLarge' } });
    expect(uploadFiles()).toEqual([]);
    expect(await api.request('cancelUpload', { uploadId })).toEqual({ cancelled: false });
  });

  test('cancelUpload mid-PUT ends the PUT and deletes the file; so does a client that goes away', async () => {
    const total = 64 * 1024 * 1024;
    const part = new Uint8Array(4 * 1024 * 1024).fill(1);
    for (const stop of ['cancelUpload', 'client aborts'] as const) {
      const { uploadId } = await api.request('beginUpload', { name: 'big.bin', bytes: total });
      const { answer, req } = put(server, uploadId, new Uint8Array(total), {}, (r) => {
        r.write(part);
        r.write(part);
      });
      const settled = answer.then(
        (a) => a.status,
        () => 'closed' as const,
      );
      // Part of the body is on disk: the PUT is mid-stream.
      // (the server writes in pieces of 1 MiB, so up to one piece of what was sent may still be in memory).
      await expect
        .poll(() => uploadFiles().map((f) => statSync(f).size)[0] ?? 0, { timeout: 20_000 })
        .toBeGreaterThanOrEqual(part.length);
      if (stop === 'cancelUpload') {
        expect(await api.request('cancelUpload', { uploadId })).toEqual({ cancelled: true });
        expect(await settled).toBe(404);
      } else {
        req.destroy();
        await settled;
        await expect.poll(() => uploadFiles(), { timeout: 20_000 }).toEqual([]);
        expect(await api.request('cancelUpload', { uploadId })).toEqual({ cancelled: false });
      }
      expect(uploadFiles()).toEqual([]);
    }
  });
});
