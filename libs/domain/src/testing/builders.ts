/**
 * Short builders for the events of a test's history and the commands under test. Times are given as short ISO
 * strings ('2022-01-18T10:17Z') and stored in events in the canonical form the deciders write ('...:00.000Z').
 */
import type * as A from '../account/account.commands';
import type * as AE from '../account/account.events';
import type { IncidentEvent } from '../incident/incident.events';
import type { IncidentCommand } from '../incident/incident.commands';
import type { Amount } from '../money/amount';
import type { AssetCode } from '../money/assets';
import type { PlatformCommand } from '../platform/platform.commands';
import type { PlatformEvent } from '../platform/platform.events';
import type { RecordPrice } from '../prices/price.decider';
import type { PriceEvent } from '../prices/price.events';
import { event } from '../shared/event';
import { fromIso, toIso } from '../shared/time';

export const ACCOUNT_ID = 'acc-1';
export const ETH_ADDRESS = '0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE';
/** When the default history happens: well before the incident. */
export const EARLY = '2022-01-01T00:00Z';

/** The canonical event form of a short ISO instant. */
export const iso = (instant: string): string => toIso(fromIso(instant));

// ---- account events -------------------------------------------------------------------------------------------

export const opened = (accountId = ACCOUNT_ID, openedAt = EARLY): AE.AccountOpened =>
  event('AccountOpened', { accountId, openedAt: iso(openedAt) });

export const deposited = (asset: AssetCode, amount: Amount, depositId = `dep-${asset}-${amount}`): AE.FundsDeposited =>
  event('FundsDeposited', { depositId, asset, amount });

export const enrolled = (tokenId: string, enrolledAt = EARLY, method: AE.TwoFactorMethod = 'totp'): AE.TwoFactorEnrolled =>
  event('TwoFactorEnrolled', { tokenId, method, enrolledAt: iso(enrolledAt) });

export const tokenRevoked = (tokenId: string, revokedAt: string, platformRevocationId?: string): AE.TwoFactorTokenRevoked =>
  event('TwoFactorTokenRevoked', {
    tokenId,
    reason: platformRevocationId ? 'platform-wide revocation' : 'lost phone',
    revokedAt: iso(revokedAt),
    ...(platformRevocationId ? { platformRevocationId } : {}),
  });

export const whitelisted = (asset: AssetCode, address: string, whitelistedAt = EARLY, holdHours = 24): AE.AddressWhitelisted =>
  event('AddressWhitelisted', {
    asset,
    address,
    whitelistedAt: iso(whitelistedAt),
    holdHours,
    withdrawableFrom: toIso(fromIso(whitelistedAt).plus({ hours: holdHours })),
  });

export const addressRemoved = (asset: AssetCode, address: string, removedAt: string): AE.AddressRemoved =>
  event('AddressRemoved', { asset, address, removedAt: iso(removedAt) });

export interface WithdrawalFields {
  withdrawalId?: string;
  asset?: AssetCode;
  amount: Amount;
  address?: string;
  twoFactorTokenId?: string;
}

const withdrawalDefaults = (fields: WithdrawalFields) => ({
  withdrawalId: 'w-1',
  asset: 'ETH' as AssetCode,
  address: ETH_ADDRESS,
  twoFactorTokenId: 'tok-1',
  ...fields,
});

export const requested = (fields: WithdrawalFields, requestedAt = '2022-01-10T00:00Z'): AE.WithdrawalRequested =>
  event('WithdrawalRequested', { ...withdrawalDefaults(fields), requestedAt: iso(requestedAt) });

export const approved = (withdrawalId = 'w-1', approvedAt = '2022-01-10T00:01Z'): AE.WithdrawalApproved =>
  event('WithdrawalApproved', { withdrawalId, approvedAt: iso(approvedAt) });

export const settled = (withdrawalId = 'w-1', settledAt = '2022-01-10T00:02Z', txHash = `tx-${withdrawalId}`): AE.WithdrawalSettled =>
  event('WithdrawalSettled', { withdrawalId, txHash, settledAt: iso(settledAt) });

export const rejected = (withdrawalId = 'w-1', rejectedAt = '2022-01-10T00:02Z', reason = 'compliance'): AE.WithdrawalRejected =>
  event('WithdrawalRejected', { withdrawalId, reason, rejectedAt: iso(rejectedAt) });

export const cancelled = (withdrawalId = 'w-1', cancelledAt = '2022-01-10T00:02Z', reason = 'customer cancelled'): AE.WithdrawalCancelled =>
  event('WithdrawalCancelled', { withdrawalId, reason, cancelledAt: iso(cancelledAt) });

export const unauthorizedDetected = (
  fields: { withdrawalId?: string; incidentId?: string; asset?: AssetCode; amount: Amount; outcome: AE.UnauthorizedOutcome },
  detectedAt = '2022-01-17T12:00Z',
): AE.UnauthorizedWithdrawalDetected =>
  event('UnauthorizedWithdrawalDetected', {
    withdrawalId: 'w-1',
    incidentId: 'inc-1',
    asset: 'ETH' as AssetCode,
    ...fields,
    detectedAt: iso(detectedAt),
  });

export const reimbursed = (
  fields: { reimbursementId?: string; incidentId?: string; asset?: AssetCode; amount: Amount },
  reimbursedAt = '2022-01-18T00:00Z',
): AE.Reimbursed =>
  event('Reimbursed', { reimbursementId: 'r-1', incidentId: 'inc-1', asset: 'ETH' as AssetCode, ...fields, reimbursedAt: iso(reimbursedAt) });

export const mfaEnabled = (transactionTypes: AE.TransactionType[], enabledAt = EARLY): AE.MfaEnabled =>
  event('MfaEnabled', { transactionTypes, enabledAt: iso(enabledAt) });

export const protectionEnrolled = (enrolledAt = EARLY): AE.ProtectionProgrammeEnrolled =>
  event('ProtectionProgrammeEnrolled', { enrolledAt: iso(enrolledAt) });

export const mfaDisabled = (transactionTypes: AE.TransactionType[], disabledAt: string): AE.MfaDisabled =>
  event('MfaDisabled', { transactionTypes, disabledAt: iso(disabledAt) });

export const antiPhishingCodeSet = (setAt = EARLY): AE.AntiPhishingCodeSet => event('AntiPhishingCodeSet', { setAt: iso(setAt) });

/** What a customer declares with a protection claim; by default everything the programme asks for. */
export interface ClaimFields {
  claimId?: string;
  withdrawalId?: string;
  policeReportReference?: string | null;
  policeReportCopyProvided?: boolean;
  questionnaireCompleted?: boolean;
  deviceJailbroken?: boolean;
}

const claimDefaults = (fields: ClaimFields) => ({
  claimId: 'claim-1',
  withdrawalId: 'w-1',
  policeReportReference: 'PR-2022-0001',
  policeReportCopyProvided: true,
  questionnaireCompleted: true,
  deviceJailbroken: false,
  ...fields,
});

export const claimFiled = (fields: ClaimFields = {}, filedAt = '2022-03-20T12:00Z'): AE.ProtectionClaimFiled =>
  event('ProtectionClaimFiled', { ...claimDefaults(fields), filedAt: iso(filedAt) });

/** An approval; by default of an ETH loss in incident inc-2 (the protection specs' phishing incident). */
export const claimApproved = (
  fields: {
    claimId?: string;
    withdrawalId?: string;
    incidentId?: string;
    asset?: AssetCode;
    claimedUsd: Amount;
    payoutUsd: Amount;
    capped?: boolean;
    compensatedAmount: Amount;
  },
  decidedAt = '2022-03-20T12:00Z',
): AE.ProtectionClaimApproved =>
  event('ProtectionClaimApproved', {
    claimId: 'claim-1',
    withdrawalId: 'w-1',
    incidentId: 'inc-2',
    asset: 'ETH' as AssetCode,
    capped: false,
    ...fields,
    decidedAt: iso(decidedAt),
  });

export const claimDenied = (
  reasons: AE.ProtectionDenialReason[],
  fields: { claimId?: string; withdrawalId?: string } = {},
  decidedAt = '2022-03-20T12:00Z',
): AE.ProtectionClaimDenied => event('ProtectionClaimDenied', { claimId: 'claim-1', withdrawalId: 'w-1', ...fields, reasons, decidedAt: iso(decidedAt) });

// ---- account commands -----------------------------------------------------------------------------------------

export const openAccount = (accountId = ACCOUNT_ID): A.OpenAccount => ({ type: 'OpenAccount', data: { accountId } });
export const deposit = (asset: AssetCode, amount: Amount, depositId = 'dep-new'): A.DepositFunds => ({
  type: 'DepositFunds',
  data: { depositId, asset, amount },
});
export const enrolTwoFactor = (tokenId: string, method: AE.TwoFactorMethod = 'totp'): A.EnrolTwoFactor => ({
  type: 'EnrolTwoFactor',
  data: { tokenId, method },
});
export const revokeToken = (tokenId: string, reason = 'lost phone'): A.RevokeTwoFactorToken => ({
  type: 'RevokeTwoFactorToken',
  data: { tokenId, reason },
});
export const applyPlatformRevocation = (revocationId: string, revokedAt: string, reason = 'platform-wide revocation'): A.ApplyPlatformTwoFactorRevocation => ({
  type: 'ApplyPlatformTwoFactorRevocation',
  data: { revocationId, revokedAt: iso(revokedAt), reason },
});
export const setAntiPhishingCode = (): A.SetAntiPhishingCode => ({ type: 'SetAntiPhishingCode', data: {} });
export const setMfa = (enabled: boolean, transactionTypes: AE.TransactionType[]): A.SetMfa => ({
  type: 'SetMfa',
  data: { enabled, transactionTypes },
});
export const whitelistAddress = (asset: AssetCode, address: string): A.WhitelistAddress => ({ type: 'WhitelistAddress', data: { asset, address } });
export const removeAddress = (asset: AssetCode, address: string): A.RemoveAddress => ({ type: 'RemoveAddress', data: { asset, address } });
export const requestWithdrawal = (fields: WithdrawalFields): A.RequestWithdrawal => ({
  type: 'RequestWithdrawal',
  data: withdrawalDefaults(fields),
});
export const approveWithdrawal = (withdrawalId = 'w-1'): A.ApproveWithdrawal => ({ type: 'ApproveWithdrawal', data: { withdrawalId } });
export const settleWithdrawal = (withdrawalId = 'w-1', txHash = `tx-${withdrawalId}`): A.SettleWithdrawal => ({
  type: 'SettleWithdrawal',
  data: { withdrawalId, txHash },
});
export const rejectWithdrawal = (withdrawalId = 'w-1', reason = 'compliance'): A.RejectWithdrawal => ({
  type: 'RejectWithdrawal',
  data: { withdrawalId, reason },
});
export const cancelWithdrawal = (withdrawalId = 'w-1', reason = 'customer cancelled'): A.CancelWithdrawal => ({
  type: 'CancelWithdrawal',
  data: { withdrawalId, reason },
});
export const reportUnauthorized = (withdrawalId = 'w-1', incidentId = 'inc-1'): A.ReportUnauthorizedWithdrawal => ({
  type: 'ReportUnauthorizedWithdrawal',
  data: { withdrawalId, incidentId },
});
export const reimburse = (fields: { reimbursementId?: string; incidentId?: string; asset?: AssetCode; amount: Amount }): A.Reimburse => ({
  type: 'Reimburse',
  data: { reimbursementId: 'r-new', incidentId: 'inc-1', asset: 'ETH', ...fields },
});
export const enrolInProtection = (): A.EnrolInProtectionProgramme => ({ type: 'EnrolInProtectionProgramme', data: {} });
export const fileClaim = (fields: ClaimFields = {}): A.FileProtectionClaim => ({ type: 'FileProtectionClaim', data: claimDefaults(fields) });

// ---- platform, incident and price events and commands ---------------------------------------------------------

export const withdrawalsHalted = (haltedAt: string, incidentId: string | null = 'inc-1', reason = 'suspicious withdrawals'): PlatformEvent =>
  event('WithdrawalsHalted', { incidentId, reason, haltedAt: iso(haltedAt) });
export const withdrawalsResumed = (resumedAt: string, haltedAt: string, haltedForSeconds: number): PlatformEvent =>
  event('WithdrawalsResumed', { incidentId: 'inc-1', reason: 'fixed', resumedAt: iso(resumedAt), haltedAt: iso(haltedAt), haltedForSeconds });
export const allTokensRevoked = (revocationId: string, revokedAt: string, incidentId = 'inc-1'): PlatformEvent =>
  event('AllTwoFactorTokensRevoked', { revocationId, incidentId, reason: 'platform-wide revocation', revokedAt: iso(revokedAt) });
export const revocationCompleted = (revocationId: string, completedAt: string): PlatformEvent =>
  event('AllTwoFactorTokensRevocationCompleted', { revocationId, completedAt: iso(completedAt) });
export const policyChanged = (newAddressHoldHours: number, previousNewAddressHoldHours: number, changedAt: string): PlatformEvent =>
  event('WithdrawalPolicyChanged', { newAddressHoldHours, previousNewAddressHoldHours, changedAt: iso(changedAt) });

export const haltWithdrawals = (incidentId: string | null = 'inc-1', reason = 'suspicious withdrawals'): PlatformCommand => ({
  type: 'HaltWithdrawals',
  data: { incidentId, reason },
});
export const resumeWithdrawals = (incidentId: string | null = 'inc-1', reason = 'fixed'): PlatformCommand => ({
  type: 'ResumeWithdrawals',
  data: { incidentId, reason },
});
export const revokeAllTokens = (revocationId: string, incidentId = 'inc-1', reason = 'platform-wide revocation'): PlatformCommand => ({
  type: 'RevokeAllTwoFactorTokens',
  data: { revocationId, incidentId, reason },
});
export const completeRevocation = (revocationId: string): PlatformCommand => ({ type: 'CompleteTwoFactorRevocation', data: { revocationId } });
export const changeWithdrawalPolicy = (newAddressHoldHours: number): PlatformCommand => ({
  type: 'ChangeWithdrawalPolicy',
  data: { newAddressHoldHours },
});

export const incidentOpened = (incidentId: string, openedAt: string, title = '2FA bypass'): IncidentEvent =>
  event('IncidentOpened', { incidentId, title, openedAt: iso(openedAt) });
export const incidentClosed = (incidentId: string, closedAt: string, summary = 'all customers reimbursed'): IncidentEvent =>
  event('IncidentClosed', { incidentId, summary, closedAt: iso(closedAt) });
export const openIncident = (incidentId: string, title = '2FA bypass'): IncidentCommand => ({ type: 'OpenIncident', data: { incidentId, title } });
export const closeIncident = (incidentId: string, summary = 'all customers reimbursed'): IncidentCommand => ({
  type: 'CloseIncident',
  data: { incidentId, summary },
});

export const priceRecorded = (asset: AssetCode, usd: string, recordedAt: string): PriceEvent =>
  event('AssetPriceRecorded', { asset, usd, recordedAt: iso(recordedAt) });
export const recordPrice = (asset: AssetCode, usd: string): RecordPrice => ({ type: 'RecordPrice', data: { asset, usd } });
