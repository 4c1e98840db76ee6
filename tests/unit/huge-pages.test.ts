// The web server's environment (src-main/runtime/huge-pages.ts): glibc's huge-page tunable only where the
// kernel hands out huge pages on request, never twice, never against the user's own tunables.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  hugePageTunable,
  parseThpMode,
  probeHugePageHost,
  serverEnvironment,
  type HugePageHost,
} from '../../src-main/runtime/huge-pages.ts';

const linux = (thpMode: HugePageHost['thpMode'], glibc: string | null = '2.36'): HugePageHost => ({
  platform: 'linux',
  glibc,
  thpMode,
});

describe('parseThpMode', () => {
  test('reads the bracketed choice of the sysfs file', () => {
    expect(parseThpMode('always [madvise] never\n')).toBe('madvise');
    expect(parseThpMode('[always] madvise never\n')).toBe('always');
    expect(parseThpMode('always madvise [never]\n')).toBe('never');
  });
  test('anything else is unknown', () => {
    expect(parseThpMode('')).toBeNull();
    expect(parseThpMode('always madvise never')).toBeNull();
    expect(parseThpMode('[sometimes]')).toBeNull();
  });
});

describe('serverEnvironment', () => {
  test('adds the tunable on Linux with glibc in madvise mode, leaving the given env alone', () => {
    const env = { PATH: '/bin' };
    const out = serverEnvironment(env, linux('madvise'));
    expect(out).toEqual({ PATH: '/bin', GLIBC_TUNABLES: hugePageTunable });
    expect(env).toEqual({ PATH: '/bin' });
  });

  test('appends to tunables already set', () => {
    const out = serverEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, linux('madvise'));
    expect(out['GLIBC_TUNABLES']).toBe(`glibc.malloc.arena_max=2:${hugePageTunable}`);
  });

  test("keeps the user's own huge-page choice", () => {
    for (const tunables of ['glibc.malloc.hugetlb=0', 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2']) {
      const env = { GLIBC_TUNABLES: tunables };
      expect(serverEnvironment(env, linux('madvise'))).toBe(env);
    }
  });

  test('nothing where it would not help or not apply', () => {
    const env = { PATH: '/bin' };
    expect(serverEnvironment(env, linux('always'))).toBe(env);
    expect(serverEnvironment(env, linux('never'))).toBe(env);
    expect(serverEnvironment(env, linux(null))).toBe(env);
    expect(serverEnvironment(env, linux('madvise', null))).toBe(env);
    expect(serverEnvironment(env, { platform: 'darwin', glibc: null, thpMode: null })).toBe(env);
    expect(serverEnvironment(env, { platform: 'win32', glibc: null, thpMode: null })).toBe(env);
  });

  test('VRAMSCOPE_HUGE_PAGES=0 asks for none', () => {
    const env = { VRAMSCOPE_HUGE_PAGES: '0' };
    expect(serverEnvironment(env, linux('madvise'))).toBe(env);
  });
});

test('probeHugePageHost describes this machine', () => {
  const host = probeHugePageHost();
  expect(host.platform).toBe(process.platform);
  if (process.platform !== 'linux') return;
  let expected: HugePageHost['thpMode'] = null;
  try {
    expected = parseThpMode(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'));
  } catch {
    expected = null;
  }
  expect(host.thpMode).toBe(expected);
  // Debian and Ubuntu run glibc; its version is "major.minor".
  if (host.glibc !== null) expect(host.glibc).toMatch(/^\d+\.\d+/);
});
