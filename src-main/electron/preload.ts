// The preload: exposes exactly two functions to the page as `window.vramscope` (PreloadBridge) — send a
// request frame, subscribe to event batches. No ipcRenderer, no Node, nothing else crosses the bridge.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { EventBatchFrame, PreloadBridge, RequestFrame, ResponseFrame } from '../api/contract.ts';
import { ipcChannels } from './ipc-channels.ts';

const bridge: PreloadBridge = {
  request: (frame: RequestFrame): Promise<ResponseFrame> =>
    ipcRenderer.invoke(ipcChannels.request, frame) as Promise<ResponseFrame>,
  subscribe: (listener: (frame: EventBatchFrame) => void): (() => void) => {
    // Only the frame crosses to the page, never the IpcRendererEvent (it carries `sender`).
    const forward = (_event: IpcRendererEvent, frame: EventBatchFrame): void => listener(frame);
    ipcRenderer.on(ipcChannels.events, forward);
    return () => {
      ipcRenderer.removeListener(ipcChannels.events, forward);
    };
  },
};

contextBridge.exposeInMainWorld('vramscope', bridge);
