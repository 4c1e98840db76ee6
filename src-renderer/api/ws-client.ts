// The web-mode transport: an ApiClient over the WebSocket of `vramscope serve`. The page was loaded from
// that server, which set the session token as an HttpOnly cookie, so the browser authenticates the
// WebSocket by itself (same origin: the cookie goes with the upgrade request), and the PUTs that carry
// uploads' bytes (upload route, src-main/web/upload-route.ts).
import {
  ApiRequestError,
  decodeFrame,
  encodeBinaryFrameParts,
  encodeFrame,
  uploadAnswerSchema,
  uploadPathPrefix,
  webSocketPath,
  type ApiClient,
} from '../../src-main/api/contract.ts';
import { createClientCore } from './client-core.ts';

export interface WsClientOptions {
  /** Default: ws(s)://<this page's host>/api. */
  readonly url?: string;
  /** Called when the connection drops (the server stopped, or the token was refused). */
  readonly onDisconnect?: (reason: string) => void;
}

function defaultUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}${webSocketPath}`;
}

/** Connects at once; requests made before the socket opens are queued. */
export function createWsClient(options: WsClientOptions = {}): ApiClient {
  const socket = new WebSocket(options.url ?? defaultUrl());
  const queue: (string | Blob)[] = [];
  let disconnected = false;

  const core = createClientCore(
    (frame) => {
      if (disconnected)
        throw new ApiRequestError('Failed', 'the connection to the VRAMscope server is closed');
      // Bytes (inline files, uploadChunk) go as one binary message, not base64 in JSON: a Blob of
      // [head, payload] (encodeBinaryFrameParts). Sending a Blob costs the page far less than sending one
      // joined ArrayBuffer (measured in Chromium: 3x the upload rate). Payloads here are never
      // SharedArrayBuffer views.
      const parts = encodeBinaryFrameParts(frame);
      const message: string | Blob =
        parts === null ? encodeFrame(frame) : new Blob([parts[0], parts[1] as Uint8Array<ArrayBuffer>]);
      if (socket.readyState === WebSocket.OPEN) socket.send(message);
      else queue.push(message);
    },
    () => socket.close(1000, 'client closed'),
  );

  socket.addEventListener('open', () => {
    for (const message of queue.splice(0)) socket.send(message);
  });
  socket.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (typeof event.data !== 'string') return;
    let frame: unknown;
    try {
      frame = decodeFrame(event.data);
    } catch {
      return;
    }
    core.receive(frame);
  });
  socket.addEventListener('close', (event: CloseEvent) => {
    disconnected = true;
    const reason = event.reason || `connection closed (code ${event.code})`;
    core.failAll(new ApiRequestError('Failed', `the connection to the VRAMscope server closed: ${reason}`));
    options.onDisconnect?.(reason);
  });

  const socketUrl = new URL(options.url ?? defaultUrl());
  const uploadOrigin = `${socketUrl.protocol === 'wss:' ? 'https:' : 'http:'}//${socketUrl.host}`;
  return {
    ...core.client,
    uploadBody: (uploadId, offset, data, signal, onSent) =>
      putUpload(uploadOrigin, uploadId, offset, data, signal, onSent),
  };
}

/**
 * PUTs bytes of an upload to the server's upload route (contract: uploadPathPrefix). The browser streams
 * the Blob from its file and sends the token cookie and this page's Origin itself (same origin).
 * XMLHttpRequest rather than fetch: only it reports how much of a request body has gone out (`onSent`,
 * bytes of this body), so a 64 MiB body's progress moves while it is sent.
 */
function putUpload(
  origin: string,
  uploadId: string,
  offset: number,
  data: Blob,
  signal: AbortSignal | undefined,
  onSent: ((bytes: number) => void) | undefined,
): Promise<{ received: number }> {
  const url = `${origin}${uploadPathPrefix}${encodeURIComponent(uploadId)}?offset=${offset}`;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException('The upload was aborted.', 'AbortError'));
      return;
    }
    const xhr = new XMLHttpRequest();
    const abort = (): void => xhr.abort();
    signal?.addEventListener('abort', abort, { once: true });
    const settle = (): void => signal?.removeEventListener('abort', abort);
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.responseType = 'text';
    if (onSent) xhr.upload.addEventListener('progress', (event) => onSent(event.loaded));
    xhr.addEventListener('abort', () => {
      settle();
      reject(new DOMException('The upload was aborted.', 'AbortError'));
    });
    xhr.addEventListener('error', () => {
      settle();
      reject(new ApiRequestError('Failed', 'the upload to the VRAMscope server failed (network error)'));
    });
    xhr.addEventListener('load', () => {
      settle();
      let body: unknown = null;
      try {
        body = JSON.parse(String(xhr.responseText));
      } catch {
        body = null;
      }
      const answer = uploadAnswerSchema.safeParse(body);
      if (!answer.success) {
        reject(new ApiRequestError('Failed', `the server answered the upload with HTTP ${xhr.status}`));
        return;
      }
      if ('error' in answer.data) {
        reject(new ApiRequestError(answer.data.error.code, answer.data.error.message));
        return;
      }
      resolve(answer.data);
    });
    xhr.send(data);
  });
}
