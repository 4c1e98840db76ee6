// The pure parts of the shell's security policy: tokens, links, renderer files, CSP strings.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { allowedOrigins, readCookie, TokenCheck } from '../../src-main/web/auth.ts';
import { externalLinkId, externalLinks } from '../../src-main/electron/link-policy.ts';
import { isAppUrl, rendererCsp, rendererFileFor } from '../../src-main/electron/renderer-policy.ts';
import { tracePathFromArgv } from '../../src-main/electron/argv.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('TokenCheck', () => {
  const check = new TokenCheck('abcDEF123_-');
  test('accepts exactly the token', () => {
    expect(check.matches('abcDEF123_-')).toBe(true);
    for (const bad of ['', 'abcDEF123_', 'abcDEF123_--', 'ABCDEF123_-', null, undefined, 'x'.repeat(300)]) {
      expect(check.matches(bad)).toBe(false);
    }
  });
  test('cookies are read by exact name', () => {
    expect(readCookie('a=1; vramscope_token_80=t; b=2', 'vramscope_token_80')).toBe('t');
    expect(readCookie('xvramscope_token_80=t', 'vramscope_token_80')).toBeNull();
    expect(readCookie(undefined, 'x')).toBeNull();
  });
  test('origins are the server itself only', () => {
    expect(allowedOrigins(8080)).toEqual(['http://127.0.0.1:8080', 'http://localhost:8080']);
  });
});

describe('external links', () => {
  test('only the allowlisted https pages, exactly', () => {
    for (const [id, url] of Object.entries(externalLinks)) {
      expect(externalLinkId(url)).toBe(id);
      expect(externalLinkId(`${url}#section`)).toBe(id);
      expect(externalLinkId(url.replace('https:', 'http:'))).toBeNull();
      expect(externalLinkId(`${url}/../../evil`)).toBeNull();
      expect(externalLinkId(url.replace('https://', 'https://user:pw@'))).toBeNull();
    }
    for (const bad of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'https://evil.example/',
      'not a url',
      '',
    ]) {
      expect(externalLinkId(bad)).toBeNull();
    }
  });

  test('each opener in external-links.ts opens the constant URL of its own id', () => {
    const source = readFileSync(path.join(repoRoot, 'src-main/electron/external-links.ts'), 'utf8').replace(
      /\s+/g,
      ' ',
    );
    for (const [id, url] of Object.entries(externalLinks)) {
      expect(source).toContain(`${id}: () => shell.openExternal('${url}')`);
    }
  });
});

describe('renderer files and navigation', () => {
  const dir = path.join(repoRoot, 'dist', 'renderer');
  test('app:// URLs map into the renderer folder only', () => {
    expect(rendererFileFor('app://vramscope/', dir)).toBe(path.join(dir, 'index.html'));
    expect(rendererFileFor('app://vramscope/assets/a.js', dir)).toBe(path.join(dir, 'assets', 'a.js'));
    for (const bad of [
      'app://vramscope/../package.json',
      'app://vramscope/%2e%2e/package.json',
      'app://vramscope/..%2fpackage.json',
      'app://vramscope/a%00b',
      'app://other/index.html',
      'https://vramscope/index.html',
      'file:///etc/passwd',
    ]) {
      const file = rendererFileFor(bad, dir);
      if (file !== null) expect(file.startsWith(dir + path.sep)).toBe(true);
    }
    // Traversal is clamped at the folder's root: "/../../package.json" is dist/renderer/package.json.
    expect(rendererFileFor('app://vramscope/..%2f..%2fpackage.json', dir)).toBe(
      path.join(dir, 'package.json'),
    );
    expect(rendererFileFor('app://other/index.html', dir)).toBeNull();
    expect(rendererFileFor('file:///etc/passwd', dir)).toBeNull();
  });

  test('navigation stays on the app', () => {
    expect(isAppUrl('app://vramscope/index.html', null)).toBe(true);
    expect(isAppUrl('https://github.com/', null)).toBe(false);
    expect(isAppUrl('http://localhost:5173/', null)).toBe(false);
    expect(isAppUrl('http://localhost:5173/x', 'http://localhost:5173/')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173/')).toBe(false);
  });

  test('the CSP main.ts puts on HTTP responses is the renderer CSP, and it allows no inline or remote script', () => {
    const main = readFileSync(path.join(repoRoot, 'src-main/electron/main.ts'), 'utf8');
    expect(main).toContain(`"${rendererCsp}"`);
    expect(rendererCsp).toContain("default-src 'none'");
    expect(rendererCsp).toMatch(/script-src app:\/\/vramscope\/assets\/;/);
    expect(rendererCsp).not.toMatch(/script-src[^;]*unsafe/);
  });
});

describe('command line', () => {
  test('the first existing file argument is the trace to open; flags are skipped', () => {
    expect(tracePathFromArgv(['--inspect', 'package.json'], repoRoot)).toBe(
      path.join(repoRoot, 'package.json'),
    );
    expect(tracePathFromArgv(['nope.trace', '--x'], repoRoot)).toBeNull();
    expect(tracePathFromArgv(['assets'], repoRoot)).toBeNull();
  });
});
