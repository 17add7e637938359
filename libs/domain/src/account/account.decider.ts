import type { DateTime } from 'luxon';
import { formatAmount, toMinor } from '../money/amount';
import type { AssetCode } from '../money/assets';
import { valueUsdCents } from '../money/valuation';
import type { IncidentView } from '../incident/incident.decider';
import type { PlatformView } from '../platform/platform.decider';
import { assertNever, invariant } from '../shared/assert';
import { domainError } from '../shared/errors';
import { event } from '../shared/event';
import { fromIso, toIso } from '../shared/time';
import type * as C from './account.commands';
import type { AccountEvent, UnauthorizedOutcome } from './account.events';
import {
  addressKey,
  availableMinor,
  balanceOf,
  lossOf,
  outstandingMinor,
  type AccountState,
  type TwoFactorToken,
  type Withdrawal,
} from './account.state';
import { compensatedByPayoutMinor, PROTECTION_PROGRAMME_START, protectionDenialReasons, protectionPayout } from './protection';
import {
  assertBoundTo,
  assertFresh,
  recordOf,
  type BoundTransaction,
  type SecondFactorRecord,
  type VerifiedSecondFactor,
} from './second-factor';

export * from './protection';
export * from './second-factor';

export interface AccountDecisionContext {
  readonly now: DateTime;
  readonly platform: PlatformView;
  /** The incident the command names (unauthorized report, reimbursement), loaded by the handler. */
  readonly incident: IncidentView | null;
  /**
   * The latest recorded USD price of each asset, in 10^-8 USD (see prices/price.decider.ts), loaded by the handler
   * from the prices-{asset} streams for the commands that value money (FileProtectionClaim); empty for the others.
   */
  readonly prices: ReadonlyMap<AssetCode, bigint>;
}

type Decision = AccountEvent[];

function requireOpen(state: AccountState): string {
  if (state.accountId === null) throw domainError('ACCOUNT_NOT_FOUND');
  return state.accountId;
}

function requirePositive(asset: string, minor: bigint): void {
  if (minor <= 0n) throw domainError('AMOUNT_NOT_POSITIVE', asset);
}

/** Why a token cannot authorise a transaction under rule 2, or null when it can. */
function tokenProblem(state: AccountState, tokenId: string, platform: PlatformView): { code: 'TWO_FACTOR_TOKEN_NOT_FOUND' | 'TWO_FACTOR_REVOKED'; detail: string } | null {
  const token = state.tokens.get(tokenId);
  if (!token) return { code: 'TWO_FACTOR_TOKEN_NOT_FOUND', detail: tokenId };
  if (token.revoked) return { code: 'TWO_FACTOR_REVOKED', detail: tokenId };
  const revokedAt = platform.latestTwoFactorRevocationAt;
  if (revokedAt && token.enrolledAt <= revokedAt) {
    return { code: 'TWO_FACTOR_REVOKED', detail: `${tokenId} was enrolled before the platform-wide revocation of ${toIso(revokedAt)}` };
  }
  return null;
}

/** Rule 2: enrolled, not revoked, and enrolled after the latest platform-wide revocation. */
function requireValidToken(state: AccountState, tokenId: string, platform: PlatformView): TwoFactorToken {
  const problem = tokenProblem(state, tokenId, platform);
  if (problem) throw domainError(problem.code, problem.detail);
  return state.tokens.get(tokenId)!;
}

function invalidProof(reason: string): never {
  throw domainError('SECOND_FACTOR_INVALID', reason);
}

/**
 * Rule 2, per transaction: the proof that the customer entered their second factor. Required while the policy says
 * so; a proof sent anyway must hold all the same. It must name this transaction field by field, be fresh at the
 * command's time, be used once, come from a valid token whose method it lists, and (withdrawals at or above the MFA
 * threshold, valued at the recorded price; unvalued ones too) list two distinct methods. Returns what the event keeps.
 */
function requireSecondFactor(
  proof: VerifiedSecondFactor | null | undefined,
  transaction: BoundTransaction & { readonly tokenId?: string; readonly valueUsdCents?: bigint | null },
  state: AccountState,
  ctx: AccountDecisionContext,
): SecondFactorRecord | null {
  if (!proof) {
    if (ctx.platform.secondFactorRequired) throw domainError('SECOND_FACTOR_REQUIRED');
    return null;
  }
  const { claims } = proof;
  assertBoundTo(claims, transaction);
  if (transaction.tokenId !== undefined && claims.tid !== transaction.tokenId) {
    invalidProof(`field mismatch: tid (the proof says ${claims.tid}, the command ${transaction.tokenId})`);
  }
  assertFresh(claims, ctx.now);
  if (state.usedProofIds.has(claims.jti)) invalidProof(`reused jti ${claims.jti}: a proof authorises one transaction`);
  const problem = tokenProblem(state, claims.tid, ctx.platform);
  if (problem) invalidProof(`token not valid: ${problem.detail} (${problem.code})`);
  const method = state.tokens.get(claims.tid)!.method;
  if (!claims.amr.includes(method)) invalidProof(`the methods used (amr ${claims.amr.join(', ')}) do not include the token's ${method}`);
  const threshold = ctx.platform.mfaThresholdUsdCents;
  if (transaction.act === 'withdrawal' && threshold !== null && claims.amr.length < 2) {
    const value = transaction.valueUsdCents ?? null;
    if (value === null || value >= threshold) {
      const valued = value === null ? 'no recorded price to value it' : `worth ${formatAmount('USD', value)} USD`;
      invalidProof(`too few factor methods: ${valued}, at or above the MFA threshold of ${formatAmount('USD', threshold)} USD it needs two`);
    }
  }
  return recordOf(proof);
}

/** The USD value of a withdrawal at the latest recorded price, or null without one. */
function withdrawalValueUsdCents(asset: AssetCode, amountMinor: bigint, ctx: AccountDecisionContext): bigint | null {
  const priceE8 = ctx.prices.get(asset);
  return priceE8 === undefined ? null : valueUsdCents(asset, amountMinor, priceE8);
}

/**
 * Rule 4, wherever money moves towards an address (request, approval, settlement): the address is still
 * whitelisted for the asset, and past its hold. Removing an address stops the withdrawals already on their way to it.
 */
function requireWithdrawableAddress(state: AccountState, asset: AssetCode, address: string, now: DateTime): void {
  const whitelisted = state.addresses.get(addressKey(asset, address));
  if (!whitelisted) throw domainError('ADDRESS_NOT_WHITELISTED', `${asset} ${address}`);
  if (now < whitelisted.withdrawableFrom) {
    throw domainError('ADDRESS_ON_HOLD', `withdrawable from ${toIso(whitelisted.withdrawableFrom)}`);
  }
}

function requireWithdrawal(state: AccountState, withdrawalId: string): Withdrawal {
  const withdrawal = state.withdrawals.get(withdrawalId);
  if (!withdrawal) throw domainError('WITHDRAWAL_NOT_FOUND', withdrawalId);
  return withdrawal;
}

function isPending(withdrawal: Withdrawal): boolean {
  return withdrawal.status === 'requested' || withdrawal.status === 'approved';
}

function requirePending(withdrawal: Withdrawal): void {
  if (!isPending(withdrawal)) throw domainError('WITHDRAWAL_ALREADY_FINAL', `${withdrawal.withdrawalId} is ${withdrawal.status}`);
}

function requireOpenIncident(incidentId: string, ctx: AccountDecisionContext): IncidentView {
  if (!ctx.incident || ctx.incident.incidentId !== incidentId) throw domainError('INCIDENT_NOT_FOUND', incidentId);
  if (ctx.incident.status !== 'open') throw domainError('INCIDENT_NOT_OPEN', incidentId);
  return ctx.incident;
}

function openAccount(cmd: C.OpenAccount, state: AccountState, ctx: AccountDecisionContext): Decision {
  if (state.accountId !== null) throw domainError('ACCOUNT_ALREADY_OPEN', cmd.data.accountId);
  return [event('AccountOpened', { accountId: cmd.data.accountId, openedAt: toIso(ctx.now) })];
}

function depositFunds(cmd: C.DepositFunds, state: AccountState): Decision {
  requireOpen(state);
  requirePositive(cmd.data.asset, toMinor(cmd.data.asset, cmd.data.amount));
  if (state.depositIds.has(cmd.data.depositId)) throw domainError('DEPOSIT_ALREADY_RECORDED', cmd.data.depositId);
  const amount = formatAmount(cmd.data.asset, toMinor(cmd.data.asset, cmd.data.amount));
  return [event('FundsDeposited', { depositId: cmd.data.depositId, asset: cmd.data.asset, amount })];
}

function enrolTwoFactor(cmd: C.EnrolTwoFactor, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  if (state.tokens.has(cmd.data.tokenId)) throw domainError('TWO_FACTOR_TOKEN_ALREADY_ENROLLED', cmd.data.tokenId);
  return [event('TwoFactorEnrolled', { tokenId: cmd.data.tokenId, method: cmd.data.method, enrolledAt: toIso(ctx.now) })];
}

function revokeTwoFactorToken(cmd: C.RevokeTwoFactorToken, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  const token = state.tokens.get(cmd.data.tokenId);
  if (!token) throw domainError('TWO_FACTOR_TOKEN_NOT_FOUND', cmd.data.tokenId);
  if (token.revoked) throw domainError('TWO_FACTOR_TOKEN_ALREADY_REVOKED', cmd.data.tokenId);
  return [event('TwoFactorTokenRevoked', { tokenId: token.tokenId, reason: cmd.data.reason, revokedAt: toIso(ctx.now) })];
}

/**
 * Rule 2's trace on each account: one TwoFactorTokenRevoked for every live token that the platform-wide
 * revocation ended. Applying the same revocation again finds nothing live and yields nothing.
 */
function applyPlatformRevocation(cmd: C.ApplyPlatformTwoFactorRevocation, state: AccountState): Decision {
  if (state.accountId === null) return [];
  const revokedAt = fromIso(cmd.data.revokedAt);
  return [...state.tokens.values()]
    .filter((token) => !token.revoked && token.enrolledAt <= revokedAt)
    .map((token) =>
      event('TwoFactorTokenRevoked', {
        tokenId: token.tokenId,
        reason: cmd.data.reason,
        revokedAt: toIso(revokedAt),
        platformRevocationId: cmd.data.revocationId,
      }),
    );
}

function setAntiPhishingCode(state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  // Every change is recorded; the protection programme's 21 days count from the first (see protection.ts).
  return [event('AntiPhishingCodeSet', { setAt: toIso(ctx.now) })];
}

function setMfa(cmd: C.SetMfa, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  const changed = cmd.data.transactionTypes.filter((type) => state.mfaTransactionTypes.has(type) !== cmd.data.enabled);
  if (changed.length === 0) throw domainError('MFA_UNCHANGED');
  const at = toIso(ctx.now);
  return cmd.data.enabled
    ? [event('MfaEnabled', { transactionTypes: changed, enabledAt: at })]
    : [event('MfaDisabled', { transactionTypes: changed, disabledAt: at })];
}

/** Rule 4: withdrawableFrom is fixed now, from the hold policy in force now. A new address needs the second factor. */
function whitelistAddress(cmd: C.WhitelistAddress, state: AccountState, ctx: AccountDecisionContext): Decision {
  const accountId = requireOpen(state);
  const { asset, address } = cmd.data;
  if (state.addresses.has(addressKey(asset, address))) throw domainError('ADDRESS_ALREADY_WHITELISTED', `${asset} ${address}`);
  const secondFactor = requireSecondFactor(cmd.data.secondFactor, { accountId, act: 'whitelist', asset, address }, state, ctx);
  const holdHours = ctx.platform.newAddressHoldHours;
  const withdrawableFrom = toIso(ctx.now.plus({ hours: holdHours }));
  const data = { asset, address, whitelistedAt: toIso(ctx.now), holdHours, withdrawableFrom };
  return [event('AddressWhitelisted', secondFactor ? { ...data, secondFactor } : data)];
}

function removeAddress(cmd: C.RemoveAddress, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  const { asset, address } = cmd.data;
  if (!state.addresses.has(addressKey(asset, address))) throw domainError('ADDRESS_NOT_WHITELISTED', `${asset} ${address}`);
  return [event('AddressRemoved', { asset, address, removedAt: toIso(ctx.now) })];
}

/** Rules 1 to 4: funds, second factor, halt, whitelist and hold. */
function requestWithdrawal(cmd: C.RequestWithdrawal, state: AccountState, ctx: AccountDecisionContext): Decision {
  const accountId = requireOpen(state);
  const { withdrawalId, asset, address, twoFactorTokenId } = cmd.data;
  const amountMinor = toMinor(asset, cmd.data.amount);
  requirePositive(asset, amountMinor);
  const amount = formatAmount(asset, amountMinor);
  if (state.withdrawals.has(withdrawalId)) throw domainError('WITHDRAWAL_ALREADY_EXISTS', withdrawalId);
  if (ctx.platform.withdrawalsHalted) throw domainError('WITHDRAWALS_HALTED');
  requireValidToken(state, twoFactorTokenId, ctx.platform);
  const bound = { accountId, act: 'withdrawal' as const, withdrawalId, asset, amount, address, tokenId: twoFactorTokenId };
  const valueUsdCents = withdrawalValueUsdCents(asset, amountMinor, ctx);
  const secondFactor = requireSecondFactor(cmd.data.secondFactor, { ...bound, valueUsdCents }, state, ctx);
  requireWithdrawableAddress(state, asset, address, ctx.now);
  const available = availableMinor(balanceOf(state, asset));
  if (amountMinor > available) {
    throw domainError('INSUFFICIENT_FUNDS', `${formatAmount(asset, available)} ${asset} available`);
  }
  const data = { withdrawalId, asset, amount, address, twoFactorTokenId, requestedAt: toIso(ctx.now) };
  return [event('WithdrawalRequested', secondFactor ? { ...data, secondFactor } : data)];
}

function approveWithdrawal(cmd: C.ApproveWithdrawal, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  const withdrawal = requireWithdrawal(state, cmd.data.withdrawalId);
  if (withdrawal.status === 'approved') throw domainError('WITHDRAWAL_ALREADY_APPROVED', withdrawal.withdrawalId);
  requirePending(withdrawal);
  if (ctx.platform.withdrawalsHalted) throw domainError('WITHDRAWALS_HALTED');
  // The second factor that authorised the request, and the address, must still be valid when the exchange approves it.
  requireValidToken(state, withdrawal.twoFactorTokenId, ctx.platform);
  requireWithdrawableAddress(state, withdrawal.asset, withdrawal.address, ctx.now);
  return [event('WithdrawalApproved', { withdrawalId: withdrawal.withdrawalId, approvedAt: toIso(ctx.now) })];
}

/**
 * Rule 5: requested -> approved -> settled; never backwards, never twice. Settlement is when the funds leave, so it
 * checks again what approval checked: a token revoked since (singly, or by a platform-wide revocation during an
 * incident) or an address removed since stops the withdrawal; it can then only be rejected or cancelled.
 */
function settleWithdrawal(cmd: C.SettleWithdrawal, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  const withdrawal = requireWithdrawal(state, cmd.data.withdrawalId);
  requirePending(withdrawal);
  if (withdrawal.status !== 'approved') throw domainError('WITHDRAWAL_NOT_APPROVED', withdrawal.withdrawalId);
  if (ctx.platform.withdrawalsHalted) throw domainError('WITHDRAWALS_HALTED');
  requireValidToken(state, withdrawal.twoFactorTokenId, ctx.platform);
  requireWithdrawableAddress(state, withdrawal.asset, withdrawal.address, ctx.now);
  return [event('WithdrawalSettled', { withdrawalId: withdrawal.withdrawalId, txHash: cmd.data.txHash, settledAt: toIso(ctx.now) })];
}

function rejectWithdrawal(cmd: C.RejectWithdrawal, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  const withdrawal = requireWithdrawal(state, cmd.data.withdrawalId);
  requirePending(withdrawal);
  return [event('WithdrawalRejected', { withdrawalId: withdrawal.withdrawalId, reason: cmd.data.reason, rejectedAt: toIso(ctx.now) })];
}

function cancelWithdrawal(cmd: C.CancelWithdrawal, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  const withdrawal = requireWithdrawal(state, cmd.data.withdrawalId);
  requirePending(withdrawal);
  return [event('WithdrawalCancelled', { withdrawalId: withdrawal.withdrawalId, reason: cmd.data.reason, cancelledAt: toIso(ctx.now) })];
}

/** Rule 6: a pending unauthorized withdrawal is cancelled (prevented); a settled one becomes a loss. */
function reportUnauthorized(cmd: C.ReportUnauthorizedWithdrawal, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  const withdrawal = requireWithdrawal(state, cmd.data.withdrawalId);
  const incident = requireOpenIncident(cmd.data.incidentId, ctx);
  if (withdrawal.unauthorized) throw domainError('UNAUTHORIZED_ALREADY_REPORTED', withdrawal.withdrawalId);
  if (withdrawal.status === 'rejected' || withdrawal.status === 'cancelled') {
    throw domainError('WITHDRAWAL_ALREADY_FINAL', `${withdrawal.withdrawalId} is ${withdrawal.status}; no funds left`);
  }
  const at = toIso(ctx.now);
  const { withdrawalId, asset } = withdrawal;
  const amount = formatAmount(asset, withdrawal.amountMinor);
  const outcome: UnauthorizedOutcome = withdrawal.status === 'settled' ? 'loss' : 'prevented';
  const detected = event('UnauthorizedWithdrawalDetected', {
    withdrawalId,
    incidentId: incident.incidentId,
    asset,
    amount,
    outcome,
    detectedAt: at,
  });
  if (outcome === 'loss') return [detected];
  return [detected, event('WithdrawalCancelled', { withdrawalId, reason: `unauthorized (incident ${incident.incidentId})`, cancelledAt: at })];
}

/**
 * Rule 7: reimbursements for an incident never exceed the account's loss in that incident, per asset, less what
 * approved protection payouts already compensated of it: a loss is compensated at most once in total.
 */
function reimburse(cmd: C.Reimburse, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  const { reimbursementId, incidentId, asset } = cmd.data;
  const amountMinor = toMinor(asset, cmd.data.amount);
  requirePositive(asset, amountMinor);
  if (state.reimbursementIds.has(reimbursementId)) throw domainError('REIMBURSEMENT_ALREADY_RECORDED', reimbursementId);
  if (!ctx.incident || ctx.incident.incidentId !== incidentId) throw domainError('INCIDENT_NOT_FOUND', incidentId);
  const loss = lossOf(state, incidentId, asset);
  const outstanding = outstandingMinor(loss);
  invariant(outstanding >= 0n, `account ${state.accountId} was compensated beyond its ${asset} loss in ${incidentId}`);
  if (amountMinor > outstanding) {
    const compensated = `${formatAmount(asset, loss.reimbursedMinor)} reimbursed, ${formatAmount(asset, loss.paidOutMinor)} paid by protection claims`;
    throw domainError('REIMBURSEMENT_EXCEEDS_LOSS', `${formatAmount(asset, outstanding)} ${asset} outstanding (${compensated})`);
  }
  const amount = formatAmount(asset, amountMinor);
  return [event('Reimbursed', { reimbursementId, incidentId, asset, amount, reimbursedAt: toIso(ctx.now) })];
}

function enrolInProtection(state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  if (state.protectionEnrolledAt) throw domainError('PROTECTION_ALREADY_ENROLLED');
  return [event('ProtectionProgrammeEnrolled', { enrolledAt: toIso(ctx.now) })];
}

/**
 * Rule 8: a claim is refused outright (nothing recorded) when it cannot be a claim at all; otherwise it is filed and
 * decided at once, and a denial names every condition it fails.
 */
function fileProtectionClaim(cmd: C.FileProtectionClaim, state: AccountState, ctx: AccountDecisionContext): Decision {
  requireOpen(state);
  const { claimId, withdrawalId, policeReportReference, policeReportCopyProvided, questionnaireCompleted, deviceJailbroken } = cmd.data;
  const declaration = { policeReportReference, policeReportCopyProvided, questionnaireCompleted, deviceJailbroken };
  if (ctx.now < PROTECTION_PROGRAMME_START) throw domainError('PROTECTION_PROGRAMME_NOT_STARTED', `it starts ${toIso(PROTECTION_PROGRAMME_START)}`);
  if (!state.protectionEnrolledAt) throw domainError('PROTECTION_NOT_ENROLLED');
  if (state.protectionClaims.has(claimId)) throw domainError('PROTECTION_CLAIM_ALREADY_FILED', claimId);
  const withdrawal = requireWithdrawal(state, withdrawalId);
  if (withdrawal.unauthorized?.outcome !== 'loss') throw domainError('WITHDRAWAL_NOT_UNAUTHORIZED', withdrawalId);
  const earlierClaim = state.claimedWithdrawals.get(withdrawalId);
  if (earlierClaim !== undefined) throw domainError('PROTECTION_WITHDRAWAL_ALREADY_CLAIMED', `${withdrawalId} by claim ${earlierClaim}`);
  const priceE8 = ctx.prices.get(withdrawal.asset);
  if (priceE8 === undefined) throw domainError('PRICE_NOT_RECORDED', withdrawal.asset);

  const at = toIso(ctx.now);
  const filed = event('ProtectionClaimFiled', { claimId, withdrawalId, ...declaration, filedAt: at });
  // A loss is compensated at most once: the claim covers only what reimbursements and earlier payouts left of it.
  const { asset } = withdrawal;
  const { incidentId } = withdrawal.unauthorized;
  const left = outstandingMinor(lossOf(state, incidentId, asset));
  const claimedMinor = left < withdrawal.amountMinor ? left : withdrawal.amountMinor;
  const reasons = protectionDenialReasons(state, withdrawal, declaration, claimedMinor);
  if (reasons.length > 0) return [filed, event('ProtectionClaimDenied', { claimId, withdrawalId, reasons, decidedAt: at })];
  const claimedUsdCents = valueUsdCents(asset, claimedMinor, priceE8);
  const { payoutUsdCents, capped } = protectionPayout(state, claimedUsdCents);
  const compensatedAmount = formatAmount(asset, compensatedByPayoutMinor(claimedMinor, claimedUsdCents, payoutUsdCents));
  const claimedUsd = formatAmount('USD', claimedUsdCents);
  const payoutUsd = formatAmount('USD', payoutUsdCents);
  return [
    filed,
    event('ProtectionClaimApproved', { claimId, withdrawalId, incidentId, asset, claimedUsd, payoutUsd, capped, compensatedAmount, decidedAt: at }),
  ];
}

/**
 * Decides an account command against the account's state and the platform's. Pure: throws a DomainError to
 * refuse, returns the events to append otherwise. Only the platform revocation job may return no event.
 */
export function decideAccount(command: C.AccountCommand, state: AccountState, ctx: AccountDecisionContext): AccountEvent[] {
  switch (command.type) {
    case 'OpenAccount': return openAccount(command, state, ctx);
    case 'DepositFunds': return depositFunds(command, state);
    case 'EnrolTwoFactor': return enrolTwoFactor(command, state, ctx);
    case 'RevokeTwoFactorToken': return revokeTwoFactorToken(command, state, ctx);
    case 'ApplyPlatformTwoFactorRevocation': return applyPlatformRevocation(command, state);
    case 'SetAntiPhishingCode': return setAntiPhishingCode(state, ctx);
    case 'SetMfa': return setMfa(command, state, ctx);
    case 'WhitelistAddress': return whitelistAddress(command, state, ctx);
    case 'RemoveAddress': return removeAddress(command, state, ctx);
    case 'RequestWithdrawal': return requestWithdrawal(command, state, ctx);
    case 'ApproveWithdrawal': return approveWithdrawal(command, state, ctx);
    case 'SettleWithdrawal': return settleWithdrawal(command, state, ctx);
    case 'RejectWithdrawal': return rejectWithdrawal(command, state, ctx);
    case 'CancelWithdrawal': return cancelWithdrawal(command, state, ctx);
    case 'ReportUnauthorizedWithdrawal': return reportUnauthorized(command, state, ctx);
    case 'Reimburse': return reimburse(command, state, ctx);
    case 'EnrolInProtectionProgramme': return enrolInProtection(state, ctx);
    case 'FileProtectionClaim': return fileProtectionClaim(command, state, ctx);
    default: return assertNever(command);
  }
}
