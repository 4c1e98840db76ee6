// What the app's pages may load and where they come from (pure: tested without Electron). The packaged
// renderer is served from the privileged `app://vramscope/` scheme (not file://), so every response
// carries our CSP header and the page has a real origin that IPC sender checks can compare.
import path from 'node:path';
import { pageCsp } from '../security/csp.ts';

export const appScheme = 'app';
export const appHost = 'vramscope';
export const appOrigin = `${appScheme}://${appHost}`;

/**
 * The renderer's Content Security Policy (packaged app). No inline scripts, no eval, no remote code:
 * scripts only from the built bundle's assets/ folder (vite's output), not from anywhere on the origin.
 */
export const rendererCsp = pageCsp(`${appOrigin}/assets/`, "'self'");

/**
 * The development CSP (forge's vite dev server): the same, plus what vite's hot reload needs (its
 * injected module preamble and its WebSocket). Only used when the app loads the dev server URL.
 */
export function devRendererCsp(devServerUrl: string): string {
  const origin = new URL(devServerUrl).origin;
  const ws = origin.replace(/^http/, 'ws');
  return pageCsp(`'self' 'unsafe-inline' ${origin}`, `'self' ${origin} ${ws}`);
}

/**
 * Maps an app:// URL to a file inside the renderer directory, or null when the URL is foreign or tries
 * to leave the directory. "/" is index.html.
 */
export function rendererFileFor(rawUrl: string, rendererDir: string): string | null {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${appScheme}:` || url.host !== appHost) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  if (pathname === '' || pathname.endsWith('/')) pathname += 'index.html';
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, `.${path.posix.normalize(`/${pathname}`)}`);
  return file.startsWith(root + path.sep) ? file : null;
}

/** May the page navigate to this URL? Only to the app's own page (reloads), never elsewhere. */
export function isAppUrl(rawUrl: string, devServerUrl: string | null): boolean {
  try {
    const url = new URL(rawUrl);
    if (url.protocol === `${appScheme}:`) return url.host === appHost;
    return devServerUrl !== null && url.origin === new URL(devServerUrl).origin;
  } catch {
    return false;
  }
}
