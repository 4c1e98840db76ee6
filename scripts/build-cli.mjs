#!/usr/bin/env node
// Builds the command line and its worker threads to JavaScript in dist/cli/ (vite.cli.config.ts), the code
// bin/vramscope.mjs runs. dist/cli/build-info.json records a SHA-256 over every input (src-main/,
// allocator/, native/*.ts, package.json, the config); with --if-stale nothing is rebuilt when it matches,
// so tests and `npm run vramscope` never run an outdated build and never rebuild needlessly.
// The new build is written beside dist/cli/ and renamed into place, so a reader sees a whole build.
// Usage: node scripts/build-cli.mjs [--if-stale] [--quiet]
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const cliDir = path.join(repoRoot, 'dist', 'cli');
const infoFile = path.join(cliDir, 'build-info.json');

/** Every file the CLI bundle is made from, repository-relative, sorted. */
function inputs() {
  const out = ['package.json', 'vite.cli.config.ts'];
  const walk = (dir) => {
    for (const e of readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (/\.(ts|mts|mjs|js|json)$/.test(e.name)) out.push(rel);
    }
  };
  walk('src-main');
  walk('allocator');
  for (const f of readdirSync(path.join(repoRoot, 'native'))) if (f.endsWith('.ts')) out.push(`native/${f}`);
  return out.sort();
}

/** SHA-256 over the inputs' names and contents. */
export function inputHash() {
  const h = createHash('sha256');
  for (const f of inputs())
    h.update(`${f}\0`)
      .update(readFileSync(path.join(repoRoot, f)))
      .update('\0');
  return h.digest('hex');
}

/** Whether dist/cli/ holds a build of the current sources. */
export function cliBuildIsCurrent() {
  if (!existsSync(infoFile)) return false;
  try {
    return JSON.parse(readFileSync(infoFile, 'utf8')).inputHash === inputHash();
  } catch {
    return false;
  }
}

export async function buildCli({ quiet = false } = {}) {
  const started = performance.now();
  const hash = inputHash();
  const staging = `${cliDir}.build-${process.pid}`;
  // A production build whoever runs it (vitest sets NODE_ENV=test, which vite would follow).
  process.env.NODE_ENV = 'production';
  const { build } = await import('vite');
  await build({
    configFile: path.join(repoRoot, 'vite.cli.config.ts'),
    logLevel: quiet ? 'error' : 'warn',
    build: { outDir: staging },
  });
  writeFileSync(path.join(staging, 'build-info.json'), `${JSON.stringify({ inputHash: hash }, null, 2)}\n`);
  rmSync(cliDir, { recursive: true, force: true });
  renameSync(staging, cliDir);
  if (!quiet) {
    const ms = (performance.now() - started).toFixed(0);
    process.stdout.write(
      `built dist/cli (vramscope, scenario-worker, trace-worker, trace-stream-worker, analysis-worker) in ${ms} ms\n`,
    );
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  const quiet = process.argv.includes('--quiet');
  if (ifStale && cliBuildIsCurrent()) {
    if (!quiet) process.stdout.write('dist/cli is current\n');
  } else {
    await buildCli({ quiet });
  }
}
