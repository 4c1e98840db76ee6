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

/** Captures the calling script line now. Costs one Error (a few microseconds). */
export function captureScriptLine(scriptUrl: string): number | null {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack;
  Error.stackTraceLimit = limit;
  return scriptLine(stack, scriptUrl);
}

/** "streaming.mjs:42 [texture level-load]"; tags are trimmed, spaces inside a tag become '-'. */
export function formatOrigin(scriptName: string, line: number | null, tags: readonly string[] = []): string {
  const where = line === null ? scriptName : `${scriptName}:${line}`;
  const clean = tags.map((t) => t.trim().replace(/\s+/g, '-')).filter((t) => t !== '');
  return clean.length ? `${where} [${clean.join(' ')}]` : where;
}
