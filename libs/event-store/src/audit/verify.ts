import type { EventStore } from '../event-store.port';
import { AuditWalk, type AuditWalkOptions, yieldToEventLoop, YIELD_EVERY_EVENTS } from './audit-walk';
import { ChainChecker, type StreamTip, type VerifyFailure } from './chain-checker';
import { describeUnreadable, readDiagnosing, type ReadCursor, type UnreadableEvent } from './diagnosing-read';

export type VerifyOptions = AuditWalkOptions;

export interface VerifyReport {
  /** True when every event up to headPosition holds. */
  readonly ok: boolean;
  /** Events whose revision, link and hash held (the failing event, if any, is not counted). */
  readonly eventsChecked: number;
  /** Streams with at least one event that held. */
  readonly streamsChecked: number;
  /** The log's last position when verification started; events appended after it are not checked. */
  readonly headPosition: bigint | undefined;
  /** The failing event with the lowest position (a lost stream tail, which has no position, comes last). */
  readonly firstFailure?: VerifyFailure;
}

/**
 * Verifies the hash chain of every stream (DESIGN §6) by walking the global log once, in position order, up to the
 * head as it was at the start. Memory holds one tip (last revision and hash) per stream, never the log.
 *
 * Each event must follow its stream's previous event (revision + 1, 0 first), link to its hash (prevHash;
 * GENESIS_HASH first) and hash to its stored hash. After the walk, each stream's revision as the store records it
 * must not run past the last event the log holds: that is how a removed stream tail shows, which no link can reveal.
 * Verification stops at the first failure.
 */
export async function verifyEventStore(store: EventStore, options: VerifyOptions = {}): Promise<VerifyReport> {
  const walk = new AuditWalk(await store.headPosition(), options);
  const cursor: ReadCursor = {
    unit: 'position',
    read: (from, maxCount) => store.readAll({ fromPosition: from, maxCount }),
    keyOf: (event) => event.position,
  };
  const checker = new ChainChecker();
  const failure = (await walkChains(cursor, walk, checker)) ?? (await checkStreamTails(store, checker.streamTips(), walk));
  return reportOf(walk, checker, failure);
}

/** Verifies one stream's chain, from revision 0 to its last event at or before the log's current head. */
export async function verifyStream(store: EventStore, streamId: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const walk = new AuditWalk(await store.headPosition(), options);
  const cursor: ReadCursor = {
    unit: 'revision',
    read: (from, maxCount) => store.readStream(streamId, { fromRevision: from, maxCount }),
    keyOf: (event) => event.revision,
  };
  const checker = new ChainChecker();
  const failure =
    (await walkChains(cursor, walk, checker, streamId)) ??
    (await checkStreamTails(store, [[streamId, checker.tip(streamId)]], walk));
  return reportOf(walk, checker, failure);
}

async function walkChains(cursor: ReadCursor, walk: AuditWalk, checker: ChainChecker, streamId?: string): Promise<VerifyFailure | undefined> {
  if (walk.headPosition === undefined) return undefined;
  for await (const item of readDiagnosing(cursor, 0n)) {
    walk.checkAborted();
    if (item.kind === 'unreadable') return unreadableFailure(item, cursor, streamId);
    // The head is read first, so the walk checks a fixed prefix of the log even while the ledger appends.
    if (item.event.position > walk.headPosition) break;
    const failure = checker.check(item.event);
    if (failure !== undefined) return failure;
    await walk.advance(item.event);
  }
  walk.finish();
  return undefined;
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
): Promise<VerifyFailure | undefined> {
  let checked = 0;
  for (const [streamId, tip] of tips) {
    walk.checkAborted();
    const recorded = await store.streamRevision(streamId);
    const lastSeen = tip === undefined ? -1n : tip.revision;
    if (recorded !== undefined && recorded > lastSeen && !(await existsAfterHead(store, streamId, lastSeen + 1n, walk))) {
      return {
        reason: 'REVISION_GAP',
        streamId,
        revision: lastSeen + 1n,
        position: undefined,
        eventId: undefined,
        detail:
          `the store records revision ${recorded} as the stream's last, but the log holds ` +
          `${tip === undefined ? 'no event of it' : `revisions 0 to ${tip.revision} only`}: events were removed from its end`,
      };
    }
    checked += 1;
    if (checked % YIELD_EVERY_EVENTS === 0) await yieldToEventLoop();
  }
  return undefined;
}

async function existsAfterHead(store: EventStore, streamId: string, revision: bigint, walk: AuditWalk): Promise<boolean> {
  for await (const event of store.readStream(streamId, { fromRevision: revision, maxCount: 1 })) {
    return walk.headPosition === undefined || event.position > walk.headPosition;
  }
  return false;
}

function reportOf(walk: AuditWalk, checker: ChainChecker, failure: VerifyFailure | undefined): VerifyReport {
  const base = { eventsChecked: walk.events, streamsChecked: checker.streamCount, headPosition: walk.headPosition };
  return failure === undefined ? { ok: true, ...base } : { ok: false, ...base, firstFailure: failure };
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
}

export function verifyReportView(report: VerifyReport): VerifyReportView {
  const failure = report.firstFailure;
  return {
    ok: report.ok,
    eventsChecked: report.eventsChecked,
    streamsChecked: report.streamsChecked,
    headPosition: report.headPosition?.toString() ?? null,
    firstFailure:
      failure === undefined
        ? null
        : {
            reason: failure.reason,
            streamId: failure.streamId ?? null,
            revision: failure.revision?.toString() ?? null,
            position: failure.position?.toString() ?? null,
            eventId: failure.eventId ?? null,
            detail: failure.detail,
          },
  };
}
