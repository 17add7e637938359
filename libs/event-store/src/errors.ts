import type { CommandRecord, ExpectedRevision } from './event-store.port';

/** Base class of the errors an adapter throws for an expected failure; anything else is a fault. */
export abstract class EventStoreError extends Error {
  abstract readonly code: string;
}

/** The stream was not at the expected revision; nothing was written. */
export class WrongExpectedRevisionError extends EventStoreError {
  readonly code = 'WRONG_EXPECTED_REVISION';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | undefined,
  ) {
    super(
      `stream ${streamId} is at revision ${actual === undefined ? 'none' : actual.toString()}, ` +
        `expected ${typeof expected === 'bigint' ? expected.toString() : expected}`,
    );
  }
}

/** Some of the event ids were already stored, but not as this exact append; nothing was written. */
export class DuplicateEventIdError extends EventStoreError {
  readonly code = 'DUPLICATE_EVENT_ID';
  constructor(readonly eventId: string) {
    super(`event id ${eventId} is already stored by another append`);
  }
}

/** An append named an idempotency key that an earlier append already recorded; nothing was written. */
export class CommandAlreadyRecordedError extends EventStoreError {
  readonly code = 'COMMAND_ALREADY_RECORDED';
  constructor(readonly record: CommandRecord) {
    super(`command ${record.key} was already recorded`);
  }
}

/** The append or read was malformed (empty batch, oversized event, bad stream name); nothing was written. */
export class InvalidAppendError extends EventStoreError {
  readonly code = 'INVALID_APPEND';
}

/** The store was closed; this is a programming fault (a call after shutdown), not an expected failure. */
export class EventStoreClosedError extends Error {
  readonly code = 'EVENT_STORE_CLOSED';
  constructor() {
    super('the event store is closed');
  }
}

/** SQLite's and PostgreSQL's codes for a store that cannot take a write for a moment (nothing was written). */
const TRANSIENT_CODES = new Set([
  'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED', 'SQLITE_FULL',
  // admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now, connection failures, too many connections
  '57P01', '57P02', '57P03', '08000', '08003', '08006', '53300', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE',
]);

/**
 * Whether an error is the store being unavailable for a moment (busy, locked, full, its connection dropped) rather
 * than a fault of the request or of the ledger: the same command, sent again with the same idempotency key, may
 * succeed. The HTTP edge answers these with 503 and Retry-After instead of a 500.
 */
export function isTransientStoreFailure(error: unknown): boolean {
  // Not `instanceof Error`: a driver's error may come from another realm (a native module, a test sandbox).
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  // node-postgres reports a connection the server ended (or a client whose connection failed) with a message, no code.
  return typeof message === 'string' && /^Connection terminated|has encountered a connection error and is not queryable/.test(message);
}
