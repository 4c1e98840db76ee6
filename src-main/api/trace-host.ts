// Main's side of the trace worker: starts it on first use, sends loads, imports and queries, and forwards
// its progress reports. If the worker dies, pending calls fail with Internal and the next call starts a
// fresh worker (the traces it held are gone: NotFound).
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../runtime/install.ts';
import { ApiFailure } from './api-failure.ts';
import type { EventSlice } from '../../allocator/trace/index.ts';
import type { DeviceDescription, PlacementStrategyName } from '../../allocator/index.ts';
import type {
  FromTraceWorker,
  LiveSummary,
  LoadedSource,
  ReplayedSource,
  SourceQuery,
  SourceQueryMap,
  SourceSide,
  ToTraceWorker,
  WorkerFile,
} from './trace-protocol.ts';
import { prefaultInSlices } from '../import/prefault.ts';

type Progress = Extract<FromTraceWorker, { type: 'progress' }>;
type Request = ToTraceWorker extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export class TraceHost {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(private readonly onProgress: (progress: Progress) => void) {}

  /**
   * Starts the worker now rather than on first use: it loads and compiles its modules (about 0.2 s of CPU
   * on this project's 2-core machine class) while nothing waits for it, instead of at the first file opened.
   * It does not keep the process alive.
   */
  prestart(): void {
    this.start();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker('trace-worker');
    worker.unref();
    worker.on('message', (m: FromTraceWorker) => {
      if (m.type === 'progress') {
        this.onProgress(m);
        return;
      }
      if (m.type === 'prefault') {
        // In slices between the upload's chunks (about 1 ms each); never fails.
        void prefaultInSlices(m.request);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new ApiFailure(m.code, m.message));
    });
    const fail = (reason: string): void => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const p of this.pending.values())
        p.reject(new ApiFailure('Internal', `The trace worker stopped: ${reason}.`));
      this.pending.clear();
    };
    worker.on('error', (error) => fail(error.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private call(request: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...request, id }, transfer);
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    });
  }

  /** Bytes are copied once into a buffer of their own and moved (not cloned again) to the worker. */
  private static movable(input: WorkerFile): { input: WorkerFile; transfer: ArrayBuffer[] } {
    // A path, or an upload's path and shared progress (shared, not moved), go as they are.
    if (input.kind !== 'bytes') return { input, transfer: [] };
    const copy = new Uint8Array(input.data);
    return { input: { ...input, data: copy }, transfer: [copy.buffer] };
  }

  load(sourceId: string, input: WorkerFile, taskId: string): Promise<LoadedSource> {
    const { input: moved, transfer } = TraceHost.movable(input);
    return this.call({ type: 'load', sourceId, input: moved, taskId }, transfer) as Promise<LoadedSource>;
  }

  importDump(
    sourceId: string,
    input: WorkerFile,
    format: 'auto' | 'vma' | 'd3d12ma' | 'pytorch' | 'rmv',
    taskId: string,
  ): Promise<LoadedSource> {
    const { input: moved, transfer } = TraceHost.movable(input);
    return this.call(
      { type: 'import', sourceId, input: moved, format, taskId },
      transfer,
    ) as Promise<LoadedSource>;
  }

  query<M extends SourceQuery>(
    sourceId: string,
    method: M,
    params: SourceQueryMap[M][0],
  ): Promise<SourceQueryMap[M][1]> {
    return this.call({ type: 'query', sourceId, method, params }) as Promise<SourceQueryMap[M][1]>;
  }

  /** Starts (or restarts, empty) a live source in the worker. */
  async liveOpen(init: Omit<Extract<ToTraceWorker, { type: 'liveOpen' }>, 'id' | 'type'>): Promise<void> {
    await this.call({ type: 'liveOpen', ...init });
  }

  /**
   * Sends a live source's new events; the worker appends them and extends the analysis. Messages are
   * handled in order, so a later query sees every slice sent before it. Resolves with the summary of the events analysed.
   */
  liveAppend(sourceId: string, slice: EventSlice): Promise<LiveSummary> {
    return this.call({ type: 'liveAppend', sourceId, slice }) as Promise<LiveSummary>;
  }

  /** Replays `sourceId` on `target` into the new source `newSourceId` (in the worker). */
  replay(
    sourceId: string,
    newSourceId: string,
    target: DeviceDescription,
    strategy: PlacementStrategyName,
  ): Promise<ReplayedSource> {
    return this.call({ type: 'replay', sourceId, newSourceId, target, strategy }) as Promise<ReplayedSource>;
  }

  /** The recorded side of a loaded source (its numbers in the replay report's shape). */
  side(sourceId: string): Promise<SourceSide> {
    return this.call({ type: 'side', sourceId }) as Promise<SourceSide>;
  }

  /** Stops a load or import by its taskId; false when none is running or queued. */
  async cancel(taskId: string): Promise<boolean> {
    if (!this.worker) return false;
    return (await this.call({ type: 'cancel', taskId })) as boolean;
  }

  async close(sourceId: string): Promise<void> {
    await this.call({ type: 'close', sourceId });
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
