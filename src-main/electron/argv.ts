// The trace a user passed on the command line (`vramscope-app my.trace`, or a file opened with the app).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

/** The first argument that names an existing file (flags are skipped), as an absolute path; or null. */
export function tracePathFromArgv(args: readonly string[], cwd: string = process.cwd()): string | null {
  for (const arg of args) {
    if (arg.startsWith('-')) continue;
    const candidate = path.resolve(cwd, arg);
    try {
      if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    } catch {
      // Unreadable: not a trace we can open.
    }
  }
  return null;
}
