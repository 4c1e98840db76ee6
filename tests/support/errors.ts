// Catching the error a test expects: of one class, with anything else rethrown and no error a failure.

/** The error of class `type` that `fn` throws; any other error is rethrown, and no error at all fails. */
export function thrownBy<E extends Error>(type: abstract new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name} to be thrown`);
}
