// Picks the transport: the Electron bridge when the preload exposed it, the web-mode WebSocket otherwise.
import type { ApiClient } from '../../src-main/api/contract.ts';
import { createIpcClient, hasIpcBridge } from './ipc-client.ts';
import { createWsClient, type WsClientOptions } from './ws-client.ts';

export function createApiClient(options: WsClientOptions = {}): ApiClient {
  return hasIpcBridge() ? createIpcClient() : createWsClient(options);
}
