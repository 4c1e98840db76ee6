// Vitest global set-up: the tests that start the CLI as a user does (bin/vramscope.mjs) run the built
// code in dist/cli/, so it is brought up to date first (scripts/build-cli.mjs --if-stale: a no-op when
// dist/cli/build-info.json matches the sources, a ~2 s build otherwise). A failed build fails the run here,
// with the build's own error, rather than later with a stale or missing bundle.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function setup(): void {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'build-cli.mjs'), '--if-stale'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(
      `building the CLI (node scripts/build-cli.mjs) failed, so the tests cannot run it:\n${r.stdout}${r.stderr}`,
    );
  }
}
