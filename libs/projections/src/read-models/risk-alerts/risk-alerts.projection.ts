import {
  assertNever,
  decodeRiskMemoryDoc,
  encodeRiskMemoryDoc,
  observeForRisk,
  type AlertedWithdrawal,
  type RiskDetection,
  type RiskEvent,
  type RiskMemory,
  type RiskRuleName,
  type RiskSeverity,
} from '@app/domain';
import type { RecordedEvent } from '@app/event-store';
import type { Projection, ReadModelView } from '../../projection';
import { positionKey } from '../support';

export const RISK_ALERTS = 'risk-alerts';

/**
 * `detected`: a rule fired on the log, and the alert job has not yet recorded it on the `risk` stream; then as the
 * admins decide.
 */
export type RiskAlertRowStatus = 'detected' | 'raised' | 'acknowledged' | 'dismissed' | 'confirmed';
export const RISK_ALERT_ROW_STATUSES: readonly RiskAlertRowStatus[] = ['detected', 'raised', 'acknowledged', 'dismissed', 'confirmed'];

/** One risk alert, from its detection to its decision. */
export interface RiskAlertRow {
  readonly alertId: string;
  readonly rule: RiskRuleName;
  readonly severity: RiskSeverity;
  readonly summary: string;
  readonly status: RiskAlertRowStatus;
  readonly accounts: readonly string[];
  readonly withdrawals: readonly AlertedWithdrawal[];
  readonly positions: readonly string[];
  readonly detectedAt: string;
  readonly raisedAt: string | null;
  /** Whether the auto-halt policy in force when it was raised made it halt withdrawals; null until raised. */
  readonly halts: boolean | null;
  /** `halted`: it halted withdrawals; `already-halted`: they were halted when it came; null: not (yet). */
  readonly haltOutcome: 'halted' | 'already-halted' | null;
  readonly acknowledgedAt: string | null;
  readonly dismissedAt: string | null;
  readonly dismissReason: string | null;
  readonly confirmedAt: string | null;
  readonly incidentId: string | null;
  /** Every withdrawal of a confirmed alert has been reported unauthorized. */
  readonly confirmationCompleted: boolean;
}

type DecisionType = Exclude<RiskEvent['type'], 'RiskRulesChanged'>;
const DECISIONS = new Set<string>(['RiskAlertRaised', 'RiskAlertAcknowledged', 'RiskAlertDismissed', 'RiskAlertConfirmed', 'RiskAlertConfirmationCompleted'] satisfies DecisionType[]);
const HANDLES = new Set<string>(['AddressWhitelisted', 'WithdrawalRequested', 'RiskRulesChanged', 'WithdrawalsHalted', 'RiskHaltSkipped', ...DECISIONS]);

/** Alert rows sort by the position that triggered them (log order); the rules' memory lives under `risk/`. */
export function alertKey(alertId: string): string {
  const dash = alertId.lastIndexOf('-');
  const position = /^[0-9]+$/.test(alertId.slice(dash + 1)) ? BigInt(alertId.slice(dash + 1)) : 0n;
  return `alert/${positionKey(position)}/${alertId}`;
}

export const ALERT_KEY_PREFIX = 'alert/';

function detected(d: RiskDetection): RiskAlertRow {
  return {
    ...d,
    status: 'detected',
    raisedAt: null,
    halts: null,
    haltOutcome: null,
    acknowledgedAt: null,
    dismissedAt: null,
    dismissReason: null,
    confirmedAt: null,
    incidentId: null,
    confirmationCompleted: false,
  };
}

function save(view: ReadModelView, row: RiskAlertRow): void {
  view.put(alertKey(row.alertId), row, { status: row.status, incidentId: row.incidentId });
}

function update(view: ReadModelView, alertId: string, change: (row: RiskAlertRow) => RiskAlertRow): void {
  const row = view.get<RiskAlertRow>(alertKey(alertId));
  // A decision on an alert this read model never saw raised would be a fault of the log, not of the reader.
  if (row) save(view, change(row));
}

function decide(view: ReadModelView, event: RiskEvent): void {
  switch (event.type) {
    case 'RiskAlertRaised': {
      const { halts, raisedAt, ...detection } = event.data;
      const row = view.get<RiskAlertRow>(alertKey(detection.alertId)) ?? detected(detection);
      save(view, { ...row, status: row.status === 'detected' ? 'raised' : row.status, raisedAt, halts });
      return;
    }
    case 'RiskAlertAcknowledged':
      return update(view, event.data.alertId, (row) => ({ ...row, status: 'acknowledged', acknowledgedAt: event.data.acknowledgedAt }));
    case 'RiskAlertDismissed':
      return update(view, event.data.alertId, (row) => ({ ...row, status: 'dismissed', dismissedAt: event.data.dismissedAt, dismissReason: event.data.reason }));
    case 'RiskAlertConfirmed':
      return update(view, event.data.alertId, (row) => ({ ...row, status: 'confirmed', confirmedAt: event.data.confirmedAt, incidentId: event.data.incidentId }));
    case 'RiskAlertConfirmationCompleted':
      return update(view, event.data.alertId, (row) => ({ ...row, confirmationCompleted: true }));
    case 'RiskRulesChanged':
      return;
    default:
      return assertNever(event);
  }
}

/**
 * The risk monitor (issue 11, part 2) as a projection: the pure rules of `@app/domain` fold the log with this read
 * model's rows as their memory, and each detection becomes an alert row. Run by the checkpointed runner like the
 * other read models, it is kill-safe (a batch's rows and checkpoint commit together), rebuildable, and a replay finds
 * the same alerts under the same ids. The alert job reads the `detected` rows and records them on the `risk` stream;
 * the decisions on that stream, and the halts they caused, come back here.
 */
function evolve(view: ReadModelView, event: RecordedEvent): void {
  if (DECISIONS.has(event.type)) return decide(view, { type: event.type, data: event.data, schemaVersion: 1 } as RiskEvent);
  if (event.type === 'WithdrawalsHalted') {
    const alertId = (event.data as { alertId?: string }).alertId;
    if (alertId !== undefined) update(view, alertId, (row) => ({ ...row, haltOutcome: 'halted' }));
    return;
  }
  if (event.type === 'RiskHaltSkipped') {
    return update(view, (event.data as { alertId: string }).alertId, (row) => ({ ...row, haltOutcome: 'already-halted' }));
  }
  const memory: RiskMemory = {
    get: (key) => view.get(key),
    put: (key, doc) => view.put(key, doc, {}),
  };
  for (const detection of observeForRisk(memory, event)) {
    // Detected once: a row already there (raised before a rebuild reached it) keeps its decisions.
    if (view.get<RiskAlertRow>(alertKey(detection.alertId)) === undefined) save(view, detected(detection));
  }
}

export const riskAlertsProjection: Projection = {
  name: RISK_ALERTS,
  version: 1,
  handles: HANDLES,
  evolve,
  // The rules' sliding windows are persistent lists in memory and plain arrays in the store (the same JSON as ever).
  codec: { encode: encodeRiskMemoryDoc, decode: decodeRiskMemoryDoc },
  // About 40% of a full rebuild's folding (a CPU profile of the 1,000,000-event bench log).
  foldWeight: 4,
};
