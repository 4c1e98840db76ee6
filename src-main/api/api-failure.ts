// The errors a request handler throws to answer with a specific ApiErrorCode. Anything else thrown by a
// handler is mapped in handlers.ts: the engine's own user-facing errors (userFacingErrorClasses) become
// Failed; every other error — a bug, or a Node error such as ENOENT that no handler expected — is Internal,
// with its stack in the log. An `code` property alone never makes an error the user's.
import type { ApiErrorCode } from './contract.ts';

export class ApiFailure extends Error {
  readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiFailure';
    this.code = code;
  }
}

export function notFound(what: string, id: string | number): ApiFailure {
  return new ApiFailure('NotFound', `There is no ${what} "${id}".`);
}

/** A failure the user can act on (a bad file, a device that cannot open, a script error): code Failed. */
export class UserError extends ApiFailure {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Failed', message);
    this.name = 'UserError';
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
