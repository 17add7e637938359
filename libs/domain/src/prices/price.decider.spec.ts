import { InvariantViolation } from '../shared/assert';
import { priceDecider } from '../decider';
import { at, givenPrices, priceRecorded, recordPrice } from '../testing/given';
import { canonicalPrice, initialPriceState, parsePrice } from './price.decider';

const NOW = '2022-01-17T12:00Z';

describe('recording USD prices', () => {
  test('a price is recorded in canonical form with its time', () => {
    givenPrices([])
      .when(recordPrice('ETH', '3129.00'), at(NOW))
      .thenEvents([{ type: 'AssetPriceRecorded', data: { asset: 'ETH', usd: '3129', recordedAt: '2022-01-17T12:00:00.000Z' }, schemaVersion: 1 }]);
  });

  test('a later price replaces the latest one', () => {
    givenPrices([priceRecorded('BTC', '42000', '2022-01-16T12:00Z')])
      .when(recordPrice('BTC', '41929.50'), at(NOW))
      .thenEvents([priceRecorded('BTC', '41929.5', NOW)])
      .thenState((state) => {
        expect(state.latest?.usd).toBe('41929.5');
        expect(state.latest?.usdE8).toBe(4_192_950_000_000n);
        expect(state.latest?.recordedAt.toMillis()).toBe(at(NOW).toMillis());
      });
  });

  test('the smallest price, 10^-8 USD, is recorded exactly', () => {
    givenPrices([]).when(recordPrice('DOGE', '0.00000001'), at(NOW)).thenEvents([priceRecorded('DOGE', '0.00000001', NOW)]);
  });

  test.each(['0', '0.00'])('a price of %p is PRICE_NOT_POSITIVE', (usd) => {
    givenPrices([]).when(recordPrice('ETH', usd), at(NOW)).thenThrows('PRICE_NOT_POSITIVE');
  });

  test('an unparsed price reaching the decider is a broken invariant', () => {
    expect(() => priceDecider.decide(recordPrice('ETH', '1e3'), initialPriceState(), { now: at(NOW) })).toThrow(InvariantViolation);
  });
});

describe('parsing USD prices', () => {
  test.each([
    ['3129', 312_900_000_000n],
    ['3129.00', 312_900_000_000n],
    ['41929.5', 4_192_950_000_000n],
    ['0.00000001', 1n],
    ['9999999999999999.99999999', 999_999_999_999_999_999_999_999n],
  ])('%p is %p units of 10^-8 USD', (text, scaled) => {
    expect(parsePrice(text)).toEqual({ ok: true, scaled });
  });

  test.each([
    ['a JSON number', 3129],
    ['an exponent', '1e3'],
    ['a negative sign', '-1'],
    ['a plus sign', '+1'],
    ['hexadecimal', '0x10'],
    ['a leading space', ' 1'],
    ['a leading zero', '01'],
    ['no integer part', '.5'],
    ['a bare point', '5.'],
    ['an empty string', ''],
    ['9 decimals', '0.000000001'],
    ['17 integer digits', '12345678901234567'],
    ['an absurdly long input', '1'.repeat(10_000)],
  ])('%s (%p) is refused', (_what, text) => {
    expect(parsePrice(text).ok).toBe(false);
  });

  test('canonical form drops trailing zeros and a bare point', () => {
    expect(canonicalPrice(312_900_000_000n)).toBe('3129');
    expect(canonicalPrice(4_192_950_000_000n)).toBe('41929.5');
    expect(canonicalPrice(1n)).toBe('0.00000001');
    expect(canonicalPrice(0n)).toBe('0');
  });

  test('a recorded price that does not parse is a broken invariant when folded', () => {
    expect(() => priceDecider.evolve(initialPriceState(), priceRecorded('ETH', '1e3', NOW))).toThrow(InvariantViolation);
  });
});
