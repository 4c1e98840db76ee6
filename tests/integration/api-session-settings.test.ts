// A session's allocator settings reach its scenario runs: openSession's allocationSizes (and the rest) go
// through the API handler layer (the ipc-like transport: zod, dispatcher, SessionManager) into the run
// request, and the scenario worker's allocator creates blocks of those sizes. Invalid settings are refused
// before any session exists, with a message naming the field.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FlagBits, TraceEventKind } from '../../allocator/index.ts';
import { isNativeAddonBuilt } from '../../native/index.ts';
import type { EventPayload, RequestParams, SessionInfo } from '../../src-main/api/contract.ts';
import { call, failure } from '../support/api-contract-suite.ts';
import { ipcLikeTransport, type TestClient } from '../support/api-transports.ts';

const MiB = 1024 * 1024;
const HOST_VISIBLE = 0x2;
const DEVICE_LOCAL = 0x1;

const transport = ipcLikeTransport();
let client: TestClient;
beforeAll(async () => {
  client = await transport.connect();
});
afterAll(async () => {
  await transport.close();
});

interface BlockCreate {
  readonly type: number;
  readonly size: number;
  readonly dedicated: boolean;
}

interface RunOutcome {
  readonly state: string;
  readonly blocks: BlockCreate[];
  /** Move events (relocation before growth). */
  readonly moves: number;
  readonly logs: EventPayload<'log'>[];
}

/** Runs a built-in scenario in the session; collects its blockCreate events and log lines until it ends. */
async function runToEnd(
  sessionId: string,
  scenario: string,
  seed: number,
  params: Record<string, number> = {},
): Promise<RunOutcome> {
  const blocks: BlockCreate[] = [];
  let moves = 0;
  const logs: EventPayload<'log'>[] = [];
  let runId = '';
  let finish: (state: string) => void = () => undefined;
  const ended = new Promise<string>((resolve) => (finish = resolve));
  let received = 0;
  const offEvents = client.api.on('sessionEvents', (e) => {
    if (e.sessionId !== sessionId) return;
    received = e.start + e.count;
    const c = e.columns;
    for (let i = 0; i < e.count; i++) {
      if (c.kind[i] === TraceEventKind.Move) moves++;
      if (c.kind[i] === TraceEventKind.BlockCreate)
        blocks.push({
          type: c.type[i]!,
          size: c.size[i]!,
          dedicated: (c.flags[i]! & FlagBits.dedicated) !== 0,
        });
    }
  });
  const offLog = client.api.on('log', (e) => {
    if (e.sessionId === sessionId) logs.push(e);
  });
  const pending: EventPayload<'runState'>[] = [];
  const offState = client.api.on('runState', (s) => {
    if (runId === '') pending.push(s);
    else if (s.runId === runId && s.state !== 'running' && s.state !== 'paused') finish(s.state);
  });
  try {
    const run = await call(client, 'runScenario', { sessionId, scenario, params, seed });
    runId = run.runId;
    for (const s of pending)
      if (s.runId === runId && s.state !== 'running' && s.state !== 'paused') finish(s.state);
    const state = await ended;
    // The last slice goes out in the same flush as the final run state or just before it: wait until
    // every recorded event has arrived (polled, no guessed sleep).
    const recorded = (await call(client, 'getState', {})).sessions.find(
      (s) => s.sessionId === sessionId,
    )!.eventCount;
    await expect.poll(() => received, { timeout: 10_000, interval: 20 }).toBe(recorded);
    return { state, blocks, moves, logs };
  } finally {
    offEvents();
    offLog();
    offState();
  }
}

function hostVisible(session: SessionInfo, type: number): boolean {
  const t = session.device.types.find((x) => x.index === type);
  if (!t) throw new Error(`memory type ${type} is not on ${session.device.name}`);
  return (t.propertyFlags & HOST_VISIBLE) !== 0;
}

/** Does memory type `type` take the device block size? With tlsf: device-local types, host-visible or not. */
function deviceSized(session: SessionInfo, type: number): boolean {
  const t = session.device.types.find((x) => x.index === type);
  if (!t) throw new Error(`memory type ${type} is not on ${session.device.name}`);
  return (t.propertyFlags & DEVICE_LOCAL) !== 0 || (t.propertyFlags & HOST_VISIBLE) === 0;
}

test('a session with 8 MiB device and 4 MiB host blocks runs with blocks of those sizes', async () => {
  const session = await call(client, 'openSession', {
    device: { kind: 'profile', name: 'h100' },
    allocationSizes: { deviceMemblockSize: 8 * MiB, hostMemblockSize: 4 * MiB },
  });
  const { state, blocks, logs } = await runToEnd(session.sessionId, 'leaks', 5);
  expect(state).toBe('finished');
  // tlsf: both memory types the scenario uses are device-local (type 1, and ReBAR type 4), so every
  // block takes the device size; none takes the host size.
  const general = blocks.filter((b) => !b.dedicated);
  const device = general.filter((b) => deviceSized(session, b.type));
  expect(device.length).toBeGreaterThan(1);
  expect(device.some((b) => hostVisible(session, b.type))).toBe(true);
  expect(general.length).toBe(device.length);
  expect(new Set(device.map((b) => b.size))).toEqual(new Set([8 * MiB]));
  expect(logs.filter((l) => l.level === 'warn')).toEqual([]);
  await call(client, 'closeSession', { sessionId: session.sessionId });
});

test('the same run in a default session gets blocks within the default 256 MiB / 64 MiB sizes', async () => {
  const session = await call(client, 'openSession', { device: { kind: 'profile', name: 'h100' } });
  const { state, blocks } = await runToEnd(session.sessionId, 'leaks', 5);
  expect(state).toBe('finished');
  const general = blocks.filter((b) => !b.dedicated);
  expect(general.length).toBeGreaterThan(0);
  // tlsf sizes blocks by demand: from 128 MiB up to the device size (at most 64 MiB for host-only types).
  for (const b of general) {
    if (deviceSized(session, b.type)) expect(b.size >= 128 * MiB && b.size <= 256 * MiB).toBe(true);
    else expect(b.size).toBeLessThanOrEqual(64 * MiB);
  }
  await call(client, 'closeSession', { sessionId: session.sessionId });
});

test('a size the allocator rounds is used rounded, with a warn log event saying so', async () => {
  const session = await call(client, 'openSession', {
    device: { kind: 'profile', name: 'h100' },
    allocationSizes: { deviceMemblockSize: 5_000_000 },
  });
  const { state, blocks, logs } = await runToEnd(session.sessionId, 'leaks', 5);
  expect(state).toBe('finished');
  const device = blocks.filter((b) => !b.dedicated && !hostVisible(session, b.type));
  expect(device.length).toBeGreaterThan(0);
  for (const b of device) expect(b.size).toBe(8 * MiB);
  const warnings = logs.filter((l) => l.level === 'warn').map((l) => l.message);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/deviceMemblockSize 5000000 bytes .*using 8 MiB/);
  await call(client, 'closeSession', { sessionId: session.sessionId });
});

test('relocation is on by default with tlsf: fragmentation misses move buffers; off, freelist: no moves', async () => {
  // Holes between survivors, then requests larger than any hole (assets/scenarios/fragmentation.mjs); half
  // of the survivors are images, which stay where they are.
  const params = {
    rounds: 4,
    allocationsPerRound: 600,
    minKiB: 256,
    maxKiB: 1024,
    keepEvery: 2,
    bigKiB: 1536,
  };
  const run = async (settings: Partial<RequestParams<'openSession'>>) => {
    const session = await call(client, 'openSession', {
      device: { kind: 'profile', name: 'h100' },
      ...settings,
    });
    const outcome = await runToEnd(session.sessionId, 'fragmentation', 9, params);
    await call(client, 'closeSession', { sessionId: session.sessionId });
    expect(outcome.state).toBe('finished');
    return outcome;
  };
  const byDefault = await run({});
  const explicit = await run({ relocation: true });
  const off = await run({ relocation: false });
  const freelist = await run({ strategy: 'freelist' });
  expect(byDefault.moves).toBeGreaterThan(0);
  expect(explicit.moves).toBe(byDefault.moves);
  expect(explicit.blocks).toEqual(byDefault.blocks);
  expect(off.moves).toBe(0);
  expect(freelist.moves).toBe(0);
}, 60_000);

test('invalid session settings are refused with InvalidRequest naming the field', async () => {
  const h100 = { kind: 'profile', name: 'h100' } as const;
  const cases: [RequestParams<'openSession'> | Record<string, unknown>, RegExp][] = [
    [
      { device: h100, allocationSizes: { deviceMemblockSize: 0 } },
      /params\.allocationSizes\.deviceMemblockSize/,
    ],
    [
      { device: h100, allocationSizes: { hostMemblockSize: -4 * MiB } },
      /params\.allocationSizes\.hostMemblockSize/,
    ],
    [
      { device: h100, allocationSizes: { hostMemblockSize: 1.5 } },
      /params\.allocationSizes\.hostMemblockSize/,
    ],
    [
      { device: h100, allocationSizes: { deviceMemblockSize: '8MiB' } },
      /params\.allocationSizes\.deviceMemblockSize/,
    ],
    [
      { device: h100, allocationSizes: { deviceMemblockSize: 2 ** 60 } },
      /params\.allocationSizes\.deviceMemblockSize/,
    ],
    [{ device: h100, allocationSizes: { blockSize: 8 * MiB } }, /params\.allocationSizes/],
    [
      { device: h100, allocationSizes: { deviceMemblockSize: 64 * MiB, deviceMaxMemblockSize: 32 * MiB } },
      /params\.allocationSizes\.deviceMaxMemblockSize: deviceMaxMemblockSize must be at least deviceMemblockSize/,
    ],
    [
      { device: h100, allocationSizes: { hostMaxMemblockSize: 32 * MiB } },
      /params\.allocationSizes\.hostMaxMemblockSize: hostMaxMemblockSize must be at least hostMemblockSize \(default 64 MiB\)/,
    ],
    [{ device: h100, debugSettings: { logEverything: true } }, /params\.debugSettings/],
    [{ device: h100, bufferDeviceAddress: 'yes' }, /params\.bufferDeviceAddress/],
    [{ device: h100, validation: 1 }, /params\.validation/],
    [{ device: h100, relocation: 'on' }, /params\.relocation/],
    [{ device: h100, strategy: 'freelist', relocation: true }, /relocation needs the tlsf strategy/],
    [{ device: h100, validation: true }, /validation needs a real Vulkan device .*not a profile device/],
    [
      { device: { kind: 'builtin', model: 'metal' }, validation: true },
      /validation needs a real Vulkan device .*not a builtin device/,
    ],
  ];
  const before = (await call(client, 'getState', {})).sessions.length;
  for (const [params, message] of cases) {
    const error = await failure(client.api.request('openSession', params as RequestParams<'openSession'>));
    expect(error.code, JSON.stringify(params)).toBe('InvalidRequest');
    expect(error.message, JSON.stringify(params)).toMatch(message);
  }
  expect((await call(client, 'getState', {})).sessions.length).toBe(before);
});

const built = isNativeAddonBuilt();
describe.skipIf(!built)(
  `on the real lavapipe device${built ? '' : ' (skipped: the native Vulkan addon is not built; npm run setup)'}`,
  () => {
    test('a validated session with 8 MiB blocks runs on the real device', async () => {
      const session = await call(client, 'openSession', {
        device: { kind: 'vulkan', index: 0 },
        validation: true,
        bufferDeviceAddress: true,
        allocationSizes: { deviceMemblockSize: 8 * MiB },
      });
      expect(session.device.source).toBe('vulkan');
      const { state, blocks, logs } = await runToEnd(session.sessionId, 'leaks', 7);
      expect(state).toBe('finished');
      // lavapipe's one memory type is device-local and host-visible: tlsf gives it the device size.
      const general = blocks.filter((b) => !b.dedicated);
      expect(general.length).toBeGreaterThan(0);
      for (const b of general) {
        expect(hostVisible(session, b.type)).toBe(true);
        expect(b.size).toBe(8 * MiB);
      }
      // A correct run gives the validation layer nothing to report.
      expect(logs.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
      await call(client, 'closeSession', { sessionId: session.sessionId });
    });
  },
);
