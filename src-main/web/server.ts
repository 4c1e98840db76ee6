// Web mode: the built renderer, the API WebSocket and the upload route (PUT /upload/<uploadId>,
// upload-route.ts), on 127.0.0.1 only. Every HTTP request and every WebSocket upgrade must carry the
// server's token (URL query once, then the HttpOnly cookie) and the server's own Host; upgrades and
// uploads must also come from the server's own Origin. Messages are limited to
// maxMessageBytes; requests are text (JSON) frames, or binary ones when they carry bytes (upload chunks). All connected tabs receive the same event batches (they watch the same sessions).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  decodeBinaryFrame,
  decodeFrame,
  encodeFrame,
  maxMessageBytes,
  webSocketPath,
  type ApiErrorCode,
  type EventBatchFrame,
} from '../api/contract.ts';
import type { Dispatcher } from '../api/handlers.ts';
import type { EventBatcher } from '../api/event-batcher.ts';
import { pageCsp } from '../security/csp.ts';
import { failure, isUploadPath, receiveUpload, type UploadReceiver } from './upload-route.ts';
import { allowedHosts, allowedOrigins, cookieName, newToken, readCookie, TokenCheck } from './auth.ts';

export interface WebServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** The vite build output of the renderer (contains index.html); null serves the API only. */
  readonly staticDir: string | null;
  readonly dispatch: Dispatcher;
  readonly batcher: EventBatcher;
  /** The uploads that `PUT /upload/<uploadId>` streams into (upload-route.ts). */
  readonly uploads: UploadReceiver;
  /** Default: a fresh random token. */
  readonly token?: string;
}

export interface WebServer {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  /** The URL to open: origin + "/?token=...". */
  readonly url: string;
  readonly token: string;
  /** Connected, authenticated WebSocket clients. */
  clientCount(): number;
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Bytes of unsent event frames a client may have queued before it is disconnected. */
export const maxClientBacklogBytes = 256 * 1024 * 1024;

/** The page's Content Security Policy: nothing but our own scripts, styles and WebSocket. */
export function contentSecurityPolicy(port: number): string {
  const ws = allowedHosts(port)
    .map((host) => `ws://${host}`)
    .join(' ');
  // Scripts only from the built bundle's assets/ folder (vite's output), not from anywhere on the origin.
  const scripts = allowedHosts(port)
    .map((host) => `http://${host}/assets/`)
    .join(' ');
  return pageCsp(scripts, `'self' ${ws}`);
}

function securityHeaders(port: number): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(port),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

/** One WebSocket message's bytes (ws hands out a Buffer, an ArrayBuffer or fragments by binaryType). */
function rawBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const tokenCheck = new TokenCheck(options.token ?? newToken());
  let port = 0;
  let headers: Record<string, string> = {};
  const staticDir = options.staticDir === null ? null : path.resolve(options.staticDir);

  function hostOk(req: IncomingMessage): boolean {
    return allowedHosts(port).includes(req.headers.host ?? '');
  }

  function requestToken(req: IncomingMessage, url: URL): { token: string | null; fromQuery: boolean } {
    const query = url.searchParams.get('token');
    if (query !== null) return { token: query, fromQuery: true };
    return { token: readCookie(req.headers.cookie, cookieName(port)), fromQuery: false };
  }

  async function serveStatic(res: ServerResponse, pathname: string, head: boolean): Promise<void> {
    if (staticDir === null) {
      plain(res, 404, 'This server has no UI (API only).', headers);
      return;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(pathname);
    } catch {
      plain(res, 400, 'Bad path.', headers);
      return;
    }
    if (relative.includes('\0')) {
      plain(res, 400, 'Bad path.', headers);
      return;
    }
    if (relative.endsWith('/')) relative += 'index.html';
    const file = path.resolve(staticDir, `.${path.posix.normalize(`/${relative}`)}`);
    if (file !== staticDir && !file.startsWith(staticDir + path.sep)) {
      plain(res, 404, 'Not found.', headers);
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      const body = await readFile(file);
      const type = contentTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
      res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': String(body.byteLength) });
      res.end(head ? undefined : body);
    } catch {
      if (relative === '/index.html' || relative === 'index.html') {
        plain(
          res,
          503,
          'The VRAMscope UI is not built yet: run `npm run build:renderer`, then reload. The API is up.',
          headers,
        );
      } else {
        plain(res, 404, 'Not found.', headers);
      }
    }
  }

  /**
   * The upload route (upload-route.ts): PUT only, from the server's own Origin (a browser sends one with
   * every PUT; none is refused) with the token, as for the WebSocket upgrade.
   */
  async function serveUpload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const refuse = (status: number, code: ApiErrorCode, message: string): void =>
      failure(req, res, status, code, message, headers);
    if (req.method !== 'PUT') {
      res.setHeader('Allow', 'PUT');
      return refuse(405, 'InvalidRequest', 'Uploads take PUT only.');
    }
    const origin = req.headers.origin;
    if (origin === undefined || !allowedOrigins(port).includes(origin))
      return refuse(403, 'Forbidden', "Uploads are accepted from this server's own page only.");
    if (!tokenCheck.matches(requestToken(req, url).token))
      return refuse(401, 'Forbidden', 'The access token is missing or wrong.');
    await receiveUpload(req, res, url, options.uploads, headers);
  }

  const server = createServer((req, res) => {
    void (async () => {
      if (!hostOk(req)) {
        plain(res, 421, 'This server only answers to 127.0.0.1 and localhost on its own port.', headers);
        return;
      }
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      if (isUploadPath(url.pathname)) {
        await serveUpload(req, res, url);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        plain(res, 405, 'Only GET and HEAD are served.', headers);
        return;
      }
      const { token, fromQuery } = requestToken(req, url);
      if (!tokenCheck.matches(token)) {
        plain(
          res,
          401,
          'Open VRAMscope with the full link that `vramscope serve` printed (it contains the access token).',
          headers,
        );
        return;
      }
      if (fromQuery) {
        // Keep the token in a cookie and take it out of the address bar (and history, and Referer).
        url.searchParams.delete('token');
        res.writeHead(303, {
          ...headers,
          'Set-Cookie': `${cookieName(port)}=${tokenCheck.token}; HttpOnly; SameSite=Strict; Path=/`,
          Location: `${url.pathname}${url.search}`,
        });
        res.end();
        return;
      }
      await serveStatic(res, url.pathname, req.method === 'HEAD');
    })().catch((error: unknown) => {
      if (!res.headersSent) plain(res, 500, 'Internal error.', headers);
      else res.destroy();
      console.error('vramscope serve: request failed:', error);
    });
  });
  // The page sends a picked file as one PUT body (upload-route.ts), which at several GiB may take longer
  // than Node's default 5 minutes per request. No overall limit then: a stalled upload is dropped by its
  // own idle clock (uploads.ts, IDLE_MS), which ends its PUT; headers still have headersTimeout.
  server.requestTimeout = 0;

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, perMessageDeflate: false });
  const clients = new Set<WebSocket>();
  let nextClient = 1;

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (!hostOk(req)) return rejectUpgrade(socket, 421, 'Misdirected Request');
    if (url.pathname !== webSocketPath) return rejectUpgrade(socket, 404, 'Not Found');
    const origin = req.headers.origin;
    if (origin === undefined || !allowedOrigins(port).includes(origin)) {
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    if (!tokenCheck.matches(requestToken(req, url).token)) return rejectUpgrade(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const context = { clientId: `web-${nextClient++}`, transport: 'web' as const };
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => clients.delete(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void (async () => {
        let frame: unknown;
        if (isBinary) {
          // A request carrying bytes (an upload chunk): JSON head + raw payload (contract.ts,
          // encodeBinaryFrame). Malformed ones answer InvalidRequest like malformed text frames.
          try {
            frame = decodeBinaryFrame(rawBytes(data));
          } catch {
            frame = null;
          }
        } else {
          try {
            frame = decodeFrame(data.toString());
          } catch {
            frame = null;
          }
        }
        const response = await options.dispatch(frame, context);
        if (ws.readyState === ws.OPEN) ws.send(encodeFrame(response));
      })().catch((error: unknown) => {
        console.error('vramscope serve: a message failed:', error);
      });
    });
  });

  const unsubscribe = options.batcher.subscribe((frame: EventBatchFrame) => {
    if (clients.size === 0) return;
    const text = encodeFrame(frame);
    for (const ws of clients) {
      if (ws.readyState !== ws.OPEN) continue;
      // A tab that stopped reading must not grow this process without bound: it is dropped, and its
      // client reports the lost connection (a reload reconnects and catches up with getState).
      if (ws.bufferedAmount > maxClientBacklogBytes) {
        ws.close(1013, 'this tab fell too far behind the event stream; reload it');
        continue;
      }
      ws.send(text);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no TCP address');
  port = address.port;
  headers = securityHeaders(port);
  const origin = `http://127.0.0.1:${port}`;

  return {
    port,
    origin,
    url: `${origin}/?token=${tokenCheck.token}`,
    token: tokenCheck.token,
    clientCount: () => clients.size,
    close: async () => {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Without this, close waits for every connection to end, and a browser may hold one open for
        // minutes (Chromium kept a connection Node counted as busy for about 10 minutes after a tab
        // closed: `vramscope serve` did not exit on SIGTERM until then).
        server.closeAllConnections();
      });
    },
  };
}
