#!/usr/bin/env node
// `npm pack` / `npm publish` run this first: the package ships built code only (package.json "files"), so
// the CLI bundle is brought up to date and the other built parts must exist. The package is for the
// platform it is packed on (the native addon is this machine's build).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(
  process.execPath,
  [path.join(repoRoot, 'scripts', 'build-cli.mjs'), '--if-stale', '--quiet'],
  {
    cwd: repoRoot,
    stdio: 'inherit',
  },
);
if (build.status !== 0) process.exit(build.status ?? 1);
const required = [
  ['dist/cli/vramscope.js', 'npm run build:cli'],
  ['dist/renderer/index.html', 'npm run build:renderer'],
  ['native/build/Release/vramscope_vulkan.node', 'npm run build:native'],
];
const missing = required.filter(([file]) => !existsSync(path.join(repoRoot, file)));
for (const [file, command] of missing)
  process.stderr.write(`prepack: ${file} is missing: run \`${command}\`\n`);
if (missing.length > 0) process.exit(1);
