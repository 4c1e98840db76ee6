// Prints the closing line CI reads: `N passed, N failed, N skipped`. Vitest's own summary is not
// recognised by CI, so this reporter runs beside the default one and prints last.
//
// A test that cannot pass by skipping: when CI=true, every skipped test fails the run unless it is on
// tests/skip-allowlist.json (tests that need hardware CI lacks, each with its reason). The offenders are
// listed before the closing line, are counted as failed, and the process exit code is set to 1.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reporter, TestCase, TestModule } from 'vitest/node';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const allowListFile = path.join(repoRoot, 'tests', 'skip-allowlist.json');

export interface AllowedSkip {
  /** Repository-relative path of the test file. */
  readonly file: string;
  /** Regular expression matched against the test's full name (describe blocks and test, joined by " > "). */
  readonly test: string;
  readonly why: string;
}

export function readAllowList(file = allowListFile): AllowedSkip[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { allowed?: unknown };
  if (!Array.isArray(parsed.allowed)) throw new Error(`${file}: "allowed" must be an array`);
  return parsed.allowed.map((e: unknown, i) => {
    const entry = e as Partial<AllowedSkip>;
    if (typeof entry.file !== 'string' || typeof entry.test !== 'string' || typeof entry.why !== 'string')
      throw new Error(`${file}: entry ${i} needs "file", "test" and "why" strings`);
    return { file: entry.file, test: entry.test, why: entry.why };
  });
}

/** Whether a skipped test (by its repository-relative file and full name) is on the allow-list. */
export function skipAllowed(list: readonly AllowedSkip[], file: string, fullName: string): boolean {
  return list.some((e) => e.file === file && new RegExp(e.test).test(fullName));
}

export interface SkipVerdict {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** "file > full name" of each skip that fails the run (CI only). */
  readonly forbiddenSkips: readonly string[];
}

export interface TestOutcome {
  readonly file: string;
  readonly fullName: string;
  readonly state: 'passed' | 'failed' | 'skipped' | 'pending';
}

/** Counts outcomes; in CI, a skip not on the allow-list counts as failed. */
export function judge(
  outcomes: readonly TestOutcome[],
  extraFailures: number,
  ci: boolean,
  list: readonly AllowedSkip[],
): SkipVerdict {
  let passed = 0;
  let failed = extraFailures;
  let skipped = 0;
  const forbiddenSkips: string[] = [];
  for (const o of outcomes) {
    if (o.state === 'passed') passed++;
    else if (o.state === 'failed') failed++;
    else if (ci && !skipAllowed(list, o.file, o.fullName)) {
      forbiddenSkips.push(`${o.file} > ${o.fullName}`);
      failed++;
    } else skipped++;
  }
  return { passed, failed, skipped, forbiddenSkips };
}

function outcome(test: TestCase): TestOutcome {
  const state = test.result().state;
  return {
    file: path.relative(repoRoot, test.module.moduleId).split(path.sep).join('/'),
    fullName: test.fullName,
    state: state === 'passed' || state === 'failed' || state === 'skipped' ? state : 'pending',
  };
}

export class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const ci = process.env['CI'] === 'true';
    let extra = unhandledErrors.length;
    const outcomes: TestOutcome[] = [];
    for (const mod of testModules) {
      const tests = [...mod.children.allTests()];
      if (mod.state() === 'failed' && tests.length === 0) extra++;
      for (const test of tests) outcomes.push(outcome(test));
    }
    const verdict = judge(outcomes, extra, ci, ci ? readAllowList() : []);
    if (verdict.forbiddenSkips.length > 0) {
      process.stdout.write(
        `\nCI=true: ${verdict.forbiddenSkips.length} skipped test(s) not on tests/skip-allowlist.json fail the run:\n`,
      );
      for (const s of verdict.forbiddenSkips) process.stdout.write(`  skipped: ${s}\n`);
      process.exitCode = 1;
    }
    process.stdout.write(
      `\n${verdict.passed} passed, ${verdict.failed} failed, ${verdict.skipped} skipped\n`,
    );
  }
}

export default SummaryReporter;
