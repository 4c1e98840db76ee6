#!/usr/bin/env node
// `npm start`: the desktop app (Electron, through Electron Forge's dev build) when its binary is installed
// and can start here; otherwise one line saying why, then web mode (`vramscope serve`) with the URL
// printed. Either way the default device's session is open, the built-in scenarios are one click away and
// the first sample trace from assets/traces/ is loaded.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) =>
  path.join(repoRoot, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

/** The sample trace a first-time user sees (the first one shipped, by name). */
function sampleTrace() {
  const dir = path.join(repoRoot, 'assets', 'traces');
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.trace'))
    .sort();
  const preferred = files.find((f) => f.startsWith('streaming')) ?? files[0];
  return preferred ? path.join(dir, preferred) : null;
}

/**
 * Where Electron's binary is, or why it cannot start. Reads node_modules/electron/path.txt the way
 * require('electron') does, without its fallback of downloading the binary (which hangs offline).
 */
function electronStatus() {
  if (process.env.VRAMSCOPE_WEB === '1') return { ok: false, why: 'VRAMSCOPE_WEB=1 asks for web mode' };
  const dir = path.join(repoRoot, 'node_modules', 'electron');
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return { ok: false, why: 'the Electron binary is not installed' };
  const exe = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(exe)) return { ok: false, why: `the Electron binary is missing (${exe})` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { ok: false, why: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  }
  return { ok: true, exe };
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds the UI for web mode when dist/renderer is missing or older than src-renderer/. */
function ensureRendererBuilt() {
  const index = path.join(repoRoot, 'dist', 'renderer', 'index.html');
  const sources = path.join(repoRoot, 'src-renderer');
  if (!existsSync(path.join(sources, 'index.html')))
    return 'the UI sources (src-renderer/index.html) are missing';
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(sources)) return null;
  process.stdout.write('VRAMscope: building the UI (vite)...\n');
  const build = spawnSync(bin('vite'), ['build', '-c', 'vite.renderer.config.ts', '--logLevel', 'error'], {
    cwd: repoRoot,
    encoding: 'utf8',
    // A production build even when started from a test run (NODE_ENV=test makes vite build for development).
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (build.status !== 0)
    return `the UI build failed: ${(build.stderr || build.stdout || '').trim().split('\n')[0]}`;
  return null;
}

/** Builds the CLI (dist/cli, what `vramscope serve` runs) when it is missing or older than its sources. */
function ensureCliBuilt() {
  const build = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'scripts', 'build-cli.mjs'), '--if-stale', '--quiet'],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
  if (build.status !== 0)
    return `the CLI build failed: ${(build.stderr || build.stdout || '').trim().split('\n')[0]}`;
  return null;
}

function forwardSignals(child) {
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

async function startWeb(why) {
  process.stdout.write(`VRAMscope: ${why}; starting web mode instead.\n`);
  const cliProblem = ensureCliBuilt();
  if (cliProblem) {
    process.stderr.write(`VRAMscope: ${cliProblem}.\n`);
    process.exitCode = 1;
    return;
  }
  const problem = ensureRendererBuilt();
  if (problem) process.stderr.write(`VRAMscope: ${problem}; the API is served without the UI.\n`);
  const trace = sampleTrace();
  const hasDisplay =
    process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  const { env, nodeFlags } = await serverLaunch();
  const args = [
    ...nodeFlags,
    'bin/vramscope.mjs',
    'serve',
    ...(trace ? [trace] : []),
    ...(hasDisplay ? ['--open'] : []),
  ];
  forwardSignals(spawn(process.execPath, args, { cwd: repoRoot, stdio: 'inherit', env }));
}

/**
 * The server's environment and node flags: its malloc asks for transparent huge pages where that helps
 * (src-main/runtime/huge-pages.ts), and V8 starts with a larger heap (src-main/runtime/server-heap.ts),
 * both from the CLI build. The server starts without them if that fails.
 */
async function serverLaunch() {
  try {
    const cli = await import(pathToFileURL(path.join(repoRoot, 'dist', 'cli', 'vramscope.js')).href);
    return { env: cli.serverEnvironment(process.env), nodeFlags: cli.serverNodeFlags };
  } catch (error) {
    process.stderr.write(
      `VRAMscope: starting the server without huge pages or a larger heap (${error.message}).\n`,
    );
    return { env: process.env, nodeFlags: [] };
  }
}

function startElectron() {
  const trace = sampleTrace();
  const started = Date.now();
  const child = spawn(bin('electron-forge'), ['start', '--', ...(trace ? [trace] : [])], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  child.on('error', (error) => void startWeb(`Electron could not start (${error.message})`));
  child.on('exit', (code, signal) => {
    // A quick non-zero exit is Electron failing to start (missing libraries, no GPU process, ...).
    if (code !== 0 && signal === null && Date.now() - started < 30_000) {
      void startWeb(`Electron exited with code ${code} while starting`);
    } else {
      process.exitCode = code ?? 0;
    }
  });
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
}

const electron = electronStatus();
if (electron.ok) startElectron();
else await startWeb(`Electron cannot start here (${electron.why})`);
