/**
 * Faults the EventStoreDB adapter reports: neither is an expected refusal of a command (those are the port's
 * errors), both need an operator.
 */

/** A stream of this store was deleted on the server: never legitimate for a ledger stream (README, EventStoreDB). */
export class EsdbStreamDeletedError extends Error {
  readonly code = 'ESDB_STREAM_DELETED';
  constructor(
    readonly streamId: string,
    readonly kind: 'soft delete' | 'tombstone',
  ) {
    super(
      `stream ${streamId} was deleted in EventStoreDB (${kind}): deleting a ledger stream is never legitimate, and ` +
        'the ledger writes nothing more to it; restore it from a backup (the README names the ACLs that prevent this)',
    );
  }
}

/** The server refused an append as past its deadline long before the deadline passed here: its clock is ahead. */
export class EsdbClockSkewError extends Error {
  readonly code = 'ESDB_CLOCK_SKEW';
  constructor(
    readonly streamId: string,
    readonly deadlineMs: number,
    readonly elapsedMs: number,
  ) {
    super(
      `EventStoreDB refused the append to ${streamId} as past its deadline ${elapsedMs} ms after it was sent, with a ` +
        `deadline of ${deadlineMs} ms: the server's clock is ahead of this machine's by at least ` +
        `${deadlineMs - elapsedMs} ms (clock skew). The client sends the deadline as an absolute time, so every ` +
        'append fails until the clocks agree: synchronise them (NTP), or raise the deadline (defaultDeadline in ' +
        'the connection string)',
    );
  }
}
