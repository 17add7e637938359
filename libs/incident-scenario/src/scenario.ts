import { createHash } from 'node:crypto';
import {
  accountStream,
  canonicalPrice,
  DomainError,
  formatAmount,
  lossOf,
  type DomainErrorCode,
  type IncidentCommand,
  type PlatformCommand,
  type PriceCommand,
  type AssetCode,
} from '@app/domain';
import { openSqliteEventStore, type EventStore } from '@app/event-store';
import type { DateTime } from 'luxon';
import {
  deterministicAttester,
  Ledger,
  ManualClock,
  signProof,
  TwoFactorRevocationJob,
  verifierFor,
  type AccountRequest,
  type Actor,
  type Attester,
  type CommandMetadata,
  type CommandResult,
} from '@app/ledger';
import {
  INCIDENT_ID,
  INCIDENT_TITLE,
  januaryPricesE8,
  MARCH_PRICES,
  PHISHING_INCIDENT_ID,
  PHISHING_INCIDENT_TITLE,
  REVOCATION_ID,
  SCENARIO_ASSETS,
  TIMES,
} from './facts';
import { DEFAULT_ACCOUNTS, DEFAULT_SEED, planScenario, type AccountPlan, type AttackPlan, type PlannedClaim, type PlannedWithdrawal, type ScenarioPlan } from './plan';
import { Schedule } from './schedule';

/** Customers' and attackers' commands alike reach the ledger through the exchange's backend: the ledger cannot tell them apart. */
const BACKEND: Actor = { id: 'exchange-backend', role: 'service' };
const SECURITY: Actor = { id: 'security-operations', role: 'admin' };
const FINANCE: Actor = { id: 'finance-desk', role: 'service' };
const CLAIMS_DESK: Actor = { id: 'protection-claims-desk', role: 'service' };
const PRICE_FEED: Actor = { id: 'price-feed', role: 'admin' };

const ONBOARDING_TOKEN = 'tok-1';
const REENROLLED_TOKEN = 'tok-2';

export interface ScenarioProgress {
  /** What the scenario is doing now ('onboarding', 'attack', ...). */
  readonly phase: string;
  readonly eventsAppended: number;
  /** An estimate (commands planned plus the revocation's events); the count may end a little off it. */
  readonly estimatedEvents: number;
}

export interface ScenarioOptions {
  readonly seed?: number;
  readonly accounts?: number;
  /** A SQLite file for a fresh ledger (created if missing). Give this or `store`. */
  readonly storePath?: string;
  /** An open, empty event store (the CLI's). The scenario does not close it. */
  readonly store?: EventStore;
  readonly onProgress?: (progress: ScenarioProgress) => void;
  /** Stops the scenario between two instants of its timeline (what has been appended stays). */
  readonly signal?: AbortSignal;
  /**
   * `off` (the default): January 2022 as it happened, no proof of the second factor until the resumption.
   * `on`: the same attack against a ledger that requires a proof from the start: customers' authentication service
   * signs theirs, the attackers have none, so every attack whitelisting and withdrawal is refused and nothing is lost.
   */
  readonly defences?: 'off' | 'on';
}

/** A rule the scenario made the ledger refuse, to show it holds (nothing is appended for these). */
export interface CheckedRefusal {
  readonly code: DomainErrorCode;
  readonly what: string;
}

export interface ScenarioResult {
  readonly seed: number;
  readonly accounts: number;
  readonly storePath: string | null;
  readonly incidentId: string;
  readonly phishingIncidentId: string;
  readonly eventsAppended: number;
  readonly headPosition: bigint;
  readonly refusalsChecked: readonly CheckedRefusal[];
  /** Protection claims whose decision the scenario compared with the plan's expectation. */
  readonly claimsChecked: number;
  readonly defences: 'off' | 'on';
  /** With defences on: the attackers' whitelistings and withdrawal requests, every one refused SECOND_FACTOR_REQUIRED. */
  readonly attackRefused: { readonly whitelistings: number; readonly withdrawals: number };
  readonly elapsedMs: number;
}

/** The scenario needs a ledger of its own: on a store that already holds events the figures would not be the incident's. */
export class ScenarioStoreNotEmptyError extends Error {
  constructor(readonly headPosition: bigint) {
    super(`the incident scenario needs an empty event store; this one holds events up to position ${headPosition}`);
    this.name = 'ScenarioStoreNotEmptyError';
  }
}

/** The ledger did not do what the scenario expected: the scenario (or the ledger) is wrong, and the run stops. */
export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/**
 * Plays the January 2022 incident, and the protection programme's first claims, through the ledger's real command
 * handlers (the Ledger the API uses) on an empty store, with a ManualClock. The same seed and population always
 * append the same events with the same ids, data, metadata and hashes.
 */
export async function runIncidentScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  if ((options.store === undefined) === (options.storePath === undefined)) throw new TypeError('give exactly one of store or storePath');
  const seed = options.seed ?? DEFAULT_SEED;
  const plan = planScenario(seed, options.accounts ?? DEFAULT_ACCOUNTS);
  const store = options.store ?? openSqliteEventStore({ path: options.storePath! });
  const startedMs = performance.now();
  try {
    const head = await store.headPosition();
    if (head !== undefined) throw new ScenarioStoreNotEmptyError(head);
    const defences = options.defences ?? 'off';
    const run = new ScenarioRun(store, plan, options.onProgress, defences);
    await run.play(options.signal);
    return {
      seed,
      accounts: plan.accounts.length,
      storePath: options.storePath ?? null,
      incidentId: INCIDENT_ID,
      phishingIncidentId: PHISHING_INCIDENT_ID,
      eventsAppended: run.eventsAppended,
      headPosition: (await store.headPosition()) ?? 0n,
      refusalsChecked: run.refusals,
      claimsChecked: run.claimsChecked,
      defences,
      attackRefused: run.attackRefused,
      elapsedMs: Math.round(performance.now() - startedMs),
    };
  } finally {
    if (options.store === undefined) await store.close();
  }
}

class ScenarioRun {
  private readonly clock = new ManualClock(TIMES.platformStart);
  private readonly ledger: Ledger;
  private readonly schedule = new Schedule(() => this.secondFactorRequired);
  eventsAppended = 0;
  claimsChecked = 0;
  readonly refusals: CheckedRefusal[] = [];
  readonly attackRefused = { whitelistings: 0, withdrawals: 0 };
  private phase = 'start';
  /** The exchange's authentication service in the simulation: its key follows from the seed, so the log does too. */
  private readonly attester: Attester;
  /** Whether the platform requires second-factor proofs yet (from the resumption on, as the exchange re-enabled withdrawals). */
  private secondFactorRequired = false;
  private readonly accountsById: ReadonlyMap<string, AccountPlan>;

  constructor(
    private readonly store: EventStore,
    private readonly plan: ScenarioPlan,
    private readonly onProgress: ((progress: ScenarioProgress) => void) | undefined,
    private readonly defences: 'off' | 'on',
  ) {
    // With defences on, the platform requires proofs from its first day, as a fresh ledger does.
    this.secondFactorRequired = defences === 'on';
    this.attester = deterministicAttester(`incident-scenario/${plan.seed}`, 'scenario-attester');
    this.ledger = new Ledger(store, this.clock, { secondFactor: verifierFor(this.attester) });
    this.accountsById = new Map(plan.accounts.map((account) => [account.accountId, account]));
  }

  async play(signal: AbortSignal | undefined): Promise<void> {
    this.planJanuary();
    this.planResponse();
    this.planProgramme();
    const estimatedEvents = this.schedule.estimatedEvents;
    await this.schedule.play(this.clock, (phase) => {
      this.phase = phase;
      this.onProgress?.({ phase, eventsAppended: this.eventsAppended, estimatedEvents });
    }, signal);
  }

  // ---- sending commands -------------------------------------------------------------------------------------------

  private metadata(label: string, actor: Actor): CommandMetadata {
    const commandId = `scenario-${this.plan.seed}/${label}`;
    return { commandId, correlationId: `scenario-${this.plan.seed}/${this.phase}`, causationId: commandId, actor };
  }

  private counted(result: CommandResult): CommandResult {
    this.eventsAppended += result.eventIds.length;
    return result;
  }

  private async account(accountId: string, label: string, command: AccountRequest, actor = BACKEND): Promise<CommandResult> {
    return this.counted(await this.ledger.executeAccount(accountId, command, this.metadata(`${accountId}/${label}`, actor)));
  }

  private async platform(label: string, command: PlatformCommand): Promise<void> {
    this.counted(await this.ledger.executePlatform(command, this.metadata(`platform/${label}`, SECURITY)));
  }

  private async incident(incidentId: string, command: IncidentCommand): Promise<void> {
    this.counted(await this.ledger.executeIncident(incidentId, command, this.metadata(`${incidentId}/${command.type}`, SECURITY)));
  }

  private async price(command: PriceCommand, when: string): Promise<void> {
    this.counted(await this.ledger.executePrice(command, this.metadata(`prices-${command.data.asset}/${when}`, PRICE_FEED)));
  }

  /** Sends a command the ledger must refuse with `code`; anything else stops the scenario. */
  private async refused(code: DomainErrorCode, what: string, send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (error instanceof DomainError && error.code === code) {
        this.refusals.push({ code, what });
        return;
      }
      throw error;
    }
    throw new ScenarioError(`expected the ledger to refuse (${code}): ${what}`);
  }

  // ---- withdrawals ------------------------------------------------------------------------------------------------

  private async request(w: PlannedWithdrawal, tokenId: string): Promise<CommandResult> {
    const { withdrawalId, asset, address } = w;
    const amount = formatAmount(asset, w.amountMinor);
    const label = `${withdrawalId}/request`;
    const secondFactor = await this.proofFor(w.accountId, label, tokenId, { act: 'withdrawal', withdrawalId, asset, amount, address });
    return this.account(w.accountId, label, { type: 'RequestWithdrawal', data: { withdrawalId, asset, amount, address, twoFactorTokenId: tokenId, secondFactor } });
  }

  private async whitelist(accountId: string, asset: AssetCode, address: string, tokenId: string): Promise<CommandResult> {
    const label = `whitelist/${asset}/${address}`;
    const secondFactor = await this.proofFor(accountId, label, tokenId, { act: 'whitelist', asset, address });
    return this.account(accountId, label, { type: 'WhitelistAddress', data: { asset, address, secondFactor } });
  }

  /**
   * Once the platform requires them, the customer enters the factor of the token the command names, and the
   * authentication service signs a proof for exactly this transaction at the scenario's time. The jti follows from the
   * command, so the log stays byte-identical from one run to the next. Before, no proof is sent (as in January 2022).
   */
  private async proofFor(
    accountId: string,
    label: string,
    tokenId: string,
    fields: { act: 'withdrawal' | 'whitelist'; asset: string; address: string; withdrawalId?: string; amount?: string },
  ): Promise<string | undefined> {
    if (!this.secondFactorRequired) return undefined;
    const account = this.accountsById.get(accountId);
    if (!account) throw new ScenarioError(`no planned account ${accountId}`);
    const method = tokenId === ONBOARDING_TOKEN ? account.method : account.reenrolMethod;
    const jti = createHash('sha256').update(`${accountId}/${label}`).digest('hex').slice(0, 32);
    const issuedAt = Math.floor(this.clock.now().toMillis() / 1_000);
    return signProof(this.attester, { accountId, tokenId, amr: [method], jti, issuedAt, ...fields });
  }

  /** Request, approve and settle at the times the plan gives (a missing time: the step does not happen). */
  private withdrawal(phase: string, w: PlannedWithdrawal, tokenId: string): void {
    const { accountId, withdrawalId } = w;
    this.schedule.at(w.requestAt, phase, accountId, 1, () => this.request(w, tokenId), { mayProve: true });
    if (w.approveAt) {
      this.schedule.at(w.approveAt, phase, accountId, 1, () => this.account(accountId, `${withdrawalId}/approve`, { type: 'ApproveWithdrawal', data: { withdrawalId } }));
    }
    if (w.settleAt) this.settle(phase, w, w.settleAt);
  }

  private settle(phase: string, w: PlannedWithdrawal, at: DateTime): void {
    const { accountId, withdrawalId } = w;
    const txHash = `0x${withdrawalId}-${accountId}`;
    this.schedule.at(at, phase, accountId, 1, () => this.account(accountId, `${withdrawalId}/settle`, { type: 'SettleWithdrawal', data: { withdrawalId, txHash } }));
  }

  // ---- January: accounts, prices, the attack ---------------------------------------------------------------------

  private planJanuary(): void {
    // The platform ran with no hold on new whitelisted addresses before the incident: a fresh ledger starts with
    // 24 hours, and the scenario adds that hold only from 2022-01-18T10:17Z, as happened.
    this.schedule.at(TIMES.platformStart, 'platform', null, 1, () => this.platform('hold-0h', { type: 'ChangeWithdrawalPolicy', data: { newAddressHoldHours: 0 } }));
    // Nor did it ask for proof of the second factor per transaction: a fresh ledger requires it, January 2022 did not.
    if (this.defences === 'off') {
      this.schedule.at(TIMES.platformStart, 'platform', null, 1, () =>
        this.platform('second-factor-off', { type: 'ChangeSecondFactorPolicy', data: { required: false, mfaThresholdUsd: null } }),
      );
    }
    for (const account of this.plan.accounts) {
      this.schedule.at(account.openedAt, 'onboarding', account.accountId, 4 + account.deposits.length, () => this.onboard(account), { mayProve: true });
    }
    for (const w of this.plan.ordinaryWithdrawals) this.withdrawal('ordinary withdrawals', w, ONBOARDING_TOKEN);
    const prices = januaryPricesE8();
    for (const asset of SCENARIO_ASSETS) {
      const usd = canonicalPrice(prices[asset]);
      this.schedule.at(TIMES.januaryPrices, 'prices', null, 1, () => this.price({ type: 'RecordPrice', data: { asset, usd } }, '2022-01-16'));
    }
    for (const victim of this.plan.victims) {
      if (this.defences === 'on') {
        this.refusedAttack(victim);
        continue;
      }
      for (const { asset, address, at } of victim.whitelist) {
        // The bypass added the attacker's address; with no hold it could be used at once.
        this.schedule.at(at, 'attack', victim.accountId, 1, () => this.whitelist(victim.accountId, asset, address, ONBOARDING_TOKEN), {
          mayProve: true,
        });
      }
      // Requested with the customer's own, valid token: the exchange's 2FA check passed them without the customer.
      for (const w of victim.withdrawals) this.withdrawal('attack', w, ONBOARDING_TOKEN);
    }
    for (const w of [...this.plan.inFlightApproved, ...this.plan.inFlightRequested]) this.withdrawal('attack', w, ONBOARDING_TOKEN);
  }

  /**
   * Defences on: the attackers send the same whitelistings and withdrawals, through the same backend, with the
   * customer's valid token id but without a proof (they never had the customer's factor). Each is refused
   * SECOND_FACTOR_REQUIRED, appends nothing, and the approvals and settlements that followed have nothing to act on.
   */
  private refusedAttack(victim: AttackPlan): void {
    const { accountId } = victim;
    for (const { asset, address, at } of victim.whitelist) {
      this.schedule.at(at, 'attack', accountId, 0, async () => {
        await this.refused('SECOND_FACTOR_REQUIRED', `the attacker whitelists ${address} on ${accountId} without the customer's second factor`, () =>
          this.account(accountId, `whitelist/${asset}/${address}`, { type: 'WhitelistAddress', data: { asset, address } }),
        );
        this.attackRefused.whitelistings += 1;
      });
    }
    for (const w of victim.withdrawals) {
      const { withdrawalId, asset, address } = w;
      const amount = formatAmount(asset, w.amountMinor);
      this.schedule.at(w.requestAt, 'attack', accountId, 0, async () => {
        await this.refused('SECOND_FACTOR_REQUIRED', `the attacker requests ${withdrawalId} of ${accountId} without the customer's second factor`, () =>
          this.account(accountId, `${withdrawalId}/request`, { type: 'RequestWithdrawal', data: { withdrawalId, asset, amount, address, twoFactorTokenId: ONBOARDING_TOKEN } }),
        );
        this.attackRefused.withdrawals += 1;
      });
    }
  }

  private async onboard(account: AccountPlan): Promise<void> {
    const id = account.accountId;
    await this.account(id, 'open', { type: 'OpenAccount', data: { accountId: id } });
    for (const { depositId, asset, amountMinor } of account.deposits) {
      await this.account(id, depositId, { type: 'DepositFunds', data: { depositId, asset, amount: formatAmount(asset, amountMinor) } });
    }
    await this.account(id, ONBOARDING_TOKEN, { type: 'EnrolTwoFactor', data: { tokenId: ONBOARDING_TOKEN, method: account.method } });
    const { asset, address } = account.ownAddress;
    await this.whitelist(id, asset, address, ONBOARDING_TOKEN);
    if (account.antiPhishingAtOpening) await this.account(id, 'anti-phishing-code', { type: 'SetAntiPhishingCode', data: {} });
    if (account.mfaAtOpening.length > 0) {
      await this.account(id, 'mfa', { type: 'SetMfa', data: { enabled: true, transactionTypes: [...account.mfaAtOpening] } });
    }
  }

  // ---- the response: detection to closure -------------------------------------------------------------------------

  private planResponse(): void {
    const { plan, schedule } = this;
    schedule.at(TIMES.detection, 'detection', null, 1, () => this.incident(INCIDENT_ID, { type: 'OpenIncident', data: { incidentId: INCIDENT_ID, title: INCIDENT_TITLE } }));
    schedule.at(TIMES.detection, 'detection', null, 1, () =>
      this.platform('halt', {
        type: 'HaltWithdrawals',
        data: {
          incidentId: INCIDENT_ID,
          reason: this.defences === 'off' ? 'risk monitoring: withdrawals approved without the 2FA input of the customer' : 'risk monitoring: withdrawal attempts without the 2FA input of the customer (all refused)',
        },
      }),
    );
    schedule.at(TIMES.detection.plus({ minutes: 2 }), 'detection', plan.demo.haltedAccount, 0, () => this.haltedRequest(), { mayProve: true });
    // With defences on, no attack withdrawal exists to report, and there is nothing to pay back.
    if (this.defences === 'off') this.planReports(INCIDENT_ID, plan.victims.map((victim) => victim.withdrawals), TIMES.reportsStart, 10);
    schedule.at(TIMES.revocation, 'revocation', null, 1, () =>
      this.platform('revoke-all-2fa', { type: 'RevokeAllTwoFactorTokens', data: { revocationId: REVOCATION_ID, incidentId: INCIDENT_ID, reason: 'all users must log in again and re-set 2FA' } }),
    );
    schedule.at(TIMES.revocation, 'revocation', null, plan.accounts.length + 1, () => this.revokeEveryToken());
    // Approval and settlement re-check the second factor, so a withdrawal in flight on a token the revocation ended
    // (requested, or approved but not settled) can no longer leave: it is rejected, and the customer asks again.
    for (const w of [...plan.inFlightRequested, ...plan.inFlightApproved]) {
      schedule.at(TIMES.reenrolmentStart, 'rejections', w.accountId, 1, () =>
        this.account(w.accountId, `${w.withdrawalId}/reject`, { type: 'RejectWithdrawal', data: { withdrawalId: w.withdrawalId, reason: 'second factor reset: please request the withdrawal again' } }),
      );
    }
    this.planReenrolment();
    // Withdrawals come back with the lesson learnt: each one, and each new address, needs proof of the second factor.
    if (this.defences === 'off') {
      schedule.at(TIMES.resumption, 'resumption', null, 1, async () => {
        await this.platform('second-factor-on', { type: 'ChangeSecondFactorPolicy', data: { required: true, mfaThresholdUsd: null } });
        this.secondFactorRequired = true;
      });
    }
    schedule.at(TIMES.resumption, 'resumption', null, 1, () =>
      this.platform('resume', { type: 'ResumeWithdrawals', data: { incidentId: INCIDENT_ID, reason: 'Withdrawal services have been restored' } }),
    );
    for (const w of plan.afterResumption) this.withdrawal('resumption', w, REENROLLED_TOKEN);
    schedule.at(TIMES.resumption.plus({ minutes: 23 }), 'resumption', plan.demo.revokedTokenAccount, 0, () => this.revokedTokenRequest());
    if (this.defences === 'off') this.planReimbursements();
    schedule.at(TIMES.holdPolicy, 'hold policy', null, 1, () => this.platform('hold-24h', { type: 'ChangeWithdrawalPolicy', data: { newAddressHoldHours: 24 } }));
    this.planHoldDemo(plan.demo.holdAccount);
    schedule.at(TIMES.incidentClosed, 'closing', null, 1, () =>
      this.incident(INCIDENT_ID, {
        type: 'CloseIncident',
        data: { incidentId: INCIDENT_ID, summary: 'unauthorized withdrawals prevented or reimbursed in full; every 2FA token revoked; 24-hour hold on new whitelisted addresses' },
      }),
    );
  }

  /** Every unauthorized withdrawal reported: pending ones are cancelled (prevented), settled ones become losses. */
  private planReports(incidentId: string, perAccount: readonly (readonly PlannedWithdrawal[])[], start: DateTime, slots: number): void {
    perAccount.forEach((withdrawals, i) => {
      const at = start.plus({ minutes: 10 * Math.floor((i * slots) / perAccount.length) });
      for (const w of withdrawals) {
        this.schedule.at(at, 'reports', w.accountId, 1, () =>
          this.account(w.accountId, `${w.withdrawalId}/unauthorized`, { type: 'ReportUnauthorizedWithdrawal', data: { withdrawalId: w.withdrawalId, incidentId } }, SECURITY),
        );
      }
    });
  }

  private async revokeEveryToken(): Promise<void> {
    const quiet = { log: () => undefined, error: () => undefined };
    const outcome = await new TwoFactorRevocationJob(this.ledger, quiet).run(REVOCATION_ID, `scenario-${this.plan.seed}/revocation`);
    // One TwoFactorTokenRevoked per live token, and the completion.
    this.eventsAppended += outcome.tokensRevoked + 1;
    if (outcome.accountsScanned !== this.plan.accounts.length) {
      throw new ScenarioError(`the revocation job reached ${outcome.accountsScanned} of ${this.plan.accounts.length} accounts`);
    }
  }

  private planReenrolment(): void {
    const early = this.plan.accounts.filter((account) => !account.lateReenrolment);
    const late = this.plan.accounts.filter((account) => account.lateReenrolment);
    const spread = (accounts: readonly AccountPlan[], start: DateTime, slots: number) =>
      accounts.forEach((account, i) => {
        const at = start.plus({ minutes: 30 * Math.floor((i * slots) / accounts.length) });
        this.schedule.at(at, 're-enrolment', account.accountId, 1, () =>
          this.account(account.accountId, REENROLLED_TOKEN, { type: 'EnrolTwoFactor', data: { tokenId: REENROLLED_TOKEN, method: account.reenrolMethod } }),
        );
      });
    spread(early, TIMES.reenrolmentStart, 24);
    spread(late, TIMES.lateReenrolmentStart, 4);
  }

  /** Finance pays back, per asset, exactly the outstanding loss the ledger holds for the account. */
  private planReimbursements(): void {
    const victims = this.plan.victims.filter((victim) => victim.outcome === 'loss');
    victims.forEach((victim, i) => {
      const at = TIMES.reimbursementsStart.plus({ minutes: 15 * Math.floor((i * 24) / victims.length) });
      this.schedule.at(at, 'reimbursements', victim.accountId, 1, () => this.reimburseInFull(victim.accountId));
    });
    const first = victims[0]!.accountId;
    this.schedule.at(TIMES.reimbursementsStart.plus({ hours: 6 }), 'reimbursements', first, 0, () =>
      this.refused('REIMBURSEMENT_EXCEEDS_LOSS', `reimburse ${first} one unit of ETH beyond its loss`, () =>
        this.account(first, 'reimburse-beyond-loss', { type: 'Reimburse', data: { reimbursementId: 'r-extra', incidentId: INCIDENT_ID, asset: 'ETH', amount: '0.000000000000000001' } }, FINANCE),
      ),
    );
  }

  private async reimburseInFull(accountId: string): Promise<void> {
    const { state } = await this.ledger.accounts.load(accountStream(accountId), { refresh: true });
    const losses = state.losses.get(INCIDENT_ID);
    if (!losses || losses.size === 0) throw new ScenarioError(`victim ${accountId} has no loss in ${INCIDENT_ID}`);
    for (const asset of [...losses.keys()].sort()) {
      const { lostMinor, reimbursedMinor } = lossOf(state, INCIDENT_ID, asset);
      const amount = formatAmount(asset, lostMinor - reimbursedMinor);
      const reimbursementId = `r-${INCIDENT_ID}-${asset}`;
      await this.account(accountId, reimbursementId, { type: 'Reimburse', data: { reimbursementId, incidentId: INCIDENT_ID, asset, amount } }, FINANCE);
    }
  }

  // ---- rules shown by refusals --------------------------------------------------------------------------------------

  private async haltedRequest(): Promise<void> {
    const account = this.accountPlan(this.plan.demo.haltedAccount);
    const w = this.demoWithdrawal(account, 'w-halted', account.ownAddress.address);
    await this.refused('WITHDRAWALS_HALTED', `${account.accountId} requests a withdrawal during the halt`, () => this.request(w, ONBOARDING_TOKEN));
  }

  private async revokedTokenRequest(): Promise<void> {
    const account = this.accountPlan(this.plan.demo.revokedTokenAccount);
    const w = this.demoWithdrawal(account, 'w-old-token', account.ownAddress.address);
    await this.refused('TWO_FACTOR_REVOKED', `${account.accountId} requests a withdrawal with its revoked pre-incident token`, () =>
      this.request(w, ONBOARDING_TOKEN),
    );
  }

  /** After 10:17 on 2022-01-18 a new address waits 24 hours before its first withdrawal. */
  private planHoldDemo(account: AccountPlan): void {
    const { asset } = account.ownAddress;
    const own = account.ownAddress.address;
    // A second wallet of the customer's (the suffix keeps it a valid-looking hex, bech32 or base58 address).
    const address = `${own.slice(0, -4)}${own.endsWith('cafe') ? 'face' : 'cafe'}`;
    const whitelistedAt = TIMES.holdPolicy.plus({ minutes: 103 });
    const w = { ...this.demoWithdrawal(account, 'w-new-address', address), requestAt: whitelistedAt.plus({ hours: 24, minutes: 30 }) };
    this.schedule.at(whitelistedAt, 'hold policy', account.accountId, 1, () => this.whitelist(account.accountId, asset, address, REENROLLED_TOKEN), {
      mayProve: true,
    });
    this.schedule.at(whitelistedAt.plus({ hours: 1 }), 'hold policy', account.accountId, 0, () =>
      this.refused('ADDRESS_ON_HOLD', `${account.accountId} withdraws to an address whitelisted an hour earlier`, () => this.request(w, REENROLLED_TOKEN)),
      { mayProve: true },
    );
    this.withdrawal('hold policy', { ...w, approveAt: w.requestAt.plus({ minutes: 1 }), settleAt: w.requestAt.plus({ minutes: 10 }) }, REENROLLED_TOKEN);
  }

  private demoWithdrawal(account: AccountPlan, withdrawalId: string, address: string): PlannedWithdrawal {
    const { asset } = account.ownAddress;
    const deposit = account.deposits.find((candidate) => candidate.asset === asset)!;
    const amountMinor = deposit.amountMinor / 10n > 0n ? deposit.amountMinor / 10n : deposit.amountMinor;
    return { accountId: account.accountId, withdrawalId, asset, amountMinor, address, requestAt: TIMES.detection, approveAt: null, settleAt: null };
  }

  private accountPlan(accountId: string): AccountPlan {
    const account = this.plan.accounts.find((candidate) => candidate.accountId === accountId);
    if (!account) throw new ScenarioError(`no planned account ${accountId}`);
    return account;
  }

  // ---- the protection programme (February to April 2022) -------------------------------------------------------------

  private planProgramme(): void {
    const { plan, schedule } = this;
    const enrolAt = TIMES.programmeStart.plus({ hours: 9 });
    const enrol = (accountId: string) => this.account(accountId, 'protection', { type: 'EnrolInProtectionProgramme', data: {} });
    for (const accountId of [plan.januaryClaim.accountId, ...plan.protectionEnrolments]) schedule.at(enrolAt, 'protection programme', accountId, 1, () => enrol(accountId));
    for (const c of plan.claimCases) {
      schedule.at(enrolAt, 'protection programme', c.accountId, 2, async () => {
        await this.account(c.accountId, 'mfa', { type: 'SetMfa', data: { enabled: true, transactionTypes: [...c.mfa] } });
        await enrol(c.accountId);
      });
      if (c.antiPhishingAt) {
        schedule.at(c.antiPhishingAt, 'protection programme', c.accountId, 1, () => this.account(c.accountId, 'anti-phishing-code', { type: 'SetAntiPhishingCode', data: {} }));
      }
    }
    // With defences on, there is no January loss to claim for.
    if (this.defences === 'off') {
      this.planClaim(plan.januaryClaim);
      const notEnrolled = plan.demo.notEnrolledVictim;
      schedule.at(plan.januaryClaim.at.plus({ minutes: 5 }), 'protection programme', notEnrolled, 0, () =>
        this.refused('PROTECTION_NOT_ENROLLED', `${notEnrolled} claims for its January loss without having enrolled`, () =>
          this.account(notEnrolled, 'claim-1', { type: 'FileProtectionClaim', data: { claimId: 'claim-1', withdrawalId: 'w-1', ...plan.januaryClaim.declaration } }, CLAIMS_DESK),
        ),
      );
    }
    for (const asset of SCENARIO_ASSETS) {
      schedule.at(TIMES.marchPrices, 'prices', null, 1, () => this.price({ type: 'RecordPrice', data: { asset, usd: MARCH_PRICES[asset] } }, '2022-03-01'));
    }
    this.planPhishing();
  }

  private planPhishing(): void {
    const { plan, schedule } = this;
    for (const c of plan.claimCases) {
      for (const { asset, address, at } of c.attack.whitelist) {
        schedule.at(at, 'phishing', c.accountId, 1, () => this.whitelist(c.accountId, asset, address, REENROLLED_TOKEN), { mayProve: true });
      }
      // The phishers had the customer's password and one-time code: the re-enrolled token, valid in the ledger.
      for (const w of c.attack.withdrawals) this.withdrawal('phishing', w, REENROLLED_TOKEN);
    }
    schedule.at(TIMES.phishingDetected, 'phishing', null, 1, () =>
      this.incident(PHISHING_INCIDENT_ID, { type: 'OpenIncident', data: { incidentId: PHISHING_INCIDENT_ID, title: PHISHING_INCIDENT_TITLE } }),
    );
    this.planReports(PHISHING_INCIDENT_ID, plan.claimCases.map((c) => c.attack.withdrawals), TIMES.phishingDetected.plus({ minutes: 30 }), 1);
    for (const c of plan.claimCases) for (const claim of c.claims) this.planClaim(claim);
    const eligible = plan.claimCases[0]!.claims[0]!;
    schedule.at(TIMES.claimsFiled.plus({ days: 10 }), 'claims', eligible.accountId, 0, () =>
      this.refused('PROTECTION_WITHDRAWAL_ALREADY_CLAIMED', `${eligible.accountId} claims ${eligible.withdrawalId} a second time`, () =>
        this.account(eligible.accountId, 'claim-again', { type: 'FileProtectionClaim', data: { ...eligible.declaration, claimId: 'claim-again', withdrawalId: eligible.withdrawalId } }, CLAIMS_DESK),
      ),
    );
    schedule.at(TIMES.phishingClosed, 'closing', null, 1, () =>
      this.incident(PHISHING_INCIDENT_ID, { type: 'CloseIncident', data: { incidentId: PHISHING_INCIDENT_ID, summary: 'claims decided under the account protection programme' } }),
    );
  }

  private planClaim(claim: PlannedClaim): void {
    this.schedule.at(claim.at, 'claims', claim.accountId, 2, async () => {
      const { claimId, withdrawalId, declaration } = claim;
      await this.account(claim.accountId, claimId, { type: 'FileProtectionClaim', data: { claimId, withdrawalId, ...declaration } }, CLAIMS_DESK);
      await this.checkDecision(claim);
    });
  }

  /** The programme must decide each planned claim as the plan expects (approved, capped, or denied for these reasons). */
  private async checkDecision(claim: PlannedClaim): Promise<void> {
    for await (const decision of this.store.readStream(accountStream(claim.accountId), { direction: 'backwards', maxCount: 1 })) {
      const data = decision.data as { claimId: string; capped?: boolean; reasons?: string[] };
      const actual =
        decision.type === 'ProtectionClaimApproved' ? { approved: true, capped: data.capped } : { approved: false, reasons: data.reasons };
      if (data.claimId !== claim.claimId || JSON.stringify(actual) !== JSON.stringify(claim.expected)) {
        throw new ScenarioError(`claim ${claim.claimId} of ${claim.accountId}: expected ${JSON.stringify(claim.expected)}, the ledger decided ${JSON.stringify(actual)}`);
      }
      this.claimsChecked += 1;
    }
  }
}
