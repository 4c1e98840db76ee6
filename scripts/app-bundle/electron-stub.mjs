// A stand-in for the `electron` module, used ONLY by scripts/check-app-bundle.ts to load the desktop app's
// built main bundle under plain Node (the Electron binary cannot be downloaded everywhere). It records
// what main registers (the IPC handler, windows, protocol handlers) in `stub` so the check can talk to
// the app the way the preload does. `app.isPackaged` is true and `process.resourcesPath` is the folder
// named by VRAMSCOPE_STUB_RESOURCES: the bundle runs as it would packaged.
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const resources = process.env.VRAMSCOPE_STUB_RESOURCES;
if (!resources) throw new Error('electron-stub: VRAMSCOPE_STUB_RESOURCES is not set');
process.resourcesPath = resources;

export const stub = {
  ipcHandlers: new Map(),
  windows: [],
  sent: [],
  protocolHandlers: new Map(),
  preloads: [],
  readyCallbacks: [],
};

let nextContentsId = 1;
const noop = () => {};

function makeWebContents() {
  const contents = {
    id: nextContentsId++,
    isDestroyed: () => false,
    send: (channel, payload) => stub.sent.push({ channel, payload }),
    on: noop,
    once: noop,
    setWindowOpenHandler: noop,
  };
  contents.mainFrame = { url: 'app://vramscope/index.html', parent: null };
  return contents;
}

export const app = {
  isPackaged: true,
  enableSandbox: noop,
  requestSingleInstanceLock: () => true,
  on: noop,
  quit: noop,
  whenReady: () => Promise.resolve(),
  getPath: (name) => {
    const dir = path.join(resources, '..', 'user-data', name);
    mkdirSync(dir, { recursive: true });
    return dir;
  },
  setAboutPanelOptions: noop,
};

export class BrowserWindow {
  constructor(options) {
    this.options = options;
    this.webContents = makeWebContents();
    this.loadedUrl = null;
    stub.windows.push(this);
  }
  static getAllWindows() {
    return stub.windows;
  }
  on() {}
  once() {}
  show() {}
  focus() {}
  restore() {}
  isMinimized() {
    return false;
  }
  isDestroyed() {
    return false;
  }
  loadURL(url) {
    this.loadedUrl = url;
    return Promise.resolve();
  }
}

export const protocol = { registerSchemesAsPrivileged: noop };

export const session = {
  fromPartition: () => ({
    protocol: { handle: (scheme, handler) => stub.protocolHandlers.set(scheme, handler) },
    registerPreloadScript: (script) => stub.preloads.push(script),
    setPermissionRequestHandler: noop,
    setPermissionCheckHandler: noop,
    webRequest: { onHeadersReceived: noop },
  }),
};

export const ipcMain = {
  handle: (channel, handler) => stub.ipcHandlers.set(channel, handler),
  removeHandler: (channel) => stub.ipcHandlers.delete(channel),
};

export const dialog = {
  showErrorBox: (title, message) => {
    throw new Error(`dialog.showErrorBox: ${title}: ${message}`);
  },
  showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
  showSaveDialog: async () => ({ canceled: true }),
};

export const Menu = { buildFromTemplate: (template) => ({ template }), setApplicationMenu: noop };
export const shell = { openExternal: async () => {} };
