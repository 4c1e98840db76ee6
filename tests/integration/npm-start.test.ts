// `npm start` where Electron cannot start (no binary here, or VRAMSCOPE_WEB=1): one line saying so, then
// web mode with the URL printed, the default device's session open and the sample trace loaded.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { call } from '../support/api-contract-suite.ts';
import { openRawSocket, repoRoot, type ServeProcess } from '../support/api-transports.ts';
import { createClientCore } from '../../src-renderer/api/client-core.ts';
import { decodeFrame, encodeFrame } from '../../src-main/api/contract.ts';

const electronInstalled = existsSync(path.join(repoRoot, 'node_modules', 'electron', 'path.txt'));
let stop: (() => void) | null = null;

afterAll(() => stop?.());

test('npm start falls back to web mode in one line and serves a ready session and sample trace', async () => {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Without a binary the fallback is natural; with one, ask for web mode (no display in CI either way).
    env: {
      ...process.env,
      ...(electronInstalled ? { VRAMSCOPE_WEB: '1' } : {}),
      DISPLAY: '',
      WAYLAND_DISPLAY: '',
    },
    detached: true,
  });
  stop = () => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
  };
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await expect
    .poll(() => /VRAMscope web UI: (http:\S+)\n/.test(out), { timeout: 50_000, interval: 200 })
    .toBe(true);
  const fallback = out.split('\n').filter((l) => l.includes('starting web mode instead'));
  expect(fallback).toHaveLength(1);
  expect(fallback[0]).toMatch(
    electronInstalled
      ? /^VRAMscope: Electron cannot start here \(VRAMSCOPE_WEB=1 asks for web mode\); starting web mode instead\.$/
      : /^VRAMscope: Electron cannot start here \(the Electron binary is not installed\); starting web mode instead\.$/,
  );
  const m = /VRAMscope web UI: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+))\n/.exec(out)!;
  const port = Number(m[2]);
  const server = { port, token: m[3], origin: `http://127.0.0.1:${port}` } as unknown as ServeProcess;
  const socket = await openRawSocket(server);
  const core = createClientCore(
    (frame) => socket.send(encodeFrame(frame)),
    () => socket.close(),
  );
  socket.on('message', (d) => core.receive(decodeFrame(d.toString())));
  const client = { api: core.client, frames: [], close: () => core.client.close() };
  const state = await call(client, 'getState', {});
  expect(state.sessions).toHaveLength(1);
  expect(state.traces.map((t) => t.name)).toEqual(['streaming-h100.trace']);
  const { scenarios } = await call(client, 'listScenarios', {});
  expect(scenarios.length).toBe(7);
  client.close();
});
