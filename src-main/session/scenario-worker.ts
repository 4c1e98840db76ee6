// The scenario worker thread: owns the device, the allocator and the session; runs one scenario and
// posts events, status and the result to the main thread (see run-protocol.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerData, WorkerMessage } from './run-protocol.ts';
import { runScenario, type RunnerOptions } from './scenario-runner.ts';

const port = parentPort;
if (!port) throw new Error('scenario-worker.ts must run in a worker thread');
const data = workerData as WorkerData;
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void =>
  port.postMessage(message, transfer);
const options: RunnerOptions = {};
const result = await runScenario(data.request, data.control, post, options);
post({ type: 'done', result });
