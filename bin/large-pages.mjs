// Large pages for big imports and the web server (Linux with glibc). Reading a snapshot of hundreds of MB
// fills tens of MB of fresh typed arrays (the entries' columns, the timeline's event log); every first touch
// of a 4 KiB page is a page fault, and on some virtual machines a fault costs ~18 µs (measured on this
// project's CI machine class: 8 MiB of fresh Float64Array took 37 ms to fill, 0.7 ms once touched), which
// made page faults a large share of an import's CPU time. glibc's `glibc.malloc.hugetlb=1` tunable
// (glibc 2.35+) makes malloc ask for transparent huge pages (madvise) on the memory it maps, where Node
// keeps ArrayBuffer contents: one fault per 2 MiB. Tunables are read when a process starts, so they are
// set for a child process: `npm start`'s web server, and the CLI's `import` of a large file, which starts
// itself again with them (about 50 ms, against 150-200 ms saved at 1M entries). Elsewhere (another C
// library, macOS, Windows) the variable means nothing and nothing changes.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';

const HUGETLB = 'glibc.malloc.hugetlb';

/** `env` plus the large-pages tunable (Linux only; an existing GLIBC_TUNABLES is kept, and its choice wins). */
export function withLargePages(env) {
  if (process.platform !== 'linux') return env;
  const tunables = env.GLIBC_TUNABLES ?? '';
  if (tunables.includes(HUGETLB)) return env;
  return { ...env, GLIBC_TUNABLES: tunables ? `${tunables}:${HUGETLB}=1` : `${HUGETLB}=1` };
}

/** Inputs from this size on are worth the second start (bytes). */
const LARGE_INPUT_BYTES = 32 * 1024 * 1024;

/**
 * Whether this CLI run should start again with large pages: an `import` of a file of LARGE_INPUT_BYTES or
 * more, on Linux, not already started with the tunable, and not turned off (VRAMSCOPE_LARGE_PAGES=0).
 */
export function wantsLargePagesRestart(args, env = process.env) {
  if (process.platform !== 'linux' || args[0] !== 'import' || env.VRAMSCOPE_LARGE_PAGES === '0') return false;
  if (withLargePages(env) === env) return false;
  return args.slice(1).some((arg) => {
    if (arg.startsWith('-')) return false;
    try {
      return statSync(arg).size >= LARGE_INPUT_BYTES;
    } catch {
      return false;
    }
  });
}

/**
 * Runs this command again in a child Node with large pages and the same flags, arguments and standard
 * streams; the parent forwards SIGINT, SIGTERM and SIGHUP and exits as the child did.
 */
export function restartWithLargePages() {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: withLargePages(process.env),
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`vramscope: could not start again with large pages (${error.message})\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}
