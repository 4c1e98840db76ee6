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
      await page.goto(server.url);
      expect(page.url()).toBe(`${server.origin}/`);
      await expect
        .poll(() => page.getByText('streaming-h100.trace').count(), { timeout: 20_000 })
        .toBeGreaterThan(0);
      expect(violations).toEqual([]);
      expect(errors).toEqual([]);
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
