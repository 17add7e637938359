import { toMinor } from './amount';
import { formatUsdCents, parseUsdCents, valueUsd, valueUsdCents } from './valuation';
import { parsePrice } from '../prices/price.decider';

function priceE8(usd: string): bigint {
  const parsed = parsePrice(usd);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.scaled;
}

describe('valueUsd: exact valuation at recorded prices', () => {
  it('values the ETH that left in January 2022 at 3129 USD exactly', () => {
    // 4836.26 * 3129 = 15,132,657.54 (not 15,132,457.54).
    expect(valueUsd('ETH', toMinor('ETH', '4836.26'), priceE8('3129'))).toBe('15132657.54');
  });

  it('rounds half-up to the cent only at the end: 443.93 BTC at 41929.5 USD is 18,613,762.935', () => {
    expect(valueUsd('BTC', toMinor('BTC', '443.93'), priceE8('41929.5'))).toBe('18613762.94');
  });

  it('rounds below half a cent down and half a cent up', () => {
    expect(valueUsd('USDC', toMinor('USDC', '0.004999'), priceE8('1'))).toBe('0.00');
    expect(valueUsd('USDC', toMinor('USDC', '0.005'), priceE8('1'))).toBe('0.01');
    expect(valueUsd('USDC', toMinor('USDC', '0.014999'), priceE8('1'))).toBe('0.01');
  });

  it('keeps the precision of an 18-decimal asset and an 8-decimal price until the end', () => {
    // 1 wei at 0.00000001 USD is 10^-26 USD; 10^24 wei (10^6 ETH) at that price is exactly 0.01 USD.
    expect(valueUsdCents('ETH', 1n, 1n)).toBe(0n);
    expect(valueUsd('ETH', 10n ** 24n, 1n)).toBe('0.01');
    // 0.123456789012345678 ETH at 3129.12345678 USD = 386.31... USD.
    expect(valueUsd('ETH', 123456789012345678n, priceE8('3129.12345678'))).toBe('386.31');
  });

  it('values nothing at zero', () => {
    expect(valueUsd('BTC', 0n, priceE8('41929.5'))).toBe('0.00');
  });

  it('refuses negative amounts and prices (a bug, not an input)', () => {
    expect(() => valueUsd('BTC', -1n, 1n)).toThrow(/negative/);
    expect(() => valueUsd('BTC', 1n, -1n)).toThrow(/negative/);
  });
});

describe('USD cents as text', () => {
  it('always writes two decimals', () => {
    expect(formatUsdCents(0n)).toBe('0.00');
    expect(formatUsdCents(5n)).toBe('0.05');
    expect(formatUsdCents(1513265754n)).toBe('15132657.54');
  });

  it('reads back what it writes and nothing else', () => {
    expect(parseUsdCents('15132657.54')).toBe(1513265754n);
    expect(parseUsdCents('0.05')).toBe(5n);
    expect(() => parseUsdCents('1.5')).toThrow();
    expect(() => parseUsdCents('-1.50')).toThrow();
    expect(() => parseUsdCents('01.50')).toThrow();
  });
});
