import { storedMetadataJson, type PreparedAppend, type PreparedEvent } from '../append-validation';
import { CommandAlreadyRecordedError, DuplicateEventIdError, type EventStoreError, WrongExpectedRevisionError } from '../errors';
import type { AppendResult, CommandRecord, CommandRecordToWrite } from '../event-store.port';
import { revisionMatches, storedAppend, type StoredEvent } from '../group-commit';
import { eventHash, GENESIS_HASH } from '../hash-chain';

export type { StoredEvent };

/** Bounds of one INSERT statement; a larger append is written by several statements in the same transaction. */
export const MAX_ROWS_PER_INSERT = 1_000;
export const MAX_BYTES_PER_INSERT = 16 * 1_048_576;

export interface StreamHead {
  readonly revision: bigint;
  readonly lastHash: string;
}

/**
 * What a write transaction knows about the log, as far as its batch is concerned. It is read once, after the
 * append lock is granted, and then changed only by the batch's own writes: while the lock is held nobody else
 * writes, so the checks can run here, in memory, and each append costs one round trip to write.
 */
export interface BatchState {
  nextPosition: bigint;
  /** Heads of the batch's streams that exist. */
  readonly heads: Map<string, StreamHead>;
  /** The batch's event ids that are stored. */
  readonly storedEvents: Map<string, StoredEvent>;
  /** The batch's command keys that are recorded. */
  readonly commands: Map<string, CommandRecord>;
}

/** An event ready to insert: its place in the stream and the log, and its hash-chain fields. */
export interface ChainedEvent {
  readonly position: bigint;
  readonly eventId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly dataJson: string;
  readonly metadataJson: string;
  readonly hash: string;
}

export interface WriteDecision {
  readonly kind: 'write';
  readonly result: AppendResult;
  readonly events: readonly ChainedEvent[];
  readonly command: CommandRecordToWrite | undefined;
}

export type AppendDecision =
  | { readonly kind: 'refuse'; readonly error: EventStoreError }
  /** A retry of an append that is already stored: its result, and nothing to write. */
  | { readonly kind: 'stored'; readonly result: AppendResult }
  | WriteDecision;

/** The same checks, in the same order, as the SQLite adapter: command key, stored ids, expected revision. */
export function decideAppend({ streamId, events, options }: PreparedAppend, state: BatchState): AppendDecision {
  if (options.command !== undefined) {
    const recorded = state.commands.get(options.command.key);
    if (recorded !== undefined) return { kind: 'refuse', error: new CommandAlreadyRecordedError(recorded) };
  }
  const stored = storedAppend(streamId, events.map((event) => event.eventId), (eventId) => state.storedEvents.get(eventId));
  if (stored instanceof DuplicateEventIdError) return { kind: 'refuse', error: stored };
  if (stored !== undefined) return { kind: 'stored', result: stored };
  const head = state.heads.get(streamId);
  if (!revisionMatches(options.expectedRevision, head?.revision)) {
    return { kind: 'refuse', error: new WrongExpectedRevisionError(streamId, options.expectedRevision, head?.revision) };
  }
  const chained = chainEvents(streamId, events, head, state.nextPosition);
  const last = chained[chained.length - 1]!;
  const result: AppendResult = {
    streamId,
    nextRevision: last.revision,
    position: last.position,
    eventIds: events.map((event) => event.eventId),
  };
  return { kind: 'write', result, events: chained, command: options.command };
}

/** Applies a committed-to-be write to the state, so that the next appends of the batch are checked against it. */
export function recordWrite(state: BatchState, { result, events, command }: WriteDecision): void {
  // Positions only grow; a smaller one would let a subscription skip or repeat events.
  if (result.position < state.nextPosition) throw new Error(`position ${result.position} is before ${state.nextPosition}`);
  for (const event of events) {
    state.storedEvents.set(event.eventId, { streamId: result.streamId, revision: event.revision, position: event.position });
  }
  state.heads.set(result.streamId, { revision: result.nextRevision, lastHash: events[events.length - 1]!.hash });
  if (command !== undefined) state.commands.set(command.key, { ...command, result });
  state.nextPosition = result.position + 1n;
}

/** Gives each event its revision, position and hash-chain fields, continuing the stream from its head. */
function chainEvents(
  streamId: string,
  events: readonly PreparedEvent[],
  head: StreamHead | undefined,
  firstPosition: bigint,
): ChainedEvent[] {
  let revision = head === undefined ? -1n : head.revision;
  let prevHash = head === undefined ? GENESIS_HASH : head.lastHash;
  return events.map((event, index) => {
    revision += 1n;
    const hash = eventHash({ ...event, streamId, revision, prevHash });
    const metadataJson = storedMetadataJson(event, prevHash, hash);
    prevHash = hash;
    return {
      position: firstPosition + BigInt(index),
      eventId: event.eventId,
      revision,
      type: event.type,
      dataJson: event.dataJson,
      metadataJson,
      hash,
    };
  });
}

/** Splits the rows of an append into INSERT statements of bounded row count and size. */
export function insertChunks(events: readonly ChainedEvent[]): ChainedEvent[][] {
  const chunks: ChainedEvent[][] = [];
  let current: ChainedEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = Buffer.byteLength(event.dataJson, 'utf8') + Buffer.byteLength(event.metadataJson, 'utf8');
    if (current.length > 0 && (current.length === MAX_ROWS_PER_INSERT || bytes + size > MAX_BYTES_PER_INSERT)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
