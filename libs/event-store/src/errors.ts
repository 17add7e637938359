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
