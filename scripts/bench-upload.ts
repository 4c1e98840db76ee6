// Benchmark of files of any size through the page (issue 11; prints, asserts nothing). A real
// `vramscope serve` (dist/cli: run `npm run build:cli` first) and real Chromium (web mode). For each kind of
// generated input (in a temporary folder, deleted afterwards):
//   - raw:    the upload over a Node WebSocket client (uploadChunk binary frames, uploadChunksInFlight in
//             flight: the WebSocket path, which the page used before the upload route), no browser;
//   - put:    the upload from a Node client as PUT bodies to the upload route (web mode's path), no
//             browser: against raw, what the WebSocket messages cost the server;
//   - overlap: a PyTorch snapshot of the size over a Node WebSocket client, no browser, twice: uploaded,
//             then imported (importFile of its fileId), and imported while it uploads (importFile of
//             {kind: 'arriving', uploadId} right after beginUpload, as the page does): both seconds from
//             beginUpload to the import's answer, and each one's upload share;
//   - sparse: a sparse file picked in the page: the page's upload rate (it then fails to open: not a trace);
//   - trace:  a valid trace of the size (1 KB random names, so that it does not compress): upload + open;
//   - pickle: a PyTorch training-loop snapshot of the size: upload + import (the page imports it while it
//             uploads, so open_s is the import's rest after the last chunk);
// Each line: the upload's MB/s (pick → last chunk acknowledged), the open's seconds (last chunk → title
// shown), the server's peak RSS while it ran and its RSS before, and the load average.
//
//   node --import tsx scripts/bench-upload.ts [--mb 1024] [--kinds raw,put,sparse,trace,pickle,overlap]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  encodeBinaryFrame,
  encodeFrame,
  decodeFrame,
  maxUploadChunkBytes,
  uploadChunksInFlight,
  uploadPathPrefix,
  type ApiClient,
} from '../src-main/api/contract.ts';
import {
  openRawSocket,
  repoRoot,
  startServeProcess,
  webTransport,
  type ServeProcess,
} from '../tests/support/api-transports.ts';
import { launchBrowser, viteBuild } from '../tests/support/ui-browser.ts';
import {
  pickAndUpload,
  processCpuSeconds,
  processMemory,
  sampleRss,
  showOpenView,
  waitForTitle,
  writeBigNamedTrace,
  writeBigPickle,
  writeSparseFile,
} from '../tests/support/ui-upload.ts';

const MB = 1e6;
const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '1024' },
    kinds: { type: 'string', default: 'raw,put,sparse,trace,pickle,overlap' },
  },
});
const targetBytes = Number(values.mb) * 2 ** 20;
const kinds = values.kinds.split(',');
const load = (): string => loadavg()[0]!.toFixed(2);

/**
 * Sends `bytes` bytes in chunks of the contract's size, as many in flight as the page keeps; `chunk`
 * gives the bytes at an offset, `send` sends one uploadChunk.
 */
async function sendInChunks(
  bytes: number,
  chunk: (offset: number, end: number) => Uint8Array,
  send: (offset: number, data: Uint8Array) => Promise<unknown>,
): Promise<void> {
  const inFlight: Promise<unknown>[] = [];
  for (let offset = 0; offset < bytes; offset += maxUploadChunkBytes) {
    inFlight.push(send(offset, chunk(offset, Math.min(bytes, offset + maxUploadChunkBytes))));
    if (inFlight.length >= uploadChunksInFlight) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

/** API requests over a raw WebSocket (binary frames for bytes, as the page sends them). */
async function rawApi(server: ServeProcess): Promise<{
  request: (name: string, params: Record<string, unknown>) => Promise<unknown>;
  close: () => void;
}> {
  const socket = await openRawSocket(server);
  const waiting = new Map<number, (r: { ok: boolean; result?: unknown; error?: unknown }) => void>();
  socket.on('message', (d) => {
    const r = decodeFrame(d.toString()) as { t: string; id: number; ok: boolean };
    if (r.t === 'res') waiting.get(r.id)?.(r);
  });
  let nextId = 1;
  const request = (name: string, params: Record<string, unknown>): Promise<unknown> => {
    const id = nextId++;
    const frame = { t: 'req' as const, id, name, params };
    return new Promise((resolve, reject) => {
      waiting.set(id, (r) => (r.ok ? resolve(r.result) : reject(new Error(JSON.stringify(r.error)))));
      socket.send(encodeBinaryFrame(frame) ?? encodeFrame(frame));
    });
  };
  return { request, close: () => socket.close() };
}

/**
 * Uploads `bytes` zero bytes from a Node client (begin, bytes, finish); answers ms. `put`: the bytes as
 * PUT bodies of uploadRequestBytes to the upload route, one after another (the page's web-mode path, which
 * sends a file as one body);
 * else as uploadChunk WebSocket messages, as many in flight as the page keeps (the IPC-like path).
 */
/** Bytes per PUT body from the Node client (the page sends a file as one body; here a buffer of zeros). */
const uploadRequestBytes = 64 * 1024 * 1024;

async function nodeUpload(server: ServeProcess, bytes: number, put: boolean): Promise<number> {
  const { request, close } = await rawApi(server);
  const started = performance.now();
  const { uploadId } = (await request('beginUpload', { name: 'raw.bin', bytes })) as { uploadId: string };
  if (put) {
    const zeros = new Uint8Array(Math.min(bytes, uploadRequestBytes));
    for (let offset = 0; offset < bytes; offset += uploadRequestBytes) {
      const body = zeros.subarray(0, Math.min(bytes, offset + uploadRequestBytes) - offset);
      const res = await fetch(
        `${server.origin}${uploadPathPrefix}${uploadId}?offset=${offset}&token=${server.token}`,
        {
          method: 'PUT',
          body,
          headers: { 'Content-Type': 'application/octet-stream', Origin: server.origin },
        },
      );
      if (!res.ok) throw new Error(`PUT answered ${res.status}: ${await res.text()}`);
    }
  } else {
    const zeros = new Uint8Array(maxUploadChunkBytes);
    await sendInChunks(
      bytes,
      (offset, end) => zeros.subarray(0, end - offset),
      (offset, data) => request('uploadChunk', { uploadId, offset, data }),
    );
  }
  await request('finishUpload', { uploadId });
  const ms = performance.now() - started;
  await request('cancelUpload', { uploadId });
  close();
  return ms;
}

/**
 * Uploads `bytes` as the page does and imports them, after the upload or while it arrives; answers the
 * ms from beginUpload to the import's answer and to the last chunk's.
 */
async function uploadAndImport(
  api: ApiClient,
  bytes: Uint8Array,
  whileArriving: boolean,
): Promise<{ totalMs: number; uploadMs: number; events: number }> {
  const started = performance.now();
  const { uploadId } = await api.request('beginUpload', { name: 'big.pickle', bytes: bytes.length });
  const arriving = whileArriving
    ? api.request('importFile', { source: { kind: 'arriving', uploadId } })
    : null;
  await sendInChunks(
    bytes.length,
    (offset, end) => bytes.subarray(offset, end),
    (offset, data) => api.request('uploadChunk', { uploadId, offset, data }),
  );
  const uploadMs = performance.now() - started;
  let summary;
  if (arriving !== null) summary = await arriving;
  else {
    const { fileId } = await api.request('finishUpload', { uploadId });
    summary = await api.request('importFile', { source: { kind: 'file', fileId } });
  }
  return { totalMs: performance.now() - started, uploadMs, events: summary.eventCount };
}

/** kind=overlap: sequential and overlapped upload + import of one pickle, on a fresh server each. */
async function benchOverlap(file: string): Promise<void> {
  const bytes = new Uint8Array(readFileSync(file));
  type Run = { totalMs: number; uploadMs: number; events: number; cpuS: number };
  const runs: Record<string, Run> = {};
  for (const mode of ['sequential', 'overlapped'] as const) {
    const transport = await webTransport();
    try {
      const client = await transport.connect();
      const pid = transport.server.child.pid!;
      const cpu = processCpuSeconds(pid);
      const run = await uploadAndImport(client.api, bytes, mode === 'overlapped');
      runs[mode] = { ...run, cpuS: processCpuSeconds(pid) - cpu };
    } finally {
      await transport.close();
    }
  }
  const s = (ms: number): string => (ms / 1000).toFixed(2);
  const line = (mode: string, r: Run): string =>
    `${mode}_s=${s(r.totalMs)} ${mode}_upload_s=${s(r.uploadMs)} ${mode}_server_cpu_s=${r.cpuS.toFixed(1)}`;
  // The server's CPU seconds (main thread and trace worker) tell whether overlapping costs work: on a
  // machine with a core to spare, the overlapped wall-clock approaches max(upload, import).
  console.log(
    `upload kind=overlap mb=${(bytes.length / MB).toFixed(0)} events=${runs.overlapped!.events} ${line('sequential', runs.sequential!)} ${line('overlapped', runs.overlapped!)} load=${load()}`,
  );
}

const dir = mkdtempSync(path.join(tmpdir(), 'vramscope-bench-upload-'));
const ui = path.join(repoRoot, 'test-output', 'bench-upload-renderer');
let server: ServeProcess | null = null;
const browser = kinds.some((k) => k !== 'raw' && k !== 'put' && k !== 'overlap')
  ? await launchBrowser()
  : null;
try {
  if (browser !== null) await viteBuild(path.join(repoRoot, 'src-renderer'), ui);
  for (const kind of kinds) {
    if (kind === 'overlap') {
      const file = path.join(dir, 'overlap.pickle');
      writeBigPickle(file, targetBytes);
      await benchOverlap(file);
      rmSync(file, { force: true });
      continue;
    }
    // A fresh server per kind: its RSS is this kind's alone (an opened file stays loaded).
    await server?.stop();
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = dir; // the server's uploads go under this folder too, removed below
    server = await startServeProcess(['--ui', ui]);
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    const pid = server.child.pid!;
    const before = processMemory(pid).rssMiB;
    if (kind === 'raw' || kind === 'put') {
      const sampler = sampleRss(pid);
      const cpu = processCpuSeconds(pid);
      const ms = await nodeUpload(server, targetBytes, kind === 'put');
      const cpuS = processCpuSeconds(pid) - cpu;
      console.log(
        `upload kind=${kind} mb=${(targetBytes / MB).toFixed(0)} upload_mb_s=${(targetBytes / MB / (ms / 1000)).toFixed(0)} server_cpu_s=${cpuS.toFixed(1)} server_mb_per_cpu_s=${(targetBytes / MB / cpuS).toFixed(0)} server_rss_before_mib=${before.toFixed(0)} server_peak_rss_mib=${sampler.stop().toFixed(0)} load=${load()}`,
      );
      continue;
    }
    const file = path.join(
      dir,
      kind === 'pickle' ? 'big.pickle' : kind === 'trace' ? 'big.trace' : 'big.bin',
    );
    const genStart = performance.now();
    let bytes: number;
    let extra = '';
    if (kind === 'sparse') bytes = writeSparseFile(file, targetBytes);
    else if (kind === 'trace') bytes = writeBigNamedTrace(file, targetBytes);
    else {
      const r = writeBigPickle(file, targetBytes);
      bytes = r.bytes;
      extra = ` entries=${r.entries}`;
    }
    const genS = (performance.now() - genStart) / 1000;
    const page = await browser!.context.newPage();
    await page.goto(server.url);
    await showOpenView(page);
    const sampler = sampleRss(pid);
    const cpu = processCpuSeconds(pid);
    const uploadMs = await pickAndUpload(page, file, 1_800_000);
    const cpuS = processCpuSeconds(pid) - cpu;
    let openS = '';
    if (kind !== 'sparse') {
      const t = performance.now();
      await waitForTitle(page, path.basename(file), 1_800_000);
      openS = ` open_s=${((performance.now() - t) / 1000).toFixed(1)}`;
    }
    const peak = sampler.stop();
    console.log(
      `upload kind=${kind} mb=${(bytes / MB).toFixed(0)}${extra} generate_s=${genS.toFixed(1)} upload_mb_s=${(bytes / MB / (uploadMs / 1000)).toFixed(0)} server_upload_cpu_s=${cpuS.toFixed(1)} server_mb_per_cpu_s=${(bytes / MB / cpuS).toFixed(0)}${openS} server_rss_before_mib=${before.toFixed(0)} server_peak_rss_mib=${peak.toFixed(0)} load=${load()}`,
    );
    await page.close();
    rmSync(file, { force: true });
  }
} finally {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}
