import {
  accountStream,
  assetScale,
  event,
  formatAmount,
  incidentStream,
  PLATFORM_STREAM,
  priceStream,
  type AssetCode,
  type DomainEvent,
} from '@app/domain';
import type { Placed } from './recorded';
import { mulberry32 } from '@app/domain/testing/random';

export interface HistoryOptions {
  readonly accounts: number;
  /** Operations after the accounts are opened and funded; each makes one to three events. */
  readonly operations: number;
  readonly seed?: number;
}

const ASSETS: readonly AssetCode[] = ['ETH', 'BTC', 'USDC', 'CRO'];
const PRICES: Readonly<Record<string, readonly string[]>> = {
  ETH: ['3129', '3050.5', '2999.99'],
  BTC: ['41929.5', '42100', '40010.12345678'],
  USDC: ['1', '0.9999'],
  CRO: ['0.4012', '0.39'],
};

interface Pending {
  readonly withdrawalId: string;
  readonly asset: AssetCode;
  readonly amountMinor: bigint;
  approved: boolean;
}

interface AccountModel {
  readonly accountId: string;
  readonly available: Map<AssetCode, bigint>;
  readonly pending: Pending[];
  /** Settled withdrawals not yet reported as unauthorized. */
  readonly settled: Pending[];
  /** Outstanding losses by incident and asset. */
  readonly outstanding: Map<string, bigint>;
  nextId: number;
}

/**
 * A valid ledger history (every event one the deciders could have written, in an order they allow): accounts
 * funded in several assets, withdrawals requested, approved, settled, rejected and cancelled, prices, two incidents
 * with prevented and lost unauthorized withdrawals, partial and full reimbursements, and protection claims. Also
 * events no read model handles (2FA, addresses, platform), which runners must step over.
 */
export function ledgerHistory(options: HistoryOptions): Placed[] {
  const next = mulberry32(options.seed ?? 7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const out: Placed[] = [];
  const push = (streamId: string, e: DomainEvent): void => {
    out.push({ streamId, event: e });
  };
  const at = (): string => new Date(Date.UTC(2022, 0, 10) + out.length * 1000).toISOString();
  const units = (asset: AssetCode, whole: number): bigint => BigInt(Math.max(1, Math.floor(whole * 1000))) * 10n ** BigInt(assetScale(asset) - 3);
  const price = (asset: AssetCode): void => push(priceStream(asset), event('AssetPriceRecorded', { asset, usd: pick(PRICES[asset]!), recordedAt: at() }));

  price('ETH');
  price('BTC');
  push(PLATFORM_STREAM, event('WithdrawalPolicyChanged', { newAddressHoldHours: 0, previousNewAddressHoldHours: 24, changedAt: at() }));

  const accounts: AccountModel[] = [];
  for (let i = 0; i < options.accounts; i += 1) {
    const accountId = `acc-${String(i).padStart(5, '0')}`;
    const model: AccountModel = { accountId, available: new Map(), pending: [], settled: [], outstanding: new Map(), nextId: 0 };
    accounts.push(model);
    const stream = accountStream(accountId);
    push(stream, event('AccountOpened', { accountId, openedAt: at() }));
    push(stream, event('TwoFactorEnrolled', { tokenId: 'tok-1', method: 'totp', enrolledAt: at() }));
    for (const asset of ASSETS.slice(0, 1 + (i % ASSETS.length))) {
      const amountMinor = units(asset, 1 + next() * 50);
      model.available.set(asset, (model.available.get(asset) ?? 0n) + amountMinor);
      push(stream, event('FundsDeposited', { depositId: `dep-${asset}`, asset, amount: formatAmount(asset, amountMinor) }));
    }
  }

  const incidents = ['inc-2022-01', 'inc-2022-02'];
  let openedIncidents = 0;
  for (let op = 0; op < options.operations; op += 1) {
    if (openedIncidents < incidents.length && op >= ((openedIncidents + 1) * options.operations) / 4) {
      const incidentId = incidents[openedIncidents]!;
      push(incidentStream(incidentId), event('IncidentOpened', { incidentId, title: '2FA bypass', openedAt: at() }));
      push(PLATFORM_STREAM, event(openedIncidents === 0 ? 'WithdrawalsHalted' : 'WithdrawalPolicyChanged', openedIncidents === 0
        ? { incidentId, reason: 'unauthorized withdrawals', haltedAt: at() }
        : { newAddressHoldHours: 24, previousNewAddressHoldHours: 0, changedAt: at() }));
      openedIncidents += 1;
      if (openedIncidents === 1) price('CRO');
    }
    const account = pick(accounts);
    const stream = accountStream(account.accountId);
    const roll = next();
    const incidentId = openedIncidents > 0 ? incidents[Math.floor(next() * openedIncidents)]! : null;

    if (roll < 0.3) {
      const asset = pick([...account.available.keys()]);
      const available = account.available.get(asset)!;
      if (available === 0n) continue;
      const amountMinor = 1n + BigInt(Math.floor(next() * 1_000_000)) * (available / 1_000_000n + 1n) % available;
      const withdrawalId = `w-${account.nextId++}`;
      account.available.set(asset, available - amountMinor);
      account.pending.push({ withdrawalId, asset, amountMinor, approved: false });
      push(stream, event('WithdrawalRequested', {
        withdrawalId, asset, amount: formatAmount(asset, amountMinor), address: `addr-${asset}`, twoFactorTokenId: 'tok-1', requestedAt: at(),
      }));
    } else if (roll < 0.55 && account.pending.length > 0) {
      const pending = account.pending[0]!;
      const { withdrawalId } = pending;
      if (!pending.approved) {
        pending.approved = true;
        push(stream, event('WithdrawalApproved', { withdrawalId, approvedAt: at() }));
      } else {
        account.pending.shift();
        const ending = next();
        if (ending < 0.7) {
          account.settled.push(pending);
          push(stream, event('WithdrawalSettled', { withdrawalId, txHash: `tx-${withdrawalId}`, settledAt: at() }));
        } else {
          account.available.set(pending.asset, account.available.get(pending.asset)! + pending.amountMinor);
          const type = ending < 0.85 ? 'WithdrawalRejected' : 'WithdrawalCancelled';
          push(stream, type === 'WithdrawalRejected'
            ? event(type, { withdrawalId, reason: 'compliance', rejectedAt: at() })
            : event(type, { withdrawalId, reason: 'customer', cancelledAt: at() }));
        }
      }
    } else if (roll < 0.65 && incidentId !== null) {
      // An unauthorized withdrawal: a settled one is a loss, a pending one is prevented (and cancelled).
      const settled = account.settled.shift();
      if (settled !== undefined) {
        const key = `${incidentId}/${settled.asset}`;
        account.outstanding.set(key, (account.outstanding.get(key) ?? 0n) + settled.amountMinor);
        push(stream, event('UnauthorizedWithdrawalDetected', {
          withdrawalId: settled.withdrawalId, incidentId, asset: settled.asset, amount: formatAmount(settled.asset, settled.amountMinor), outcome: 'loss', detectedAt: at(),
        }));
      } else if (account.pending.length > 0) {
        const pending = account.pending.shift()!;
        account.available.set(pending.asset, account.available.get(pending.asset)! + pending.amountMinor);
        const amount = formatAmount(pending.asset, pending.amountMinor);
        push(stream, event('UnauthorizedWithdrawalDetected', {
          withdrawalId: pending.withdrawalId, incidentId, asset: pending.asset, amount, outcome: 'prevented', detectedAt: at(),
        }));
        push(stream, event('WithdrawalCancelled', { withdrawalId: pending.withdrawalId, reason: `unauthorized (incident ${incidentId})`, cancelledAt: at() }));
      }
    } else if (roll < 0.75 && account.outstanding.size > 0) {
      const [key, outstanding] = [...account.outstanding][0]!;
      const [lossIncident, asset] = key.split('/') as [string, AssetCode];
      const amountMinor = next() < 0.5 ? outstanding : outstanding / 2n + 1n;
      if (amountMinor >= outstanding) account.outstanding.delete(key);
      else account.outstanding.set(key, outstanding - amountMinor);
      account.available.set(asset, (account.available.get(asset) ?? 0n) + amountMinor);
      push(stream, event('Reimbursed', {
        reimbursementId: `r-${account.nextId++}`, incidentId: lossIncident, asset, amount: formatAmount(asset, amountMinor), reimbursedAt: at(),
      }));
    } else if (roll < 0.8) {
      const claimId = `claim-${account.nextId++}`;
      push(stream, event('ProtectionClaimFiled', {
        claimId, withdrawalId: 'w-0', policeReportReference: next() < 0.5 ? 'PR-1' : null, policeReportCopyProvided: true,
        questionnaireCompleted: true, deviceJailbroken: false, filedAt: at(),
      }));
      const loss = [...account.outstanding][0];
      if (loss !== undefined && next() < 0.5) {
        // An approval compensates part of an outstanding loss (a capped payout): never more than is outstanding.
        const [key, outstanding] = loss;
        const [lossIncident, asset] = key.split('/') as [string, AssetCode];
        const compensatedMinor = outstanding / 2n + 1n;
        if (compensatedMinor >= outstanding) account.outstanding.delete(key);
        else account.outstanding.set(key, outstanding - compensatedMinor);
        push(stream, event('ProtectionClaimApproved', {
          claimId, withdrawalId: 'w-0', incidentId: lossIncident, asset, claimedUsd: '300000', payoutUsd: '250000', capped: true,
          compensatedAmount: formatAmount(asset, compensatedMinor), decidedAt: at(),
        }));
      } else {
        push(stream, event('ProtectionClaimDenied', { claimId, withdrawalId: 'w-0', reasons: ['NO_POLICE_REPORT'], decidedAt: at() }));
      }
    } else if (roll < 0.85) {
      price(pick(ASSETS));
    } else if (roll < 0.9) {
      const asset = pick(ASSETS);
      const amountMinor = units(asset, next() * 10);
      account.available.set(asset, (account.available.get(asset) ?? 0n) + amountMinor);
      push(stream, event('FundsDeposited', { depositId: `dep-${account.nextId++}`, asset, amount: formatAmount(asset, amountMinor) }));
    } else {
      push(stream, event('AddressWhitelisted', {
        asset: 'ETH', address: `addr-${account.nextId++}`, whitelistedAt: at(), holdHours: 0, withdrawableFrom: at(),
      }));
    }
  }
  return out.map((item, index) => ({ ...item, recordedAt: new Date(Date.UTC(2022, 0, 10) + index * 1000).toISOString() }));
}
