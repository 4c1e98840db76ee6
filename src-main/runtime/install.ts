// Where the running VRAMscope's files are. The same code runs from the sources (tests, scripts), from the
// CLI bundle (dist/cli/, what bin/vramscope.mjs runs) and from the desktop app's bundle (.vite/build/). This
// file sits two folders below the root in the sources (src-main/runtime/) and every bundle is built two
// folders below it too, with all its chunks in that one folder, so one relative path finds the root.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The folder of this module: src-main/runtime/, or the bundle's folder (dist/cli/ or .vite/build/). */
const here = path.dirname(fileURLToPath(import.meta.url));

/** Whether this is bundled code (the builds define VRAMSCOPE_BUNDLED). */
export const bundled = typeof VRAMSCOPE_BUNDLED !== 'undefined' && VRAMSCOPE_BUNDLED === true;

/** The repository, or the installed package's folder (package.json, assets/, dist/, native/). */
export const installRoot = path.resolve(here, '..', '..');

/**
 * assets/ (profiles, built-in scenarios, sample traces). The packaged desktop app keeps them beside its
 * app.asar and says so in VRAMSCOPE_ASSETS_DIR (src-main/electron/main.ts), which workers inherit.
 */
export function assetsDir(): string {
  return process.env.VRAMSCOPE_ASSETS_DIR ?? path.join(installRoot, 'assets');
}

export type WorkerName = 'scenario-worker' | 'trace-worker' | 'trace-stream-worker' | 'analysis-worker';

/** The source folder (under src-main/) of each worker. */
const workerFolders: Record<WorkerName, string> = {
  'scenario-worker': 'session',
  'trace-worker': 'api',
  'trace-stream-worker': 'import',
  'analysis-worker': 'import',
};

/**
 * The entry of a worker thread: the bundle built beside this one, or from the sources a small .mjs that
 * registers tsx's loader (worker threads do not inherit the parent's) and imports the TypeScript worker.
 */
function workerEntry(name: WorkerName): URL {
  if (bundled) {
    // The packaged desktop app also has its bundles unpacked beside app.asar (forge.config.ts
    // asar.unpack): a worker thread starts from there, where any loader can read it.
    const unpacked = here.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
    const dir = unpacked !== here && existsSync(path.join(unpacked, `${name}.js`)) ? unpacked : here;
    return pathToFileURL(path.join(dir, `${name}.js`));
  }
  return pathToFileURL(path.join(installRoot, 'src-main', workerFolders[name], `${name}-bootstrap.mjs`));
}

/**
 * Starts worker `name` (workerEntry) with this process's Node flags, where a worker takes them. Node
 * refuses a worker V8 and whole-process flags (ERR_WORKER_INVALID_EXEC_ARGV: --max-old-space-size, --title,
 * ...), which a user may start VRAMscope with (a bigger heap for a big file); the thread then starts without
 * the process's flags instead of failing the command. (From the sources the entry registers tsx's loader
 * itself, so no flag is needed to load it.)
 */
export function startWorker(name: WorkerName, options: Omit<WorkerOptions, 'execArgv'> = {}): Worker {
  const entry = workerEntry(name);
  try {
    return new Worker(entry, { ...options, execArgv: [...process.execArgv] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    return new Worker(entry, { ...options, execArgv: [] });
  }
}
