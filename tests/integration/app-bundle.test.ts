// The packaged desktop app's code, checked without the Electron binary: scripts/check-app-bundle.ts builds
// main (with both workers), preload and renderer through forge's own vite configuration, lays them out as
// the package would hold them away from the repository, checks that no bundle names a source file, and
// loads main under Node with `electron` stubbed (in that check only), driving it through its IPC handler:
// the real device, built-in scenarios, a sample trace in the trace worker, a scenario run in the scenario
// worker. Its report is printed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';
import { repoRoot } from '../support/profiles.ts';

test('the desktop app bundle loads and works with no sources beside it (electron stubbed)', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'scripts', 'check-app-bundle.ts')],
    { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 },
  );
  console.log(r.stdout.trim());
  expect(r.stdout).not.toContain('FAIL ');
  expect(r.stdout).toContain('app bundle check: ok');
  expect(r.status).toBe(0);
}, 320_000);
