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

/**
 * Every member of a string union, named once as the keys of a record: a member added to the union and left out
 * here fails to compile (as does a name that is no member), where a plain list or set would silently miss it.
 * The members come back in the order the record names them.
 */
export function membersOf<Member extends string>(members: Readonly<Record<Member, true>>): readonly Member[] {
  return Object.keys(members) as Member[];
}

/** membersOf as a set, for membership tests. */
export function memberSet<Member extends string>(members: Readonly<Record<Member, true>>): ReadonlySet<Member> {
  return new Set(membersOf(members));
}
