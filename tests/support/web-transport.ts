// The web transport of the API contract as the tests use it: a real `vramscope serve` child process and
// real `ws` WebSocket connections, with clients built on the renderer's own client core. Free of main's
// modules, so tests in happy-dom (where main's file-URL lookups do not work) can use it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import {
  decodeFrame,
  encodeBinaryFrame,
  encodeFrame,
  webSocketPath,
  type ApiClient,
  type EventBatchFrame,
  type RequestFrame,
} from '../../src-main/api/contract.ts';
import { createClientCore } from '../../src-renderer/api/client-core.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ContractTransport {
  readonly name: 'web' | 'ipc-like';
  /** A new client (a new tab / window) on the same backend. */
  connect(): Promise<TestClient>;
  /**
   * Makes a file on this machine openable by fileId, the way a user would: ipc-like, as if picked in the
   * app's Open dialog (main grants it); web, by uploading its bytes (the page has no other way).
   */
  grantFile(file: string, client: TestClient): Promise<string>;
  close(): Promise<void>;
}

export interface TestClient {
  readonly api: ApiClient;
  /** Event frames received so far, with their arrival times (ms, performance.now()). */
  readonly frames: { readonly at: number; readonly frame: EventBatchFrame }[];
  close(): void;
}

// ---- web ---------------------------------------------------------------------------------------------

export interface ServeProcess {
  readonly child: ChildProcess;
  /** http://127.0.0.1:PORT/?token=... as printed. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/**
 * Spawns `node bin/vramscope.mjs serve --port 0` and waits for the URL line. `env`: the server's
 * environment (default: this process's). `checkout`: the checkout whose bin/vramscope.mjs runs (default:
 * this one; benchmarks compare builds). `nodeFlags`: node's own flags for the server (the benchmarks give
 * it what `npm start` does: src-main/runtime/server-heap.ts).
 */
export function startServeProcess(
  extraArgs: string[] = [],
  env?: NodeJS.ProcessEnv,
  checkout: string = repoRoot,
  nodeFlags: readonly string[] = [],
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [...nodeFlags, 'bin/vramscope.mjs', 'serve', '--port', '0', '--no-session', ...extraArgs],
    {
      cwd: checkout,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(env ? { env } : {}),
    },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve printed no URL in 30 s; stderr: ${err}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before printing its URL; stderr: ${err}`));
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /VRAMscope web UI: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+))\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const port = Number(m[2]);
      resolve({
        child,
        url: m[1] as string,
        origin: `http://127.0.0.1:${port}`,
        port,
        token: m[3] as string,
        stderr: () => err,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export interface WsOptions {
  readonly origin?: string | null;
  /** Sent as ?token=; null sends none. */
  readonly queryToken?: string | null;
  readonly cookie?: string | null;
  readonly host?: string;
  readonly path?: string;
}

/** Opens a raw ws connection; resolves with the socket once open, rejects with the HTTP status. */
export function openRawSocket(server: ServeProcess, options: WsOptions = {}): Promise<WebSocket> {
  const query = options.queryToken === undefined ? server.token : options.queryToken;
  const url = `ws://127.0.0.1:${server.port}${options.path ?? webSocketPath}${
    query === null ? '' : `?token=${encodeURIComponent(query)}`
  }`;
  const headers: Record<string, string> = {};
  if (options.cookie) headers.Cookie = options.cookie;
  if (options.host) headers.Host = options.host;
  const origin = options.origin === undefined ? server.origin : options.origin;
  const socket = new WebSocket(url, {
    headers,
    ...(origin === null ? {} : { origin }),
    maxPayload: 256 * 1024 * 1024,
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

function wsClient(socket: WebSocket): TestClient {
  const frames: TestClient['frames'] = [];
  const core = createClientCore(
    (frame: RequestFrame) => {
      // As the page's client does: requests with bytes as binary frames.
      socket.send(encodeBinaryFrame(frame) ?? encodeFrame(frame));
    },
    () => socket.close(1000),
  );
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const frame = decodeFrame(data.toString());
    if ((frame as { t?: unknown }).t === 'evt')
      frames.push({ at: performance.now(), frame: frame as EventBatchFrame });
    core.receive(frame);
  });
  socket.on('close', () => core.failAll(new Error('socket closed')));
  return { api: core.client, frames, close: () => core.client.close() };
}

/** `serveArgs`: extra options of `vramscope serve` (e.g. --allow-capture); `env`: its environment. */
export async function webTransport(
  serveArgs: string[] = [],
  env?: NodeJS.ProcessEnv,
): Promise<ContractTransport & { server: ServeProcess }> {
  const server = await startServeProcess(serveArgs, env);
  const clients: TestClient[] = [];
  return {
    name: 'web',
    server,
    async connect() {
      const client = wsClient(await openRawSocket(server));
      clients.push(client);
      return client;
    },
    async grantFile(file, client) {
      const data = new Uint8Array(readFileSync(file));
      const name = path.basename(file);
      return (await client.api.request('uploadFile', { source: { kind: 'bytes', name, data } })).fileId;
    },
    async close() {
      for (const c of clients) c.close();
      await server.stop();
    },
  };
}
