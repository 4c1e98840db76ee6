// The Scenarios view's "Run on" choices through the inspector's API source over the real backend: a run
// with a device, strategy and block sizes opens a session with exactly those; changing them (or going back
// to the default) opens another; the same choices again reuse the session.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ApiSource } from '../../src-renderer/data/api-source.ts';
import { runConfigFrom, defaultRunConfig } from '../../src-renderer/views/run-config.tsx';
import { ipcLikeTransport } from '../support/api-transports.ts';
import type { ContractTransport, TestClient } from '../support/api-transports.ts';

let transport: ContractTransport;
let client: TestClient;
let source: ApiSource;

beforeAll(async () => {
  transport = ipcLikeTransport();
  client = await transport.connect();
  source = new ApiSource(client.api);
}, 60_000);

afterAll(async () => {
  client?.close();
  await transport?.close();
});

async function waitFinished(runId: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const state = await client.api.request('getState', {});
    const run = state.sessions.find((s) => s.run?.runId === runId)?.run;
    if (run && run.state !== 'running') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${runId} did not finish`);
}

describe('Run on: device, strategy and allocation sizes', () => {
  test('the form state becomes openSession params; bad sizes are refused with a sentence', async () => {
    const lib = await client.api.request('deviceLibrary', {});
    const h100 = lib.entries.find((e) => e.label === 'NVIDIA H100 80GB HBM3')!;
    const key = `profile:${h100.ref.kind === 'profile' ? h100.ref.name : ''}`;
    expect(
      runConfigFrom(
        { ...defaultRunConfig, device: key, strategy: 'freelist', deviceMemblockMiB: '64' },
        lib.entries,
      ),
    ).toEqual({
      config: {
        device: h100.ref,
        strategy: 'freelist',
        allocationSizes: { deviceMemblockSize: 64 * 1024 * 1024 },
      },
      problems: [],
    });
    expect(runConfigFrom(defaultRunConfig, lib.entries)).toEqual({ config: null, problems: [] });
    // Relocation is on by default with tlsf; turning it off is a setting; freelist never relocates.
    expect(runConfigFrom({ ...defaultRunConfig, relocation: false }, lib.entries).config).toEqual({
      strategy: 'tlsf',
      relocation: false,
    });
    expect(
      runConfigFrom({ ...defaultRunConfig, strategy: 'freelist', relocation: false }, lib.entries).config,
    ).toEqual({ strategy: 'freelist' });
    expect(runConfigFrom({ ...defaultRunConfig, hostMemblockMiB: '-3' }, lib.entries).problems).toEqual([
      'The host block size must be a positive number of MiB.',
    ]);

    const config = runConfigFrom(
      { ...defaultRunConfig, device: key, strategy: 'freelist', deviceMemblockMiB: '64' },
      lib.entries,
    ).config!;
    const first = await source.runScenario('leaks', {}, config);
    await waitFinished(first.runId);
    const state = await client.api.request('getState', {});
    const session = state.sessions.find((s) => s.sessionId === first.sessionId)!;
    expect(session.device.name).toBe('NVIDIA H100 80GB HBM3');
    expect(session.strategy).toBe('freelist');

    const again = await source.runScenario('leaks', {}, config);
    await waitFinished(again.runId);
    expect(again.sessionId).toBe(first.sessionId);

    const other = await source.runScenario('leaks', {}, { ...config, strategy: 'tlsf' });
    await waitFinished(other.runId);
    expect(other.sessionId).not.toBe(first.sessionId);
    const back = await source.runScenario('leaks', {});
    await waitFinished(back.runId);
    expect(back.sessionId).not.toBe(other.sessionId);
  }, 120_000);
});
