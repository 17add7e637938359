import { setTimeout as sleep } from 'node:timers/promises';
import { toIso, type DomainEvent } from '@app/domain';
import {
  CommandAlreadyRecordedError,
  eventsToAppend,
  WrongExpectedRevisionError,
  type AppendResult,
  type CommandRecord,
  type EventStore,
} from '@app/event-store';
import type { DateTime } from 'luxon';
import type { AggregateRepository, Loaded } from './aggregate-repository';
import type { Clock } from './clock';
import type { CommandMetadata } from './command-metadata';
import { ConcurrencyConflictError, IdempotencyConflictError } from './errors';
import { KeyedMutex } from './keyed-mutex';

/** Attempts per command when another process keeps changing the stream between load and append. */
export const MAX_COMMAND_ATTEMPTS = 10;
const RETRY_BASE_DELAY_MS = 2;

export interface CommandResult {
  readonly streamId: string;
  /** The stream's revision after the command; undefined when the command changed nothing. */
  readonly revision: bigint | undefined;
  readonly position: bigint | undefined;
  readonly eventIds: readonly string[];
  /** True when an earlier identical command's result is returned and nothing was appended now. */
  readonly replayed: boolean;
}

/** What a command needs beyond its stream's state: platform facts, an incident, the time. */
export type ContextBuilder<Context> = (now: DateTime, attempt: number) => Promise<Context>;

export interface CommandSpec<Command, Event extends DomainEvent, State, Context> {
  readonly streamId: string;
  readonly repository: AggregateRepository<Command, Event, State, Context>;
  readonly command: Command;
  readonly metadata: CommandMetadata;
  readonly context: ContextBuilder<Context>;
}

function replayOf(record: CommandRecord, metadata: CommandMetadata): CommandResult {
  if (record.requestHash !== metadata.idempotency?.requestHash) throw new IdempotencyConflictError(record.key);
  const { streamId, nextRevision, position, eventIds } = record.result;
  return { streamId, revision: nextRevision, position, eventIds, replayed: true };
}

/**
 * The command path: load the stream, decide, append with the loaded revision as the expected
 * revision; retry a bounded number of times when the stream changed in between. Commands on one stream are
 * serialised in this process; across processes the expected revision decides, so a decision is never appended on
 * top of a state it did not see.
 */
export class CommandExecutor {
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  async execute<Command, Event extends DomainEvent, State, Context>(
    spec: CommandSpec<Command, Event, State, Context>,
  ): Promise<CommandResult> {
    return this.locks.run(spec.streamId, async () => {
      // Checked under the stream's lock, so that concurrent retries of one command see the first one's record
      // rather than deciding again on the state it produced.
      const idempotency = spec.metadata.idempotency;
      const earlier = idempotency ? await this.store.findCommand(idempotency.key) : undefined;
      return earlier ? replayOf(earlier, spec.metadata) : this.decideAndAppend(spec);
    });
  }

  private async decideAndAppend<Command, Event extends DomainEvent, State, Context>(
    spec: CommandSpec<Command, Event, State, Context>,
  ): Promise<CommandResult> {
    const { streamId, repository } = spec;
    for (let attempt = 0; attempt < MAX_COMMAND_ATTEMPTS; attempt += 1) {
      // Proven current before deciding (a refusal never meets the expected-revision check); after a conflict, read.
      const loaded = await repository.load(streamId, { refresh: attempt > 0 ? true : 'if-changed' });
      const now = this.clock.now();
      const context = await spec.context(now, attempt);
      const events = repository.decider.decide(spec.command, loaded.state, context);
      if (events.length === 0) {
        return { streamId, revision: loaded.revision, position: undefined, eventIds: [], replayed: false };
      }
      try {
        return await this.append(spec, loaded, events, now);
      } catch (error) {
        if (error instanceof CommandAlreadyRecordedError) return replayOf(error.record, spec.metadata);
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        await sleep(RETRY_BASE_DELAY_MS * 2 ** Math.min(attempt, 6) * Math.random());
      }
    }
    throw new ConcurrencyConflictError(streamId, MAX_COMMAND_ATTEMPTS);
  }

  private async append<Command, Event extends DomainEvent, State, Context>(
    spec: CommandSpec<Command, Event, State, Context>,
    loaded: Loaded<State>,
    events: readonly Event[],
    now: DateTime,
  ): Promise<CommandResult> {
    const { metadata, streamId, repository } = spec;
    const { commandId, correlationId, causationId, actor } = metadata;
    const toAppend = eventsToAppend(events, { commandId, correlationId, causationId, actor, recordedAt: toIso(now) });
    const result: AppendResult = await this.store.append(streamId, toAppend, {
      expectedRevision: loaded.revision ?? 'no_stream',
      command: metadata.idempotency,
    });
    const expectedNext = (loaded.revision ?? -1n) + BigInt(events.length);
    // A store answers an exact repeat of an earlier append with that append's result; the cached state may then
    // lag behind the stream, so it is dropped rather than folded forward.
    if (result.nextRevision === expectedNext) repository.applied(streamId, loaded, events, result.nextRevision);
    else repository.forget(streamId);
    return { streamId, revision: result.nextRevision, position: result.position, eventIds: result.eventIds, replayed: false };
  }
}
