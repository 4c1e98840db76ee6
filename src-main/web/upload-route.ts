// Web mode's upload route (issue 11): `PUT /upload/<uploadId>?offset=N` carries raw bytes of an upload
// begun over the API (beginUpload), so that the page's File goes to the server as one HTTP body instead of
// 16 MiB WebSocket messages, which `ws` copied whole into fresh buffers and unmasked in JS (most of the
// upload's server CPU). The body is streamed into the upload through UploadStore.chunk() in pieces of
// WRITE_BYTES: the same order/size checks, arrival counter (the import reads while it arrives), idle
// clock and caps as an uploadChunk.
//
// server.ts checks Host, method, Origin and the token first (as for the WebSocket upgrade); this module
// then requires Content-Type application/octet-stream, a Content-Length (no chunked bodies) within the
// upload's declared size (beyond it: 413 and the upload is dropped with its file), an uploadId of the
// contract's form that names a known, unfinished upload (404 / 409), and `offset` where the upload
// stands. A dropped upload (cancelUpload, cancelTask, timeout) ends a PUT streaming into it at once; a
// PUT whose client goes away mid-body drops its upload. Answers are JSON: {received} or {error}.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiFailure } from '../api/api-failure.ts';
import { uploadIdSchema, uploadPathPrefix, type ApiErrorCode } from '../api/contract.ts';
import type { UploadStore } from '../api/uploads.ts';

/** What the route needs of the upload store. */
export type UploadReceiver = Pick<UploadStore, 'receiving' | 'chunk' | 'cancel'>;

/**
 * Bytes handed to one UploadStore.chunk() call (one writev of the pieces, not copied together): the
 * socket delivers pieces of up to 64 KiB, gathered to this size so that a 152 MB body costs ~150 writes,
 * not thousands.
 */
const WRITE_BYTES = 1024 * 1024;
/** Pieces handed to one chunk() call at most (a client sending tiny pieces still gets bounded writevs). */
const WRITE_PIECES = 256;

const statusOf: Partial<Record<ApiErrorCode, number>> = {
  InvalidRequest: 400,
  NotFound: 404,
  InvalidState: 409,
  TooLarge: 413,
};

/** Whether a request path is the upload route's (the id is checked by receiveUpload). */
export function isUploadPath(pathname: string): boolean {
  return pathname.startsWith(uploadPathPrefix);
}

/** A decimal byte count as a safe integer, or null. */
function byteCount(text: string | null | undefined): number | null {
  if (text === null || text === undefined || !/^\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  // An answer before the whole body was read closes the connection: the rest is not read.
  const unread = !req.complete;
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    ...(unread ? { Connection: 'close' } : {}),
  });
  res.end(JSON.stringify(body), () => {
    if (unread) req.destroy();
  });
}

/** An error answer ({error: {code, message}}); the connection closes if the body was not read. */
export function failure(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: ApiErrorCode,
  message: string,
  headers: Record<string, string>,
): void {
  answer(req, res, status, { error: { code, message } }, headers);
}

/**
 * Serves one PUT to the upload route; the caller has checked Host, Origin and the token. `headers` are the
 * server's security headers (no CORS headers: only the server's own page may send this).
 */
export async function receiveUpload(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  uploads: UploadReceiver,
  headers: Record<string, string>,
): Promise<void> {
  const fail = (status: number, code: ApiErrorCode, message: string): void =>
    failure(req, res, status, code, message, headers);
  const id = url.pathname.slice(uploadPathPrefix.length);
  if (!uploadIdSchema.safeParse(id).success) return fail(404, 'NotFound', 'No such upload.');
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/octet-stream')
    return fail(415, 'InvalidRequest', 'An upload body must be application/octet-stream.');
  const length = byteCount(req.headers['content-length']);
  if (length === null || req.headers['transfer-encoding'] !== undefined)
    return fail(411, 'InvalidRequest', 'An upload body needs a Content-Length (and no chunked encoding).');
  const offset = byteCount(url.searchParams.get('offset') ?? '0');
  if (offset === null) return fail(400, 'InvalidRequest', 'offset must be a byte count.');

  let target: ReturnType<UploadReceiver['receiving']>;
  try {
    target = uploads.receiving(id);
  } catch (error) {
    if (error instanceof ApiFailure) return fail(statusOf[error.code] ?? 400, error.code, error.message);
    throw error;
  }
  if (offset !== target.received)
    return fail(409, 'InvalidRequest', `Upload ${id} has ${target.received} bytes; send from there.`);
  if (offset + length > target.bytes) {
    await uploads.cancel(id);
    return fail(413, 'TooLarge', `${offset + length} bytes would exceed the ${target.bytes} declared.`);
  }

  // Dropped while its body streams (cancelUpload, cancelTask, idle): stop reading at once.
  const stop = (): void => fail(404, 'NotFound', `Upload ${id} was cancelled.`);
  target.dropped.addEventListener('abort', stop, { once: true });
  let position = offset;
  let pieces: Buffer[] = [];
  let gathered = 0;
  const write = async (): Promise<void> => {
    const data = pieces;
    const bytes = gathered;
    pieces = [];
    gathered = 0;
    await uploads.chunk(id, position, data);
    position += bytes;
  };
  try {
    // Async iteration reads the next piece only once this one is handed on: the socket's backpressure
    // bounds what this upload holds in memory to about WRITE_BYTES.
    for await (const piece of req as AsyncIterable<Buffer>) {
      // Node's parser never delivers more than Content-Length; this only keeps the invariant local.
      if (position + gathered + piece.byteLength > offset + length) throw new Error('body beyond its length');
      pieces.push(piece);
      gathered += piece.byteLength;
      if (gathered >= WRITE_BYTES || pieces.length >= WRITE_PIECES) await write();
    }
    if (gathered > 0) await write();
  } catch (error) {
    target.dropped.removeEventListener('abort', stop);
    if (target.dropped.aborted) return;
    if (error instanceof ApiFailure) return fail(statusOf[error.code] ?? 400, error.code, error.message);
    // The client went away mid-body (or the body broke its length): the upload cannot continue.
    await uploads.cancel(id);
    return fail(400, 'InvalidRequest', 'The upload body ended early; the upload was dropped.');
  }
  target.dropped.removeEventListener('abort', stop);
  if (position !== offset + length) {
    await uploads.cancel(id);
    return fail(400, 'InvalidRequest', 'The upload body ended early; the upload was dropped.');
  }
  answer(req, res, 200, { received: position }, headers);
}
