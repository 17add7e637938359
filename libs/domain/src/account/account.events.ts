import type { Amount } from '../money/amount';
import type { AssetCode } from '../money/assets';
import { membersOf } from '../shared/assert';
import type { Event } from '../shared/event';
import type { SecondFactorRecord } from './second-factor';

export type TwoFactorMethod = 'totp' | 'sms' | 'webauthn';
export const TWO_FACTOR_METHODS = membersOf<TwoFactorMethod>({ totp: true, sms: true, webauthn: true });

/** Transaction types that multi-factor authentication can cover (protection programme, rule 8). */
export type TransactionType = 'withdrawal' | 'whitelist' | 'transfer' | 'trade';
export const TRANSACTION_TYPES = membersOf<TransactionType>({ withdrawal: true, whitelist: true, transfer: true, trade: true });

/** A settled unauthorized withdrawal is a loss; a pending one is stopped (prevented). */
export type UnauthorizedOutcome = 'prevented' | 'loss';

export type AccountOpened = Event<'AccountOpened', { accountId: string; openedAt: string }>;
export type FundsDeposited = Event<'FundsDeposited', { depositId: string; asset: AssetCode; amount: Amount }>;
export type TwoFactorEnrolled = Event<'TwoFactorEnrolled', { tokenId: string; method: TwoFactorMethod; enrolledAt: string }>;
export type TwoFactorTokenRevoked = Event<
  'TwoFactorTokenRevoked',
  {
    tokenId: string;
    reason: string;
    revokedAt: string;
    /** Set when the revocation was caused by a platform-wide revocation (AllTwoFactorTokensRevoked). */
    platformRevocationId?: string;
  }
>;
export type AntiPhishingCodeSet = Event<'AntiPhishingCodeSet', { setAt: string }>;
export type MfaEnabled = Event<'MfaEnabled', { transactionTypes: TransactionType[]; enabledAt: string }>;
export type MfaDisabled = Event<'MfaDisabled', { transactionTypes: TransactionType[]; disabledAt: string }>;
export type AddressWhitelisted = Event<
  'AddressWhitelisted',
  {
    asset: AssetCode;
    address: string;
    whitelistedAt: string;
    holdHours: number;
    withdrawableFrom: string;
    /** What the ledger keeps of the second-factor proof (kid, amr, jti, its SHA-256); absent when none was sent. */
    secondFactor?: SecondFactorRecord;
  }
>;
export type AddressRemoved = Event<'AddressRemoved', { asset: AssetCode; address: string; removedAt: string }>;
export type WithdrawalRequested = Event<
  'WithdrawalRequested',
  {
    withdrawalId: string;
    asset: AssetCode;
    amount: Amount;
    address: string;
    twoFactorTokenId: string;
    requestedAt: string;
    /** What the ledger keeps of the second-factor proof (kid, amr, jti, its SHA-256); absent when none was sent. */
    secondFactor?: SecondFactorRecord;
  }
>;
export type WithdrawalApproved = Event<'WithdrawalApproved', { withdrawalId: string; approvedAt: string }>;
export type WithdrawalSettled = Event<'WithdrawalSettled', { withdrawalId: string; txHash: string; settledAt: string }>;
export type WithdrawalRejected = Event<'WithdrawalRejected', { withdrawalId: string; reason: string; rejectedAt: string }>;
export type WithdrawalCancelled = Event<'WithdrawalCancelled', { withdrawalId: string; reason: string; cancelledAt: string }>;
export type UnauthorizedWithdrawalDetected = Event<
  'UnauthorizedWithdrawalDetected',
  {
    withdrawalId: string;
    incidentId: string;
    asset: AssetCode;
    amount: Amount;
    outcome: UnauthorizedOutcome;
    detectedAt: string;
  }
>;
export type Reimbursed = Event<
  'Reimbursed',
  { reimbursementId: string; incidentId: string; asset: AssetCode; amount: Amount; reimbursedAt: string }
>;
export type ProtectionProgrammeEnrolled = Event<'ProtectionProgrammeEnrolled', { enrolledAt: string }>;
export type ProtectionClaimFiled = Event<
  'ProtectionClaimFiled',
  {
    claimId: string;
    withdrawalId: string;
    policeReportReference: string | null;
    policeReportCopyProvided: boolean;
    questionnaireCompleted: boolean;
    deviceJailbroken: boolean;
    filedAt: string;
  }
>;
export type ProtectionClaimApproved = Event<
  'ProtectionClaimApproved',
  {
    claimId: string;
    withdrawalId: string;
    /** The incident the withdrawal's loss belongs to, and its asset: the payout compensates part of that loss. */
    incidentId: string;
    asset: AssetCode;
    /** The value of what was still outstanding of the withdrawal when the claim was decided. */
    claimedUsd: Amount;
    payoutUsd: Amount;
    capped: boolean;
    /**
     * How much of the loss, in the asset, the payout compensates: what was outstanding, or its share paid when the
     * payout is capped (rounded up, so that payouts and reimbursements together never exceed the loss).
     */
    compensatedAmount: Amount;
    decidedAt: string;
  }
>;
export type ProtectionClaimDenied = Event<
  'ProtectionClaimDenied',
  { claimId: string; withdrawalId: string; reasons: ProtectionDenialReason[]; decidedAt: string }
>;

export type ProtectionDenialReason =
  | 'MFA_NOT_ON_ALL_TRANSACTIONS'
  | 'ANTI_PHISHING_CODE_TOO_RECENT'
  | 'NO_POLICE_REPORT'
  | 'NO_POLICE_REPORT_COPY'
  | 'QUESTIONNAIRE_INCOMPLETE'
  | 'DEVICE_JAILBROKEN'
  | 'TRANSACTION_BEFORE_PROGRAMME'
  /** Nothing of the withdrawal's loss is outstanding: reimbursements or an earlier payout compensated it. */
  | 'LOSS_ALREADY_COMPENSATED';

export type AccountEvent =
  | AccountOpened
  | FundsDeposited
  | TwoFactorEnrolled
  | TwoFactorTokenRevoked
  | AntiPhishingCodeSet
  | MfaEnabled
  | MfaDisabled
  | AddressWhitelisted
  | AddressRemoved
  | WithdrawalRequested
  | WithdrawalApproved
  | WithdrawalSettled
  | WithdrawalRejected
  | WithdrawalCancelled
  | UnauthorizedWithdrawalDetected
  | Reimbursed
  | ProtectionProgrammeEnrolled
  | ProtectionClaimFiled
  | ProtectionClaimApproved
  | ProtectionClaimDenied;

export type AccountEventType = AccountEvent['type'];
