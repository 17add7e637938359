import type { RiskRuleName, RiskSeverity } from '../risk/risk.rules';
import type { Command } from '../shared/event';

/** `alertId`: sent by the auto-halt job for a halting risk alert; applied at most once per alert. */
export type HaltWithdrawals = Command<'HaltWithdrawals', { incidentId: string | null; reason: string; alertId?: string }>;
export type ChangeAutoHaltPolicy = Command<'ChangeAutoHaltPolicy', { rules: RiskRuleName[]; minSeverity: RiskSeverity }>;
export type ResumeWithdrawals = Command<'ResumeWithdrawals', { incidentId: string | null; reason: string }>;
export type RevokeAllTwoFactorTokens = Command<'RevokeAllTwoFactorTokens', { revocationId: string; incidentId: string; reason: string }>;
export type CompleteTwoFactorRevocation = Command<'CompleteTwoFactorRevocation', { revocationId: string }>;
export type ChangeWithdrawalPolicy = Command<'ChangeWithdrawalPolicy', { newAddressHoldHours: number }>;

export type ChangeSecondFactorPolicy = Command<'ChangeSecondFactorPolicy', { required: boolean; mfaThresholdUsd: string | null }>;

export type PlatformCommand =
  | HaltWithdrawals
  | ResumeWithdrawals
  | RevokeAllTwoFactorTokens
  | CompleteTwoFactorRevocation
  | ChangeWithdrawalPolicy
  | ChangeSecondFactorPolicy
  | ChangeAutoHaltPolicy;
