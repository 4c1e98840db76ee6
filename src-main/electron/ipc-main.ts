// Typed wrappers over Electron's ipcMain and webContents.send: the only place main touches IPC. Every
// message is checked against the trusted-sender rules of the IPC endpoint before it reaches the API.
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { EventBatchFrame, ResponseFrame } from '../api/contract.ts';
import type { IpcEndpoint, IpcSender } from '../api/ipc-endpoint.ts';
import { ipcChannels } from './ipc-channels.ts';

function senderOf(event: IpcMainInvokeEvent): IpcSender {
  const frame = event.senderFrame;
  return {
    webContentsId: event.sender.id,
    frameUrl: frame?.url ?? '',
    isMainFrame: frame !== null && frame === event.sender.mainFrame,
  };
}

/** Routes request frames from trusted windows to the API; answers anyone else with Forbidden. */
export function handleApiRequests(endpoint: IpcEndpoint): () => void {
  ipcMain.handle(ipcChannels.request, (event: IpcMainInvokeEvent, frame: unknown): Promise<ResponseFrame> =>
    endpoint.handle(senderOf(event), frame),
  );
  return () => ipcMain.removeHandler(ipcChannels.request);
}

/** Grants files the user dropped or picked in a trusted window, by the path the preload found. */
export function handleLocalFileGrants(endpoint: IpcEndpoint): () => void {
  ipcMain.handle(ipcChannels.grantLocalFile, (event: IpcMainInvokeEvent, candidate: unknown) =>
    endpoint.handleLocalFile(senderOf(event), candidate),
  );
  return () => ipcMain.removeHandler(ipcChannels.grantLocalFile);
}

/** Sends one event batch to a window (structured clone: typed arrays arrive as typed arrays). */
export function sendEventBatch(contents: WebContents, frame: EventBatchFrame): void {
  if (!contents.isDestroyed()) contents.send(ipcChannels.events, frame);
}
