import type { MetadataToAppend, RecordedEvent } from '../event-store.port';
import { eventHash, GENESIS_HASH, metadataWithoutChain } from '../hash-chain';

/**
 * Why an event fails verification:
 * - HASH_MISMATCH: the stored hash is not the hash of the event as stored (its stream, revision, type, data or
 *   metadata changed after it was appended, or the hash itself was edited);
 * - BROKEN_LINK: its prevHash is not the hash of the stream's previous event (the predecessor was re-hashed,
 *   removed or replaced);
 * - REVISION_GAP: its revision does not follow the previous event of its stream (an event was removed, moved or
 *   renumbered), or the store records more events for the stream than the log holds;
 * - UNREADABLE: the adapter could not decode it, or it is not shaped like an event (tampering broke its JSON).
 */
export type VerifyFailureReason = 'HASH_MISMATCH' | 'BROKEN_LINK' | 'REVISION_GAP' | 'UNREADABLE';

/** An event that fails. Fields are undefined only when the failure itself hides them (UNREADABLE, a lost tail). */
export interface VerifyFailure {
  readonly reason: VerifyFailureReason;
  readonly streamId: string | undefined;
  readonly revision: bigint | undefined;
  readonly position: bigint | undefined;
  readonly eventId: string | undefined;
  /** One sentence for a person: what was expected and what was found. */
  readonly detail: string;
}

/** What the walk remembers of a stream: its last verified event. Nothing else is kept, so memory grows with streams, not events. */
export interface StreamTip {
  readonly revision: bigint;
  readonly hash: string;
  /**
   * After a HASH_MISMATCH, the hash the event as stored hashes to. The next event may link to either: to the stored
   * hash when the event's content was changed, to this one when only the stored hash was edited. Accepting both keeps
   * one altered event from being reported again as a broken link in the event after it.
   */
  readonly recomputedHash?: string;
}

/**
 * Checks events one at a time, in the order their streams were written, against the tip of their stream: the
 * revision follows, prevHash links to the previous event's hash (GENESIS_HASH first), and the stored hash is the
 * hash of the event as stored. Every event becomes its stream's new tip, one that fails too, so that a walk can go
 * on past a failure and report the next one rather than every later event of the stream.
 */
export class ChainChecker {
  private readonly tips = new Map<string, StreamTip>();

  /** Streams with at least one event checked. */
  get streamCount(): number {
    return this.tips.size;
  }

  tip(streamId: string): StreamTip | undefined {
    return this.tips.get(streamId);
  }

  streamTips(): IterableIterator<[string, StreamTip]> {
    return this.tips.entries();
  }

  /** Undefined when the event holds (and is now its stream's tip); otherwise why it does not. */
  check(event: RecordedEvent): VerifyFailure | undefined {
    const { failure, recomputedHash } = checkAgainstTip(event, this.tips.get(event.streamId));
    const stored: unknown = (event.metadata as { hash?: unknown } | null)?.hash;
    this.tips.set(event.streamId, { revision: event.revision, hash: typeof stored === 'string' ? stored : '', recomputedHash });
    return failure;
  }
}

/** No failure when the event holds; with a HASH_MISMATCH, also the hash the event as stored hashes to. */
function checkAgainstTip(event: RecordedEvent, tip: StreamTip | undefined): { failure?: VerifyFailure; recomputedHash?: string } {
  const expectedRevision = tip === undefined ? 0n : tip.revision + 1n;
  if (event.revision !== expectedRevision) {
    const previous = tip === undefined ? 'the stream has no earlier event' : `the previous event is revision ${tip.revision}`;
    return { failure: failureAt(event, 'REVISION_GAP', `expected revision ${expectedRevision} (${previous}), found revision ${event.revision}`) };
  }
  // The adapter decodes JSON; it cannot promise that tampered JSON still has the shape of metadata.
  const metadata: unknown = event.metadata;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    return { failure: failureAt(event, 'UNREADABLE', 'its metadata is not a JSON object') };
  }
  const { prevHash, hash } = metadata as { prevHash?: unknown; hash?: unknown };
  const expectedPrevHash = tip === undefined ? GENESIS_HASH : tip.recomputedHash !== undefined && prevHash === tip.recomputedHash ? tip.recomputedHash : tip.hash;
  if (prevHash !== expectedPrevHash) {
    const expected = tip === undefined ? `the genesis hash ${short(GENESIS_HASH)}` : `the hash of revision ${tip.revision}, ${short(tip.hash)}`;
    return { failure: failureAt(event, 'BROKEN_LINK', `prevHash is ${describe(prevHash)}, but should be ${expected}`) };
  }
  let recomputed: string;
  try {
    recomputed = eventHash({
      streamId: event.streamId,
      revision: event.revision,
      type: event.type,
      data: event.data,
      metadata: metadataWithoutChain(metadata as MetadataToAppend),
      prevHash: expectedPrevHash,
    });
  } catch (error) {
    return { failure: failureAt(event, 'UNREADABLE', `it cannot be encoded for hashing: ${messageOf(error)}`) };
  }
  if (hash === recomputed) return {};
  const detail =
    `the stored hash is ${describe(hash)}, but the event as stored hashes to ${short(recomputed)}: ` +
    'its stream, revision, type, data or metadata changed after it was appended';
  return { failure: failureAt(event, 'HASH_MISMATCH', detail), recomputedHash: recomputed };
}

function failureAt(event: RecordedEvent, reason: VerifyFailureReason, detail: string): VerifyFailure {
  return { reason, streamId: event.streamId, revision: event.revision, position: event.position, eventId: event.eventId, detail };
}

/** Enough of a hash to tell two apart in a message; reports carry whole events for anyone who needs more. */
function short(hash: string): string {
  return `${hash.slice(0, 16)}…`;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? short(value) : `missing (${value === undefined ? 'absent' : typeof value})`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
