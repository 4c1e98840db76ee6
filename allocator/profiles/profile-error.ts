// Errors of device-profile loading. A ProfileParseError names the 1-based line of the text it could not
// read, so the message reads "h100.txt line 1234: expected heap size, got "abc"".

/** A device profile could not be loaded (unknown built-in name, GPU index not in the file, ...). */
export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

/** The profile text is not what the parser expects at `line` (1-based). */
export class ProfileParseError extends ProfileError {
  readonly sourceName: string;
  /** 1-based line number in the profile text. */
  readonly line: number;
  /** The message without the "<source> line N: " prefix. */
  readonly detail: string;
  constructor(sourceName: string, line: number, detail: string) {
    super(`${sourceName} line ${line}: ${detail}`);
    this.name = 'ProfileParseError';
    this.sourceName = sourceName;
    this.line = line;
    this.detail = detail;
  }
}

/** A JSON profile has a problem at `path` ("memory.memoryHeaps[1].size", a JSONPath without the "$."). */
export class ProfileJsonError extends ProfileError {
  readonly sourceName: string;
  readonly path: string;
  /** The message without the "<source> at <path>: " prefix. */
  readonly detail: string;
  constructor(sourceName: string, path: string, detail: string) {
    super(`${sourceName} at ${path === '' ? 'the top level' : path}: ${detail}`);
    this.name = 'ProfileJsonError';
    this.sourceName = sourceName;
    this.path = path;
    this.detail = detail;
  }
}
