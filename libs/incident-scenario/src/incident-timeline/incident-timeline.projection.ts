import { ACCOUNT_STREAM_PREFIX, assertNever, invariant, type AccountEvent, type IncidentEvent, type PlatformEvent } from '@app/domain';
import type { RecordedEvent } from '@app/event-store';
import type { Projection, ReadModelView } from '@app/projections';

export const INCIDENT_TIMELINE = 'incident-timeline';

type TimelineEvent = Extract<
  AccountEvent | IncidentEvent | PlatformEvent,
  {
    type:
      | 'IncidentOpened'
      | 'IncidentClosed'
      | 'WithdrawalsHalted'
      | 'WithdrawalsResumed'
      | 'AllTwoFactorTokensRevoked'
      | 'AllTwoFactorTokensRevocationCompleted'
      | 'WithdrawalPolicyChanged'
      | 'WithdrawalRequested'
      | 'WithdrawalSettled'
      | 'UnauthorizedWithdrawalDetected';
  }
>;
type Handled = TimelineEvent['type'];
const HANDLES = new Set<Handled>([
  'IncidentOpened',
  'IncidentClosed',
  'WithdrawalsHalted',
  'WithdrawalsResumed',
  'AllTwoFactorTokensRevoked',
  'AllTwoFactorTokensRevocationCompleted',
  'WithdrawalPolicyChanged',
  'WithdrawalRequested',
  'WithdrawalSettled',
  'UnauthorizedWithdrawalDetected',
]);

/** The `status` index field tells the row kinds apart, so that a report lists entries or windows with one filter. */
export const TIMELINE_ENTRY = 'timeline-entry';
export const ATTACK_WINDOW = 'attack-window';
export const UNAUTHORIZED_WITHDRAWAL = 'unauthorized-withdrawal';

/** One unauthorized withdrawal of an incident, with when it was requested and settled (null: stopped while pending). */
export interface UnauthorizedWithdrawalRow {
  readonly incidentId: string;
  readonly accountId: string;
  readonly withdrawalId: string;
  readonly requestedAt: string;
  readonly settledAt: string | null;
}

interface RequestedDoc {
  readonly requestedAt: string;
  readonly settledAt?: string;
}

/** A platform or incident event, as the report's timeline shows it. */
export interface TimelineEntryRow {
  readonly at: string;
  readonly type: Exclude<Handled, 'WithdrawalRequested' | 'WithdrawalSettled' | 'UnauthorizedWithdrawalDetected'>;
  readonly incidentId: string | null;
  readonly position: string;
  /** The event's data as recorded (titles, reasons, hold hours, halted seconds). */
  readonly data: Readonly<Record<string, unknown>>;
}

/** When the unauthorized withdrawals of an incident were requested: the first and the last. */
export interface AttackWindowRow {
  readonly incidentId: string;
  readonly firstRequestedAt: string;
  readonly lastRequestedAt: string;
  readonly withdrawals: number;
}

const entryKey = (position: bigint): string => `entry/${position.toString().padStart(20, '0')}`;
const requestedKey = (streamId: string, withdrawalId: string): string => `requested/${streamId}/${withdrawalId}`;
/** Where an incident's attack window is kept: the query reads it by this key. */
export const ATTACK_WINDOW_KEY_PREFIX = 'attack/';
const windowKey = (incidentId: string): string => `${ATTACK_WINDOW_KEY_PREFIX}${incidentId}`;

function entry(view: ReadModelView, event: RecordedEvent, at: string, incidentId: string | null): void {
  const row: TimelineEntryRow = {
    at,
    type: event.type as TimelineEntryRow['type'],
    incidentId,
    position: event.position.toString(),
    data: event.data as Record<string, unknown>,
  };
  view.put(entryKey(event.position), row, { incidentId, status: TIMELINE_ENTRY });
}

function widenWindow(view: ReadModelView, event: RecordedEvent, withdrawalId: string, incidentId: string): void {
  const requested = view.get<RequestedDoc>(requestedKey(event.streamId, withdrawalId));
  invariant(requested, `unauthorized ${withdrawalId} of ${event.streamId} was never requested`);
  const accountId = event.streamId.slice(ACCOUNT_STREAM_PREFIX.length);
  const unauthorized: UnauthorizedWithdrawalRow = { incidentId, accountId, withdrawalId, requestedAt: requested.requestedAt, settledAt: requested.settledAt ?? null };
  view.put(`unauthorized/${incidentId}/${event.position.toString().padStart(20, '0')}`, unauthorized, { incidentId, status: UNAUTHORIZED_WITHDRAWAL });
  const current = view.get<AttackWindowRow>(windowKey(incidentId));
  const at = requested.requestedAt;
  const next: AttackWindowRow = current
    ? {
        incidentId,
        firstRequestedAt: at < current.firstRequestedAt ? at : current.firstRequestedAt,
        lastRequestedAt: at > current.lastRequestedAt ? at : current.lastRequestedAt,
        withdrawals: current.withdrawals + 1,
      }
    : { incidentId, firstRequestedAt: at, lastRequestedAt: at, withdrawals: 1 };
  view.put(windowKey(incidentId), next, { incidentId, status: ATTACK_WINDOW });
}

function evolve(view: ReadModelView, recorded: RecordedEvent): void {
  const event = { type: recorded.type, data: recorded.data } as TimelineEvent;
  switch (event.type) {
    case 'IncidentOpened':
      return entry(view, recorded, event.data.openedAt, event.data.incidentId);
    case 'IncidentClosed':
      return entry(view, recorded, event.data.closedAt, event.data.incidentId);
    case 'WithdrawalsHalted':
      return entry(view, recorded, event.data.haltedAt, event.data.incidentId);
    case 'WithdrawalsResumed':
      return entry(view, recorded, event.data.resumedAt, event.data.incidentId);
    case 'AllTwoFactorTokensRevoked':
      return entry(view, recorded, event.data.revokedAt, event.data.incidentId);
    case 'AllTwoFactorTokensRevocationCompleted':
      return entry(view, recorded, event.data.completedAt, null);
    case 'WithdrawalPolicyChanged':
      return entry(view, recorded, event.data.changedAt, null);
    case 'WithdrawalRequested':
      invariant(recorded.streamId.startsWith(ACCOUNT_STREAM_PREFIX), `WithdrawalRequested outside an account stream at ${recorded.position}`);
      view.put(requestedKey(recorded.streamId, event.data.withdrawalId), { requestedAt: event.data.requestedAt } satisfies RequestedDoc, {});
      return;
    case 'WithdrawalSettled': {
      const key = requestedKey(recorded.streamId, event.data.withdrawalId);
      const requested = view.get<RequestedDoc>(key);
      invariant(requested, `settled ${event.data.withdrawalId} of ${recorded.streamId} was never requested`);
      view.put(key, { ...requested, settledAt: event.data.settledAt } satisfies RequestedDoc, {});
      return;
    }
    case 'UnauthorizedWithdrawalDetected':
      return widenWindow(view, recorded, event.data.withdrawalId, event.data.incidentId);
    default:
      return assertNever(event);
  }
}

/**
 * The incident report's timeline (scenario-local read model): every platform and incident event that makes the
 * timeline, per incident the window in which its unauthorized withdrawals were requested, and each of them with its
 * request and settlement times (what a halt at a given instant would have stopped). It keeps one small row per
 * requested withdrawal to find these, which suits the scenario's ledger, not a production one.
 */
export const incidentTimelineProjection: Projection = { name: INCIDENT_TIMELINE, version: 2, handles: HANDLES, evolve };
