/**
 * Model-based tests of the deciders (issue 15, part 1): random command sequences over several accounts, the
 * platform, incidents and prices, each step decided by the real deciders (testing/model/decider-ledger.ts) and by an
 * independently written reference model (testing/model/reference-ledger.ts). After every step the two must agree on
 * acceptance (and a refusal's code must be one the model allows), on everything the ledger holds, and the invariants
 * must hold. A failure is shrunk by fast-check to a short sequence and printed with its seed; rerun one with
 * `MODEL_SEED=<seed> MODEL_PATH=<path> npx jest libs/domain/src/model-based.spec.ts`. `MODEL_RUNS` sets the number
 * of sequences (npm run torture runs many more).
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { DeciderLedger, type Decision } from './testing/model/decider-ledger';
import { MODEL_PAYOUT_CAP_CENTS, ReferenceLedger, type Observation } from './testing/model/reference-ledger';
import { MODEL_ASSET_DECIMALS, MODEL_ASSETS, MODEL_TRANSACTION_TYPES, type AmountChoice, type ModelAsset, type Step } from './testing/model/steps';

const START = DateTime.fromISO('2022-01-05T00:00:00Z', { zone: 'utc' });
const RUNS = Number(process.env.MODEL_RUNS ?? 300);
const SEED = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED);

const index = (max: number) => fc.integer({ min: 0, max });
const account = index(2);
const asset = fc.constantFrom<ModelAsset>(...MODEL_ASSETS);

/** Whole units, fractions down to the smallest unit, zero, and amounts relative to the model's state. */
const amount = (assetCode: ModelAsset): fc.Arbitrary<AmountChoice> => {
  const unit = 10n ** BigInt(MODEL_ASSET_DECIMALS[assetCode]);
  return fc.oneof(
    fc.bigInt({ min: 1n, max: 5n }).map((units): AmountChoice => ({ kind: 'fixed', minor: units * unit })),
    fc.bigInt({ min: 0n, max: 3n * unit }).map((minor): AmountChoice => ({ kind: 'fixed', minor })),
    fc.constant<AmountChoice>({ kind: 'all' }),
    fc.constant<AmountChoice>({ kind: 'over' }),
  );
};
const withAmount = <T extends object>(build: (a: ModelAsset) => fc.Arbitrary<T>) => asset.chain(build);

const step = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('open' as const), account }), weight: 2 },
  { arbitrary: withAmount((a) => fc.record({ type: fc.constant('deposit' as const), account, deposit: index(5), asset: fc.constant(a), amount: amount(a) })), weight: 4 },
  { arbitrary: fc.record({ type: fc.constant('enrol' as const), account, token: index(2), method: fc.constantFrom('totp' as const, 'sms' as const, 'webauthn' as const) }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('revokeToken' as const), account, token: index(2) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('whitelist' as const), account, asset, address: index(1) }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('removeAddress' as const), account, asset, address: index(1) }), weight: 1 },
  {
    arbitrary: withAmount((a) =>
      fc.record({ type: fc.constant('request' as const), account, withdrawal: index(5), asset: fc.constant(a), amount: amount(a), address: index(1), token: index(2) }),
    ),
    weight: 6,
  },
  { arbitrary: fc.record({ type: fc.constantFrom('approve' as const, 'settle' as const), account, withdrawal: index(5) }), weight: 6 },
  { arbitrary: fc.record({ type: fc.constantFrom('reject' as const, 'cancel' as const), account, withdrawal: index(5) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('report' as const), account, withdrawal: index(5), incident: index(1) }), weight: 4 },
  {
    arbitrary: withAmount((a) => fc.record({ type: fc.constant('reimburse' as const), account, reimbursement: index(4), incident: index(1), asset: fc.constant(a), amount: amount(a) })),
    weight: 4,
  },
  { arbitrary: fc.record({ type: fc.constantFrom('antiPhishing' as const, 'enrolProtection' as const), account }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('mfa' as const), account, enabled: fc.boolean(), types: fc.oneof(fc.constant(MODEL_TRANSACTION_TYPES), fc.subarray([...MODEL_TRANSACTION_TYPES])) }), weight: 2 },
  {
    arbitrary: fc.record({
      type: fc.constant('claim' as const), account, claim: index(2), withdrawal: index(5),
      policeReport: fc.boolean(), policeCopy: fc.boolean(), questionnaire: fc.boolean(), jailbroken: fc.boolean(),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ type: fc.constantFrom('openIncident' as const, 'closeIncident' as const), incident: index(1) }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constantFrom('halt' as const, 'resume' as const), incident: fc.option(index(1), { nil: null }) }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('revokeAll' as const), revocation: index(2), incident: index(1) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('holdPolicy' as const), hours: fc.constantFrom(0, 1, 24) }), weight: 1 },
  // Prices high enough that a few ETH or BTC reach the protection programme's cap.
  { arbitrary: fc.record({ type: fc.constant('price' as const), asset, usdCents: fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 1_000_000n, max: 15_000_000n })) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('advance' as const), minutes: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1_440, max: 14_400 })) }), weight: 3 },
) as fc.Arbitrary<Step>;

/**
 * Short scripts that reach deep states (a funded account past its hold, a settled withdrawal reported as a loss, an
 * account the protection programme covers), with random parameters; single random steps around them do the rest.
 */
const funded = (a: number, x: ModelAsset, token: number, address: number, units: bigint): Step[] => [
  { type: 'open', account: a },
  { type: 'deposit', account: a, deposit: Number(units), asset: x, amount: { kind: 'fixed', minor: units * 10n ** BigInt(MODEL_ASSET_DECIMALS[x]) } },
  { type: 'enrol', account: a, token, method: 'totp' },
  { type: 'whitelist', account: a, asset: x, address },
  { type: 'advance', minutes: 1_500 },
];
const lost = (a: number, x: ModelAsset, token: number, address: number, withdrawal: number, incident: number, choice: AmountChoice): Step[] => [
  { type: 'openIncident', incident },
  { type: 'request', account: a, withdrawal, asset: x, amount: choice, address, token },
  { type: 'approve', account: a, withdrawal },
  { type: 'settle', account: a, withdrawal },
  { type: 'report', account: a, withdrawal, incident },
];
const protectedAccount = (a: number): Step[] => [
  { type: 'antiPhishing', account: a },
  { type: 'mfa', account: a, enabled: true, types: MODEL_TRANSACTION_TYPES },
  { type: 'enrolProtection', account: a },
  { type: 'advance', minutes: 30 * 1_440 },
];
const scriptParameters = fc.record({
  account, asset, token: index(2), address: index(1), units: fc.bigInt({ min: 1n, max: 6n }), withdrawal: index(5), incident: index(1),
  choice: fc.constantFrom<AmountChoice>({ kind: 'all' }, { kind: 'fixed', minor: 10n ** 6n }), protect: fc.boolean(),
});
const script: fc.Arbitrary<Step[]> = fc.oneof(
  scriptParameters.map((p) => funded(p.account, p.asset, p.token, p.address, p.units)),
  scriptParameters.map((p) => lost(p.account, p.asset, p.token, p.address, p.withdrawal, p.incident, p.choice)),
  scriptParameters.map((p): Step[] => [
    ...(p.protect ? protectedAccount(p.account) : []),
    ...funded(p.account, p.asset, p.token, p.address, p.units),
    ...lost(p.account, p.asset, p.token, p.address, p.withdrawal, p.incident, p.choice),
    { type: 'price', asset: p.asset, usdCents: 10_000_000n },
    { type: 'claim', account: p.account, claim: p.withdrawal % 3, withdrawal: p.withdrawal, policeReport: true, policeCopy: true, questionnaire: true, jailbroken: false },
  ]),
  account.map(protectedAccount),
);

const sequence = (minLength: number, maxLength: number): fc.Arbitrary<Step[]> =>
  fc.array(fc.oneof({ arbitrary: step.map((s) => [s]), weight: 6 }, { arbitrary: script, weight: 1 }), { minLength, maxLength }).map((parts) => parts.flat());

function describeDecision(decision: Decision): string {
  return decision.accepted ? `accepted: ${decision.events.map((e) => e.type).join(', ') || 'no event'}` : `refused ${decision.code}`;
}

/** The invariants of the issue, checked on the real deciders' state and on what the step emitted. */
function checkInvariants(real: DeciderLedger, before: Observation, decision: Decision, s: Step): void {
  const after = real.observe();
  for (const [accountId, account] of Object.entries(after.accounts)) {
    for (const [assetCode, b] of Object.entries(account.balances)) {
      if (b.available < 0n || b.held < 0n) throw new Error(`negative ${assetCode} balance on ${accountId}: ${JSON.stringify(b, bigints)}`);
    }
    for (const [key, l] of Object.entries(account.losses)) {
      if (l.reimbursed + l.paidOut > l.lost) throw new Error(`${accountId} compensated beyond its loss in ${key}: ${JSON.stringify(l, bigints)}`);
    }
    if (account.payoutCents > MODEL_PAYOUT_CAP_CENTS) throw new Error(`${accountId} paid out ${account.payoutCents} cents, over the cap`);
  }
  if (!decision.accepted) return;
  for (const event of decision.events) {
    const moves = event.type === 'WithdrawalRequested' || event.type === 'WithdrawalApproved' || event.type === 'WithdrawalSettled';
    if (!moves || !('account' in s)) continue;
    if (before.halted) throw new Error(`${event.type} while withdrawals were halted`);
    const accountId = `acc-${s.account}`;
    const withdrawalId = (event as { data: { withdrawalId: string } }).data.withdrawalId;
    const tokenId = real.accounts.get(accountId)!.withdrawals.get(withdrawalId)!.twoFactorTokenId;
    if (before.accounts[accountId]?.tokensValid[tokenId] !== true) throw new Error(`${event.type} of ${withdrawalId} without a valid token (${tokenId})`);
  }
}

const bigints = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);

/** One sequence: every step through both ledgers, compared after each. */
function runSequence(steps: readonly Step[]): void {
  const model = new ReferenceLedger(START.toMillis());
  const real = new DeciderLedger(START);
  steps.forEach((s, n) => {
    const relative = 'amount' in s ? model.resolveAmount(s, s.amount) : null;
    const before = real.observe();
    const expected = model.apply(s, relative);
    const decision = real.execute(s, relative);
    const where = `step ${n} ${JSON.stringify(s, bigints)}: the deciders ${describeDecision(decision)}`;
    if (expected.accepted !== decision.accepted) {
      throw new Error(`${where}; the model ${expected.accepted ? 'accepts it' : `refuses it (${[...expected.codes].join(' or ')})`}`);
    }
    if (!expected.accepted && !decision.accepted && !expected.codes.has(decision.code)) {
      throw new Error(`${where}; the model refuses it with ${[...expected.codes].join(' or ')}`);
    }
    checkInvariants(real, before, decision, s);
    const [ours, theirs] = [real.observe(), model.observe()];
    if (JSON.stringify(ours, bigints) !== JSON.stringify(theirs, bigints)) {
      expect({ step: n, command: s, state: theirs }).toEqual({ step: n, command: s, state: ours });
    }
  });
}

describe('the deciders against an independent reference model', () => {
  it(`agree on ${RUNS} random sequences of commands, and the invariants hold after every step`, () => {
    fc.assert(
      fc.property(sequence(10, 60), (steps) => runSequence(steps)),
      { numRuns: RUNS, seed: SEED, path: process.env.MODEL_PATH },
    );
  });

  it('reach the rules they test: a claim is approved, a payout is capped, a loss is reimbursed in full', () => {
    // Coverage of the generator, so that a change that stops it reaching the interesting states fails loudly.
    const reached = { approvedClaim: false, cappedPayout: false, fullyReimbursed: false, haltRefusal: false, revokedRefusal: false };
    fc.assert(
      fc.property(sequence(30, 60), (steps) => {
        const real = new DeciderLedger(START);
        const model = new ReferenceLedger(START.toMillis());
        for (const s of steps) {
          const relative = 'amount' in s ? model.resolveAmount(s, s.amount) : null;
          model.apply(s, relative);
          const decision = real.execute(s, relative);
          if (decision.accepted) {
            for (const e of decision.events as Array<{ type: string; data?: { capped?: boolean } }>) {
              if (e.type === 'ProtectionClaimApproved') reached.approvedClaim = true;
              if (e.type === 'ProtectionClaimApproved' && e.data?.capped) reached.cappedPayout = true;
            }
          } else {
            if (decision.code === 'WITHDRAWALS_HALTED') reached.haltRefusal = true;
            if (decision.code === 'TWO_FACTOR_REVOKED') reached.revokedRefusal = true;
          }
        }
        for (const acc of Object.values(real.observe().accounts)) {
          for (const l of Object.values(acc.losses)) if (l.lost > 0n && l.reimbursed === l.lost) reached.fullyReimbursed = true;
        }
      }),
      { numRuns: 400, seed: 15 },
    );
    expect(reached).toEqual({ approvedClaim: true, cappedPayout: true, fullyReimbursed: true, haltRefusal: true, revokedRefusal: true });
  });
});
