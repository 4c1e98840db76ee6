// `vramscope capture --live`: while a capture runs, the layer's raw streams are relayed on a Unix socket
// that only the same user can reach, so the app (Capture view, attachCapture) can watch it live.
//
// Discovery: a per-user runtime folder, `$XDG_RUNTIME_DIR/vramscope` (or `<tmpdir>/vramscope-<uid>` without
// XDG_RUNTIME_DIR), mode 0700, owned by the user (checked before every use: a folder someone else made, a
// symlink or one open to others is refused). Each live capture puts two entries there, removed at its end:
// `live-<pid>.sock` (the relay socket; pid = the `vramscope capture` process) and `live-<pid>.json` (mode
// 0600: version, liveId, pid, command, startedAt). Entries whose process is gone are stale and skipped
// (and removed).
//
// Relay protocol (docs/capture.md, "Live capture"): frames of a 12-byte little-endian header — u32 type, u32
// stream, u32 length — then `length` payload bytes. type 1: layer stream bytes (stream = the connecting
// process's number, from 0), 2: that stream ended (length 0), 3: the program exited (payload: UTF-8 JSON
// {"exitCode": n, "signal": s|null}); the relay then closes the connection. A client that connects late first
// gets everything relayed so far (the capture keeps the raw streams in memory while --live), so it decodes
// exactly what `vramscope capture` decodes.
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const liveIdPattern = /^live-[0-9]{1,10}$/;

export interface LiveCaptureEntry {
  /** "live-<pid>": the name the app attaches by. */
  readonly liveId: string;
  /** Process id of the `vramscope capture --live` process. */
  readonly pid: number;
  /** The captured command line. */
  readonly command: readonly string[];
  /** ISO 8601 time the capture started. */
  readonly startedAt: string;
}

const FRAME_DATA = 1;
const FRAME_END = 2;
const FRAME_EXIT = 3;
const HEADER = 12;

/** The per-user folder where live captures are advertised (not created). */
export function liveRuntimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'vramscope');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(tmpdir(), `vramscope-${uid}`);
}

/** Throws unless `dir` is a real folder owned by this user and closed to everyone else. */
function checkPrivateDir(dir: string): void {
  const st = lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder (a symlink or a file?); refusing to use it`);
  if (st.uid !== uid) throw new Error(`${dir} belongs to another user; refusing to use it`);
  if ((st.mode & 0o077) !== 0)
    throw new Error(
      `${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}); refusing to use it`,
    );
}

/** Creates (mode 0700) and checks the runtime folder. */
function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  checkPrivateDir(dir);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseEntry(text: string): LiveCaptureEntry | null {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (
      v['version'] !== 1 ||
      typeof v['liveId'] !== 'string' ||
      !liveIdPattern.test(v['liveId']) ||
      !Number.isSafeInteger(v['pid']) ||
      !Array.isArray(v['command']) ||
      !(v['command'] as unknown[]).every((c) => typeof c === 'string') ||
      typeof v['startedAt'] !== 'string'
    )
      return null;
    return {
      liveId: v['liveId'],
      pid: v['pid'] as number,
      command: v['command'] as string[],
      startedAt: v['startedAt'],
    };
  } catch {
    return null;
  }
}

/** The live captures of this user that are running now (stale entries are removed). */
export function listLiveCaptures(env: NodeJS.ProcessEnv = process.env): LiveCaptureEntry[] {
  const dir = liveRuntimeDir(env);
  try {
    checkPrivateDir(dir);
  } catch {
    return [];
  }
  const out: LiveCaptureEntry[] = [];
  for (const name of readdirSync(dir)) {
    const m = /^(live-[0-9]{1,10})\.json$/.exec(name);
    if (!m) continue;
    let entry: LiveCaptureEntry | null = null;
    try {
      entry = parseEntry(readFileSync(path.join(dir, name), 'utf8'));
    } catch {
      continue;
    }
    if (!entry || entry.liveId !== m[1]) continue;
    if (!isAlive(entry.pid)) {
      rmSync(path.join(dir, name), { force: true });
      rmSync(path.join(dir, `${entry.liveId}.sock`), { force: true });
      continue;
    }
    out.push(entry);
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** The socket path of a running live capture (liveId checked against the pattern: no path from outside). */
export function liveSocketPath(liveId: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!liveIdPattern.test(liveId)) throw new Error(`"${liveId}" is not a live capture id (live-<pid>)`);
  const dir = liveRuntimeDir(env);
  checkPrivateDir(dir);
  return path.join(dir, `${liveId}.sock`);
}

function frame(type: number, stream: number, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(type, 0);
  header.writeUInt32LE(stream, 4);
  header.writeUInt32LE(payload.byteLength, 8);
  return Buffer.concat([header, payload]);
}

export interface LiveRelay {
  readonly liveId: string;
  /** Relays (and keeps) a piece of layer stream `stream`; null: it ended. */
  data(stream: number, chunk: Buffer | null): void;
  /** The program exited: tell clients, close them, remove the socket and the entry. */
  close(exit: { exitCode: number; signal: string | null } | null): Promise<void>;
}

/** Advertises this process's capture in the runtime folder and serves the relay socket. */
export async function startLiveRelay(
  command: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<LiveRelay> {
  const dir = liveRuntimeDir(env);
  ensurePrivateDir(dir);
  const liveId = `live-${process.pid}`;
  const socketPath = path.join(dir, `${liveId}.sock`);
  const entryPath = path.join(dir, `${liveId}.json`);
  rmSync(socketPath, { force: true }); // a previous process with this pid that died without cleaning up
  /** Everything relayed so far, in order, as frames (sent first to a client that connects late). */
  const history: Buffer[] = [];
  const clients = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.on('error', () => clients.delete(socket));
    socket.on('close', () => clients.delete(socket));
    for (const f of history) socket.write(f);
    if (closed) socket.end();
    else clients.add(socket);
  });
  let closed = false;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  const entry = {
    version: 1,
    liveId,
    pid: process.pid,
    command: [...command],
    startedAt: new Date().toISOString(),
  };
  const temp = `${entryPath}.${process.pid}.tmp`;
  rmSync(temp, { force: true }); // left by a process with this pid that was killed while writing it
  writeFileSync(temp, `${JSON.stringify(entry)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temp, entryPath);

  const send = (f: Buffer): void => {
    history.push(f);
    for (const c of clients) c.write(f);
  };
  return {
    liveId,
    data(stream, chunk) {
      if (closed) return;
      send(chunk === null ? frame(FRAME_END, stream, new Uint8Array(0)) : frame(FRAME_DATA, stream, chunk));
    },
    async close(exit) {
      if (closed) return;
      if (exit) send(frame(FRAME_EXIT, 0, Buffer.from(JSON.stringify(exit), 'utf8')));
      closed = true;
      for (const c of clients) c.end();
      rmSync(entryPath, { force: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(socketPath, { force: true });
    },
  };
}

export interface LiveAttachHandlers {
  /** Bytes of layer stream `stream` (a new number: a new process). */
  data(stream: number, chunk: Uint8Array): void;
  end(stream: number): void;
  exit(exit: { exitCode: number; signal: string | null }): void;
  /** The connection closed (after exit, or the capture process went away). */
  closed(error: Error | null): void;
}

/** Connects to a live capture's relay; returns the function that detaches. */
export async function attachLiveCapture(
  liveId: string,
  handlers: LiveAttachHandlers,
  env: NodeJS.ProcessEnv = process.env,
): Promise<() => void> {
  const socketPath = liveSocketPath(liveId, env);
  const socket = net.createConnection(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  let pending: Buffer = Buffer.alloc(0);
  let failure: Error | null = null;
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (pending.length - at >= HEADER) {
      const type = pending.readUInt32LE(at);
      const stream = pending.readUInt32LE(at + 4);
      const length = pending.readUInt32LE(at + 8);
      if (pending.length - at - HEADER < length) break;
      const payload = pending.subarray(at + HEADER, at + HEADER + length);
      at += HEADER + length;
      if (type === FRAME_DATA) handlers.data(stream, payload);
      else if (type === FRAME_END) handlers.end(stream);
      else if (type === FRAME_EXIT) {
        try {
          const v = JSON.parse(payload.toString('utf8')) as { exitCode?: unknown; signal?: unknown };
          handlers.exit({
            exitCode: typeof v.exitCode === 'number' ? v.exitCode : 0,
            signal: typeof v.signal === 'string' ? v.signal : null,
          });
        } catch {
          failure = new Error('the live capture sent a malformed exit frame');
        }
      }
      // Unknown frame types are skipped (later versions may add some).
    }
    pending = at === pending.length ? Buffer.alloc(0) : Buffer.from(pending.subarray(at));
  });
  socket.on('error', (error) => {
    failure = error;
  });
  socket.on('close', () => handlers.closed(failure));
  return () => socket.destroy();
}
