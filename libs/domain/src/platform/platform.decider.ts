import type { DateTime } from 'luxon';
import { assertNever, invariant } from '../shared/assert';
import { domainError } from '../shared/errors';
import { event } from '../shared/event';
import { fromIso, toIso } from '../shared/time';
import type { IncidentView } from '../incident/incident.decider';
import { formatAmount, toMinor } from '../money/amount';
import type { ChangeSecondFactorPolicy, PlatformCommand } from './platform.commands';
import type { PlatformEvent } from './platform.events';
import { DEFAULT_AUTO_HALT_POLICY, type AutoHaltPolicy } from '../risk/risk.decider';

/** A fresh ledger holds new whitelisted addresses for 24 hours (rule 4). */
export const DEFAULT_NEW_ADDRESS_HOLD_HOURS = 24;
/** The hold policy's bounds: none, up to 30 days. */
export const MAX_NEW_ADDRESS_HOLD_HOURS = 720;
/** A fresh ledger requires a second-factor proof on every withdrawal and whitelisting (issue 11). */
export const DEFAULT_SECOND_FACTOR_REQUIRED = true;

export interface TwoFactorRevocation {
  readonly revocationId: string;
  readonly reason: string;
  readonly revokedAt: DateTime;
  readonly completed: boolean;
}

export interface PlatformState {
  readonly haltedAt: DateTime | null;
  readonly haltIncidentId: string | null;
  /** The risk alert that halted withdrawals on its own; null when they are not halted or an admin halted them. */
  readonly haltAlertId: string | null;
  readonly newAddressHoldHours: number;
  readonly revocations: ReadonlyMap<string, TwoFactorRevocation>;
  readonly latestRevocation: TwoFactorRevocation | null;
  readonly secondFactorRequired: boolean;
  /** In US cents; null for no threshold. */
  readonly mfaThresholdUsdCents: bigint | null;
  readonly autoHalt: AutoHaltPolicy;
  /** Halting risk alerts already applied (they halted withdrawals, or found them halted). */
  readonly appliedRiskHalts: ReadonlySet<string>;
}

/** What an account decision needs to know of the platform. */
export interface PlatformView {
  readonly withdrawalsHalted: boolean;
  readonly newAddressHoldHours: number;
  /** Tokens enrolled at or before this instant are no longer valid (rule 2). */
  readonly latestTwoFactorRevocationAt: DateTime | null;
  /** Whether withdrawals and whitelistings need a second-factor proof. */
  readonly secondFactorRequired: boolean;
  /** From this USD value (cents, at the recorded price) a withdrawal's proof needs two distinct methods; null: never. */
  readonly mfaThresholdUsdCents: bigint | null;
}

export interface PlatformDecisionContext {
  readonly now: DateTime;
  /** The incident the command names, loaded by the handler; null when it names none or none exists. */
  readonly incident: IncidentView | null;
}

export function initialPlatformState(): PlatformState {
  return {
    haltedAt: null,
    haltIncidentId: null,
    haltAlertId: null,
    newAddressHoldHours: DEFAULT_NEW_ADDRESS_HOLD_HOURS,
    revocations: new Map(),
    latestRevocation: null,
    secondFactorRequired: DEFAULT_SECOND_FACTOR_REQUIRED,
    mfaThresholdUsdCents: null,
    autoHalt: DEFAULT_AUTO_HALT_POLICY,
    appliedRiskHalts: new Set(),
  };
}

export function platformView(state: PlatformState): PlatformView {
  return {
    withdrawalsHalted: state.haltedAt !== null,
    newAddressHoldHours: state.newAddressHoldHours,
    latestTwoFactorRevocationAt: state.latestRevocation?.revokedAt ?? null,
    secondFactorRequired: state.secondFactorRequired,
    mfaThresholdUsdCents: state.mfaThresholdUsdCents,
  };
}

/** Revocations recorded but not yet applied to every account: the job resumes these at start-up. */
export function pendingRevocations(state: PlatformState): TwoFactorRevocation[] {
  return [...state.revocations.values()].filter((revocation) => !revocation.completed);
}

export function evolvePlatform(state: PlatformState, e: PlatformEvent): PlatformState {
  switch (e.type) {
    case 'WithdrawalsHalted': {
      const halted = { ...state, haltedAt: fromIso(e.data.haltedAt), haltIncidentId: e.data.incidentId, haltAlertId: e.data.alertId ?? null };
      return e.data.alertId === undefined ? halted : { ...halted, appliedRiskHalts: new Set(state.appliedRiskHalts).add(e.data.alertId) };
    }
    case 'RiskHaltSkipped':
      return { ...state, appliedRiskHalts: new Set(state.appliedRiskHalts).add(e.data.alertId) };
    case 'AutoHaltPolicyChanged':
      return { ...state, autoHalt: { rules: e.data.rules, minSeverity: e.data.minSeverity } };
    case 'WithdrawalsResumed':
      return { ...state, haltedAt: null, haltIncidentId: null, haltAlertId: null };
    case 'AllTwoFactorTokensRevoked': {
      const { revocationId, reason, revokedAt } = e.data;
      const revocation = { revocationId, reason, revokedAt: fromIso(revokedAt), completed: false };
      return { ...state, revocations: new Map(state.revocations).set(revocation.revocationId, revocation), latestRevocation: revocation };
    }
    case 'AllTwoFactorTokensRevocationCompleted': {
      const revocation = state.revocations.get(e.data.revocationId);
      invariant(revocation, `completion of unknown revocation ${e.data.revocationId}`);
      const completed = { ...revocation, completed: true };
      const latest = state.latestRevocation?.revocationId === completed.revocationId ? completed : state.latestRevocation;
      return { ...state, revocations: new Map(state.revocations).set(completed.revocationId, completed), latestRevocation: latest };
    }
    case 'WithdrawalPolicyChanged':
      return { ...state, newAddressHoldHours: e.data.newAddressHoldHours };
    case 'SecondFactorPolicyChanged': {
      const threshold = e.data.mfaThresholdUsd;
      return { ...state, secondFactorRequired: e.data.required, mfaThresholdUsdCents: threshold === null ? null : toMinor('USD', threshold) };
    }
    default:
      return assertNever(e);
  }
}

function requireIncident(incidentId: string | null, ctx: PlatformDecisionContext): void {
  if (incidentId === null) return;
  if (!ctx.incident || ctx.incident.incidentId !== incidentId) throw domainError('INCIDENT_NOT_FOUND', incidentId);
  if (ctx.incident.status !== 'open') throw domainError('INCIDENT_NOT_OPEN', incidentId);
}

export function decidePlatform(command: PlatformCommand, state: PlatformState, ctx: PlatformDecisionContext): PlatformEvent[] {
  const now = toIso(ctx.now);
  switch (command.type) {
    case 'HaltWithdrawals': {
      const { alertId } = command.data;
      if (alertId !== undefined) {
        // The auto-halt job: once per alert, whatever happened since (an admin may have resumed already).
        if (state.appliedRiskHalts.has(alertId)) return [];
        if (state.haltedAt) return [event('RiskHaltSkipped', { alertId, reason: `withdrawals already halted since ${toIso(state.haltedAt)}`, skippedAt: now })];
      }
      if (state.haltedAt) throw domainError('WITHDRAWALS_ALREADY_HALTED', `since ${toIso(state.haltedAt)}`);
      requireIncident(command.data.incidentId, ctx);
      const data = { incidentId: command.data.incidentId, reason: command.data.reason, haltedAt: now };
      return [event('WithdrawalsHalted', alertId === undefined ? data : { ...data, alertId })];
    }
    case 'ChangeAutoHaltPolicy': {
      const rules = [...new Set(command.data.rules)].sort();
      const { minSeverity } = command.data;
      const current = state.autoHalt;
      if (rules.join(',') === [...current.rules].sort().join(',') && minSeverity === current.minSeverity) {
        throw domainError('AUTO_HALT_POLICY_UNCHANGED', `rules ${rules.join(', ') || 'none'}, from ${minSeverity}`);
      }
      return [
        event('AutoHaltPolicyChanged', { rules, minSeverity, previousRules: [...current.rules], previousMinSeverity: current.minSeverity, changedAt: now }),
      ];
    }
    case 'ResumeWithdrawals': {
      if (!state.haltedAt) throw domainError('WITHDRAWALS_NOT_HALTED');
      // A resumption may name a closed incident (it can be closed before withdrawals resume), but only one that exists.
      const incidentId = command.data.incidentId;
      if (incidentId !== null && ctx.incident?.incidentId !== incidentId) throw domainError('INCIDENT_NOT_FOUND', incidentId);
      const haltedForSeconds = Math.floor(ctx.now.diff(state.haltedAt, 'seconds').seconds);
      return [
        event('WithdrawalsResumed', {
          incidentId: command.data.incidentId,
          reason: command.data.reason,
          resumedAt: now,
          haltedAt: toIso(state.haltedAt),
          haltedForSeconds,
        }),
      ];
    }
    case 'RevokeAllTwoFactorTokens': {
      if (state.revocations.has(command.data.revocationId)) {
        throw domainError('TWO_FACTOR_REVOCATION_ALREADY_RECORDED', command.data.revocationId);
      }
      requireIncident(command.data.incidentId, ctx);
      return [event('AllTwoFactorTokensRevoked', { ...command.data, revokedAt: now })];
    }
    case 'CompleteTwoFactorRevocation': {
      const revocation = state.revocations.get(command.data.revocationId);
      if (!revocation) throw domainError('TWO_FACTOR_REVOCATION_NOT_FOUND', command.data.revocationId);
      if (revocation.completed) throw domainError('TWO_FACTOR_REVOCATION_ALREADY_COMPLETED', command.data.revocationId);
      return [event('AllTwoFactorTokensRevocationCompleted', { revocationId: revocation.revocationId, completedAt: now })];
    }
    case 'ChangeWithdrawalPolicy': {
      const hours = command.data.newAddressHoldHours;
      invariant(Number.isInteger(hours) && hours >= 0 && hours <= MAX_NEW_ADDRESS_HOLD_HOURS, `hold of ${hours} hours reached the decider`);
      if (hours === state.newAddressHoldHours) throw domainError('WITHDRAWAL_POLICY_UNCHANGED', `${hours} hours`);
      return [
        event('WithdrawalPolicyChanged', { newAddressHoldHours: hours, previousNewAddressHoldHours: state.newAddressHoldHours, changedAt: now }),
      ];
    }
    case 'ChangeSecondFactorPolicy':
      return changeSecondFactorPolicy(command, state, now);
    default:
      return assertNever(command);
  }
}

function changeSecondFactorPolicy(command: ChangeSecondFactorPolicy, state: PlatformState, now: string): PlatformEvent[] {
  const { required, mfaThresholdUsd } = command.data;
  const thresholdCents = mfaThresholdUsd === null ? null : toMinor('USD', mfaThresholdUsd);
  if (thresholdCents !== null && thresholdCents <= 0n) throw domainError('AMOUNT_NOT_POSITIVE', 'mfaThresholdUsd');
  if (required === state.secondFactorRequired && thresholdCents === state.mfaThresholdUsdCents) {
    throw domainError('SECOND_FACTOR_POLICY_UNCHANGED', `required ${String(required)}, threshold ${mfaThresholdUsd ?? 'none'}`);
  }
  const previous = state.mfaThresholdUsdCents;
  return [
    event('SecondFactorPolicyChanged', {
      required,
      mfaThresholdUsd: thresholdCents === null ? null : formatAmount('USD', thresholdCents),
      previousRequired: state.secondFactorRequired,
      previousMfaThresholdUsd: previous === null ? null : formatAmount('USD', previous),
      changedAt: now,
    }),
  ];
}
