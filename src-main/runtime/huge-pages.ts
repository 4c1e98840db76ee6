// Transparent huge pages for the web server's memory (Linux with glibc). An import writes its memory once,
// fresh: a 1M-entry PyTorch snapshot opened in web mode makes ~60,000 first touches of 4 KiB pages (the
// upload's buffers, the entries' and the timeline's columns, the analysis). Where a first touch is dear
// (this project's machine class, a virtual machine: about 10 µs a page, and the cost is the host's, so
// making pages present ahead with madvise(MADV_POPULATE_WRITE) only moves half of it), 2 MiB pages make
// 512 times fewer of them. glibc's malloc asks for huge pages when its `glibc.malloc.hugetlb=1` tunable
// is set; tunables are read when a process starts, so the variable is set for the server by what starts
// it (`npm start`: scripts/start.mjs), not by the server itself. Only where the kernel gives huge pages
// on request ("madvise" mode): under "always" every process has them already, under "never" none.
// Measured in docs/importers.md ("Seventh pass").
import { readFileSync } from 'node:fs';

/** The tunable that has glibc's malloc madvise its memory for transparent huge pages (glibc 2.35+). */
export const hugePageTunable = 'glibc.malloc.hugetlb=1';

/** Where the server would run: what decides whether the tunable is worth setting. */
export interface HugePageHost {
  readonly platform: NodeJS.Platform;
  /** glibc's version at run time; null under another C library (the tunable is glibc's). */
  readonly glibc: string | null;
  /** The kernel's transparent huge page mode; null when unknown (no such file: not Linux, or no THP). */
  readonly thpMode: 'always' | 'madvise' | 'never' | null;
}

/** The bracketed choice of /sys/kernel/mm/transparent_hugepage/enabled ("always [madvise] never"). */
export function parseThpMode(text: string): HugePageHost['thpMode'] {
  const chosen = /\[(\w+)\]/.exec(text)?.[1];
  return chosen === 'always' || chosen === 'madvise' || chosen === 'never' ? chosen : null;
}

/** This machine and process. */
export function probeHugePageHost(): HugePageHost {
  let thpMode: HugePageHost['thpMode'] = null;
  if (process.platform === 'linux') {
    try {
      thpMode = parseThpMode(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'));
    } catch {
      thpMode = null;
    }
  }
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  return { platform: process.platform, glibc: header?.glibcVersionRuntime ?? null, thpMode };
}

/**
 * The environment to start `vramscope serve` with: `env` plus glibc's huge-page tunable (appended to any
 * GLIBC_TUNABLES already set) on Linux with glibc where the kernel's mode is "madvise"; `env` itself
 * otherwise, and when GLIBC_TUNABLES already says what malloc should do about huge pages, or
 * VRAMSCOPE_HUGE_PAGES=0 asks for none.
 */
export function serverEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  host: HugePageHost = probeHugePageHost(),
): NodeJS.ProcessEnv {
  if (env['VRAMSCOPE_HUGE_PAGES'] === '0') return env;
  if (host.platform !== 'linux' || host.glibc === null || host.thpMode !== 'madvise') return env;
  const tunables = env['GLIBC_TUNABLES'] ?? '';
  if (/(^|:)glibc\.malloc\.hugetlb=/.test(tunables)) return env;
  return { ...env, GLIBC_TUNABLES: tunables === '' ? hugePageTunable : `${tunables}:${hugePageTunable}` };
}
