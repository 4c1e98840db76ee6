// Where a scenario asked for something: the first stack frame in the scenario's script file, as
// "file.mjs:LINE", plus the scenario's tags. This string becomes the allocation's stack, so leak reports
// group by origin. Only the file's base name is kept, so traces carry no local paths.

const framePattern = /:(\d+):(\d+)\)?\s*$/;

/** The 1-based line in `scriptUrl` of the first frame of `stack` in that file, or null. */
export function scriptLine(stack: string | undefined, scriptUrl: string): number | null {
  if (!stack) return null;
  for (const line of stack.split('\n')) {
    const at = line.indexOf(scriptUrl);
    if (at < 0) continue;
    const rest = line.slice(at + scriptUrl.length);
    const m = framePattern.exec(rest);
    if (m && rest.startsWith(':')) return Number(m[1]);
  }
  return null;
}

export function baseName(fileUrlOrPath: string): string {
  const clean = fileUrlOrPath.replace(/[?#].*$/, '');
  const slash = Math.max(clean.lastIndexOf('/'), clean.lastIndexOf('\\'));
  return decodeURIComponent(clean.slice(slash + 1));
}

function captureStack(depth: number): unknown {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: unknown } = {};
  try {
    Error.stackTraceLimit = depth;
    // Structured call sites where the runtime honours the override; a string otherwise (with source maps
    // on, as under tsx, Node formats the string itself and each frame costs microseconds).
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.captureStackTrace(holder, captureScriptLine);
    return holder.stack;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

function lineIn(stack: unknown, scriptUrl: string): number | null {
  if (typeof stack === 'string') return scriptLine(stack, scriptUrl);
  if (!Array.isArray(stack)) return null;
  for (const site of stack as NodeJS.CallSite[])
    if (site.getFileName() === scriptUrl) return site.getLineNumber();
  return null;
}

/**
 * The line of the calling script now. The script's frame sits right under ctx's own few frames, so a
 * shallow capture (8 frames) almost always finds it; a deep one (64) is the fallback for scripts that call
 * ctx through helper modules. A few microseconds.
 */
export function captureScriptLine(scriptUrl: string): number | null {
  return lineIn(captureStack(8), scriptUrl) ?? lineIn(captureStack(64), scriptUrl);
}

/** "streaming.mjs:42 [texture level-load]"; tags are trimmed, spaces inside a tag become '-'. */
export function formatOrigin(scriptName: string, line: number | null, tags: readonly string[] = []): string {
  const where = line === null ? scriptName : `${scriptName}:${line}`;
  const clean = tags.map((t) => t.trim().replace(/\s+/g, '-')).filter((t) => t !== '');
  return clean.length ? `${where} [${clean.join(' ')}]` : where;
}
