import type { DateTime } from 'luxon';
import type { IncidentView } from '../incident/incident.decider';
import { assertNever, invariant, membersOf } from '../shared/assert';
import { domainError } from '../shared/errors';
import { event, type Command, type Event } from '../shared/event';
import { toIso } from '../shared/time';
import {
  DEFAULT_RISK_THRESHOLDS,
  RISK_THRESHOLD_BOUNDS,
  severityAtLeast,
  type AlertedWithdrawal,
  type RiskDetection,
  type RiskRuleName,
  type RiskSeverity,
  type RiskThresholds,
} from './risk.rules';

/** The stream of risk alerts and of the monitor's thresholds. */
export const RISK_STREAM = 'risk';

/** Which alerts halt withdrawals on their own (AutoHaltPolicyChanged, on the platform stream). */
export interface AutoHaltPolicy {
  /** Rules whose alerts halt; empty: none does (a fresh ledger). */
  readonly rules: readonly RiskRuleName[];
  /** The least severity that halts. */
  readonly minSeverity: RiskSeverity;
}

export const DEFAULT_AUTO_HALT_POLICY: AutoHaltPolicy = { rules: [], minSeverity: 'high' };

export function autoHaltApplies(policy: AutoHaltPolicy, rule: RiskRuleName, severity: RiskSeverity): boolean {
  return policy.rules.includes(rule) && severityAtLeast(severity, policy.minSeverity);
}

// ---- events -------------------------------------------------------------------------------------------------------

export type RiskAlertRaised = Event<'RiskAlertRaised', RiskDetection & { halts: boolean; raisedAt: string }>;
export type RiskAlertAcknowledged = Event<'RiskAlertAcknowledged', { alertId: string; acknowledgedAt: string }>;
export type RiskAlertDismissed = Event<'RiskAlertDismissed', { alertId: string; reason: string; dismissedAt: string }>;
/** An admin confirmed the alert as an attack: every withdrawal it names is to be reported unauthorized in the incident. */
export type RiskAlertConfirmed = Event<'RiskAlertConfirmed', { alertId: string; incidentId: string; withdrawals: AlertedWithdrawal[]; confirmedAt: string }>;
/** The confirmation job has reported every withdrawal of the alert (or found it reported, or final, already). */
export type RiskAlertConfirmationCompleted = Event<'RiskAlertConfirmationCompleted', { alertId: string; reported: number; skipped: number; completedAt: string }>;
export type RiskRulesChanged = Event<'RiskRulesChanged', { thresholds: RiskThresholds; previous: RiskThresholds; changedAt: string }>;

export type RiskEvent = RiskAlertRaised | RiskAlertAcknowledged | RiskAlertDismissed | RiskAlertConfirmed | RiskAlertConfirmationCompleted | RiskRulesChanged;

// ---- commands -----------------------------------------------------------------------------------------------------

export type RaiseRiskAlert = Command<'RaiseRiskAlert', { detection: RiskDetection }>;
export type AcknowledgeRiskAlert = Command<'AcknowledgeRiskAlert', { alertId: string }>;
export type DismissRiskAlert = Command<'DismissRiskAlert', { alertId: string; reason: string }>;
export type ConfirmRiskAlert = Command<'ConfirmRiskAlert', { alertId: string; incidentId: string }>;
export type CompleteRiskAlertConfirmation = Command<'CompleteRiskAlertConfirmation', { alertId: string; reported: number; skipped: number }>;
/** The thresholds named change; the others keep their value. */
export type ChangeRiskRules = Command<'ChangeRiskRules', { thresholds: Partial<RiskThresholds> }>;

export type RiskCommand = RaiseRiskAlert | AcknowledgeRiskAlert | DismissRiskAlert | ConfirmRiskAlert | CompleteRiskAlertConfirmation | ChangeRiskRules;

// ---- state --------------------------------------------------------------------------------------------------------

export type RiskAlertStatus = 'raised' | 'acknowledged' | 'dismissed' | 'confirmed';
export const RISK_ALERT_STATUSES = membersOf<RiskAlertStatus>({ raised: true, acknowledged: true, dismissed: true, confirmed: true });

export interface RiskAlertState {
  readonly alertId: string;
  readonly rule: RiskRuleName;
  readonly severity: RiskSeverity;
  readonly status: RiskAlertStatus;
  readonly halts: boolean;
  readonly withdrawals: readonly AlertedWithdrawal[];
  /** Set once confirmed; `completed` once every withdrawal is reported. */
  readonly confirmation: { readonly incidentId: string; readonly completed: boolean } | null;
}

export interface RiskState {
  readonly thresholds: RiskThresholds;
  readonly alerts: ReadonlyMap<string, RiskAlertState>;
}

export interface RiskDecisionContext {
  readonly now: DateTime;
  readonly autoHalt: AutoHaltPolicy;
  /** The incident a confirmation names, loaded by the handler; null when it names none or none exists. */
  readonly incident: IncidentView | null;
}

export function initialRiskState(): RiskState {
  return { thresholds: DEFAULT_RISK_THRESHOLDS, alerts: new Map() };
}

function withAlert(state: RiskState, alert: RiskAlertState): RiskState {
  return { ...state, alerts: new Map(state.alerts).set(alert.alertId, alert) };
}

function known(state: RiskState, alertId: string): RiskAlertState {
  const alert = state.alerts.get(alertId);
  invariant(alert, `risk event for unknown alert ${alertId}`);
  return alert;
}

export function evolveRisk(state: RiskState, e: RiskEvent): RiskState {
  switch (e.type) {
    case 'RiskAlertRaised': {
      const { alertId, rule, severity, halts, withdrawals } = e.data;
      return withAlert(state, { alertId, rule, severity, status: 'raised', halts, withdrawals, confirmation: null });
    }
    case 'RiskAlertAcknowledged':
      return withAlert(state, { ...known(state, e.data.alertId), status: 'acknowledged' });
    case 'RiskAlertDismissed':
      return withAlert(state, { ...known(state, e.data.alertId), status: 'dismissed' });
    case 'RiskAlertConfirmed':
      return withAlert(state, { ...known(state, e.data.alertId), status: 'confirmed', confirmation: { incidentId: e.data.incidentId, completed: false } });
    case 'RiskAlertConfirmationCompleted': {
      const alert = known(state, e.data.alertId);
      invariant(alert.confirmation, `completion of unconfirmed alert ${alert.alertId}`);
      return withAlert(state, { ...alert, confirmation: { ...alert.confirmation, completed: true } });
    }
    case 'RiskRulesChanged':
      return { ...state, thresholds: e.data.thresholds };
    default:
      return assertNever(e);
  }
}

/** Alerts that halt by the policy in force when they were raised: the halt job applies these (exactly once each). */
export function haltingAlerts(state: RiskState): RiskAlertState[] {
  return [...state.alerts.values()].filter((alert) => alert.halts);
}

/** Confirmations recorded but not yet applied to every withdrawal: the job resumes these at start-up. */
export function pendingConfirmations(state: RiskState): RiskAlertState[] {
  return [...state.alerts.values()].filter((alert) => alert.confirmation !== null && !alert.confirmation.completed);
}

function requireAlert(state: RiskState, alertId: string): RiskAlertState {
  const alert = state.alerts.get(alertId);
  if (!alert) throw domainError('RISK_ALERT_NOT_FOUND', alertId);
  return alert;
}

function requireOpenAlert(state: RiskState, alertId: string): RiskAlertState {
  const alert = requireAlert(state, alertId);
  if (alert.status === 'dismissed' || alert.status === 'confirmed') throw domainError('RISK_ALERT_ALREADY_CLOSED', `${alertId} is ${alert.status}`);
  return alert;
}

export function assertThresholds(thresholds: RiskThresholds): void {
  for (const [name, [min, max]] of Object.entries(RISK_THRESHOLD_BOUNDS) as Array<[keyof RiskThresholds, readonly [number, number]]>) {
    const value = thresholds[name];
    invariant(Number.isInteger(value) && value >= min && value <= max, `risk threshold ${name} = ${String(value)} reached the decider`);
  }
}

export function decideRisk(command: RiskCommand, state: RiskState, ctx: RiskDecisionContext): RiskEvent[] {
  const now = toIso(ctx.now);
  switch (command.type) {
    case 'RaiseRiskAlert': {
      const { detection } = command.data;
      // Raised once: the monitor (or a second process) offering the same detection again changes nothing.
      if (state.alerts.has(detection.alertId)) return [];
      return [event('RiskAlertRaised', { ...detection, halts: autoHaltApplies(ctx.autoHalt, detection.rule, detection.severity), raisedAt: now })];
    }
    case 'AcknowledgeRiskAlert': {
      const alert = requireOpenAlert(state, command.data.alertId);
      if (alert.status === 'acknowledged') throw domainError('RISK_ALERT_ALREADY_ACKNOWLEDGED', alert.alertId);
      return [event('RiskAlertAcknowledged', { alertId: alert.alertId, acknowledgedAt: now })];
    }
    case 'DismissRiskAlert': {
      const alert = requireOpenAlert(state, command.data.alertId);
      return [event('RiskAlertDismissed', { alertId: alert.alertId, reason: command.data.reason, dismissedAt: now })];
    }
    case 'ConfirmRiskAlert': {
      const alert = requireOpenAlert(state, command.data.alertId);
      const { incidentId } = command.data;
      if (!ctx.incident || ctx.incident.incidentId !== incidentId) throw domainError('INCIDENT_NOT_FOUND', incidentId);
      if (ctx.incident.status !== 'open') throw domainError('INCIDENT_NOT_OPEN', incidentId);
      if (alert.withdrawals.length === 0) throw domainError('RISK_ALERT_NAMES_NO_WITHDRAWAL', alert.alertId);
      return [event('RiskAlertConfirmed', { alertId: alert.alertId, incidentId, withdrawals: [...alert.withdrawals], confirmedAt: now })];
    }
    case 'CompleteRiskAlertConfirmation': {
      const alert = requireAlert(state, command.data.alertId);
      if (!alert.confirmation) throw domainError('RISK_ALERT_NOT_CONFIRMED', alert.alertId);
      if (alert.confirmation.completed) return [];
      const { reported, skipped } = command.data;
      return [event('RiskAlertConfirmationCompleted', { alertId: alert.alertId, reported, skipped, completedAt: now })];
    }
    case 'ChangeRiskRules': {
      const thresholds: RiskThresholds = { ...state.thresholds, ...command.data.thresholds };
      assertThresholds(thresholds);
      if ((Object.keys(thresholds) as Array<keyof RiskThresholds>).every((name) => thresholds[name] === state.thresholds[name])) {
        throw domainError('RISK_RULES_UNCHANGED');
      }
      return [event('RiskRulesChanged', { thresholds, previous: state.thresholds, changedAt: now })];
    }
    default:
      return assertNever(command);
  }
}
