// A captured application's trace through the real API backend (IPC-like transport): `leaks` carries the
// application's problems (contract: leaks.problems), `exportReport` lists them and the memory-type choices.
// A resource's allocationDetail carries its block's pNext details (a stream built from the format doc).
// Input: the stream the layer recorded on an NVIDIA H200 (tests/fixtures/capture), converted as
// `vramscope capture --from` does.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { convertCaptureFile } from '../../src-main/capture/capture-session.ts';
import { call } from '../support/api-contract-suite.ts';
import { ipcLikeTransport, type ContractTransport, type TestClient } from '../support/api-transports.ts';
import { CaptureStreamWriter, lavapipeDeviceFields } from '../support/capture-stream.ts';

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

test("allocationDetail of a captured resource says what its block's vkAllocateMemory chained", async () => {
  const DEV = 0xd00n;
  const w = new CaptureStreamWriter();
  w.record('ProcessStart', {}, { strings: ['/app', 'app'] });
  w.record('DeviceCreate', lavapipeDeviceFields(DEV), { strings: ['dev', '', '', ''] });
  // chain: allocate flags (0x2) + priority (0x4) + export (0x8).
  w.record('AllocateMemory', {
    device: DEV,
    memory: 0x10n,
    size: 1 << 20,
    memoryTypeIndex: 0,
    chain: 0x2 | 0x4 | 0x8,
    allocateFlags: 0x2,
    priority: 1,
    exportHandleTypes: 0x1,
  });
  w.record('CreateBuffer', { device: DEV, buffer: 0x1n, size: 4096, usage: 0x80 });
  w.record('BufferRequirements', {
    device: DEV,
    buffer: 0x1n,
    size: 4096,
    alignment: 256,
    memoryTypeBits: 1,
  });
  w.record('BindBuffer', { device: DEV, buffer: 0x1n, memory: 0x10n, offset: 0 });
  w.record('ProcessEnd', { reason: 1 });
  const stream = path.join(tmp, 'chained.vrscap');
  writeFileSync(stream, w.bytes());
  const converted = convertCaptureFile(stream, { cwd: tmp, out: 'chained.trace' });
  const data = new Uint8Array(readFileSync(converted.tracks[0]!.path!));
  const { fileId } = await call(client, 'uploadFile', {
    source: { kind: 'bytes', name: 'chained.trace', data },
  });
  const loaded = await call(client, 'loadTrace', { source: { kind: 'file', fileId } });
  const rows = await call(client, 'listAllocations', { sourceId: loaded.sourceId });
  expect(rows.rows).toHaveLength(1);
  const detail = await call(client, 'allocationDetail', {
    sourceId: loaded.sourceId,
    allocationId: rows.rows[0]!.id,
  });
  expect(detail.blockDetails).toBe('priority 1; flags DEVICE_ADDRESS; export OPAQUE_FD');
  const text = await call(client, 'exportReport', { sourceId: loaded.sourceId, format: 'text' });
  expect(text.content).toMatch(
    /blocks with more in their vkAllocateMemory chain: 1\n {2}block 1 .*: priority 1; flags DEVICE_ADDRESS; export OPAQUE_FD/,
  );
});
