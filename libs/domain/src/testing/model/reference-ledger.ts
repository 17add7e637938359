/**
 * A small reference model of the whole ledger, written independently of the deciders (no import from the domain):
 * plain mutable maps, times as epoch milliseconds, amounts as bigint minor units. For each step it says whether the
 * ledger must refuse it (and with which codes any refusal may come: a command can break several rules at once, and
 * which one the decider names first is its own business) or accept it, and then what the ledger holds afterwards.
 * model-based.spec.ts runs random step sequences through it and through the real deciders and compares the two.
 */
import { ids, MODEL_ASSET_DECIMALS, MODEL_TRANSACTION_TYPES, type AmountChoice, type ModelAsset, type ModelMethod, type ModelTransactionType, type Step, type WithdrawalStep } from './steps';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const MODEL_PROGRAMME_START_MS = Date.parse('2022-02-01T00:00:00Z');
export const MODEL_PAYOUT_CAP_CENTS = 25_000_000n;

export interface ModelBalance { deposited: bigint; reimbursed: bigint; held: bigint; withdrawn: bigint }
export interface ModelLoss { lost: bigint; reimbursed: bigint; paidOut: bigint }
type WithdrawalStatus = 'requested' | 'approved' | 'settled' | 'rejected' | 'cancelled';
interface ModelWithdrawal {
  asset: ModelAsset;
  amount: bigint;
  address: string;
  token: string;
  requestedAtMs: number;
  status: WithdrawalStatus;
  reportedIn: string | null;
  lossIn: string | null;
  mfaAllAtRequest: boolean;
}
interface ModelAccount {
  balances: Map<ModelAsset, ModelBalance>;
  deposits: Set<string>;
  tokens: Map<string, { method: ModelMethod; enrolledAtMs: number; revoked: boolean }>;
  /** Keyed by asset and address: when the address becomes withdrawable. */
  addresses: Map<string, number>;
  withdrawals: Map<string, ModelWithdrawal>;
  losses: Map<string, ModelLoss>;
  reimbursements: Set<string>;
  antiPhishingFirstSetMs: number | null;
  mfa: Set<ModelTransactionType>;
  protectionEnrolled: boolean;
  claims: Map<string, { status: 'approved' | 'denied'; payoutCents: bigint }>;
  claimedWithdrawals: Set<string>;
  payoutCents: bigint;
}

/** What both sides are compared on after every step. */
export interface Observation {
  readonly accounts: Record<string, {
    balances: Record<string, { deposited: bigint; reimbursed: bigint; held: bigint; withdrawn: bigint; available: bigint }>;
    withdrawals: Record<string, string>;
    /** Whether each token may authorise a withdrawal now (rule 2). */
    tokensValid: Record<string, boolean>;
    losses: Record<string, ModelLoss>;
    claims: Record<string, { status: string; payoutCents: bigint }>;
    payoutCents: bigint;
    addresses: string[];
  }>;
  readonly halted: boolean;
  readonly holdHours: number;
  readonly incidents: Record<string, string>;
  readonly pricesCents: Record<string, bigint>;
}

/** The step as the ledger receives it: relative amounts resolved against the model's state. */
export type Outcome = { readonly accepted: true } | { readonly accepted: false; readonly codes: ReadonlySet<string> };

const lossKey = (incident: string, asset: ModelAsset) => `${incident}/${asset}`;
const addressKey = (asset: ModelAsset, address: string) => `${asset}:${address}`;

function emptyAccount(): ModelAccount {
  return {
    balances: new Map(), deposits: new Set(), tokens: new Map(), addresses: new Map(), withdrawals: new Map(), losses: new Map(),
    reimbursements: new Set(), antiPhishingFirstSetMs: null, mfa: new Set(), protectionEnrolled: false, claims: new Map(),
    claimedWithdrawals: new Set(), payoutCents: 0n,
  };
}

function balance(account: ModelAccount, asset: ModelAsset): ModelBalance {
  let entry = account.balances.get(asset);
  if (!entry) account.balances.set(asset, (entry = { deposited: 0n, reimbursed: 0n, held: 0n, withdrawn: 0n }));
  return entry;
}
const available = (b: ModelBalance) => b.deposited + b.reimbursed - b.held - b.withdrawn;

function loss(account: ModelAccount, incident: string, asset: ModelAsset): ModelLoss {
  let entry = account.losses.get(lossKey(incident, asset));
  if (!entry) account.losses.set(lossKey(incident, asset), (entry = { lost: 0n, reimbursed: 0n, paidOut: 0n }));
  return entry;
}
const outstanding = (l: ModelLoss) => l.lost - l.reimbursed - l.paidOut;

/** Cents, rounded half up, of `minor` units at a price in cents per whole unit. */
function valueCents(asset: ModelAsset, minor: bigint, priceCents: bigint): bigint {
  const unit = 10n ** BigInt(MODEL_ASSET_DECIMALS[asset]);
  return (minor * priceCents * 2n + unit) / (2n * unit);
}

export class ReferenceLedger {
  nowMs: number;
  readonly accounts = new Map<string, ModelAccount>();
  readonly incidents = new Map<string, 'open' | 'closed'>();
  readonly pricesCents = new Map<ModelAsset, bigint>();
  readonly revocations = new Set<string>();
  latestRevocationMs: number | null = null;
  halted = false;
  holdHours = 24;

  constructor(startMs: number) {
    this.nowMs = startMs;
  }

  /** A relative amount resolved against this model's state before the step (both sides then get the same number). */
  resolveAmount(step: Step, choice: AmountChoice): bigint {
    if (choice.kind === 'fixed') return choice.minor;
    let all = 0n;
    const account = 'account' in step ? this.accounts.get(ids.account(step.account)) : undefined;
    if (account && step.type === 'request') all = available(account.balances.get(step.asset) ?? { deposited: 0n, reimbursed: 0n, held: 0n, withdrawn: 0n });
    if (account && step.type === 'reimburse') {
      const l = account.losses.get(lossKey(ids.incident(step.incident), step.asset));
      all = l ? outstanding(l) : 0n;
    }
    return choice.kind === 'all' ? all : all + 1n;
  }

  tokenValid(account: ModelAccount, tokenId: string): boolean {
    const token = account.tokens.get(tokenId);
    if (!token || token.revoked) return false;
    return this.latestRevocationMs === null || token.enrolledAtMs > this.latestRevocationMs;
  }

  /** Runs one step: refused with the codes any refusal may carry, or accepted and applied. */
  apply(step: Step, amount: bigint | null): Outcome {
    const codes = new Set<string>();
    const refuse = (code: string): Outcome => ({ accepted: false, codes: codes.add(code) });
    const done = (): Outcome => (codes.size > 0 ? { accepted: false, codes } : { accepted: true });
    switch (step.type) {
      case 'advance':
        this.nowMs += step.minutes * 60_000;
        return done();
      case 'openIncident': {
        const id = ids.incident(step.incident);
        if (this.incidents.has(id)) return refuse('INCIDENT_ALREADY_EXISTS');
        this.incidents.set(id, 'open');
        return done();
      }
      case 'closeIncident': {
        const status = this.incidents.get(ids.incident(step.incident));
        if (status === undefined) return refuse('INCIDENT_NOT_FOUND');
        if (status === 'closed') return refuse('INCIDENT_NOT_OPEN');
        this.incidents.set(ids.incident(step.incident), 'closed');
        return done();
      }
      case 'halt': {
        if (this.halted) codes.add('WITHDRAWALS_ALREADY_HALTED');
        this.requireOpenIncident(step.incident, codes);
        if (codes.size === 0) this.halted = true;
        return done();
      }
      case 'resume': {
        if (!this.halted) codes.add('WITHDRAWALS_NOT_HALTED');
        if (step.incident !== null && !this.incidents.has(ids.incident(step.incident))) codes.add('INCIDENT_NOT_FOUND');
        if (codes.size === 0) this.halted = false;
        return done();
      }
      case 'revokeAll':
        return this.revokeAll(step, codes);
      case 'holdPolicy':
        if (step.hours === this.holdHours) return refuse('WITHDRAWAL_POLICY_UNCHANGED');
        this.holdHours = step.hours;
        return done();
      case 'price':
        if (step.usdCents <= 0n) return refuse('PRICE_NOT_POSITIVE');
        this.pricesCents.set(step.asset, step.usdCents);
        return done();
      case 'open': {
        const id = ids.account(step.account);
        if (this.accounts.has(id)) return refuse('ACCOUNT_ALREADY_OPEN');
        this.accounts.set(id, emptyAccount());
        return done();
      }
      default: {
        const account = this.accounts.get(ids.account(step.account));
        if (!account) return refuse('ACCOUNT_NOT_FOUND');
        this.applyToAccount(step, account, amount, codes);
        return done();
      }
    }
  }

  private requireOpenIncident(index: number | null, codes: Set<string>): void {
    if (index === null) return;
    const status = this.incidents.get(ids.incident(index));
    if (status === undefined) codes.add('INCIDENT_NOT_FOUND');
    else if (status === 'closed') codes.add('INCIDENT_NOT_OPEN');
  }

  private revokeAll(step: Extract<Step, { type: 'revokeAll' }>, codes: Set<string>): Outcome {
    if (this.revocations.has(ids.revocation(step.revocation))) codes.add('TWO_FACTOR_REVOCATION_ALREADY_RECORDED');
    this.requireOpenIncident(step.incident, codes);
    if (codes.size > 0) return { accepted: false, codes };
    this.revocations.add(ids.revocation(step.revocation));
    this.latestRevocationMs = this.nowMs;
    // The revocation job then revokes, on every account, each token enrolled at or before the revocation.
    for (const account of this.accounts.values()) {
      for (const token of account.tokens.values()) if (token.enrolledAtMs <= this.nowMs) token.revoked = true;
    }
    return { accepted: true };
  }

  // One case per account command, as the decider has one function per command.
  private applyToAccount(step: Step, account: ModelAccount, amount: bigint | null, codes: Set<string>): void {
    switch (step.type) {
      case 'deposit': {
        if (amount! <= 0n) codes.add('AMOUNT_NOT_POSITIVE');
        if (account.deposits.has(ids.deposit(step.deposit))) codes.add('DEPOSIT_ALREADY_RECORDED');
        if (codes.size > 0) return;
        account.deposits.add(ids.deposit(step.deposit));
        balance(account, step.asset).deposited += amount!;
        return;
      }
      case 'enrol':
        if (account.tokens.has(ids.token(step.token))) codes.add('TWO_FACTOR_TOKEN_ALREADY_ENROLLED');
        else account.tokens.set(ids.token(step.token), { method: step.method, enrolledAtMs: this.nowMs, revoked: false });
        return;
      case 'revokeToken': {
        const token = account.tokens.get(ids.token(step.token));
        if (!token) codes.add('TWO_FACTOR_TOKEN_NOT_FOUND');
        else if (token.revoked) codes.add('TWO_FACTOR_TOKEN_ALREADY_REVOKED');
        else token.revoked = true;
        return;
      }
      case 'whitelist': {
        const key = addressKey(step.asset, ids.address(step.asset, step.address));
        if (account.addresses.has(key)) codes.add('ADDRESS_ALREADY_WHITELISTED');
        else account.addresses.set(key, this.nowMs + this.holdHours * HOUR_MS);
        return;
      }
      case 'removeAddress': {
        const key = addressKey(step.asset, ids.address(step.asset, step.address));
        if (!account.addresses.delete(key)) codes.add('ADDRESS_NOT_WHITELISTED');
        return;
      }
      case 'request':
        return this.request(step, account, amount!, codes);
      case 'approve':
      case 'settle':
        return this.approveOrSettle(step, account, codes);
      case 'reject':
      case 'cancel': {
        const withdrawal = account.withdrawals.get(ids.withdrawal(step.withdrawal));
        if (!withdrawal) codes.add('WITHDRAWAL_NOT_FOUND');
        else if (!isPending(withdrawal)) codes.add('WITHDRAWAL_ALREADY_FINAL');
        else finish(account, withdrawal, step.type === 'reject' ? 'rejected' : 'cancelled');
        return;
      }
      case 'report':
        return this.report(step, account, codes);
      case 'reimburse':
        return this.reimburse(step, account, amount!, codes);
      case 'antiPhishing':
        account.antiPhishingFirstSetMs ??= this.nowMs;
        return;
      case 'mfa': {
        const changed = step.types.filter((type) => account.mfa.has(type) !== step.enabled);
        if (changed.length === 0) codes.add('MFA_UNCHANGED');
        for (const type of changed) {
          if (step.enabled) account.mfa.add(type);
          else account.mfa.delete(type);
        }
        return;
      }
      case 'enrolProtection':
        if (account.protectionEnrolled) codes.add('PROTECTION_ALREADY_ENROLLED');
        account.protectionEnrolled = true;
        return;
      case 'claim':
        return this.claim(step, account, codes);
      default:
        throw new Error(`not an account step: ${step.type}`);
    }
  }

  private addressProblem(account: ModelAccount, asset: ModelAsset, address: string): string | null {
    const withdrawableFrom = account.addresses.get(addressKey(asset, address));
    if (withdrawableFrom === undefined) return 'ADDRESS_NOT_WHITELISTED';
    return this.nowMs < withdrawableFrom ? 'ADDRESS_ON_HOLD' : null;
  }

  private tokenProblem(account: ModelAccount, tokenId: string): string | null {
    if (!account.tokens.has(tokenId)) return 'TWO_FACTOR_TOKEN_NOT_FOUND';
    return this.tokenValid(account, tokenId) ? null : 'TWO_FACTOR_REVOKED';
  }

  private request(step: Extract<Step, { type: 'request' }>, account: ModelAccount, amount: bigint, codes: Set<string>): void {
    const withdrawalId = ids.withdrawal(step.withdrawal);
    const address = ids.address(step.asset, step.address);
    const token = ids.token(step.token);
    if (amount <= 0n) codes.add('AMOUNT_NOT_POSITIVE');
    if (account.withdrawals.has(withdrawalId)) codes.add('WITHDRAWAL_ALREADY_EXISTS');
    if (this.halted) codes.add('WITHDRAWALS_HALTED');
    const tokenProblem = this.tokenProblem(account, token);
    if (tokenProblem) codes.add(tokenProblem);
    const addressProblem = this.addressProblem(account, step.asset, address);
    if (addressProblem) codes.add(addressProblem);
    if (amount > available(balance(account, step.asset))) codes.add('INSUFFICIENT_FUNDS');
    if (codes.size > 0) return;
    const mfaAllAtRequest = MODEL_TRANSACTION_TYPES.every((type) => account.mfa.has(type));
    account.withdrawals.set(withdrawalId, {
      asset: step.asset, amount, address, token, requestedAtMs: this.nowMs, status: 'requested', reportedIn: null, lossIn: null, mfaAllAtRequest,
    });
    balance(account, step.asset).held += amount;
  }

  private approveOrSettle(step: WithdrawalStep, account: ModelAccount, codes: Set<string>): void {
    const withdrawal = account.withdrawals.get(ids.withdrawal(step.withdrawal));
    if (!withdrawal) return void codes.add('WITHDRAWAL_NOT_FOUND');
    if (step.type === 'approve' && withdrawal.status === 'approved') return void codes.add('WITHDRAWAL_ALREADY_APPROVED');
    if (!isPending(withdrawal)) return void codes.add('WITHDRAWAL_ALREADY_FINAL');
    if (step.type === 'settle' && withdrawal.status !== 'approved') return void codes.add('WITHDRAWAL_NOT_APPROVED');
    if (this.halted) codes.add('WITHDRAWALS_HALTED');
    const tokenProblem = this.tokenProblem(account, withdrawal.token);
    if (tokenProblem) codes.add(tokenProblem);
    const addressProblem = this.addressProblem(account, withdrawal.asset, withdrawal.address);
    if (addressProblem) codes.add(addressProblem);
    if (codes.size > 0) return;
    if (step.type === 'approve') withdrawal.status = 'approved';
    else finish(account, withdrawal, 'settled');
  }

  private report(step: Extract<Step, { type: 'report' }>, account: ModelAccount, codes: Set<string>): void {
    const withdrawal = account.withdrawals.get(ids.withdrawal(step.withdrawal));
    if (!withdrawal) return void codes.add('WITHDRAWAL_NOT_FOUND');
    const incident = ids.incident(step.incident);
    this.requireOpenIncident(step.incident, codes);
    if (codes.size > 0) return;
    if (withdrawal.reportedIn !== null) return void codes.add('UNAUTHORIZED_ALREADY_REPORTED');
    if (withdrawal.status === 'rejected' || withdrawal.status === 'cancelled') return void codes.add('WITHDRAWAL_ALREADY_FINAL');
    withdrawal.reportedIn = incident;
    if (withdrawal.status === 'settled') {
      withdrawal.lossIn = incident;
      loss(account, incident, withdrawal.asset).lost += withdrawal.amount;
    } else {
      finish(account, withdrawal, 'cancelled');
    }
  }

  private reimburse(step: Extract<Step, { type: 'reimburse' }>, account: ModelAccount, amount: bigint, codes: Set<string>): void {
    const incident = ids.incident(step.incident);
    if (amount <= 0n) codes.add('AMOUNT_NOT_POSITIVE');
    if (account.reimbursements.has(ids.reimbursement(step.reimbursement))) codes.add('REIMBURSEMENT_ALREADY_RECORDED');
    // A closed incident may still be reimbursed: only an unknown one is refused.
    if (!this.incidents.has(incident)) codes.add('INCIDENT_NOT_FOUND');
    const current = account.losses.get(lossKey(incident, step.asset));
    if (amount > (current ? outstanding(current) : 0n)) codes.add('REIMBURSEMENT_EXCEEDS_LOSS');
    if (codes.size > 0) return;
    account.reimbursements.add(ids.reimbursement(step.reimbursement));
    loss(account, incident, step.asset).reimbursed += amount;
    balance(account, step.asset).reimbursed += amount;
  }

  private claim(step: Extract<Step, { type: 'claim' }>, account: ModelAccount, codes: Set<string>): void {
    const claimId = ids.claim(step.claim);
    const withdrawalId = ids.withdrawal(step.withdrawal);
    if (this.nowMs < MODEL_PROGRAMME_START_MS) codes.add('PROTECTION_PROGRAMME_NOT_STARTED');
    if (!account.protectionEnrolled) codes.add('PROTECTION_NOT_ENROLLED');
    if (account.claims.has(claimId)) codes.add('PROTECTION_CLAIM_ALREADY_FILED');
    const withdrawal = account.withdrawals.get(withdrawalId);
    if (!withdrawal) return void codes.add('WITHDRAWAL_NOT_FOUND');
    if (withdrawal.lossIn === null) return void codes.add('WITHDRAWAL_NOT_UNAUTHORIZED');
    if (account.claimedWithdrawals.has(withdrawalId)) codes.add('PROTECTION_WITHDRAWAL_ALREADY_CLAIMED');
    const priceCents = this.pricesCents.get(withdrawal.asset);
    if (priceCents === undefined) codes.add('PRICE_NOT_RECORDED');
    if (codes.size > 0) return;
    account.claimedWithdrawals.add(withdrawalId);
    const theLoss = loss(account, withdrawal.lossIn, withdrawal.asset);
    const left = outstanding(theLoss);
    const claimed = left < withdrawal.amount ? left : withdrawal.amount;
    const firstSet = account.antiPhishingFirstSetMs;
    const eligible =
      withdrawal.requestedAtMs >= MODEL_PROGRAMME_START_MS &&
      withdrawal.mfaAllAtRequest &&
      firstSet !== null && firstSet <= withdrawal.requestedAtMs - 21 * DAY_MS &&
      step.policeReport && step.policeCopy && step.questionnaire && !step.jailbroken &&
      claimed > 0n;
    if (!eligible) {
      account.claims.set(claimId, { status: 'denied', payoutCents: 0n });
      return;
    }
    const claimedCents = valueCents(withdrawal.asset, claimed, priceCents!);
    const room = MODEL_PAYOUT_CAP_CENTS - account.payoutCents;
    const payout = claimedCents < room ? claimedCents : room > 0n ? room : 0n;
    // A capped payout compensates its share of the loss, rounded up to the asset's smallest unit.
    const compensated = claimedCents <= 0n || payout >= claimedCents ? claimed : (claimed * payout + claimedCents - 1n) / claimedCents;
    theLoss.paidOut += compensated;
    account.payoutCents += payout;
    account.claims.set(claimId, { status: 'approved', payoutCents: payout });
  }

  observe(): Observation {
    const accounts: Record<string, Observation['accounts'][string]> = {};
    for (const [id, account] of this.accounts) {
      const balances: Observation['accounts'][string]['balances'] = {};
      for (const [asset, b] of account.balances) {
        if (b.deposited + b.reimbursed + b.held + b.withdrawn > 0n) balances[asset] = { ...b, available: available(b) };
      }
      const losses: Record<string, ModelLoss> = {};
      for (const [key, l] of account.losses) if (l.lost + l.reimbursed + l.paidOut > 0n) losses[key] = { ...l };
      accounts[id] = {
        balances,
        withdrawals: Object.fromEntries([...account.withdrawals].map(([wid, w]) => [wid, w.status])),
        tokensValid: Object.fromEntries([...account.tokens.keys()].map((tid) => [tid, this.tokenValid(account, tid)])),
        losses,
        claims: Object.fromEntries([...account.claims].map(([cid, c]) => [cid, { ...c }])),
        payoutCents: account.payoutCents,
        addresses: [...account.addresses.keys()].sort(),
      };
    }
    return {
      accounts,
      halted: this.halted,
      holdHours: this.holdHours,
      incidents: Object.fromEntries(this.incidents),
      pricesCents: Object.fromEntries(this.pricesCents),
    };
  }
}

function isPending(withdrawal: ModelWithdrawal): boolean {
  return withdrawal.status === 'requested' || withdrawal.status === 'approved';
}

function finish(account: ModelAccount, withdrawal: ModelWithdrawal, status: 'settled' | 'rejected' | 'cancelled'): void {
  const b = balance(account, withdrawal.asset);
  b.held -= withdrawal.amount;
  if (status === 'settled') b.withdrawn += withdrawal.amount;
  withdrawal.status = status;
}
