// The trace worker thread: loads trace files, imports foreign dumps, keeps their analyses and answers the
// contract's queries over them (see trace-protocol.ts). Everything CPU-heavy about traces happens here.
import { statSync } from 'node:fs';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { bytesSource, ImportError, importSource, type ByteSource } from '../../allocator/import/index.ts';
import { traceEventsOf } from '../../allocator/trace/index.ts';
import { fileSource } from '../import/file-source.ts';
import { loadTrace } from '../trace/reader.ts';
import { AnalyzedSource } from './analyzed-source.ts';
import { ApiFailure, notFound } from './api-failure.ts';
import type {
  LocalFileSource,
  FromTraceWorker,
  LoadedSource,
  SourceQuery,
  ToTraceWorker,
} from './trace-protocol.ts';

const port = parentPort;
if (!port) throw new Error('trace-worker.ts must run in a worker thread');
const post = (message: FromTraceWorker): void => port.postMessage(message);
const sources = new Map<string, AnalyzedSource>();

function progress(taskId: string) {
  return (
    phase: 'start' | 'progress' | 'done' | 'failed',
    done: number,
    total: number,
    message?: string,
  ): void =>
    post({ type: 'progress', taskId, phase, done, total, ...(message === undefined ? {} : { message }) });
}

async function load(sourceId: string, input: LocalFileSource, taskId: string): Promise<LoadedSource> {
  const report = progress(taskId);
  const started = performance.now();
  let data: string | Uint8Array;
  let name: string;
  if (input.kind === 'path') {
    data = input.path;
    name = path.basename(input.path);
    let size: number;
    try {
      const info = statSync(input.path);
      if (!info.isFile()) throw new Error('not a file');
      size = info.size;
    } catch {
      throw new ApiFailure('NotFound', `There is no trace file at ${input.path}.`);
    }
    report('start', 0, size);
  } else {
    data = input.data;
    name = input.name;
    report('start', 0, input.data.byteLength);
  }
  let loaded;
  try {
    loaded = await loadTrace(data, {
      onProgress: (p) => report('progress', p.bytesDone, p.bytesTotal, `${p.events} events`),
    });
  } catch (error) {
    report('failed', 0, 0, (error as Error).message);
    const position = (error as { position?: unknown }).position;
    throw new ApiFailure(
      'Failed',
      `${name} is not a readable trace: ${(error as Error).message}${typeof position === 'number' ? ` (at byte ${position})` : ''}.`,
    );
  }
  const events = loaded.events;
  const source = new AnalyzedSource({
    sourceId,
    name,
    device: loaded.header.device,
    strategy: loaded.header.allocator.strategy,
    warnings: loaded.warnings.map((w) => w.message),
    loadMs: 0,
    events: () => events,
  });
  source.analysis();
  source.loadMs = performance.now() - started;
  sources.set(sourceId, source);
  report('done', loaded.fileBytes, loaded.fileBytes, `${events.length} events`);
  return { summary: source.summary(), path: input.kind === 'path' ? input.path : null };
}

async function importDump(
  sourceId: string,
  input: LocalFileSource,
  format: 'auto' | 'vma' | 'd3d12ma' | 'pytorch',
  taskId: string,
): Promise<LoadedSource> {
  const report = progress(taskId);
  const started = performance.now();
  let bytes: ByteSource;
  if (input.kind === 'path') {
    try {
      bytes = await fileSource(input.path);
    } catch {
      throw new ApiFailure('NotFound', `There is no readable file at ${input.path}.`);
    }
  } else {
    bytes = bytesSource(input.name, input.data);
  }
  report('start', 0, 0);
  let result;
  try {
    result = await importSource(bytes, {
      ...(format === 'auto' ? {} : { format }),
      onProgress: (done, total, phase) => report('progress', done, total ?? 0, phase),
    });
  } catch (error) {
    report('failed', 0, 0, (error as Error).message);
    if (error instanceof ImportError) throw new ApiFailure('Failed', error.message);
    throw error;
  }
  const events = traceEventsOf(result.log);
  const from = result.header.importedFrom;
  const source = new AnalyzedSource({
    sourceId,
    name: `${from.file} (${from.format} ${from.version})`,
    device: result.header.device,
    strategy: `imported: ${result.header.allocator.allocator}`,
    warnings: [...result.warnings],
    loadMs: 0,
    events: () => events,
  });
  source.analysis();
  source.loadMs = performance.now() - started;
  sources.set(sourceId, source);
  report('done', 1, 1, `${events.length} events`);
  return { summary: source.summary(), path: null };
}

function query(sourceId: string, method: SourceQuery, params: unknown): unknown {
  const source = sources.get(sourceId);
  if (!source) throw notFound('source', sourceId);
  switch (method) {
    case 'timeline':
      return source.timeline(params as never);
    case 'snapshot':
      return source.snapshot(params as never);
    case 'allocations':
      return source.allocations(params as never);
    case 'detail':
      return source.detail(params as never);
    case 'leaks':
      return source.leaks(params as never);
    case 'diff':
      return source.diff(params as never);
    case 'report':
      return source.report(params as 'json' | 'text');
  }
}

async function handle(message: ToTraceWorker): Promise<unknown> {
  switch (message.type) {
    case 'load':
      return load(message.sourceId, message.input, message.taskId);
    case 'import':
      return importDump(message.sourceId, message.input, message.format, message.taskId);
    case 'query':
      return query(message.sourceId, message.method, message.params);
    case 'close':
      return sources.delete(message.sourceId);
  }
}

// One message at a time, in order: a query never sees a half-loaded source.
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToTraceWorker) => {
  queue = queue.then(async () => {
    try {
      post({ type: 'result', id: message.id, ok: true, value: await handle(message) });
    } catch (error) {
      const code = error instanceof ApiFailure ? error.code : 'Internal';
      const text = error instanceof Error ? error.message : String(error);
      post({
        type: 'result',
        id: message.id,
        ok: false,
        code,
        message: code === 'Internal' ? `The trace worker failed: ${text}` : text,
      });
    }
  });
});
