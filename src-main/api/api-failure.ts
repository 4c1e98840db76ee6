// The error a request handler throws to answer with a specific ApiErrorCode. Anything else thrown by a
// handler is mapped in handlers.ts (engine errors → Failed, the rest → Internal).
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
