// The main-process side of the IPC transport, without Electron: decides whether a sender may talk to us
// and hands its frames to the dispatcher. src-main/electron/ipc-main.ts plugs Electron's ipcMain into it;
// the contract tests plug a fake sender into it, so the same code is tested without Electron.
import type { ResponseFrame } from './contract.ts';
import type { Dispatcher } from './handlers.ts';
import { grantLocalFile, type LocalFileAnswer } from './local-files.ts';

/** What main knows about the frame that sent an IPC message (Electron's event.sender / senderFrame). */
export interface IpcSender {
  /** webContents id. */
  readonly webContentsId: number;
  /** URL of the frame that sent the message ("" when unknown). */
  readonly frameUrl: string;
  /** Whether that frame is the top frame of its window (no iframes may talk to main). */
  readonly isMainFrame: boolean;
}

export interface IpcEndpointOptions {
  readonly dispatch: Dispatcher;
  /** webContents ids of the windows main created itself. */
  readonly trustedWebContents: () => ReadonlySet<number>;
  /**
   * Origins the app's pages load from: "app://vramscope" for the packaged renderer, the dev server's
   * origin in development. Compared on the parsed URL, never by prefix.
   */
  readonly appOrigins: readonly string[];
  /**
   * Grants a file the user dropped or picked in the page, by the path the preload found for it
   * (local-files.ts): AppBackend.grantFile(path, 'picked'). Absent: such requests are refused.
   */
  readonly grantLocalFile?: (file: string) => { readonly fileId: string; readonly name: string };
}

export interface IpcEndpoint {
  /** One request from a sender: a response frame, or an error response when the sender is untrusted. */
  handle(sender: IpcSender, frame: unknown): Promise<ResponseFrame>;
  /** The preload's open-by-path request (a dropped or picked file's path): a grant, or why not. */
  handleLocalFile(sender: IpcSender, candidate: unknown): Promise<LocalFileAnswer>;
  isTrusted(sender: IpcSender): boolean;
}

function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    // Custom schemes (app://vramscope) and file: have the opaque origin "null" in WHATWG URL terms;
    // name them by scheme and host instead.
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed.origin;
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return null;
  }
}

export function createIpcEndpoint(options: IpcEndpointOptions): IpcEndpoint {
  function isTrusted(sender: IpcSender): boolean {
    if (!sender.isMainFrame) return false;
    if (!options.trustedWebContents().has(sender.webContentsId)) return false;
    const origin = originOf(sender.frameUrl);
    return origin !== null && options.appOrigins.includes(origin);
  }

  return {
    isTrusted,
    async handle(sender, frame) {
      if (!isTrusted(sender)) {
        const id = frame !== null && typeof frame === 'object' ? (frame as { id?: unknown }).id : undefined;
        return {
          t: 'res',
          id: typeof id === 'number' && Number.isSafeInteger(id) ? id : -1,
          ok: false,
          error: { code: 'Forbidden', message: 'This sender may not use the VRAMscope API.' },
        };
      }
      return options.dispatch(frame, { clientId: `ipc-${sender.webContentsId}`, transport: 'ipc' });
    },
    async handleLocalFile(sender, candidate) {
      if (!isTrusted(sender) || options.grantLocalFile === undefined)
        return { ok: false, message: 'This sender may not open files by path.' };
      return grantLocalFile(candidate, options.grantLocalFile);
    },
  };
}
