// Security tests over both transports (issue 14): the API probed as an attacker would, in process
// (the IPC endpoint Electron uses) and through a real `vramscope serve` WebSocket; then the web server's
// own defences (token, Host, Origin, static-file traversal, oversized and malformed frames, bursts, many
// connections). Every probe asserts the safe outcome and that the server still answers afterwards.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { WebSocket } from 'ws';
import {
  decodeFrame,
  encodeBinaryFrame,
  encodeFrame,
  maxMessageBytes,
  maxUploadChunkBytes,
} from '../../src-main/api/contract.ts';
import { defineSecuritySuite } from '../support/api-security-suite.ts';
import {
  ipcLikeTransport,
  openRawSocket,
  startServeProcess,
  webTransport,
  type ServeProcess,
} from '../support/api-transports.ts';

describe('attacker probes over the ipc-like transport (a compromised renderer)', () => {
  defineSecuritySuite(() => ipcLikeTransport(), { cancelWorkloadMiB: 45, oversizedUpload: true });
});

describe('attacker probes over the web transport (a client holding the token)', () => {
  // Oversized messages are probed below (1009), so no 64 MiB upload frame here.
  defineSecuritySuite(() => webTransport(), { cancelWorkloadMiB: 16, oversizedUpload: false });
});

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(server: ServeProcess, path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The close code the server gave, or "open" if the socket is still open after 20 s (sending 68 MiB on a busy machine takes seconds). */
function closeCode(socket: WebSocket): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), 20_000);
    socket.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** One getState over a fresh, valid connection: the server is up and answering. */
async function answers(server: ServeProcess): Promise<void> {
  const socket = await openRawSocket(server);
  const reply = new Promise<unknown>((resolve, reject) => {
    socket.once('message', (d) => resolve(decodeFrame(d.toString())));
    socket.once('close', () => reject(new Error('closed before answering')));
  });
  socket.send(encodeFrame({ t: 'req', id: 1, name: 'getState', params: {} }));
  expect(await reply).toMatchObject({ t: 'res', id: 1, ok: true });
  socket.close();
}

describe('web server defences (each followed by a request that must be answered)', () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServeProcess();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('listens on 127.0.0.1 only and prints a URL with a 43-character random token', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    await answers(server);
  });

  test('two servers get different tokens', async () => {
    const other = await startServeProcess();
    try {
      expect(other.token).not.toBe(server.token);
    } finally {
      await other.stop();
    }
    await answers(server);
  });

  test('a battery of bad tokens is 100% rejected, and the right token is accepted', async () => {
    const t = server.token;
    const bad: (string | null)[] = [
      null,
      '',
      'x',
      t.slice(0, -1),
      `${t}x`,
      t.toUpperCase() === t ? t.toLowerCase() : t.toUpperCase(),
      t.split('').reverse().join(''),
      `${t.slice(0, 20)}${'A'.repeat(23)}`,
      ' '.repeat(43),
      'A'.repeat(43),
      'A'.repeat(10_000),
      `${t} `,
      ` ${t}`,
      encodeURIComponent(t) + '%00',
      'undefined',
      'null',
    ];
    let rejected = 0;
    for (const token of bad) {
      await expect(openRawSocket(server, { queryToken: token }), `token ${String(token)}`).rejects.toThrow(
        'HTTP 401',
      );
      rejected++;
    }
    // Bad cookies too.
    for (const cookie of [`vramscope_token_${server.port}=${t}x`, `vramscope_token_1=${t}`, `token=${t}`]) {
      await expect(openRawSocket(server, { queryToken: null, cookie })).rejects.toThrow('HTTP 401');
      rejected++;
    }
    expect(rejected).toBe(bad.length + 3);
    const ok = await openRawSocket(server);
    ok.close();
    const viaCookie = await openRawSocket(server, {
      queryToken: null,
      cookie: `vramscope_token_${server.port}=${t}`,
    });
    viaCookie.close();
    await answers(server);
  });

  test('a battery of foreign origins is 100% rejected, even with the right token', async () => {
    const p = server.port;
    const bad: (string | null)[] = [
      null,
      'null',
      'http://evil.example',
      `http://evil.example:${p}`,
      `http://127.0.0.1:${p + 1}`,
      `https://127.0.0.1:${p}`,
      `http://127.0.0.1.evil.example:${p}`,
      `http://localhost.evil.example:${p}`,
      `http://127.0.0.2:${p}`,
      `http://[::1]:${p}`,
      `http://0.0.0.0:${p}`,
      `file://`,
      `app://vramscope`,
      `http://127.0.0.1:${p}/`,
      `HTTP://127.0.0.1:${p}x`,
    ];
    for (const origin of bad) {
      await expect(openRawSocket(server, { origin }), `origin ${String(origin)}`).rejects.toThrow('HTTP 403');
    }
    await answers(server);
  });

  test('foreign Host headers (DNS rebinding) are rejected on HTTP and WebSocket', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`]) {
      const res = await get(server, `/?token=${server.token}`, { Host: host });
      expect(res.status).toBe(421);
      await expect(openRawSocket(server, { host })).rejects.toThrow('HTTP 421');
    }
    await answers(server);
  });

  test('only the API path upgrades', async () => {
    await expect(openRawSocket(server, { path: '/other' })).rejects.toThrow('HTTP 404');
    await answers(server);
  });

  test('oversized messages close the connection (1009) and never reach the API', async () => {
    const sizes = [maxMessageBytes + 1, maxMessageBytes + 1024 * 1024];
    for (const size of sizes) {
      const socket = await openRawSocket(server);
      const closed = closeCode(socket);
      socket.send('x'.repeat(size));
      expect(await closed).toBe(1009);
    }
    await answers(server);
  });

  test('binary and malformed frames get InvalidRequest responses', async () => {
    const socket = await openRawSocket(server);
    const replies: unknown[] = [];
    socket.on('message', (d) => replies.push(JSON.parse(d.toString())));
    socket.send(Buffer.from([1, 2, 3]));
    socket.send('{not json');
    socket.send(encodeFrame({ t: 'req', id: 'x', name: 'getState', params: {} }));
    socket.send(encodeFrame({ t: 'req', id: 5, name: 'getState', params: {}, extra: true }));
    socket.send('{"t":"req","id":6,"name":"getState","params":{"$ta":"Nope","b64":""}}');
    await expect.poll(() => replies.length, { timeout: 5000 }).toBe(5);
    for (const r of replies)
      expect(r).toMatchObject({ t: 'res', ok: false, error: { code: 'InvalidRequest' } });
    socket.close();
    await answers(server);
  });

  test('binary request frames: malformed ones, oversized chunks and bytes where none belong get InvalidRequest', async () => {
    const socket = await openRawSocket(server);
    const replies = new Map<number, { ok: boolean; error?: { code: string; message: string } }>();
    socket.on('message', (d) => {
      const r = JSON.parse(d.toString()) as {
        id: number;
        ok: boolean;
        error?: { code: string; message: string };
      };
      replies.set(r.id, r);
    });
    const send = (frame: Parameters<typeof encodeBinaryFrame>[0]): void => {
      const message = encodeBinaryFrame(frame);
      expect(message).not.toBeNull();
      socket.send(message!);
    };
    const begin = encodeFrame({
      t: 'req',
      id: 1,
      name: 'beginUpload',
      params: { name: 'x.trace', bytes: 16 },
    });
    socket.send(begin);
    await expect.poll(() => replies.get(1)?.ok, { timeout: 10_000 }).toBe(true);
    const uploadId = (JSON.parse(JSON.stringify(replies.get(1))) as { result: { uploadId: string } }).result
      .uploadId;
    // A chunk above the contract's limit, as bytes: the schema refuses it before the upload sees it.
    send({
      t: 'req',
      id: 2,
      name: 'uploadChunk',
      params: { uploadId, offset: 0, data: new Uint8Array(maxUploadChunkBytes + 1) },
    });
    // Past the declared size.
    send({ t: 'req', id: 3, name: 'uploadChunk', params: { uploadId, offset: 0, data: new Uint8Array(17) } });
    // Bytes where the schema has none.
    send({ t: 'req', id: 4, name: 'getState', params: { data: new Uint8Array(3) } });
    // A path smuggled beside the bytes.
    send({
      t: 'req',
      id: 5,
      name: 'uploadChunk',
      params: { uploadId, offset: 0, data: new Uint8Array(1), path: '/etc/passwd' },
    });
    await expect.poll(() => replies.size, { timeout: 10_000 }).toBe(5);
    for (const id of [2, 3, 4, 5])
      expect(replies.get(id), String(id)).toMatchObject({ ok: false, error: { code: 'InvalidRequest' } });
    // Malformed binary messages: no id to echo (-1), InvalidRequest, and the connection stays usable.
    const bad = new Uint8Array([8, 0, 0, 0, ...new TextEncoder().encode('{"t":"req"'), 1, 2]);
    const marker = encodeBinaryFrame({
      t: 'req',
      id: 6,
      name: 'uploadChunk',
      params: { uploadId, offset: 0, data: new Uint8Array(4) },
    })!;
    socket.send(bad);
    socket.send(marker.subarray(0, marker.byteLength - 1)); // payload shorter than its marker says
    await expect
      .poll(() => replies.get(-1), { timeout: 10_000 })
      .toMatchObject({ ok: false, error: { code: 'InvalidRequest' } });
    expect(replies.has(6)).toBe(false);
    // The good chunk still goes through afterwards: nothing above was written.
    send({ t: 'req', id: 7, name: 'uploadChunk', params: { uploadId, offset: 0, data: new Uint8Array(16) } });
    await expect.poll(() => replies.get(7)?.ok, { timeout: 10_000 }).toBe(true);
    socket.send(encodeFrame({ t: 'req', id: 8, name: 'cancelUpload', params: { uploadId } }));
    await expect.poll(() => replies.get(8)?.ok, { timeout: 10_000 }).toBe(true);
    socket.close();
    await answers(server);
  });

  test('HTTP: no token → 401; token in the URL → cookie (HttpOnly, SameSite=Strict) and a redirect without it', async () => {
    expect((await get(server, '/')).status).toBe(401);
    expect((await get(server, '/?token=wrong')).status).toBe(401);
    const first = await get(server, `/?token=${server.token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toContain(`vramscope_token_${server.port}=${server.token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const page = await get(server, '/', { Cookie: `vramscope_token_${server.port}=${server.token}` });
    // 200 with the built UI, 503 with a one-line hint when it is not built; either way with the CSP.
    expect([200, 503]).toContain(page.status);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src http://127.0.0.1:${server.port}/assets/`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    await answers(server);
  });

  test('paths cannot leave the UI folder', async () => {
    const cookie = { Cookie: `vramscope_token_${server.port}=${server.token}` };
    for (const p of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/assets/../../package.json',
    ]) {
      const res = await get(server, p, cookie);
      expect(res.status, p).toBe(404);
      expect(res.body).not.toContain('"name": "vramscope"');
    }
    await answers(server);
  });

  test('a burst of 2000 pipelined requests on one socket is answered in full', async () => {
    const socket = await openRawSocket(server);
    const ids = new Set<number>();
    socket.on('message', (d) => {
      const frame = decodeFrame(d.toString()) as { t: string; id?: number; ok?: boolean };
      if (frame.t === 'res' && frame.ok === true && frame.id !== undefined) ids.add(frame.id);
    });
    for (let id = 1; id <= 2000; id++)
      socket.send(encodeFrame({ t: 'req', id, name: 'listScenarios', params: {} }));
    await expect.poll(() => ids.size, { timeout: 30_000 }).toBe(2000);
    socket.close();
    await answers(server);
  });

  test('300 connections at once (half with bad tokens) are each answered or refused, and the server stays up', async () => {
    const attempts = Array.from({ length: 300 }, (_, i) =>
      openRawSocket(server, i % 2 === 0 ? {} : { queryToken: 'bad' }).then(
        (socket) => ({ ok: true as const, socket }),
        (error: Error) => ({ ok: false as const, reason: error.message }),
      ),
    );
    const results = await Promise.all(attempts);
    const open = results.filter((r) => r.ok);
    expect(open.length).toBe(150);
    for (const r of results) if (!r.ok) expect(r.reason).toBe('HTTP 401');
    for (const r of open) r.socket.close();
    await answers(server);
  });
});
