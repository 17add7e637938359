import { DateTime } from 'luxon';
import { membersOf } from '../shared/assert';
import type { ProtectionDenialReason } from './account.events';
import type { AccountState, Withdrawal } from './account.state';

/**
 * The account protection programme (rule 8; INCIDENT.md, "WAPP"). It started on 2022-02-01: unauthorized
 * withdrawals requested before then are not covered.
 */
export const PROTECTION_PROGRAMME_START = DateTime.fromISO('2022-02-01T00:00:00.000Z', { zone: 'utc' });

/** The anti-phishing code must have been set at least this many days before the unauthorized withdrawal. */
export const ANTI_PHISHING_CODE_MIN_AGE_DAYS = 21;

/**
 * The most the programme pays one account, in US cents (US$250,000). INCIDENT.md leaves open whether the cap is per
 * account or per incident ("not verified"); per account, over every approved claim, is the conservative reading (it
 * never pays more than the per-incident reading would), so that is what the ledger enforces.
 */
export const PROTECTION_PAYOUT_CAP_USD_CENTS = 25_000_000n;

/** The order in which a denial lists its reasons: the order of the conditions in the programme's terms. */
export const PROTECTION_DENIAL_REASONS = membersOf<ProtectionDenialReason>({
  TRANSACTION_BEFORE_PROGRAMME: true,
  MFA_NOT_ON_ALL_TRANSACTIONS: true,
  ANTI_PHISHING_CODE_TOO_RECENT: true,
  NO_POLICE_REPORT: true,
  NO_POLICE_REPORT_COPY: true,
  QUESTIONNAIRE_INCOMPLETE: true,
  DEVICE_JAILBROKEN: true,
  LOSS_ALREADY_COMPENSATED: true,
});

/** What the customer declared when filing a claim. */
export interface ProtectionClaimDeclaration {
  readonly policeReportReference: string | null;
  readonly policeReportCopyProvided: boolean;
  readonly questionnaireCompleted: boolean;
  readonly deviceJailbroken: boolean;
}

/**
 * Every condition of the programme the claim fails, in PROTECTION_DENIAL_REASONS order; empty when eligible.
 * `outstandingMinor` is what is still uncompensated of the withdrawal's loss: the programme pays a loss at most once,
 * so a loss already reimbursed (or paid by an earlier claim) leaves nothing to claim.
 */
export function protectionDenialReasons(
  state: AccountState,
  withdrawal: Withdrawal,
  declaration: ProtectionClaimDeclaration,
  outstandingMinor: bigint,
): ProtectionDenialReason[] {
  const transactionAt = withdrawal.requestedAt;
  const codeSetAt = state.antiPhishingCodeFirstSetAt;
  const failed: Record<ProtectionDenialReason, boolean> = {
    TRANSACTION_BEFORE_PROGRAMME: transactionAt < PROTECTION_PROGRAMME_START,
    MFA_NOT_ON_ALL_TRANSACTIONS: !withdrawal.mfaOnAllTransactionTypes,
    // Never set counts as too recent: the customer never had the code's protection.
    ANTI_PHISHING_CODE_TOO_RECENT: codeSetAt === null || codeSetAt > transactionAt.minus({ days: ANTI_PHISHING_CODE_MIN_AGE_DAYS }),
    NO_POLICE_REPORT: declaration.policeReportReference === null || declaration.policeReportReference.trim() === '',
    NO_POLICE_REPORT_COPY: !declaration.policeReportCopyProvided,
    QUESTIONNAIRE_INCOMPLETE: !declaration.questionnaireCompleted,
    DEVICE_JAILBROKEN: declaration.deviceJailbroken,
    LOSS_ALREADY_COMPENSATED: outstandingMinor <= 0n,
  };
  return PROTECTION_DENIAL_REASONS.filter((reason) => failed[reason]);
}

/**
 * How much of a loss a payout compensates, in the asset: all of what was claimed, or its paid share when the payout
 * was capped. Rounded up, so that what is left to reimburse never makes the two together exceed the loss.
 */
export function compensatedByPayoutMinor(claimedMinor: bigint, claimedUsdCents: bigint, payoutUsdCents: bigint): bigint {
  if (claimedUsdCents <= 0n || payoutUsdCents >= claimedUsdCents) return claimedMinor;
  return (claimedMinor * payoutUsdCents + claimedUsdCents - 1n) / claimedUsdCents;
}

/** The payout of an eligible claim: its value, capped so that the account's approved payouts stay within the cap. */
export function protectionPayout(state: AccountState, claimedUsdCents: bigint): { payoutUsdCents: bigint; capped: boolean } {
  const remaining = PROTECTION_PAYOUT_CAP_USD_CENTS - state.approvedPayoutUsdCents;
  const payoutUsdCents = claimedUsdCents < remaining ? claimedUsdCents : remaining > 0n ? remaining : 0n;
  return { payoutUsdCents, capped: payoutUsdCents < claimedUsdCents };
}
