import { EventStoreClosedError } from '../errors';
import type { EventStore } from '../event-store.port';
import { AuditWalk, type AuditWalkOptions, yieldToEventLoop, YIELD_EVERY_EVENTS } from './audit-walk';
import { ChainChecker, type StreamTip, type VerifyFailure } from './chain-checker';
import { describeUnreadable, readDiagnosing, type ReadCursor, type UnreadableEvent } from './diagnosing-read';

export type VerifyOptions = AuditWalkOptions;

/** A report lists at most this many failures (the first ones by position); failureCount counts them all. */
export const MAX_REPORTED_FAILURES = 100;

export interface VerifyReport {
  /** True when every event up to headPosition holds. */
  readonly ok: boolean;
  /** Events whose revision, link and hash held (failing events are not counted). */
  readonly eventsChecked: number;
  /** Streams with at least one event checked. */
  readonly streamsChecked: number;
  /** The log's last position when verification started; events appended after it are not checked. */
  readonly headPosition: bigint | undefined;
  /** The failing event with the lowest position (a lost stream tail, which has no position, comes last). */
  readonly firstFailure?: VerifyFailure;
  /** When not ok: the first MAX_REPORTED_FAILURES failures, in the order the walk met them. */
  readonly failures?: readonly VerifyFailure[];
  /** When not ok: every failure found, including those past MAX_REPORTED_FAILURES. */
  readonly failureCount?: number;
}

/** `verify --stream` or `GET /audit/verify?stream=` named a stream the store has never held: a typo, not a clean stream. */
export class UnknownStreamError extends Error {
  readonly code = 'STREAM_NOT_FOUND';
  constructor(readonly streamId: string) {
    super(`stream ${streamId} does not exist: the store holds no event of it and records no revision for it`);
    this.name = 'UnknownStreamError';
  }
}

/** The failures of one walk: all counted, the first MAX_REPORTED_FAILURES kept. */
export class FailureList {
  readonly kept: VerifyFailure[] = [];
  count = 0;

  add(failure: VerifyFailure): void {
    this.count += 1;
    if (this.kept.length < MAX_REPORTED_FAILURES) this.kept.push(failure);
  }
}

/**
 * Verifies the hash chain of every stream (each event's hash covers its stream, revision, type, data, metadata and
 * the previous event's hash, so that an edited, inserted or reordered event shows) by walking the global log once,
 * in position order, up to the head as it was at the start. Memory holds one tip (last revision and hash) per stream, never the log.
 *
 * Each event must follow its stream's previous event (revision + 1, 0 first), link to its hash (prevHash;
 * GENESIS_HASH first) and hash to its stored hash. After the walk, each stream's revision as the store records it
 * must not run past the last event the log holds: that is how a removed stream tail shows, which no link can reveal.
 * The walk goes on past a failure, so that an auditor sees every altered event, not only the first.
 */
export async function verifyEventStore(store: EventStore, options: VerifyOptions = {}): Promise<VerifyReport> {
  const walk = new AuditWalk(await store.headPosition(), options);
  const cursor: ReadCursor = {
    unit: 'position',
    read: (from, maxCount) => store.readAll({ fromPosition: from, maxCount }),
    keyOf: (event) => event.position,
  };
  const checker = new ChainChecker();
  const failures = new FailureList();
  const held = await walkChains(cursor, walk, checker, failures);
  await checkStreamTails(store, checker.streamTips(), walk, failures);
  return reportOf(walk.headPosition, held, checker, failures);
}

/**
 * Verifies one stream's chain, from revision 0 to its last event at or before the log's current head. Throws
 * UnknownStreamError for a stream the store has never held.
 */
export async function verifyStream(store: EventStore, streamId: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const walk = new AuditWalk(await store.headPosition(), options);
  if ((await store.streamRevision(streamId)) === undefined && (await isEmpty(store.readStream(streamId, { maxCount: 1 })))) {
    throw new UnknownStreamError(streamId);
  }
  const cursor: ReadCursor = {
    unit: 'revision',
    read: (from, maxCount) => store.readStream(streamId, { fromRevision: from, maxCount }),
    keyOf: (event) => event.revision,
  };
  const checker = new ChainChecker();
  const failures = new FailureList();
  const held = await walkChains(cursor, walk, checker, failures, streamId);
  await checkStreamTails(store, [[streamId, checker.tip(streamId)]], walk, failures);
  return reportOf(walk.headPosition, held, checker, failures);
}

async function isEmpty(events: AsyncIterable<unknown>): Promise<boolean> {
  try {
    for await (const _event of events) return false;
  } catch {
    // An event is there, though it cannot be read: the walk reports it.
    return false;
  }
  return true;
}

/** Walks the chains up to the head, adding every failure; returns how many events held. */
async function walkChains(cursor: ReadCursor, walk: AuditWalk, checker: ChainChecker, failures: FailureList, streamId?: string): Promise<number> {
  if (walk.headPosition === undefined) return 0;
  let held = 0;
  let from: bigint | undefined = 0n;
  walking: while (from !== undefined) {
    const start: bigint = from;
    from = undefined;
    for await (const item of readDiagnosing(cursor, start)) {
      walk.checkAborted();
      if (item.kind === 'unreadable') {
        failures.add(unreadableFailure(item, cursor, streamId));
        // An unreadable event pinned to its place is stepped over; one that is not leaves nowhere sure to resume.
        if (item.exact) from = item.from + 1n;
        continue walking;
      }
      // The head is read first, so the walk checks a fixed prefix of the log even while the ledger appends.
      if (item.event.position > walk.headPosition) break walking;
      const failure = checker.check(item.event);
      if (failure === undefined) held += 1;
      else failures.add(failure);
      await walk.advance(item.event);
    }
  }
  walk.finish();
  return held;
}

function unreadableFailure(item: UnreadableEvent, cursor: ReadCursor, streamId: string | undefined): VerifyFailure {
  const exactKey = item.exact ? item.from : undefined;
  return {
    reason: 'UNREADABLE',
    streamId,
    revision: cursor.unit === 'revision' ? exactKey : undefined,
    position: cursor.unit === 'position' ? exactKey : undefined,
    eventId: undefined,
    detail: describeUnreadable(item, cursor.unit, streamId),
  };
}

/**
 * A stream whose recorded revision runs past its last event has lost its tail: the chain alone cannot show that,
 * since nothing links to the last event. A recorded revision may also have grown because the ledger appended after
 * the walk's head; reading the next revision tells the two apart.
 */
async function checkStreamTails(
  store: EventStore,
  tips: Iterable<[string, StreamTip | undefined]>,
  walk: AuditWalk,
  failures: FailureList,
): Promise<void> {
  let checked = 0;
  for (const [streamId, tip] of tips) {
    walk.checkAborted();
    const recorded = await store.streamRevision(streamId);
    const lastSeen = tip === undefined ? -1n : tip.revision;
    if (recorded !== undefined && recorded > lastSeen && !(await existsAfterHead(store, streamId, lastSeen + 1n, walk))) {
      failures.add({
        reason: 'REVISION_GAP',
        streamId,
        revision: lastSeen + 1n,
        position: undefined,
        eventId: undefined,
        detail:
          `the store records revision ${recorded} as the stream's last, but the log holds ` +
          `${tip === undefined ? 'no event of it' : `revisions 0 to ${tip.revision} only`}: events were removed from its end`,
      });
    }
    checked += 1;
    if (checked % YIELD_EVERY_EVENTS === 0) await yieldToEventLoop();
  }
}

async function existsAfterHead(store: EventStore, streamId: string, revision: bigint, walk: AuditWalk): Promise<boolean> {
  try {
    for await (const event of store.readStream(streamId, { fromRevision: revision, maxCount: 1 })) {
      return walk.headPosition === undefined || event.position > walk.headPosition;
    }
  } catch (error) {
    if (error instanceof EventStoreClosedError) throw error;
    // The event is there but cannot be read: the walk has reported it as UNREADABLE; it is no lost tail.
    return true;
  }
  return false;
}

export function reportOf(headPosition: bigint | undefined, held: number, checker: ChainChecker, failures: FailureList): VerifyReport {
  const base = { eventsChecked: held, streamsChecked: checker.streamCount, headPosition };
  if (failures.count === 0) return { ok: true, ...base };
  return { ok: false, ...base, firstFailure: failures.kept[0], failures: failures.kept, failureCount: failures.count };
}

/** A VerifyFailure as JSON: bigints as decimal strings, unknown fields as null. */
export interface VerifyFailureView {
  readonly reason: VerifyFailure['reason'];
  readonly streamId: string | null;
  readonly revision: string | null;
  readonly position: string | null;
  readonly eventId: string | null;
  readonly detail: string;
}

/** A VerifyReport as JSON, for `ledger verify --json` and the HTTP audit route. */
export interface VerifyReportView {
  readonly ok: boolean;
  readonly eventsChecked: number;
  readonly streamsChecked: number;
  readonly headPosition: string | null;
  readonly firstFailure: VerifyFailureView | null;
  /** Every failure found, up to MAX_REPORTED_FAILURES; failureCount says how many there were in all. */
  readonly failures: VerifyFailureView[];
  readonly failureCount: number;
}

export function verifyReportView(report: VerifyReport): VerifyReportView {
  const failures = (report.failures ?? []).map(failureView);
  return {
    ok: report.ok,
    eventsChecked: report.eventsChecked,
    streamsChecked: report.streamsChecked,
    headPosition: report.headPosition?.toString() ?? null,
    firstFailure: failures[0] ?? null,
    failures,
    failureCount: report.failureCount ?? 0,
  };
}

function failureView(failure: VerifyFailure): VerifyFailureView {
  return {
    reason: failure.reason,
    streamId: failure.streamId ?? null,
    revision: failure.revision?.toString() ?? null,
    position: failure.position?.toString() ?? null,
    eventId: failure.eventId ?? null,
    detail: failure.detail,
  };
}
