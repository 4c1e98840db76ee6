// When the API checks its answers against the contract without being told (checkResultsByDefault): the
// sources (tests, scripts) do unless NODE_ENV=production; the bundles users run (`vramscope serve`, the
// desktop app) do not, except under a test runner, whose NODE_ENV=test the servers it starts inherit.
import { describe, expect, test } from 'vitest';
import { checkResultsByDefault } from '../../src-main/api/app-backend.ts';

describe('checkResultsByDefault', () => {
  test('the sources check unless NODE_ENV=production', () => {
    expect(checkResultsByDefault(false, undefined)).toBe(true);
    expect(checkResultsByDefault(false, 'test')).toBe(true);
    expect(checkResultsByDefault(false, 'development')).toBe(true);
    expect(checkResultsByDefault(false, 'production')).toBe(false);
  });

  test('a bundle checks only under a test runner', () => {
    expect(checkResultsByDefault(true, undefined)).toBe(false);
    expect(checkResultsByDefault(true, 'production')).toBe(false);
    expect(checkResultsByDefault(true, '')).toBe(false);
    expect(checkResultsByDefault(true, 'test')).toBe(true);
  });

  test('this test run is one the servers it starts keep checking in', () => {
    // vitest sets NODE_ENV=test; a `vramscope serve` the tests start inherits it (tests/support).
    expect(process.env['NODE_ENV']).toBe('test');
  });
});
