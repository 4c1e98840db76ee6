// Names are data: a trace name, an allocation name, a scenario name or a log line may hold any character
// (they come from files and clients). Wherever one is printed or written (report text, CLI output, logs,
// file names), it goes through these functions, so it cannot start a line of its own, move the cursor,
// recolour a terminal or reorder text.

/**
 * C0 and C1 controls, DEL, the line/paragraph separators and the bidirectional controls (a name could
 * otherwise show text in another order than it is stored).
 */
// eslint-disable-next-line no-control-regex
const unsafeChars = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

const shortEscapes: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(ch: string): string {
  const short = shortEscapes[ch];
  if (short !== undefined) return short;
  const code = ch.codePointAt(0)!;
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character escaped (`\n`, `\x1b`, `\u202e`, ...) and, when it is longer than
 * `maxLength` characters (UTF-16 units, after escaping), cut to that many with "…" at the end.
 */
export function printable(text: string, maxLength = 1000): string {
  const escaped = text.replace(unsafeChars, escapeChar);
  if (escaped.length <= maxLength) return escaped;
  // Do not cut a surrogate pair in half.
  let end = Math.max(0, maxLength - 1);
  const last = escaped.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${escaped.slice(0, end)}…`;
}

/** True when `text` has a character printable() would escape. */
export function hasUnsafeChars(text: string): boolean {
  unsafeChars.lastIndex = 0;
  const found = unsafeChars.test(text);
  unsafeChars.lastIndex = 0;
  return found;
}

/** Multi-line text (a report) with each line made printable; the line breaks themselves stay. */
export function printableLines(text: string, maxLineLength = 10_000): string {
  return text
    .split('\n')
    .map((line) => printable(line, maxLineLength))
    .join('\n');
}

/**
 * A file name made from a name: letters, digits, ".", "-", "_" kept; every other run becomes "_"; no
 * leading dots (no hidden files, no ".."); at most `maxLength` characters; never empty.
 */
export function safeFileName(name: string, maxLength = 100): string {
  const cleaned = name
    .normalize('NFKC')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, maxLength);
  return cleaned === '' ? 'vramscope' : cleaned;
}
