// `npm start` where Electron cannot start (no binary here, or VRAMSCOPE_WEB=1): one line saying so, then
// web mode with the URL printed, the default device's session open and the sample trace loaded.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { call } from '../support/api-contract-suite.ts';
import { openRawSocket, repoRoot, type ServeProcess } from '../support/api-transports.ts';
import { createClientCore } from '../../src-renderer/api/client-core.ts';
import { decodeFrame, encodeFrame } from '../../src-main/api/contract.ts';
import { serverNodeFlags } from '../../src-main/runtime/server-heap.ts';

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
  if (process.platform === 'linux') {
    const server = serverSpawnedBy(child.pid!);
    expectHugePagesWhereTheyHelp(server);
    // Node's flags come before the script on its command line: V8's larger starting heap.
    const argv = readFileSync(`/proc/${server}/cmdline`, 'utf8').split('\0');
    expect(argv.slice(1, argv.indexOf('bin/vramscope.mjs'))).toEqual([...serverNodeFlags]);
  }
});

/** The pid of the `serve` process npm start (pid `startPid`) spawned. */
function serverSpawnedBy(startPid: number): string {
  const server = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .find((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === startPid && readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('serve');
      } catch {
        return false;
      }
    });
  expect(server, 'the serve process npm start spawned').toBeDefined();
  return server!;
}

/**
 * The server npm start spawned runs with glibc's huge-page tunable where the kernel gives huge pages on
 * request (src-main/runtime/huge-pages.ts), and its memory then has some; elsewhere it runs without.
 */
function expectHugePagesWhereTheyHelp(server: string): void {
  const environ = readFileSync(`/proc/${server}/environ`, 'utf8').split('\0');
  const tunables = environ.find((v) => v.startsWith('GLIBC_TUNABLES='));
  let thp = '';
  try {
    thp = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
  } catch {
    thp = '';
  }
  const header = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  const helps = thp.includes('[madvise]') && header.header?.glibcVersionRuntime !== undefined;
  const ownTunables = process.env['GLIBC_TUNABLES'] ?? '';
  if (
    helps &&
    !ownTunables.includes('glibc.malloc.hugetlb=') &&
    process.env['VRAMSCOPE_HUGE_PAGES'] !== '0'
  ) {
    expect(tunables ?? '(no GLIBC_TUNABLES)').toContain('glibc.malloc.hugetlb=1');
    const rollup = readFileSync(`/proc/${server}/smaps_rollup`, 'utf8');
    expect(Number(/AnonHugePages:\s+(\d+) kB/.exec(rollup)?.[1] ?? 0)).toBeGreaterThan(0);
  } else {
    expect(tunables ?? '').toBe(ownTunables === '' ? '' : `GLIBC_TUNABLES=${ownTunables}`);
  }
}
