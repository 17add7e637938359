import type { DateTime } from 'luxon';
import { toMinor } from '../money/amount';
import type { AssetCode } from '../money/assets';
import { assertNever, invariant } from '../shared/assert';
import { withEntry, withMember, withoutEntry } from '../shared/persistent';
import { fromIso } from '../shared/time';
import type { SecondFactorRecord } from './second-factor';
import { TRANSACTION_TYPES, type AccountEvent, type TransactionType, type TwoFactorMethod, type UnauthorizedOutcome } from './account.events';

export interface AssetBalance {
  readonly depositedMinor: bigint;
  readonly reimbursedMinor: bigint;
  /** Requested or approved withdrawals not yet settled, rejected or cancelled. */
  readonly heldMinor: bigint;
  readonly withdrawnMinor: bigint;
}

export const ZERO_BALANCE: AssetBalance = { depositedMinor: 0n, reimbursedMinor: 0n, heldMinor: 0n, withdrawnMinor: 0n };

/** Rule 1: available = deposited + reimbursed - held - withdrawn, never negative. */
export function availableMinor(balance: AssetBalance): bigint {
  return balance.depositedMinor + balance.reimbursedMinor - balance.heldMinor - balance.withdrawnMinor;
}

export interface TwoFactorToken {
  readonly tokenId: string;
  readonly method: TwoFactorMethod;
  readonly enrolledAt: DateTime;
  readonly revoked: boolean;
}

export interface WhitelistedAddress {
  readonly asset: AssetCode;
  readonly address: string;
  readonly withdrawableFrom: DateTime;
}

export type WithdrawalStatus = 'requested' | 'approved' | 'settled' | 'rejected' | 'cancelled';

export interface Withdrawal {
  readonly withdrawalId: string;
  readonly asset: AssetCode;
  readonly amountMinor: bigint;
  readonly address: string;
  readonly twoFactorTokenId: string;
  readonly requestedAt: DateTime;
  readonly status: WithdrawalStatus;
  readonly unauthorized: { readonly incidentId: string; readonly outcome: UnauthorizedOutcome } | null;
  /** Whether MFA covered every transaction type when the withdrawal was requested (rule 8 looks back to then). */
  readonly mfaOnAllTransactionTypes: boolean;
}

/**
 * What one incident cost one account in one asset, and how much of it has been compensated: by reimbursements, and
 * by approved protection payouts (in the asset: the share of the loss a payout covers). A loss is compensated at
 * most once in total: reimbursed + paid out never exceeds lost.
 */
export interface IncidentLoss {
  readonly lostMinor: bigint;
  readonly reimbursedMinor: bigint;
  readonly paidOutMinor: bigint;
}

const NO_LOSS: IncidentLoss = { lostMinor: 0n, reimbursedMinor: 0n, paidOutMinor: 0n };

/** What of a loss is still to be compensated. */
export function outstandingMinor(loss: IncidentLoss): bigint {
  return loss.lostMinor - loss.reimbursedMinor - loss.paidOutMinor;
}

export type ProtectionClaimStatus = 'filed' | 'approved' | 'denied';

/** A protection claim as the account knows it (rule 8): enough to refuse a reused id and to apply the cap. */
export interface ProtectionClaim {
  readonly claimId: string;
  readonly withdrawalId: string;
  readonly status: ProtectionClaimStatus;
  /** What the programme pays (approved claims only; 0 otherwise). */
  readonly payoutUsdCents: bigint;
}

export interface AccountState {
  readonly accountId: string | null;
  readonly balances: ReadonlyMap<AssetCode, AssetBalance>;
  readonly depositIds: ReadonlySet<string>;
  readonly tokens: ReadonlyMap<string, TwoFactorToken>;
  /** Keyed by addressKey(asset, address). Removed addresses are deleted. */
  readonly addresses: ReadonlyMap<string, WhitelistedAddress>;
  readonly withdrawals: ReadonlyMap<string, Withdrawal>;
  /** Keyed by incident id, then asset. */
  readonly losses: ReadonlyMap<string, ReadonlyMap<AssetCode, IncidentLoss>>;
  readonly reimbursementIds: ReadonlySet<string>;
  /** When the anti-phishing code was last set or changed. */
  readonly antiPhishingCodeSetAt: DateTime | null;
  /** When it was first set: the protection programme's 21 days count from here (rule 8). */
  readonly antiPhishingCodeFirstSetAt: DateTime | null;
  readonly mfaTransactionTypes: ReadonlySet<TransactionType>;
  /** Since when MFA has covered every transaction type without a gap; null while it does not. */
  readonly mfaOnAllTransactionTypesSince: DateTime | null;
  readonly protectionEnrolledAt: DateTime | null;
  /** Keyed by claim id. */
  readonly protectionClaims: ReadonlyMap<string, ProtectionClaim>;
  /** Withdrawal id to the claim filed for it: a withdrawal is claimed at most once. */
  readonly claimedWithdrawals: ReadonlyMap<string, string>;
  /** The sum of every approved payout of this account, for the programme's cap. */
  readonly approvedPayoutUsdCents: bigint;
  /** The `jti` of every second-factor proof this account has used: each is good for one transaction only. */
  readonly usedProofIds: ReadonlySet<string>;
}

export function initialAccountState(): AccountState {
  return {
    accountId: null,
    balances: new Map(),
    depositIds: new Set(),
    tokens: new Map(),
    addresses: new Map(),
    withdrawals: new Map(),
    losses: new Map(),
    reimbursementIds: new Set(),
    antiPhishingCodeSetAt: null,
    antiPhishingCodeFirstSetAt: null,
    mfaTransactionTypes: new Set(),
    mfaOnAllTransactionTypesSince: null,
    protectionEnrolledAt: null,
    protectionClaims: new Map(),
    claimedWithdrawals: new Map(),
    approvedPayoutUsdCents: 0n,
    usedProofIds: new Set(),
  };
}

export function addressKey(asset: AssetCode, address: string): string {
  return `${asset}:${address}`;
}

export function balanceOf(state: AccountState, asset: AssetCode): AssetBalance {
  return state.balances.get(asset) ?? ZERO_BALANCE;
}

export function lossOf(state: AccountState, incidentId: string, asset: AssetCode): IncidentLoss {
  return state.losses.get(incidentId)?.get(asset) ?? NO_LOSS;
}

// Copy-on-write (shared/persistent.ts): evolve never mutates the state it is given.

function changeBalance(state: AccountState, asset: AssetCode, change: Partial<AssetBalance>): AccountState {
  const current = balanceOf(state, asset);
  const next: AssetBalance = {
    depositedMinor: current.depositedMinor + (change.depositedMinor ?? 0n),
    reimbursedMinor: current.reimbursedMinor + (change.reimbursedMinor ?? 0n),
    heldMinor: current.heldMinor + (change.heldMinor ?? 0n),
    withdrawnMinor: current.withdrawnMinor + (change.withdrawnMinor ?? 0n),
  };
  invariant(next.heldMinor >= 0n, `held ${asset} of account ${state.accountId} would be negative`);
  invariant(availableMinor(next) >= 0n, `available ${asset} of account ${state.accountId} would be negative`);
  return { ...state, balances: withEntry(state.balances, asset, next) };
}

function withdrawalOf(state: AccountState, withdrawalId: string): Withdrawal {
  const withdrawal = state.withdrawals.get(withdrawalId);
  invariant(withdrawal, `event names unknown withdrawal ${withdrawalId} of account ${state.accountId}`);
  return withdrawal;
}

/** Ends a pending withdrawal: its hold is released, or (settled) the funds leave. */
function finishWithdrawal(state: AccountState, withdrawalId: string, status: 'settled' | 'rejected' | 'cancelled'): AccountState {
  const withdrawal = withdrawalOf(state, withdrawalId);
  invariant(
    withdrawal.status === 'requested' || withdrawal.status === 'approved',
    `withdrawal ${withdrawalId} moves from ${withdrawal.status} to ${status}`,
  );
  const moved = changeBalance(state, withdrawal.asset, {
    heldMinor: -withdrawal.amountMinor,
    withdrawnMinor: status === 'settled' ? withdrawal.amountMinor : 0n,
  });
  return { ...moved, withdrawals: withEntry(state.withdrawals, withdrawalId, { ...withdrawal, status }) };
}

function changeLoss(state: AccountState, incidentId: string, asset: AssetCode, change: Partial<IncidentLoss>): AccountState {
  const current = lossOf(state, incidentId, asset);
  const next: IncidentLoss = {
    lostMinor: current.lostMinor + (change.lostMinor ?? 0n),
    reimbursedMinor: current.reimbursedMinor + (change.reimbursedMinor ?? 0n),
    paidOutMinor: current.paidOutMinor + (change.paidOutMinor ?? 0n),
  };
  invariant(outstandingMinor(next) >= 0n, `${asset} compensated beyond the loss of account ${state.accountId} in incident ${incidentId}`);
  const perAsset = withEntry(state.losses.get(incidentId) ?? new Map<AssetCode, IncidentLoss>(), asset, next);
  return { ...state, losses: withEntry(state.losses, incidentId, perAsset) };
}

function coversAllTransactionTypes(types: ReadonlySet<TransactionType>): boolean {
  return TRANSACTION_TYPES.every((type) => types.has(type));
}

/** MFA settings change: the set of covered types, and since when (if at all) it covers every type. */
function changeMfa(state: AccountState, types: readonly TransactionType[], enabled: boolean, at: string): AccountState {
  const mfaTransactionTypes = setTransactionTypes(state.mfaTransactionTypes, types, enabled);
  const coversAll = coversAllTransactionTypes(mfaTransactionTypes);
  const since = coversAll ? (state.mfaOnAllTransactionTypesSince ?? fromIso(at)) : null;
  return { ...state, mfaTransactionTypes, mfaOnAllTransactionTypesSince: since };
}

function claimOf(state: AccountState, claimId: string): ProtectionClaim {
  const claim = state.protectionClaims.get(claimId);
  invariant(claim, `decision on unknown protection claim ${claimId} of account ${state.accountId}`);
  invariant(claim.status === 'filed', `protection claim ${claimId} decided twice`);
  return claim;
}

function setTransactionTypes(current: ReadonlySet<TransactionType>, types: readonly TransactionType[], enabled: boolean): Set<TransactionType> {
  const next = new Set(current);
  for (const type of types) {
    if (enabled) next.add(type);
    else next.delete(type);
  }
  return next;
}

function withProofUsed(state: AccountState, proof: SecondFactorRecord | undefined): AccountState {
  if (proof === undefined) return state;
  invariant(!state.usedProofIds.has(proof.jti), `second-factor proof ${proof.jti} used twice on account ${state.accountId}`);
  return { ...state, usedProofIds: withMember(state.usedProofIds, proof.jti) };
}

export function evolveAccount(state: AccountState, event: AccountEvent): AccountState {
  switch (event.type) {
    case 'AccountOpened':
      return { ...state, accountId: event.data.accountId };
    case 'FundsDeposited': {
      const { asset, amount, depositId } = event.data;
      const funded = changeBalance(state, asset, { depositedMinor: toMinor(asset, amount) });
      return { ...funded, depositIds: withMember(state.depositIds, depositId) };
    }
    case 'TwoFactorEnrolled': {
      const { tokenId, method, enrolledAt } = event.data;
      const token: TwoFactorToken = { tokenId, method, enrolledAt: fromIso(enrolledAt), revoked: false };
      return { ...state, tokens: withEntry(state.tokens, tokenId, token) };
    }
    case 'TwoFactorTokenRevoked': {
      const token = state.tokens.get(event.data.tokenId);
      invariant(token, `revocation of unknown token ${event.data.tokenId}`);
      return { ...state, tokens: withEntry(state.tokens, token.tokenId, { ...token, revoked: true }) };
    }
    case 'AntiPhishingCodeSet': {
      const setAt = fromIso(event.data.setAt);
      return { ...state, antiPhishingCodeSetAt: setAt, antiPhishingCodeFirstSetAt: state.antiPhishingCodeFirstSetAt ?? setAt };
    }
    case 'MfaEnabled':
      return changeMfa(state, event.data.transactionTypes, true, event.data.enabledAt);
    case 'MfaDisabled':
      return changeMfa(state, event.data.transactionTypes, false, event.data.disabledAt);
    case 'AddressWhitelisted': {
      const { asset, address, withdrawableFrom, secondFactor } = event.data;
      const entry: WhitelistedAddress = { asset, address, withdrawableFrom: fromIso(withdrawableFrom) };
      return { ...withProofUsed(state, secondFactor), addresses: withEntry(state.addresses, addressKey(asset, address), entry) };
    }
    case 'AddressRemoved': {
      const addresses = withoutEntry(state.addresses, addressKey(event.data.asset, event.data.address));
      return { ...state, addresses };
    }
    case 'WithdrawalRequested': {
      const { withdrawalId, asset, amount, address, twoFactorTokenId, requestedAt } = event.data;
      const amountMinor = toMinor(asset, amount);
      const withdrawal: Withdrawal = {
        withdrawalId,
        asset,
        amountMinor,
        address,
        twoFactorTokenId,
        requestedAt: fromIso(requestedAt),
        status: 'requested',
        unauthorized: null,
        mfaOnAllTransactionTypes: state.mfaOnAllTransactionTypesSince !== null,
      };
      const held = changeBalance(withProofUsed(state, event.data.secondFactor), asset, { heldMinor: amountMinor });
      return { ...held, withdrawals: withEntry(state.withdrawals, withdrawalId, withdrawal) };
    }
    case 'WithdrawalApproved': {
      const withdrawal = withdrawalOf(state, event.data.withdrawalId);
      invariant(withdrawal.status === 'requested', `withdrawal ${withdrawal.withdrawalId} approved from ${withdrawal.status}`);
      return { ...state, withdrawals: withEntry(state.withdrawals, withdrawal.withdrawalId, { ...withdrawal, status: 'approved' }) };
    }
    case 'WithdrawalSettled':
      return finishWithdrawal(state, event.data.withdrawalId, 'settled');
    case 'WithdrawalRejected':
      return finishWithdrawal(state, event.data.withdrawalId, 'rejected');
    case 'WithdrawalCancelled':
      return finishWithdrawal(state, event.data.withdrawalId, 'cancelled');
    case 'UnauthorizedWithdrawalDetected': {
      const { withdrawalId, incidentId, asset, amount, outcome } = event.data;
      const withdrawal = withdrawalOf(state, withdrawalId);
      const marked = {
        ...state,
        withdrawals: withEntry(state.withdrawals, withdrawalId, { ...withdrawal, unauthorized: { incidentId, outcome } }),
      };
      return outcome === 'loss' ? changeLoss(marked, incidentId, asset, { lostMinor: toMinor(asset, amount) }) : marked;
    }
    case 'Reimbursed': {
      const { reimbursementId, incidentId, asset, amount } = event.data;
      const amountMinor = toMinor(asset, amount);
      const repaid = changeLoss(state, incidentId, asset, { reimbursedMinor: amountMinor });
      const credited = changeBalance(repaid, asset, { reimbursedMinor: amountMinor });
      return { ...credited, reimbursementIds: withMember(state.reimbursementIds, reimbursementId) };
    }
    case 'ProtectionProgrammeEnrolled':
      return { ...state, protectionEnrolledAt: fromIso(event.data.enrolledAt) };
    // Protection claims (rule 8) never move balances: finance pays approved claims outside the ledger.
    case 'ProtectionClaimFiled': {
      const { claimId, withdrawalId } = event.data;
      invariant(!state.protectionClaims.has(claimId), `protection claim ${claimId} filed twice`);
      const claim: ProtectionClaim = { claimId, withdrawalId, status: 'filed', payoutUsdCents: 0n };
      return {
        ...state,
        protectionClaims: withEntry(state.protectionClaims, claimId, claim),
        claimedWithdrawals: withEntry(state.claimedWithdrawals, withdrawalId, claimId),
      };
    }
    case 'ProtectionClaimApproved': {
      const claim = claimOf(state, event.data.claimId);
      const { incidentId, asset, compensatedAmount } = event.data;
      const payoutUsdCents = toMinor('USD', event.data.payoutUsd);
      const approved: ProtectionClaim = { ...claim, status: 'approved', payoutUsdCents };
      const compensated = changeLoss(state, incidentId, asset, { paidOutMinor: toMinor(asset, compensatedAmount) });
      return {
        ...compensated,
        protectionClaims: withEntry(state.protectionClaims, claim.claimId, approved),
        approvedPayoutUsdCents: state.approvedPayoutUsdCents + payoutUsdCents,
      };
    }
    case 'ProtectionClaimDenied': {
      const claim = claimOf(state, event.data.claimId);
      return { ...state, protectionClaims: withEntry(state.protectionClaims, claim.claimId, { ...claim, status: 'denied' }) };
    }
    default:
      return assertNever(event);
  }
}
