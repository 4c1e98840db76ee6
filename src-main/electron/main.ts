// The Electron main process: one window on the app's own scheme, the API over typed IPC, the app menu.
// Security (Electron's checklist): sandboxed renderer with contextIsolation and no Node; a strict CSP on
// every response; navigation, new windows, webviews and permission requests refused; external links only
// through the vetted opener; IPC only from our own windows' top frames (ipc-endpoint.ts).
import { app, BrowserWindow, dialog, protocol, session, type Session, type WebContents } from 'electron';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppBackend } from '../api/app-backend.ts';
import { createIpcEndpoint } from '../api/ipc-endpoint.ts';
import { openExternalVetted } from './external-links.ts';
import { handleApiRequests, handleLocalFileGrants, sendEventBatch } from './ipc-main.ts';
import { buildAppMenu } from './menu.ts';
import { appOrigin, appScheme, isAppUrl, rendererCsp, rendererFileFor } from './renderer-policy.ts';
import { tracePathFromArgv } from './argv.ts';
import { assetsDir as assetsDirOf } from '../runtime/install.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Set by forge's vite plugin: the dev server in `electron-forge start`, undefined when packaged. */
const devServerUrl: string | null =
  typeof MAIN_WINDOW_VITE_DEV_SERVER_URL === 'string' && MAIN_WINDOW_VITE_DEV_SERVER_URL !== ''
    ? MAIN_WINDOW_VITE_DEV_SERVER_URL
    : null;
const rendererDir = path.join(here, '..', 'renderer', MAIN_WINDOW_VITE_NAME);
// Packaged: assets/ and the Vulkan addon (built for Electron into native/build-electron/ by forge's
// prePackage hook) are extra resources beside app.asar. The environment tells the modules that look for
// them (src-main/runtime/install.ts, native/index.ts), the scenario and trace workers included. In
// development both are the repository's own.
if (app.isPackaged) {
  process.env.VRAMSCOPE_ASSETS_DIR ??= path.join(process.resourcesPath, 'assets');
  process.env.VRAMSCOPE_NATIVE_ADDON ??= path.join(process.resourcesPath, 'vramscope_vulkan.node');
}
const assetsDir = assetsDirOf();

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

protocol.registerSchemesAsPrivileged([
  { scheme: appScheme, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
app.enableSandbox();

const windows = new Set<BrowserWindow>();
/** In memory: the app keeps nothing in browser storage. */
const appPartition = 'vramscope-app';
let backend: AppBackend | null = null;

function trustedWebContents(): ReadonlySet<number> {
  return new Set([...windows].filter((w) => !w.isDestroyed()).map((w) => w.webContents.id));
}

/** Serves the built renderer on app://vramscope/ with the CSP header. */
async function serveRendererFile(request: Request): Promise<Response> {
  const file = rendererFileFor(request.url, rendererDir);
  if (file === null) return new Response('Not found', { status: 404 });
  try {
    const body = await readFile(file);
    return new Response(body, {
      headers: {
        'Content-Type': contentTypes[path.extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': rendererCsp,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  } catch {
    return new Response('Not found', { status: 404 });
  }
}

/**
 * The app's own in-memory session: the renderer's protocol, the preload (registered for our pages only),
 * no permissions, and the CSP on every HTTP response. The packaged page gets the same CSP from the
 * app:// handler (renderer-policy.ts rendererCsp; a unit test keeps the two strings equal).
 */
function createAppSession(): Session {
  const ses = session.fromPartition(appPartition);
  ses.protocol.handle(appScheme, serveRendererFile);
  ses.registerPreloadScript({
    type: 'frame',
    id: 'vramscope-bridge',
    filePath: path.join(here, 'preload.cjs'),
    matches: [`${appOrigin}/*`, ...(devServerUrl ? [`${new URL(devServerUrl).origin}/*`] : [])],
  });
  // The app needs no camera, notifications, geolocation, ... : refuse every permission.
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  if (devServerUrl === null) {
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({
        responseHeaders: {
          ...details.responseHeaders,
          'Content-Security-Policy': [
            "default-src 'none'; script-src app://vramscope/assets/; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
          ],
        },
      });
    });
  }
  // In development the vite dev server sends devRendererCsp itself (vite.renderer.config.ts).
  return ses;
}

/** Applies to every webContents the app ever creates. */
function guardWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, devServerUrl)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, devServerUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    void openExternalVetted(url);
    return { action: 'deny' };
  });
}

function createWindow(appSession: Session): BrowserWindow {
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    title: 'VRAMscope',
    show: false,
    backgroundColor: '#111418',
    icon: path.join(assetsDir, 'icons', 'vramscope-256.png'),
    webPreferences: {
      // The preload is registered on this session for the app's own pages only (createAppSession).
      session: appSession,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      // No middle-click "open in new window" navigation.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  windows.add(window);
  window.on('closed', () => windows.delete(window));
  window.once('ready-to-show', () => window.show());
  void window.loadURL(devServerUrl ?? `${appOrigin}/index.html`);
  return window;
}

/**
 * Loads a trace the user picked in main's dialog or gave on the command line: main grants it (the renderer
 * never sends paths; see file-grants.ts), loads it by its fileId and tells the UI to show it.
 */
async function openTrace(tracePath: string, origin: 'picked' | 'command-line'): Promise<void> {
  if (!backend) return;
  await openGranted(backend.grantFile(tracePath, origin).fileId);
}

/** Loads a granted file (a sample, a recent or a picked trace) and shows it. */
async function openGranted(fileId: string): Promise<void> {
  if (!backend) return;
  const response = await backend.dispatch(
    { t: 'req', id: 0, name: 'loadTrace', params: { source: { kind: 'file', fileId } } },
    { clientId: 'main', transport: 'in-process' },
  );
  if (response.ok) {
    const { sourceId } = response.result as { sourceId: string };
    backend.batcher.emit({ name: 'appCommand', payload: { command: 'showSource', sourceId } });
  } else {
    dialog.showErrorBox('Cannot open the trace', response.error.message);
  }
  refreshMenu();
}

async function exportActiveReport(): Promise<void> {
  if (!backend) return;
  const sourceId = backend.activeSourceId;
  if (sourceId === null) {
    dialog.showErrorBox('Nothing to export', 'Open a trace or run a scenario first.');
    return;
  }
  const text = await backend.dispatch(
    { t: 'req', id: 0, name: 'exportReport', params: { sourceId, format: 'text' } },
    { clientId: 'main', transport: 'in-process' },
  );
  if (!text.ok) {
    dialog.showErrorBox('Export failed', text.error.message);
    return;
  }
  // The path comes from main's own save dialog, never from the renderer; the API only returns content.
  const choice = await dialog.showSaveDialog({
    title: 'Export report',
    defaultPath: (text.result as { fileName: string }).fileName,
    filters: [
      { name: 'Text report', extensions: ['txt'] },
      { name: 'JSON report', extensions: ['json'] },
    ],
  });
  if (choice.canceled || !choice.filePath) return;
  const format = choice.filePath.endsWith('.json') ? 'json' : 'text';
  const response =
    format === 'text'
      ? text
      : await backend.dispatch(
          { t: 'req', id: 0, name: 'exportReport', params: { sourceId, format } },
          { clientId: 'main', transport: 'in-process' },
        );
  if (!response.ok) {
    dialog.showErrorBox('Export failed', response.error.message);
    return;
  }
  try {
    await writeFile(choice.filePath, (response.result as { content: string }).content);
  } catch (error) {
    dialog.showErrorBox('Export failed', `Cannot write ${choice.filePath}: ${(error as Error).message}`);
  }
}

function refreshMenu(): void {
  if (!backend) return;
  void buildAppMenu({
    backend,
    openTraceDialog: async () => {
      const choice = await dialog.showOpenDialog({
        title: 'Open trace',
        properties: ['openFile'],
        filters: [{ name: 'VRAMscope traces', extensions: ['trace'] }],
      });
      if (!choice.canceled && choice.filePaths[0]) await openTrace(choice.filePaths[0], 'picked');
    },
    openGranted,
    showScenario: (scenario) =>
      backend?.batcher.emit({ name: 'appCommand', payload: { command: 'showScenario', scenario } }),
    exportReport: exportActiveReport,
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', (_event, argv) => {
    const tracePath = tracePathFromArgv(argv.slice(1));
    if (tracePath) void openTrace(tracePath, 'command-line');
    const [first] = windows;
    if (first) {
      if (first.isMinimized()) first.restore();
      first.focus();
    }
  });

  app.on('web-contents-created', (_event, contents) => guardWebContents(contents));

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('before-quit', () => {
    void backend?.dispose();
  });

  void app.whenReady().then(() => {
    const appSession = createAppSession();
    backend = new AppBackend({
      assetsDir,
      // The desktop app is the user's own program: its Capture view may start commands (after confirming).
      allowCapture: true,
      recentFile: path.join(app.getPath('userData'), 'recent-traces.json'),
      // Device profiles the user drops on the Devices view.
      userProfilesDir: path.join(app.getPath('userData'), 'profiles'),
    });
    backend.prestart();
    // The default device is open when the window appears (npm start's promise).
    void backend.openDefaultSession();
    const origins = [appOrigin, ...(devServerUrl ? [new URL(devServerUrl).origin] : [])];
    const opened = backend;
    const endpoint = createIpcEndpoint({
      dispatch: backend.dispatch,
      trustedWebContents,
      appOrigins: origins,
      // A file dropped or picked in the page opens in place: the preload found its path (webUtils),
      // local-files.ts checks it is a regular file, and it is granted as if picked in the Open dialog.
      grantLocalFile: (file) => opened.grantFile(file, 'picked'),
    });
    handleApiRequests(endpoint);
    handleLocalFileGrants(endpoint);
    backend.batcher.subscribe((frame) => {
      for (const window of windows) if (!window.isDestroyed()) sendEventBatch(window.webContents, frame);
    });
    refreshMenu();
    const window = createWindow(appSession);
    const tracePath = tracePathFromArgv(process.argv.slice(app.isPackaged ? 1 : 2));
    if (tracePath)
      window.webContents.once('did-finish-load', () => void openTrace(tracePath, 'command-line'));
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow(appSession);
    });
  });
}
