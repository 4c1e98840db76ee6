// The transport-independent half of an ApiClient: request ids, pending promises and event listeners.
// ws-client.ts and ipc-client.ts each supply a `send` and feed incoming frames to `receive`.
import {
  ApiRequestError,
  apiErrorCodes,
  type AnyEvent,
  type ApiClient,
  type ApiErrorCode,
  type EventName,
  type EventPayload,
  type RequestFrame,
  type RequestName,
  type RequestParams,
  type RequestResult,
  type ServerFrame,
} from '../../src-main/api/contract.ts';

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

type Listener = (payload: never) => void;

export interface ClientCore {
  readonly client: ApiClient;
  /** Feed one decoded frame from main (a response or an event batch); malformed frames are ignored. */
  receive(frame: unknown): void;
  /** Rejects every pending request (connection lost or closed). */
  failAll(error: Error): void;
}

function isErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && (apiErrorCodes as readonly string[]).includes(code);
}

/**
 * @param send delivers one request frame; a thrown/rejected send rejects that request.
 * @param onClose called once by client.close().
 */
export function createClientCore(
  send: (frame: RequestFrame) => void | Promise<void>,
  onClose: () => void,
): ClientCore {
  let nextId = 1;
  let closed = false;
  const pending = new Map<number, Pending>();
  const listeners = new Map<EventName, Set<Listener>>();

  function failAll(error: Error): void {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  }

  function dispatch(event: AnyEvent): void {
    const set = listeners.get(event.name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: unknown) => void)(event.payload);
      } catch (error) {
        // A listener's bug must not stop the other listeners or the transport.
        console.error(`vramscope: a listener of "${event.name}" threw`, error);
      }
    }
  }

  function receive(raw: unknown): void {
    if (raw === null || typeof raw !== 'object') return;
    const frame = raw as ServerFrame;
    if (frame.t === 'res') {
      const p = pending.get(frame.id);
      if (!p) return;
      pending.delete(frame.id);
      if (frame.ok) p.resolve(frame.result);
      else {
        const code = isErrorCode(frame.error?.code) ? frame.error.code : 'Internal';
        p.reject(new ApiRequestError(code, String(frame.error?.message ?? 'request failed')));
      }
    } else if (frame.t === 'evt' && Array.isArray(frame.events)) {
      for (const event of frame.events) dispatch(event);
    }
  }

  function call<N extends RequestName>(name: N, params: unknown): Promise<RequestResult<N>> {
    if (closed) return Promise.reject(new ApiRequestError('InvalidState', 'the API client is closed'));
    const id = nextId++;
    return new Promise<RequestResult<N>>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      try {
        const sent = send({ t: 'req', id, name, params });
        if (sent instanceof Promise) {
          sent.catch((error: unknown) => {
            pending.delete(id);
            reject(error instanceof Error ? error : new Error(String(error)));
          });
        }
      } catch (error) {
        pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  const client: ApiClient = {
    request<N extends RequestName>(name: N, params: RequestParams<N>): Promise<RequestResult<N>> {
      return call(name, params);
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as Listener);
      return () => set.delete(listener as Listener);
    },
    close(): void {
      if (closed) return;
      closed = true;
      failAll(new ApiRequestError('InvalidState', 'the API client was closed'));
      listeners.clear();
      onClose();
    },
  };

  return {
    client,
    receive,
    failAll,
  };
}
