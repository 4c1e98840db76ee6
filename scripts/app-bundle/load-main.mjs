// Child process of scripts/check-app-bundle.ts: loads the desktop app's built main bundle (argv[2]) under
// Node with `electron` stubbed (electron-stub.mjs), then drives the app through the IPC handler main
// registered, as the preload would: devices, scenarios, the default session, a sample trace loaded in the
// trace worker, a scenario run in the scenario worker. Prints one JSON line with what it saw; exit 0 on
// success, 1 with the reason otherwise.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

register('./electron-stub-hooks.mjs', import.meta.url);
const { stub } = await import('./electron-stub.mjs');
await import(pathToFileURL(process.argv[2]).href);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, test, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const handler = await until('main to register its IPC handler', () =>
  stub.ipcHandlers.get('vramscope:request'),
);
const window = await until('main to create its window', () => stub.windows[0]);
const frame = window.webContents.mainFrame;
const event = { sender: window.webContents, senderFrame: frame };
let nextId = 1;
async function request(name, params) {
  const response = await handler(event, { t: 'req', id: nextId++, name, params });
  if (!response.ok) throw new Error(`${name}: ${response.error.code}: ${response.error.message}`);
  return response.result;
}

const seen = {};
const devices = await request('listDevices', {});
seen.devices = devices.devices.map((d) => `${d.description.name} (${d.description.source})`);
seen.unavailableReason = devices.unavailableReason;
seen.scenarios = (await request('listScenarios', {})).scenarios.map((s) => s.id ?? s.name);
const state = await until('the default session', async () => {
  const s = await request('getState', {});
  return s.sessions.length > 0 ? s : null;
});
seen.session = `${state.sessions[0].device.name} (${state.sessions[0].device.source})`;
seen.sampleTraces = state.sampleTraces.map((t) => t.name);
const loaded = await request('loadTrace', { source: { kind: 'file', fileId: state.sampleTraces[0].fileId } });
seen.loadedTrace = { title: loaded.title, events: loaded.eventCount ?? null };
const sessionId = state.sessions[0].sessionId;
const run = await request('runScenario', {
  sessionId,
  scenario: 'streaming',
  params: { frames: 20 },
  seed: 1,
});
const finished = await until('the scenario run to end', async () => {
  const s = await request('getState', {});
  const info = s.sessions.find((x) => x.sessionId === sessionId)?.run;
  return info && info.runId === run.runId && info.state !== 'running' ? info : null;
});
seen.run = { state: finished.state, opsDone: finished.opsDone, error: finished.error ?? null };
seen.eventBatchesSent = stub.sent.length;
seen.windowUrl = window.loadedUrl;
seen.preload = stub.preloads.map((p) => p.filePath);
const rendererHandler = stub.protocolHandlers.get('app');
if (rendererHandler) {
  const page = await rendererHandler(new Request('app://vramscope/index.html'));
  seen.rendererPage = { status: page.status, csp: page.headers.get('content-security-policy') !== null };
}
process.stdout.write(`${JSON.stringify(seen)}\n`);
process.exit(finished.state === 'finished' ? 0 : 1);
