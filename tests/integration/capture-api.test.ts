// A captured application's trace through the real API backend (IPC-like transport): `leaks` carries the
// application's problems (contract: leaks.problems), `exportReport` lists them and the memory-type choices.
// Input: the stream the layer recorded on an NVIDIA H200 (tests/fixtures/capture), converted as
// `vramscope capture --from` does.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { convertCaptureFile } from '../../src-main/capture/capture-session.ts';
import { call } from '../support/api-contract-suite.ts';
import { ipcLikeTransport, type ContractTransport, type TestClient } from '../support/api-transports.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'capture');
const tmp = mkdtempSync(path.join(tmpdir(), 'vramscope-capture-api-'));
let transport: ContractTransport;
let client: TestClient;
let tracePath = '';

beforeAll(async () => {
  const result = convertCaptureFile(path.join(fixtures, 'h200-app.vrscap'), { cwd: tmp, out: 'h200.trace' });
  tracePath = result.tracks[0]!.path!;
  transport = ipcLikeTransport();
  client = await transport.connect();
}, 60_000);

afterAll(async () => {
  client?.close();
  await transport?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test("leaks and the report of a captured trace name the application's problems", async () => {
  // Clients send no paths: the trace goes up as bytes and is loaded by the fileId main grants for it.
  const data = new Uint8Array(readFileSync(tracePath));
  const { fileId } = await call(client, 'uploadFile', {
    source: { kind: 'bytes', name: 'h200.trace', data },
  });
  const loaded = await call(client, 'loadTrace', { source: { kind: 'file', fileId } });
  const leaks = await call(client, 'leaks', { sourceId: loaded.sourceId, groupBy: 'origin' });
  const kinds = (leaks.problems ?? []).map((p) => p.kind);
  expect(kinds.filter((k) => k === 'memory-not-freed')).toHaveLength(2);
  expect(kinds).toContain('resource-not-destroyed');
  expect(kinds).toContain('freed-while-bound');
  const freed = leaks.problems!.find((p) => p.kind === 'freed-while-bound')!;
  expect(freed.message).toMatch(/orphan-buffer/);
  expect(freed.blocks).toHaveLength(1);
  const text = await call(client, 'exportReport', { sourceId: loaded.sourceId, format: 'text' });
  expect(text.content).toMatch(/^problems: \d+$/m);
  expect(text.content).toMatch(/\[memory-not-freed\] block \d+ "leak-0"/);
  expect(text.content).toMatch(/memory types, the application's choice beside gpu-allocator's rule/);
  const json = JSON.parse(
    (await call(client, 'exportReport', { sourceId: loaded.sourceId, format: 'json' })).content,
  ) as {
    capture?: { problems: unknown[]; decisions: unknown[] };
  };
  expect(json.capture?.problems.length).toBe(leaks.problems!.length);
  expect(json.capture?.decisions.length).toBeGreaterThan(0);
});
