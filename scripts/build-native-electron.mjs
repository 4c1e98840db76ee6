#!/usr/bin/env node
// Builds the Vulkan addon against Electron's headers into its own folder, native/build-electron/, for the
// packaged desktop app (forge.config.ts prePackage; extraResource picks it up from there). The Node build
// in native/build/ (the CLI's and the tests') is never touched: the sources are staged in
// native/build-electron/ and node-gyp builds there. Needs the network once for Electron's headers.
// Usage: node scripts/build-native-electron.mjs
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const electronAddonDir = path.join(repoRoot, 'native', 'build-electron');
/** The built addon, as forge.config.ts packs it. */
export const electronAddonPath = path.join(electronAddonDir, 'build', 'Release', 'vramscope_vulkan.node');

export function buildNativeForElectron() {
  const electronVersion = require('electron/package.json').version;
  rmSync(electronAddonDir, { recursive: true, force: true });
  mkdirSync(electronAddonDir, { recursive: true });
  cpSync(path.join(repoRoot, 'native', 'binding.gyp'), path.join(electronAddonDir, 'binding.gyp'));
  cpSync(path.join(repoRoot, 'native', 'src'), path.join(electronAddonDir, 'src'), { recursive: true });
  execFileSync(
    process.execPath,
    [
      require.resolve('node-gyp/bin/node-gyp.js'),
      'rebuild',
      '--directory',
      electronAddonDir,
      `--target=${electronVersion}`,
      '--dist-url=https://electronjs.org/headers',
    ],
    { stdio: 'inherit', cwd: repoRoot },
  );
  return electronAddonPath;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`built ${path.relative(repoRoot, buildNativeForElectron())}\n`);
}
