import type { Amount } from '../money/amount';
import type { AssetCode } from '../money/assets';
import type { Command } from '../shared/event';
import type { TransactionType, TwoFactorMethod } from './account.events';
import type { VerifiedSecondFactor } from './second-factor';

export type OpenAccount = Command<'OpenAccount', { accountId: string }>;
export type DepositFunds = Command<'DepositFunds', { depositId: string; asset: AssetCode; amount: Amount }>;
export type EnrolTwoFactor = Command<'EnrolTwoFactor', { tokenId: string; method: TwoFactorMethod }>;
export type RevokeTwoFactorToken = Command<'RevokeTwoFactorToken', { tokenId: string; reason: string }>;
/**
 * Issued by the platform-wide revocation job, once per account: revokes every live token enrolled at or before the
 * revocation. Idempotent: an account with nothing left to revoke yields no event.
 */
export type ApplyPlatformTwoFactorRevocation = Command<
  'ApplyPlatformTwoFactorRevocation',
  { revocationId: string; revokedAt: string; reason: string }
>;
export type SetAntiPhishingCode = Command<'SetAntiPhishingCode', Record<string, never>>;
export type SetMfa = Command<'SetMfa', { enabled: boolean; transactionTypes: TransactionType[] }>;
/**
 * `secondFactor`: the proof that the customer entered their second factor for this transaction, its signature already
 * verified by the handler; absent or null when none was sent (refused while the policy requires one).
 */
export type WhitelistAddress = Command<'WhitelistAddress', { asset: AssetCode; address: string; secondFactor?: VerifiedSecondFactor | null }>;
export type RemoveAddress = Command<'RemoveAddress', { asset: AssetCode; address: string }>;
export type RequestWithdrawal = Command<
  'RequestWithdrawal',
  {
    withdrawalId: string;
    asset: AssetCode;
    amount: Amount;
    address: string;
    twoFactorTokenId: string;
    secondFactor?: VerifiedSecondFactor | null;
  }
>;
export type ApproveWithdrawal = Command<'ApproveWithdrawal', { withdrawalId: string }>;
export type SettleWithdrawal = Command<'SettleWithdrawal', { withdrawalId: string; txHash: string }>;
export type RejectWithdrawal = Command<'RejectWithdrawal', { withdrawalId: string; reason: string }>;
export type CancelWithdrawal = Command<'CancelWithdrawal', { withdrawalId: string; reason: string }>;
export type ReportUnauthorizedWithdrawal = Command<'ReportUnauthorizedWithdrawal', { withdrawalId: string; incidentId: string }>;
export type Reimburse = Command<'Reimburse', { reimbursementId: string; incidentId: string; asset: AssetCode; amount: Amount }>;
export type EnrolInProtectionProgramme = Command<'EnrolInProtectionProgramme', Record<string, never>>;
/**
 * Rule 8: a claim under the account protection programme for one unauthorized withdrawal that became a loss. It is
 * decided when it is filed (ProtectionClaimFiled, then ProtectionClaimApproved or ProtectionClaimDenied).
 */
export type FileProtectionClaim = Command<
  'FileProtectionClaim',
  {
    claimId: string;
    withdrawalId: string;
    /** The police report's reference number; null (or blank) when none was given. */
    policeReportReference: string | null;
    policeReportCopyProvided: boolean;
    questionnaireCompleted: boolean;
    deviceJailbroken: boolean;
  }
>;

export type AccountCommand =
  | OpenAccount
  | DepositFunds
  | EnrolTwoFactor
  | RevokeTwoFactorToken
  | ApplyPlatformTwoFactorRevocation
  | SetAntiPhishingCode
  | SetMfa
  | WhitelistAddress
  | RemoveAddress
  | RequestWithdrawal
  | ApproveWithdrawal
  | SettleWithdrawal
  | RejectWithdrawal
  | CancelWithdrawal
  | ReportUnauthorizedWithdrawal
  | Reimburse
  | EnrolInProtectionProgramme
  | FileProtectionClaim;

export type AccountCommandType = AccountCommand['type'];
