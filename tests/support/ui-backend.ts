// The inspector's tests run against the real backend: a generated workload (ui-workload.ts) is encoded as a
// real trace file and loaded by the AppBackend, either in this process behind the IPC endpoint
// (ipcLikeTransport: the dispatcher main uses for Electron, frames structured-cloned both ways) or in a
// `vramscope serve` child over its WebSocket (webTransport: for tests in happy-dom, where Node's file URLs
// are not available to main's modules). The views' ApiSource asks it everything, as in the app; nothing in
// the renderer computes its own numbers.
import { TraceEncoder, traceEventsOf } from '../../allocator/trace/index.ts';
import { nodeDeflate } from '../../src-main/trace/codec.ts';
import { ApiSource } from '../../src-renderer/data/api-source.ts';
import { testHeader } from './trace-fixtures.ts';
import { webTransport, type ContractTransport, type TestClient } from './web-transport.ts';
import type { Workload } from './ui-workload.ts';

/** The workload's events as the bytes of a trace file (the format the recorder writes). */
export function workloadTraceBytes(work: Workload): Uint8Array {
  const encoder = new TraceEncoder({ maxEventsPerChunk: 8192, deflate: nodeDeflate });
  const header = testHeader({ device: work.device });
  const parts = [encoder.start(header), ...encoder.encodePending(traceEventsOf(work.log)), encoder.finish()];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface BackendSource {
  readonly source: ApiSource;
  readonly client: TestClient;
  close(): Promise<void>;
}

/** An ApiSource over a fresh in-process backend; with a workload, that workload's trace is loaded. */
export async function backendSource(
  work?: Workload,
  name = 'workload.trace',
  via: 'in-process' | 'web' = 'in-process',
): Promise<BackendSource> {
  // Main's modules load only for the in-process backend (see the note at the top).
  const transport: ContractTransport =
    via === 'web' ? await webTransport() : (await import('./api-transports.ts')).ipcLikeTransport();
  const client = await transport.connect();
  const source = new ApiSource(client.api);
  if (work) await source.loadTrace(name, workloadTraceBytes(work));
  return {
    source,
    client,
    async close() {
      client.close();
      await transport.close();
    },
  };
}

/** One backend shared by a test file's tests: each `source()` is a new client (a new window) on it. */
export interface SharedBackend {
  /** A new client and ApiSource; with a workload, it loads that workload's trace (a new source each time). */
  source(work?: Workload, name?: string): Promise<ApiSource>;
  close(): Promise<void>;
}

export async function sharedBackend(via: 'in-process' | 'web' = 'in-process'): Promise<SharedBackend> {
  const transport: ContractTransport =
    via === 'web' ? await webTransport() : (await import('./api-transports.ts')).ipcLikeTransport();
  return {
    async source(work, name = 'workload.trace') {
      const client = await transport.connect();
      const source = new ApiSource(client.api);
      if (work) await source.loadTrace(name, workloadTraceBytes(work));
      return source;
    },
    close: () => transport.close(),
  };
}
