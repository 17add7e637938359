/** Compile-time exhaustiveness for switches over a union; reaching it at run time is a programming error. */
export function assertNever(value: never): never {
  throw new InvariantViolation(`unhandled case: ${JSON.stringify(value)}`);
}

/**
 * A broken invariant is a bug, never an expected failure: it is thrown as its own error type so that callers
 * do not catch it as a business refusal, and the process can crash rather than write a wrong fact.
 */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = 'InvariantViolation';
  }
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}
