import type { RiskRuleName, RiskSeverity } from '../risk/risk.rules';
import type { Event } from '../shared/event';

/** `alertId`: the risk alert that halted withdrawals on its own (absent on a halt an admin sent). */
export type WithdrawalsHalted = Event<'WithdrawalsHalted', { incidentId: string | null; reason: string; haltedAt: string; alertId?: string }>;
/** A halting risk alert found withdrawals halted already: recorded, so that it never halts them later. */
export type RiskHaltSkipped = Event<'RiskHaltSkipped', { alertId: string; reason: string; skippedAt: string }>;
/** Which risk alerts halt withdrawals on their own: their rule is listed and their severity at least the minimum. */
export type AutoHaltPolicyChanged = Event<
  'AutoHaltPolicyChanged',
  { rules: RiskRuleName[]; minSeverity: RiskSeverity; previousRules: RiskRuleName[]; previousMinSeverity: RiskSeverity; changedAt: string }
>;
export type WithdrawalsResumed = Event<
  'WithdrawalsResumed',
  { incidentId: string | null; reason: string; resumedAt: string; haltedAt: string; haltedForSeconds: number }
>;
export type AllTwoFactorTokensRevoked = Event<
  'AllTwoFactorTokensRevoked',
  { revocationId: string; incidentId: string; reason: string; revokedAt: string }
>;
/** The revocation job has applied a platform-wide revocation to every account opened before it. */
export type AllTwoFactorTokensRevocationCompleted = Event<
  'AllTwoFactorTokensRevocationCompleted',
  { revocationId: string; completedAt: string }
>;
export type WithdrawalPolicyChanged = Event<
  'WithdrawalPolicyChanged',
  { newAddressHoldHours: number; previousNewAddressHoldHours: number; changedAt: string }
>;

/**
 * Whether withdrawals and whitelistings need a second-factor proof, and from which USD value (at the recorded price) a
 * withdrawal needs two distinct factor methods. A policy in the history, like the hold, so a replay decides the same.
 */
export type SecondFactorPolicyChanged = Event<
  'SecondFactorPolicyChanged',
  {
    required: boolean;
    /** USD per withdrawal from which two factor methods are needed; null for no threshold. */
    mfaThresholdUsd: string | null;
    previousRequired: boolean;
    previousMfaThresholdUsd: string | null;
    changedAt: string;
  }
>;

export type PlatformEvent =
  | WithdrawalsHalted
  | WithdrawalsResumed
  | AllTwoFactorTokensRevoked
  | AllTwoFactorTokensRevocationCompleted
  | WithdrawalPolicyChanged
  | SecondFactorPolicyChanged
  | RiskHaltSkipped
  | AutoHaltPolicyChanged;
