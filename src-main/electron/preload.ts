// The preload: exposes exactly three functions to the page as `window.vramscope` (PreloadBridge) — send a
// request frame, subscribe to event batches, and open a dropped or picked File in place (its path, which
// only Electron's webUtils knows, goes straight to main and never to the page). No ipcRenderer, no Node,
// nothing else crosses the bridge.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type {
  EventBatchFrame,
  LocalFileGrant,
  PreloadBridge,
  RequestFrame,
  ResponseFrame,
} from '../api/contract.ts';
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
  grantLocalFile: async (file: File): Promise<LocalFileGrant | null> => {
    // '' for a File the page made itself: nothing to open in place (the page uploads it instead).
    const filePath = webUtils.getPathForFile(file);
    if (filePath === '') return null;
    return (await ipcRenderer.invoke(ipcChannels.grantLocalFile, filePath)) as LocalFileGrant;
  },
};

contextBridge.exposeInMainWorld('vramscope', bridge);
