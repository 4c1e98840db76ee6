// Web mode end to end: the renderer built by vite, served by a real `vramscope serve` with a sample trace
// preloaded, opened in real Chromium through the token URL. The page must run under the server's CSP
// (no violations), reach the API over the cookie-authenticated WebSocket and show the trace.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot, startServeProcess, type ServeProcess } from '../support/api-transports.ts';
import { launchBrowser, type Browser } from '../support/ui-browser.ts';

const hasUi = existsSync(path.join(repoRoot, 'src-renderer', 'main.tsx'));
const hasChromium = existsSync('/usr/bin/chromium');

describe.skipIf(!hasUi || !hasChromium)(
  `web mode in Chromium${hasUi ? '' : ' (skipped: src-renderer/main.tsx is not in this checkout)'}${hasChromium ? '' : ' (skipped: no /usr/bin/chromium)'}`,
  () => {
    let server: ServeProcess;
    let browser: Browser;
    let context: BrowserContext;

    beforeAll(async () => {
      const uiDir = mkdtempSync(path.join(os.tmpdir(), 'vramscope-ui-'));
      const build = spawnSync(
        path.join(repoRoot, 'node_modules', '.bin', 'vite'),
        ['build', '-c', 'vite.renderer.config.ts', '--outDir', uiDir, '--emptyOutDir', '--logLevel', 'error'],
        { cwd: repoRoot, encoding: 'utf8' },
      );
      expect(build.status, build.stderr).toBe(0);
      server = await startServeProcess(['--ui', uiDir, 'assets/traces/streaming-h100.trace']);
      browser = await launchBrowser();
      context = browser.context;
    });

    afterAll(async () => {
      await browser?.close();
      await server?.stop();
    });

    test('the token URL opens the UI, the token leaves the address bar, the trace is shown, CSP holds', async () => {
      const page = await context.newPage();
      const violations: string[] = [];
      const errors: string[] = [];
      await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          (window as unknown as { reportViolation: (v: string) => void }).reportViolation(
            `${e.violatedDirective} ${e.blockedURI}`,
          );
        });
      });
      page.on('pageerror', (e) => errors.push(e.message));
      // A clean load: nothing on the console at error level, no request answered 4xx/5xx (a missing
      // favicon used to be one on every load).
      const consoleErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      const failedRequests: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(server.url);
      expect(page.url()).toBe(`${server.origin}/`);
      await expect
        .poll(() => page.getByText('streaming-h100.trace').count(), { timeout: 20_000 })
        .toBeGreaterThan(0);
      expect(violations).toEqual([]);
      expect(errors).toEqual([]);
      expect(consoleErrors).toEqual([]);
      expect(failedRequests).toEqual([]);
      // The page's icon and /favicon.ico (which browsers ask for by default) are VRAMscope's icon.
      const iconHref = await page.evaluate(() =>
        document.querySelector('link[rel="icon"]')?.getAttribute('href'),
      );
      expect(iconHref).toBeTruthy();
      const svg = await context.request.get(new URL(iconHref!, page.url()).href);
      expect(svg.status()).toBe(200);
      expect(svg.headers()['content-type']).toBe('image/svg+xml');
      expect((await svg.text()).startsWith('<svg')).toBe(true);
      const ico = await context.request.get(`${server.origin}/favicon.ico`);
      expect(ico.status()).toBe(200);
      expect(ico.headers()['content-type']).toBe('image/x-icon');
      expect([...(await ico.body()).subarray(0, 4)]).toEqual([0, 0, 1, 0]);
      const cookies = await context.cookies(server.origin);
      const token = cookies.find((c) => c.name === `vramscope_token_${server.port}`);
      expect(token?.httpOnly).toBe(true);
      expect(token?.sameSite).toBe('Strict');
      await page.close();
    });

    test('a page without the token gets no UI and no API', async () => {
      const fresh = await launchBrowser();
      try {
        const page = await fresh.context.newPage();
        const response = await page.goto(`${server.origin}/`);
        expect(response?.status()).toBe(401);
        expect(await page.getByText('VRAMscope').count()).toBeGreaterThan(0);
        expect(await page.locator('#root').count()).toBe(0);
      } finally {
        await fresh.close();
      }
    });
  },
);
