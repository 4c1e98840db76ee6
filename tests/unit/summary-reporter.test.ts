// The closing line and the CI rule on skips: outside CI skips are counted; with CI=true a skip fails the
// run unless tests/skip-allowlist.json names it (file and full-name pattern, with a reason).
import { describe, expect, test } from 'vitest';
import { judge, readAllowList, skipAllowed, type AllowedSkip } from '../support/summary-reporter.ts';

const list: AllowedSkip[] = [
  { file: 'tests/integration/gpu.test.ts', test: 'on a discrete GPU', why: 'needs a discrete GPU' },
];
const outcomes = [
  { file: 'tests/unit/a.test.ts', fullName: 'a > works', state: 'passed' as const },
  { file: 'tests/unit/a.test.ts', fullName: 'a > breaks', state: 'failed' as const },
  { file: 'tests/integration/gpu.test.ts', fullName: 'bench > on a discrete GPU', state: 'skipped' as const },
  { file: 'tests/integration/native.test.ts', fullName: 'addon > maps memory', state: 'skipped' as const },
];

describe('summary reporter', () => {
  test('outside CI a skip is only counted', () => {
    expect(judge(outcomes, 0, false, list)).toEqual({ passed: 1, failed: 1, skipped: 2, forbiddenSkips: [] });
  });

  test('in CI a skip not on the allow-list is a failure, named', () => {
    expect(judge(outcomes, 1, true, list)).toEqual({
      passed: 1,
      failed: 3,
      skipped: 1,
      forbiddenSkips: ['tests/integration/native.test.ts > addon > maps memory'],
    });
  });

  test('the allow-list matches file and name pattern both', () => {
    expect(skipAllowed(list, 'tests/integration/gpu.test.ts', 'x > on a discrete GPU')).toBe(true);
    expect(skipAllowed(list, 'tests/integration/other.test.ts', 'x > on a discrete GPU')).toBe(false);
    expect(skipAllowed(list, 'tests/integration/gpu.test.ts', 'x > on lavapipe')).toBe(false);
  });

  test("the repository's allow-list is readable and every entry says why", () => {
    const entries = readAllowList();
    for (const e of entries) {
      expect(e.why.length).toBeGreaterThan(10);
      expect(() => new RegExp(e.test)).not.toThrow();
    }
  });
});
