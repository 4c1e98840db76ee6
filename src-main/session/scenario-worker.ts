// The scenario worker thread: owns the device, the allocator and the session; runs one scenario and
// posts events, status and the result to the main thread (see run-protocol.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerData, WorkerMessage } from './run-protocol.ts';
import { CancelledError } from './run-control.ts';
import { runScenario, type RunnerOptions } from './scenario-runner.ts';
import { createTraceConsumer } from './trace-consumer.ts';

const port = parentPort;
if (!port) throw new Error('scenario-worker.ts must run in a worker thread');
const data = workerData as WorkerData;
// A script that started ctx.sleep() without awaiting it leaves a rejected promise behind on cancel: that
// is the cancel it asked for, not a crash. Anything else unhandled still ends the worker with an error.
process.on('unhandledRejection', (reason) => {
  if (reason instanceof CancelledError) return;
  throw reason;
});
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void =>
  port.postMessage(message, transfer);
const options: RunnerOptions = { createConsumer: createTraceConsumer };
const result = await runScenario(data.request, data.control, post, options);
post({ type: 'done', result });
