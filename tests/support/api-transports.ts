// The two transports of the API contract, as the contract tests use them. Both hand out real ApiClients
// built on the renderer's own client core (src-renderer/api/client-core.ts):
// - web: a real `vramscope serve` child process and real `ws` WebSocket connections;
// - ipc-like: the AppBackend in this process behind the IPC endpoint main uses for Electron, with a fake
//   sender and every frame structured-cloned both ways, as Electron IPC does.
import { AppBackend } from '../../src-main/api/app-backend.ts';
import { createIpcEndpoint, type IpcSender } from '../../src-main/api/ipc-endpoint.ts';
import { createClientCore } from '../../src-renderer/api/client-core.ts';
import type { ContractTransport, TestClient } from './web-transport.ts';

export {
  openRawSocket,
  repoRoot,
  startServeProcess,
  webTransport,
  type ContractTransport,
  type ServeProcess,
  type TestClient,
  type WsOptions,
} from './web-transport.ts';

// ---- ipc-like ----------------------------------------------------------------------------------------

export const trustedTestSender = (webContentsId: number): IpcSender => ({
  webContentsId,
  frameUrl: 'app://vramscope/index.html',
  isMainFrame: true,
});

/** `allowCapture`: the backend lets clients start programs (as the desktop app does). */
export function ipcLikeTransport(
  options: { allowCapture?: boolean; captureEnv?: NodeJS.ProcessEnv } = {},
): ContractTransport & { backend: AppBackend } {
  const backend = new AppBackend({
    checkResults: true,
    allowCapture: options.allowCapture === true,
    ...(options.captureEnv ? { captureEnv: options.captureEnv } : {}),
  });
  const windows = new Set<number>();
  const endpoint = createIpcEndpoint({
    dispatch: backend.dispatch,
    trustedWebContents: () => windows,
    appOrigins: ['app://vramscope'],
  });
  let nextWindow = 1;
  const clients: TestClient[] = [];
  return {
    name: 'ipc-like',
    backend,
    async connect() {
      const sender = trustedTestSender(nextWindow++);
      windows.add(sender.webContentsId);
      const frames: TestClient['frames'] = [];
      const core = createClientCore(
        async (frame) => {
          const response = await endpoint.handle(sender, structuredClone(frame));
          core.receive(structuredClone(response));
        },
        () => unsubscribe(),
      );
      const unsubscribe = backend.batcher.subscribe((frame) => {
        const copy = structuredClone(frame);
        frames.push({ at: performance.now(), frame: copy });
        core.receive(copy);
      });
      const client = { api: core.client, frames, close: () => core.client.close() };
      clients.push(client);
      return client;
    },
    grantFile(file) {
      return Promise.resolve(backend.grantFile(file, 'picked').fileId);
    },
    async close() {
      for (const c of clients) c.close();
      await backend.dispose();
    },
  };
}
