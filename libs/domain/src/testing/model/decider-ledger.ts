/**
 * The real deciders, wired as the command handlers wire them (libs/ledger/src/ledger.ts) but in memory: one folded
 * state per stream, the platform view, the named incident and the latest prices in each account decision's context,
 * and the platform-wide revocation job applied to every account right after AllTwoFactorTokensRevoked.
 */
import { DateTime } from 'luxon';
import type { AccountCommand } from '../../account/account.commands';
import { decideAccount } from '../../account/account.decider';
import type { AccountEvent } from '../../account/account.events';
import { availableMinor, evolveAccount, initialAccountState, type AccountState } from '../../account/account.state';
import type { IncidentCommand } from '../../incident/incident.commands';
import { decideIncident, evolveIncident, incidentView, initialIncidentState, type IncidentState } from '../../incident/incident.decider';
import type { AssetCode } from '../../money/assets';
import type { PlatformCommand } from '../../platform/platform.commands';
import { decidePlatform, evolvePlatform, initialPlatformState, platformView, type PlatformState } from '../../platform/platform.decider';
import type { PlatformEvent } from '../../platform/platform.events';
import { decidePrice, evolvePrice, initialPriceState, type PriceState } from '../../prices/price.decider';
import { DomainError } from '../../shared/errors';
import { toIso } from '../../shared/time';
import type { Observation } from './reference-ledger';
import { decimalOf, ids, MODEL_ASSET_DECIMALS, type ModelAsset, type Step } from './steps';

export type Decision =
  | { readonly accepted: true; readonly events: ReadonlyArray<AccountEvent | PlatformEvent | { type: string }> }
  | { readonly accepted: false; readonly code: string };

const INCIDENT_OF = (step: Step): string | null => ('incident' in step && step.incident !== null ? ids.incident(step.incident) : null);

export class DeciderLedger {
  now: DateTime;
  readonly accounts = new Map<string, AccountState>();
  readonly incidents = new Map<string, IncidentState>();
  readonly prices = new Map<AssetCode, PriceState>();
  platform: PlatformState = initialPlatformState();

  constructor(start: DateTime) {
    this.now = start;
    // As the HTTP suites do: the rules under test here are not the proof's (its own specs cover it).
    this.platformCommand({ type: 'ChangeSecondFactorPolicy', data: { required: false, mfaThresholdUsd: null } });
  }

  /** Decides one step; on acceptance the events are folded into the streams' states. */
  execute(step: Step, amount: bigint | null): Decision {
    try {
      return { accepted: true, events: this.run(step, amount) };
    } catch (error) {
      if (error instanceof DomainError) return { accepted: false, code: error.code };
      throw error;
    }
  }

  private run(step: Step, amount: bigint | null): ReadonlyArray<{ type: string }> {
    const money = (asset: ModelAsset) => decimalOf(amount!, MODEL_ASSET_DECIMALS[asset]);
    const account = 'account' in step ? ids.account(step.account) : '';
    switch (step.type) {
      case 'advance':
        this.now = this.now.plus({ minutes: step.minutes });
        return [];
      case 'openIncident':
        return this.incidentCommand(ids.incident(step.incident), { type: 'OpenIncident', data: { incidentId: ids.incident(step.incident), title: 'model' } });
      case 'closeIncident':
        return this.incidentCommand(ids.incident(step.incident), { type: 'CloseIncident', data: { incidentId: ids.incident(step.incident), summary: 'model' } });
      case 'halt':
        return this.platformCommand({ type: 'HaltWithdrawals', data: { incidentId: INCIDENT_OF(step), reason: 'model' } }, INCIDENT_OF(step));
      case 'resume':
        return this.platformCommand({ type: 'ResumeWithdrawals', data: { incidentId: INCIDENT_OF(step), reason: 'model' } }, INCIDENT_OF(step));
      case 'revokeAll':
        return this.revokeAll(ids.revocation(step.revocation), ids.incident(step.incident));
      case 'holdPolicy':
        return this.platformCommand({ type: 'ChangeWithdrawalPolicy', data: { newAddressHoldHours: step.hours } });
      case 'price': {
        const state = this.prices.get(step.asset) ?? initialPriceState();
        const events = decidePrice({ type: 'RecordPrice', data: { asset: step.asset, usd: decimalOf(step.usdCents, 2) } }, state, { now: this.now });
        this.prices.set(step.asset, events.reduce(evolvePrice, state));
        return events;
      }
      case 'open': return this.accountCommand(account, { type: 'OpenAccount', data: { accountId: account } });
      case 'deposit':
        return this.accountCommand(account, { type: 'DepositFunds', data: { depositId: ids.deposit(step.deposit), asset: step.asset, amount: money(step.asset) } });
      case 'enrol': return this.accountCommand(account, { type: 'EnrolTwoFactor', data: { tokenId: ids.token(step.token), method: step.method } });
      case 'revokeToken': return this.accountCommand(account, { type: 'RevokeTwoFactorToken', data: { tokenId: ids.token(step.token), reason: 'model' } });
      case 'whitelist':
        return this.accountCommand(account, { type: 'WhitelistAddress', data: { asset: step.asset, address: ids.address(step.asset, step.address) } });
      case 'removeAddress':
        return this.accountCommand(account, { type: 'RemoveAddress', data: { asset: step.asset, address: ids.address(step.asset, step.address) } });
      case 'request': {
        const data = {
          withdrawalId: ids.withdrawal(step.withdrawal), asset: step.asset, amount: money(step.asset),
          address: ids.address(step.asset, step.address), twoFactorTokenId: ids.token(step.token),
        };
        return this.accountCommand(account, { type: 'RequestWithdrawal', data });
      }
      case 'approve': return this.accountCommand(account, { type: 'ApproveWithdrawal', data: { withdrawalId: ids.withdrawal(step.withdrawal) } });
      case 'settle': return this.accountCommand(account, { type: 'SettleWithdrawal', data: { withdrawalId: ids.withdrawal(step.withdrawal), txHash: `tx-${step.withdrawal}` } });
      case 'reject': return this.accountCommand(account, { type: 'RejectWithdrawal', data: { withdrawalId: ids.withdrawal(step.withdrawal), reason: 'model' } });
      case 'cancel': return this.accountCommand(account, { type: 'CancelWithdrawal', data: { withdrawalId: ids.withdrawal(step.withdrawal), reason: 'model' } });
      case 'report':
        return this.accountCommand(account, { type: 'ReportUnauthorizedWithdrawal', data: { withdrawalId: ids.withdrawal(step.withdrawal), incidentId: ids.incident(step.incident) } }, ids.incident(step.incident));
      case 'reimburse': {
        const data = { reimbursementId: ids.reimbursement(step.reimbursement), incidentId: ids.incident(step.incident), asset: step.asset, amount: money(step.asset) };
        return this.accountCommand(account, { type: 'Reimburse', data }, ids.incident(step.incident));
      }
      case 'antiPhishing': return this.accountCommand(account, { type: 'SetAntiPhishingCode', data: {} });
      case 'mfa': return this.accountCommand(account, { type: 'SetMfa', data: { enabled: step.enabled, transactionTypes: [...step.types] } });
      case 'enrolProtection': return this.accountCommand(account, { type: 'EnrolInProtectionProgramme', data: {} });
      case 'claim': {
        const data = {
          claimId: ids.claim(step.claim), withdrawalId: ids.withdrawal(step.withdrawal), policeReportReference: step.policeReport ? 'PR-1' : null,
          policeReportCopyProvided: step.policeCopy, questionnaireCompleted: step.questionnaire, deviceJailbroken: step.jailbroken,
        };
        return this.accountCommand(account, { type: 'FileProtectionClaim', data });
      }
      default: {
        const unknown: never = step;
        throw new Error(`unknown step ${JSON.stringify(unknown)}`);
      }
    }
  }

  private accountCommand(accountId: string, command: AccountCommand, incidentId: string | null = null): AccountEvent[] {
    const state = this.accounts.get(accountId) ?? initialAccountState();
    const incidentState = incidentId === null ? null : this.incidents.get(incidentId);
    const prices = new Map<AssetCode, bigint>();
    for (const [asset, price] of this.prices) if (price.latest) prices.set(asset, price.latest.usdE8);
    const context = { now: this.now, platform: platformView(this.platform), incident: incidentState ? incidentView(incidentState) : null, prices };
    const events = decideAccount(command, state, context);
    this.accounts.set(accountId, events.reduce(evolveAccount, state));
    return events;
  }

  private platformCommand(command: PlatformCommand, incidentId: string | null = null): PlatformEvent[] {
    const incidentState = incidentId === null ? null : this.incidents.get(incidentId);
    const events = decidePlatform(command, this.platform, { now: this.now, incident: incidentState ? incidentView(incidentState) : null });
    this.platform = events.reduce(evolvePlatform, this.platform);
    return events;
  }

  private incidentCommand(incidentId: string, command: IncidentCommand): Array<{ type: string }> {
    const state = this.incidents.get(incidentId) ?? initialIncidentState();
    const events = decideIncident(command, state, { now: this.now });
    this.incidents.set(incidentId, events.reduce(evolveIncident, state));
    return events;
  }

  /** The platform command, then the job: every account's live tokens revoked, then the completion. */
  private revokeAll(revocationId: string, incidentId: string): Array<{ type: string }> {
    const events: Array<{ type: string }> = this.platformCommand({ type: 'RevokeAllTwoFactorTokens', data: { revocationId, incidentId, reason: 'model' } }, incidentId);
    const revokedAt = toIso(this.platform.revocations.get(revocationId)!.revokedAt);
    for (const accountId of this.accounts.keys()) {
      events.push(...this.accountCommand(accountId, { type: 'ApplyPlatformTwoFactorRevocation', data: { revocationId, revokedAt, reason: 'model' } }));
    }
    events.push(...this.platformCommand({ type: 'CompleteTwoFactorRevocation', data: { revocationId } }));
    return events;
  }

  observe(): Observation {
    const view = platformView(this.platform);
    const accounts: Record<string, Observation['accounts'][string]> = {};
    for (const [id, state] of this.accounts) {
      if (state.accountId === null) continue;
      const balances: Observation['accounts'][string]['balances'] = {};
      for (const [asset, b] of state.balances) {
        if (b.depositedMinor + b.reimbursedMinor + b.heldMinor + b.withdrawnMinor === 0n) continue;
        balances[asset] = { deposited: b.depositedMinor, reimbursed: b.reimbursedMinor, held: b.heldMinor, withdrawn: b.withdrawnMinor, available: availableMinor(b) };
      }
      const losses: Observation['accounts'][string]['losses'] = {};
      for (const [incident, perAsset] of state.losses) {
        for (const [asset, l] of perAsset) {
          if (l.lostMinor + l.reimbursedMinor + l.paidOutMinor > 0n) losses[`${incident}/${asset}`] = { lost: l.lostMinor, reimbursed: l.reimbursedMinor, paidOut: l.paidOutMinor };
        }
      }
      const revokedAt = view.latestTwoFactorRevocationAt;
      accounts[id] = {
        balances,
        withdrawals: Object.fromEntries([...state.withdrawals].map(([wid, w]) => [wid, w.status])),
        tokensValid: Object.fromEntries([...state.tokens].map(([tid, t]) => [tid, !t.revoked && (revokedAt === null || t.enrolledAt > revokedAt)])),
        losses,
        claims: Object.fromEntries([...state.protectionClaims].map(([cid, c]) => [cid, { status: c.status, payoutCents: c.payoutUsdCents }])),
        payoutCents: state.approvedPayoutUsdCents,
        addresses: [...state.addresses.keys()].sort(),
      };
    }
    const pricesCents: Record<string, bigint> = {};
    for (const [asset, price] of this.prices) if (price.latest) pricesCents[asset] = price.latest.usdE8 / 1_000_000n;
    return {
      accounts,
      halted: view.withdrawalsHalted,
      holdHours: view.newAddressHoldHours,
      incidents: Object.fromEntries([...this.incidents].filter(([, s]) => s.status !== null).map(([id, s]) => [id, s.status!])),
      pricesCents,
    };
  }
}
