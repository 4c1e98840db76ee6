// The Electron transport: an ApiClient over `window.vramscope`, the bridge the preload exposes through
// contextBridge (src-main/electron/preload.ts). Frames are structured-cloned, so no codec is needed.
import type { ApiClient, PreloadBridge } from '../../src-main/api/contract.ts';
import { createClientCore } from './client-core.ts';

declare global {
  interface Window {
    /** Present only inside the Electron app. */
    readonly vramscope?: PreloadBridge;
  }
}

/** True inside the Electron app (the preload exposed the bridge). */
export function hasIpcBridge(): boolean {
  return typeof window !== 'undefined' && window.vramscope !== undefined;
}

export function createIpcClient(bridge: PreloadBridge | undefined = window.vramscope): ApiClient {
  if (!bridge) throw new Error('window.vramscope is missing: the Electron preload did not run');
  let unsubscribe: (() => void) | null = null;
  const core = createClientCore(
    async (frame) => {
      core.receive(await bridge.request(frame));
    },
    () => unsubscribe?.(),
  );
  unsubscribe = bridge.subscribe((frame) => core.receive(frame));
  return core.client;
}
