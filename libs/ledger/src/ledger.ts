import {
  ASSET_CODES,
  accountDecider,
  accountStream,
  formatAmount,
  incidentDecider,
  incidentStream,
  incidentView,
  PLATFORM_STREAM,
  platformDecider,
  platformView,
  priceDecider,
  riskDecider,
  RISK_STREAM,
  type RiskCommand,
  type RiskDecisionContext,
  type RiskEvent,
  type RiskState,
  priceStream,
  availableMinor,
  type AccountCommand,
  type AccountDecisionContext,
  type AccountEvent,
  type AccountState,
  type IncidentEvent,
  type IncidentState,
  type PlatformDecisionContext,
  type PlatformEvent,
  type PlatformState,
  type PriceEvent,
  type PriceState,
  type AssetCode,
  type IncidentCommand,
  type IncidentView,
  type PlatformCommand,
  type PlatformView,
  type PriceCommand,
} from '@app/domain';
import type { EventStore } from '@app/event-store';
import type { VerifiedSecondFactor } from '@app/domain';
import type { DateTime } from 'luxon';
import { AggregateRepository } from './aggregate-repository';
import type { Clock } from './clock';
import { CommandExecutor, type CommandResult } from './command-executor';
import type { CommandMetadata } from './command-metadata';
import { DEFAULT_SECOND_FACTOR_AUDIENCE } from './second-factor/attester-keys';
import { SecondFactorVerifier } from './second-factor/verifier';

export interface AssetBalanceView {
  readonly available: string;
  readonly held: string;
  readonly withdrawn: string;
  readonly deposited: string;
  readonly reimbursed: string;
}

export interface AccountBalancesView {
  readonly accountId: string;
  readonly revision: string;
  readonly balances: Partial<Record<AssetCode, AssetBalanceView>>;
}

const NO_PRICES: ReadonlyMap<AssetCode, bigint> = new Map();

/**
 * An account command as a caller sends it: a second-factor proof travels as the compact JWS the attester signed,
 * and the ledger verifies it before deciding (the domain command carries the verified proof).
 */
export type AccountRequest = AccountCommand extends infer C
  ? C extends { data: { secondFactor?: VerifiedSecondFactor | null } }
    ? { readonly type: C extends { type: infer T } ? T : never; readonly data: Omit<C['data'], 'secondFactor'> & { readonly secondFactor?: string | null } }
    : C
  : never;

export interface LedgerOptions {
  /** Verifies second-factor proofs; without one, no attester key is known and every proof is refused. */
  readonly secondFactor?: SecondFactorVerifier;
}

/** The incident a command names, if any: it is loaded fresh so that a closed incident is seen as closed. */
function incidentIdOf(command: AccountCommand | PlatformCommand): string | null {
  switch (command.type) {
    case 'ReportUnauthorizedWithdrawal':
    case 'Reimburse':
    case 'RevokeAllTwoFactorTokens':
      return command.data.incidentId;
    case 'HaltWithdrawals':
    case 'ResumeWithdrawals':
      return command.data.incidentId;
    default:
      return null;
  }
}

/**
 * The ledger's command side: one entry point per aggregate, each running load -> decide -> append through the
 * CommandExecutor. Plain TypeScript, so the API, the CLI and the incident scenario drive the same handlers.
 */
export class Ledger {
  readonly accounts: AggregateRepository<AccountCommand, AccountEvent, AccountState, AccountDecisionContext>;
  readonly platform: AggregateRepository<PlatformCommand, PlatformEvent, PlatformState, PlatformDecisionContext>;
  readonly incidents: AggregateRepository<IncidentCommand, IncidentEvent, IncidentState, { now: DateTime }>;
  readonly prices: AggregateRepository<PriceCommand, PriceEvent, PriceState, { now: DateTime }>;
  readonly risk: AggregateRepository<RiskCommand, RiskEvent, RiskState, RiskDecisionContext>;
  private readonly executor: CommandExecutor;
  readonly secondFactor: SecondFactorVerifier;

  constructor(
    readonly store: EventStore,
    readonly clock: Clock,
    options: LedgerOptions = {},
  ) {
    this.secondFactor = options.secondFactor ?? new SecondFactorVerifier([], DEFAULT_SECOND_FACTOR_AUDIENCE);
    this.accounts = new AggregateRepository(store, accountDecider);
    this.platform = new AggregateRepository(store, platformDecider, 1);
    this.incidents = new AggregateRepository(store, incidentDecider, 1_000);
    this.prices = new AggregateRepository(store, priceDecider, 100);
    this.risk = new AggregateRepository(store, riskDecider, 1);
    this.executor = new CommandExecutor(store, clock);
  }

  /** Verifies the request's second-factor proof, if it carries one (one signature check), then runs the command. */
  async executeAccount(accountId: string, request: AccountRequest, metadata: CommandMetadata): Promise<CommandResult> {
    const command = await this.withVerifiedProof(request);
    return this.executor.execute({
      streamId: accountStream(accountId),
      repository: this.accounts,
      command,
      metadata,
      context: (now) => this.accountContext(now, command),
    });
  }

  private async withVerifiedProof(request: AccountRequest): Promise<AccountCommand> {
    if (request.type !== 'RequestWithdrawal' && request.type !== 'WhitelistAddress') return request;
    const raw = request.data.secondFactor;
    const secondFactor = raw === undefined || raw === null ? null : await this.secondFactor.verify(raw);
    return { ...request, data: { ...request.data, secondFactor } } as AccountCommand;
  }

  executePlatform(command: PlatformCommand, metadata: CommandMetadata): Promise<CommandResult> {
    const incidentId = incidentIdOf(command);
    return this.executor.execute({
      streamId: PLATFORM_STREAM,
      repository: this.platform,
      command,
      metadata,
      context: async (now) => ({ now, incident: incidentId ? await this.incidentView(incidentId) : null }),
    });
  }

  executeIncident(incidentId: string, command: IncidentCommand, metadata: CommandMetadata): Promise<CommandResult> {
    return this.executor.execute({
      streamId: incidentStream(incidentId),
      repository: this.incidents,
      command,
      metadata,
      context: async (now) => ({ now }),
    });
  }

  executePrice(command: PriceCommand, metadata: CommandMetadata): Promise<CommandResult> {
    return this.executor.execute({
      streamId: priceStream(command.data.asset),
      repository: this.prices,
      command,
      metadata,
      context: async (now) => ({ now }),
    });
  }

  /** Risk alerts and thresholds (the `risk` stream); a raise is decided against the platform's auto-halt policy. */
  executeRisk(command: RiskCommand, metadata: CommandMetadata): Promise<CommandResult> {
    return this.executor.execute({
      streamId: RISK_STREAM,
      repository: this.risk,
      command,
      metadata,
      context: async (now) => {
        const [platform, incident] = await Promise.all([
          this.platform.load(PLATFORM_STREAM, { refresh: 'if-changed' }),
          command.type === 'ConfirmRiskAlert' ? this.incidentView(command.data.incidentId) : null,
        ]);
        return { now, autoHalt: platform.state.autoHalt, incident };
      },
    });
  }

  /** The platform as it stands now, including changes made by other processes. */
  async platformView(): Promise<PlatformView> {
    return platformView((await this.platform.load(PLATFORM_STREAM, { refresh: 'if-changed' })).state);
  }

  async incidentView(incidentId: string): Promise<IncidentView | null> {
    return incidentView((await this.incidents.load(incidentStream(incidentId), { refresh: 'if-changed' })).state);
  }

  /** Balances folded from the account's stream; null when the account does not exist. */
  async balances(accountId: string): Promise<AccountBalancesView | null> {
    const { state, revision } = await this.accounts.load(accountStream(accountId), { refresh: 'if-changed' });
    if (state.accountId === null || revision === undefined) return null;
    const balances: Partial<Record<AssetCode, AssetBalanceView>> = {};
    for (const [asset, balance] of [...state.balances.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      balances[asset] = {
        available: formatAmount(asset, availableMinor(balance)),
        held: formatAmount(asset, balance.heldMinor),
        withdrawn: formatAmount(asset, balance.withdrawnMinor),
        deposited: formatAmount(asset, balance.depositedMinor),
        reimbursed: formatAmount(asset, balance.reimbursedMinor),
      };
    }
    return { accountId: state.accountId, revision: revision.toString(), balances };
  }

  private async accountContext(now: DateTime, command: AccountCommand): Promise<AccountDecisionContext> {
    const incidentId = incidentIdOf(command);
    const [platform, incident] = await Promise.all([this.platformView(), incidentId ? this.incidentView(incidentId) : null]);
    return { now, platform, incident, prices: await this.pricesFor(command, platform) };
  }

  /** Prices a decision values money at: every asset's for a claim; the withdrawn asset's against an MFA threshold. */
  private async pricesFor(command: AccountCommand, platform: PlatformView): Promise<ReadonlyMap<AssetCode, bigint>> {
    if (command.type === 'FileProtectionClaim') return this.latestPrices();
    if (command.type === 'RequestWithdrawal' && command.data.secondFactor && platform.mfaThresholdUsdCents !== null) {
      const latest = (await this.prices.load(priceStream(command.data.asset), { refresh: 'if-changed' })).state.latest;
      return latest ? new Map([[command.data.asset, latest.usdE8]]) : NO_PRICES;
    }
    return NO_PRICES;
  }

  /** The latest recorded USD price of every asset that has one (rule 8 values a protection claim at it). */
  private async latestPrices(): Promise<ReadonlyMap<AssetCode, bigint>> {
    const prices = new Map<AssetCode, bigint>();
    for (const asset of ASSET_CODES) {
      const latest = (await this.prices.load(priceStream(asset), { refresh: 'if-changed' })).state.latest;
      if (latest) prices.set(asset, latest.usdE8);
    }
    return prices;
  }
}
