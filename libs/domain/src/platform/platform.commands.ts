import type { Command } from '../shared/event';

export type HaltWithdrawals = Command<'HaltWithdrawals', { incidentId: string | null; reason: string }>;
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
  | ChangeSecondFactorPolicy;
