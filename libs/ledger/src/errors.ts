/** The idempotency key was used before with a different request; nothing was appended. */
export class IdempotencyConflictError extends Error {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(readonly key: string) {
    super('this Idempotency-Key was already used with a different request');
  }
}

/** The stream kept changing under the command until the retries ran out; nothing was appended. */
export class ConcurrencyConflictError extends Error {
  readonly code = 'CONCURRENCY_CONFLICT';
  constructor(readonly streamId: string, readonly attempts: number) {
    super(`stream ${streamId} changed concurrently ${attempts} times; retry the command`);
  }
}

/** Too many commands wait for one stream; the caller should back off. */
export class StreamBusyError extends Error {
  readonly code = 'STREAM_BUSY';
  constructor(readonly streamId: string) {
    super(`too many commands are waiting for stream ${streamId}; retry later`);
  }
}
