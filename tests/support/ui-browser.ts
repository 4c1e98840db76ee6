// Real Chromium for the inspector's e2e tests (playwright-core over Debian's /usr/bin/chromium), a
// static file server for built pages, vite builds of the renderer and of the in-memory harness, and the
// screenshot folder (test-output/screenshots, git-ignored).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { repoRoot } from './ui-trace.ts';

export const screenshotDir = path.join(repoRoot, 'test-output', 'screenshots');

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** A persistent context on a fresh temp profile dir, removed on close. */
export async function launchBrowser(): Promise<Browser> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vramscope-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1500, height: 980 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Builds a vite app (root with an index.html) into outDir with the React plugin. */
export async function viteBuild(root: string, outDir: string): Promise<void> {
  const { build } = await import('vite');
  const { default: react } = await import('@vitejs/plugin-react');
  await build({
    root,
    base: './',
    configFile: false,
    logLevel: 'error',
    plugins: [react()],
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false },
  });
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
};

/** Serves a folder on 127.0.0.1 (a random port). */
export async function serveStatic(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const file = path.join(dir, rel === '/' ? 'index.html' : rel);
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(screenshotDir, { recursive: true });
  return path.join(screenshotDir, `${name}.png`);
}

/**
 * Pans the timeline from inside the page: a mouse drag on the canvas moved once per animation frame for
 * `ms` (d3-zoom handles it as a user's drag). Returns the animation frames seen and the timeline draws done,
 * so the rate is not bounded by how fast the test can send input.
 */
export async function panInPage(
  page: Page,
  ms: number,
): Promise<{ frames: number; draws: number; ms: number }> {
  return page.evaluate(async (duration) => {
    const canvas = document.querySelector('[data-testid="timeline-canvas"]') as HTMLCanvasElement;
    const rect = canvas.getBoundingClientRect();
    const y = rect.top + rect.height / 2;
    let x = rect.left + rect.width / 2;
    let dir = -1;
    const draws0 = Number(canvas.dataset['draws'] ?? '0');
    const opts = (cx: number): MouseEventInit => ({
      bubbles: true,
      cancelable: true,
      clientX: cx,
      clientY: y,
      button: 0,
      view: window,
    });
    canvas.dispatchEvent(new MouseEvent('mousedown', opts(x)));
    const t0 = performance.now();
    let frames = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        frames++;
        x += dir * 6;
        if (x < rect.left + 120 || x > rect.right - 40) dir = -dir;
        window.dispatchEvent(new MouseEvent('mousemove', opts(x)));
        if (performance.now() - t0 < duration) requestAnimationFrame(tick);
        else resolve();
      };
      requestAnimationFrame(tick);
    });
    window.dispatchEvent(new MouseEvent('mouseup', opts(x)));
    // Let the last frame draw.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return { frames, draws: Number(canvas.dataset['draws'] ?? '0') - draws0, ms: performance.now() - t0 };
  }, ms);
}

/** How many frames the timeline canvas has drawn (its data-draws counter). */
export async function timelineDraws(page: Page): Promise<number> {
  return Number((await page.getAttribute('[data-testid="timeline-canvas"]', 'data-draws')) ?? '0');
}

/**
 * Zooms the timeline in (8 wheel steps at its centre, then `settleMs` for it to redraw), then drags it left
 * and right with the real mouse for about `ms`, counting the page's animation frames meanwhile. Returns the
 * drag's duration, the mouse moves sent, the animation frames seen and the timeline draws done during it.
 */
export async function zoomAndPanWithMouse(
  page: Page,
  ms: number,
  settleMs: number,
): Promise<{ panMs: number; moves: number; rafFrames: number; draws: number }> {
  const canvas = await page.$('[data-testid="timeline-canvas"]');
  const box = await canvas?.boundingBox();
  if (!box) throw new Error('no timeline canvas');
  const cy = box.y + box.height / 2;
  let x = box.x + box.width / 2;
  await page.mouse.move(x, cy);
  for (let i = 0; i < 8; i++) await page.mouse.wheel(0, -240);
  await page.waitForTimeout(settleMs);
  const before = await timelineDraws(page);
  const raf = page.evaluate(
    (duration) =>
      new Promise<number>((resolve) => {
        let n = 0;
        const end = performance.now() + duration;
        const tick = (): void => {
          n++;
          if (performance.now() < end) requestAnimationFrame(tick);
          else resolve(n);
        };
        requestAnimationFrame(tick);
      }),
    ms,
  );
  const tPan = Date.now();
  let moves = 0;
  await page.mouse.down();
  let dir = -1;
  while (Date.now() - tPan < ms) {
    x += dir * 12;
    if (x < box.x + 120 || x > box.x + box.width - 40) dir = -dir;
    await page.mouse.move(x, cy);
    moves++;
  }
  await page.mouse.up();
  const panMs = Date.now() - tPan;
  const draws = (await timelineDraws(page)) - before;
  return { panMs, moves, rafFrames: await raf, draws };
}

/** A new page with the app loaded from `url`; `errors` collects the page's uncaught errors from the start. */
export async function openAppPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('[data-testid="app"]');
  return { page, errors };
}

/** Drops a file on an element (the app by default) as a user would drag it from a file manager. */
export async function dropFile(
  page: Page,
  name: string,
  bytes: Uint8Array,
  selector = '[data-testid="app"]',
): Promise<void> {
  await page.evaluate(
    ({ selector, name, b64 }) => {
      const bin = atob(b64);
      const data = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([data], name, { type: 'application/octet-stream' }));
      const target = document.querySelector(selector);
      target?.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
      target?.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    },
    { selector, name, b64: Buffer.from(bytes).toString('base64') },
  );
}
