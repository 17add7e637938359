import { canonicalPrice, formatAmount, PROTECTION_DENIAL_REASONS, toMinor, valueUsd } from '@app/domain';
import { impliedPriceE8, januaryPricesE8, OTHER_ASSET_LOSSES, PUBLISHED, SCENARIO_ASSETS, TIMES } from './facts';
import { CLAIM_CASES, lostTotalsMinor, MIN_ACCOUNTS, planScenario, splitExact, VICTIMS_WITH_LOSSES } from './plan';
import { Prng } from './prng';

describe('the prices the public figures imply', () => {
  test('4836.26 ETH at 3128.97073358 is exactly US$15,132,516.00; 443.93 BTC at 41929.20054964 is exactly US$18,613,630.00', () => {
    const prices = januaryPricesE8();
    expect(canonicalPrice(prices.ETH)).toBe('3128.97073358');
    expect(canonicalPrice(prices.BTC)).toBe('41929.20054964');
    expect(valueUsd('ETH', toMinor('ETH', PUBLISHED.ethLost), prices.ETH)).toBe('15132516.00');
    expect(valueUsd('BTC', toMinor('BTC', PUBLISHED.btcLost), prices.BTC)).toBe('18613630.00');
  });

  test('the rounded prices coverage quotes do not give the quoted dollar figures', () => {
    expect(valueUsd('ETH', toMinor('ETH', PUBLISHED.ethLost), 312_900_000_000n)).toBe('15132657.54');
    expect(valueUsd('BTC', toMinor('BTC', PUBLISHED.btcLost), 4_192_950_000_000n)).toBe('18613762.94');
  });

  test('the other assets lost are worth exactly US$66,200.00 at their prices', () => {
    const prices = januaryPricesE8();
    const cents = Object.entries(OTHER_ASSET_LOSSES).reduce(
      (sum, [asset, { amount }]) => sum + toMinor('USD', valueUsd(asset as 'USDC', toMinor(asset as 'USDC', amount), prices[asset as 'USDC'])),
      0n,
    );
    expect(formatAmount('USD', cents)).toBe('66200');
    expect(Object.keys(OTHER_ASSET_LOSSES)).toHaveLength(4);
  });

  test('a figure no 8-decimal price reaches is refused loudly', () => {
    // One step of 10^-8 USD per ETH moves 123,456,789 ETH by US$1.23: most cents cannot be reached.
    expect(() => impliedPriceE8('ETH', '123456789', '1.01')).toThrow(/no 8-decimal ETH price/);
    // One wei worth a dollar needs a price of 10^18 USD, beyond what a recorded price may be.
    expect(() => impliedPriceE8('ETH', '0.000000000000000001', '1.00')).toThrow(/no 8-decimal ETH price/);
  });
});

describe('exact splits', () => {
  test('443.93 BTC split 483 ways by uneven weights adds up to the last satoshi, every part at least one granule', () => {
    const random = new Prng(7);
    const weights = Array.from({ length: 483 }, () => 1 + random.int(1_000));
    const parts = splitExact('BTC', toMinor('BTC', '443.93'), weights);
    expect(parts).toHaveLength(483);
    expect(formatAmount('BTC', parts.reduce((sum, part) => sum + part, 0n))).toBe('443.93');
    expect(parts.every((part) => part >= 1_000n && part % 1_000n === 0n)).toBe(true);
  });

  test('a total that is not a whole number of granules is a broken invariant', () => {
    expect(() => splitExact('ETH', toMinor('ETH', '1.00001'), [1, 1])).toThrow(/granules/);
  });
});

describe('the plan', () => {
  const plan = planScenario(20_220_117, 600);

  test('exactly 483 distinct accounts are attacked; a minority lose a settled withdrawal, the majority lose nothing', () => {
    const victims = new Set(plan.victims.map((victim) => victim.accountId));
    expect(victims.size).toBe(483);
    for (const victim of plan.victims) {
      const settled = victim.withdrawals.filter((w) => w.settleAt !== null);
      // "In the majority of cases we prevented the unauthorized withdrawal": a prevented account has nothing settled.
      if (victim.outcome === 'loss') expect(settled.length).toBeGreaterThan(0);
      else expect(settled).toEqual([]);
      for (const w of victim.withdrawals) expect(w.requestAt < TIMES.detection && (w.settleAt ?? w.approveAt ?? w.requestAt) < TIMES.detection).toBe(true);
    }
    const withLosses = plan.victims.filter((victim) => victim.outcome === 'loss').length;
    expect(withLosses).toBe(VICTIMS_WITH_LOSSES);
    expect(withLosses * 2).toBeLessThan(plan.victims.length);
    const withdrawals = plan.victims.flatMap((victim) => victim.withdrawals);
    expect(withdrawals.filter((w) => w.settleAt === null).length * 2).toBeGreaterThan(withdrawals.length);
  });

  test('the settled unauthorized withdrawals add up to the published totals, asset by asset', () => {
    const lost = new Map<string, bigint>();
    for (const w of plan.victims.flatMap((victim) => victim.withdrawals).filter((w) => w.settleAt !== null)) {
      lost.set(w.asset, (lost.get(w.asset) ?? 0n) + w.amountMinor);
    }
    const totals = lostTotalsMinor();
    for (const asset of SCENARIO_ASSETS) expect(lost.get(asset)).toBe(totals[asset]);
    expect(formatAmount('ETH', lost.get('ETH')!)).toBe('4836.26');
  });

  test('the claim cases cover approval, the cap, and every denial reason, one denial with several', () => {
    const outcomes = [...CLAIM_CASES.flatMap((c) => c.expected), plan.januaryClaim.expected];
    const reasons = new Set(outcomes.flatMap((outcome) => ('reasons' in outcome ? outcome.reasons : [])));
    expect([...reasons].sort()).toEqual([...PROTECTION_DENIAL_REASONS].sort());
    expect(outcomes.some((outcome) => outcome.approved && !outcome.capped)).toBe(true);
    expect(outcomes.some((outcome) => outcome.approved && outcome.capped)).toBe(true);
    expect(outcomes.some((outcome) => !outcome.approved && outcome.reasons.length > 1)).toBe(true);
  });

  test('the same seed plans the same scenario; another seed another one', () => {
    expect(planScenario(20_220_117, 600)).toEqual(plan);
    expect(planScenario(1, 600).victims.map((victim) => victim.accountId)).not.toEqual(plan.victims.map((victim) => victim.accountId));
  });

  test(`fewer than ${MIN_ACCOUNTS} accounts cannot hold the incident`, () => {
    expect(() => planScenario(1, MIN_ACCOUNTS - 1)).toThrow(RangeError);
  });
});

describe('the seeded generator', () => {
  test('is the same for the same seed, differs for another, and stays in range', () => {
    const draw = (seed: number) => {
      const prng = new Prng(seed);
      return Array.from({ length: 1_000 }, () => prng.int(10));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42).every((value) => value >= 0 && value < 10)).toBe(true);
    expect(new Set(draw(42)).size).toBe(10);
  });

  test('refuses a seed that is not a 32-bit unsigned integer', () => {
    expect(() => new Prng(-1)).toThrow(RangeError);
    expect(() => new Prng(2 ** 32)).toThrow(RangeError);
    expect(() => new Prng(1.5)).toThrow(RangeError);
  });
});
