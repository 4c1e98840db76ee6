// The API contract through the IPC endpoint (the Electron transport's main side) without Electron: a fake
// trusted sender, structured-cloned frames. Plus the sender checks themselves.
import { describe, expect, test } from 'vitest';
import { defineCaptureContractSuite, defineContractSuite } from '../support/api-contract-suite.ts';
import { ipcLikeTransport, trustedTestSender } from '../support/api-transports.ts';
import { AppBackend } from '../../src-main/api/app-backend.ts';
import { createIpcEndpoint, type IpcSender } from '../../src-main/api/ipc-endpoint.ts';

describe('contract over the ipc-like transport', () => {
  defineContractSuite(() => ipcLikeTransport());
});

describe('captures over the ipc-like transport (captures allowed)', () => {
  defineCaptureContractSuite(() => ipcLikeTransport({ allowCapture: true }));
});

describe('IPC sender checks', () => {
  const backend = new AppBackend();
  const endpoint = createIpcEndpoint({
    dispatch: backend.dispatch,
    trustedWebContents: () => new Set([7]),
    appOrigins: ['app://vramscope', 'http://localhost:5173'],
  });
  const request = { t: 'req', id: 3, name: 'getState', params: {} };

  test('our window on the app origin is answered', async () => {
    const response = await endpoint.handle(trustedTestSender(7), request);
    expect(response.ok).toBe(true);
    expect(response.id).toBe(3);
  });

  test('every untrusted sender is refused with Forbidden, and the request never runs', async () => {
    const untrusted: IpcSender[] = [
      { ...trustedTestSender(7), webContentsId: 8 },
      { ...trustedTestSender(7), isMainFrame: false },
      { ...trustedTestSender(7), frameUrl: 'https://evil.example/' },
      { ...trustedTestSender(7), frameUrl: 'app://vramscope.evil/index.html' },
      { ...trustedTestSender(7), frameUrl: 'app://other/index.html' },
      { ...trustedTestSender(7), frameUrl: 'file:///tmp/x.html' },
      { ...trustedTestSender(7), frameUrl: 'http://localhost:5174/' },
      { ...trustedTestSender(7), frameUrl: 'http://localhost:5173.evil.example/' },
      { ...trustedTestSender(7), frameUrl: '' },
      { ...trustedTestSender(7), frameUrl: 'not a url' },
      { ...trustedTestSender(7), frameUrl: 'data:text/html,hi' },
      { ...trustedTestSender(7), frameUrl: 'about:blank' },
    ];
    for (const sender of untrusted) {
      const response = await endpoint.handle(sender, request);
      expect(response.ok, JSON.stringify(sender)).toBe(false);
      if (!response.ok) expect(response.error.code).toBe('Forbidden');
    }
  });

  test('the dev server origin is trusted only when configured', async () => {
    const response = await endpoint.handle(
      { ...trustedTestSender(7), frameUrl: 'http://localhost:5173/' },
      request,
    );
    expect(response.ok).toBe(true);
  });
});
