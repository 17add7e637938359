import { InvariantViolation } from '../shared/assert';
import { AMOUNT_MAX_INTEGER_DIGITS, formatAmount, isCanonicalAmount, parseAmount, toMinor } from './amount';
import { ASSET_CODES, assetScale, type AssetCode } from './assets';
import { mulberry32 } from '../testing/random';

const minorOf = (asset: AssetCode, text: unknown): bigint => {
  const parsed = parseAmount(asset, text);
  if (!parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to parse as ${asset}: ${parsed.reason}`);
  return parsed.minor;
};
const reasonOf = (asset: AssetCode, text: unknown): string => {
  const parsed = parseAmount(asset, text);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused as ${asset}, got ${parsed.minor}`);
  return parsed.reason;
};

const randomInt = (random: () => number, below: number): number => Math.floor(random() * below);
const randomDigits = (random: () => number, count: number): string =>
  Array.from({ length: count }, () => String(randomInt(random, 10))).join('');

describe('canonical amounts parse to exact minor units', () => {
  test.each([
    ['ETH', '4836.26', 4836_260000000000000000n],
    ['BTC', '443.93', 443_93000000n],
    ['ETH', '10', 10n * 10n ** 18n],
    ['ETH', '0', 0n],
    ['ETH', '0.000000000000000001', 1n],
    ['BTC', '0.00000001', 1n],
    ['USD', '66200', 6_620_000n],
    ['USDC', '0.5', 500_000n],
  ] as const)('%s %s is %p minor units, and is canonical', (asset, text, minor) => {
    expect(minorOf(asset, text)).toBe(minor);
    expect(formatAmount(asset, minor)).toBe(text);
    expect(isCanonicalAmount(asset, text)).toBe(true);
  });

  test.each([
    ['USD', '1.50', '1.5'],
    ['USD', '10.00', '10'],
    ['ETH', '4836.260', '4836.26'],
    ['ETH', '0.0', '0'],
    ['ETH', '1.000000000000000000', '1'],
    ['BTC', '443.93000000', '443.93'],
  ] as const)('trailing zeros within the scale are accepted and canonicalised: %s %s is %s', (asset, text, canonical) => {
    expect(formatAmount(asset, minorOf(asset, text))).toBe(canonical);
    expect(isCanonicalAmount(asset, text)).toBe(false);
    expect(isCanonicalAmount(asset, canonical)).toBe(true);
  });

  test('the largest accepted amount has 24 integer digits and the full scale', () => {
    const text = `${'9'.repeat(AMOUNT_MAX_INTEGER_DIGITS)}.${'9'.repeat(18)}`;
    expect(minorOf('ETH', text)).toBe(10n ** 42n - 1n);
    expect(isCanonicalAmount('ETH', text)).toBe(true);
  });
});

describe('anything but a plain non-negative decimal string is refused, with a reason', () => {
  test.each([
    ['a JSON number', 10, /not a JSON number/],
    ['a bigint', 10n, /not a JSON number/],
    ['null', null, /not a JSON number/],
    ['an empty string', '', /must not be empty/],
    ['an exponent', '1e3', /no sign, exponent/],
    ['an upper-case exponent', '1E3', /no sign, exponent/],
    ['a negative sign', '-1', /no sign/],
    ['a plus sign', '+1', /no sign/],
    ['hexadecimal', '0x10', /plain decimal/],
    ['a leading space', ' 1', /spaces/],
    ['a trailing space', '1 ', /spaces/],
    ['a trailing newline', '1\n', /spaces/],
    ['a leading zero', '01', /leading zeros/],
    ['leading zeros', '00.5', /leading zeros/],
    ['no integer part', '.5', /plain decimal/],
    ['a bare point', '5.', /plain decimal/],
    ['two points', '1.2.3', /plain decimal/],
    ['a thousands separator', '4,836.26', /plain decimal/],
    ['a decimal comma', '4836,26', /plain decimal/],
    ['Infinity', 'Infinity', /plain decimal/],
    ['NaN', 'NaN', /plain decimal/],
    ['non-ASCII digits', '١٢', /plain decimal/],
  ])('%s (%p)', (_what, text, reason) => {
    expect(reasonOf('ETH', text)).toMatch(reason);
  });

  test('a cent fraction of a cent is refused for USD', () => {
    expect(reasonOf('USD', '0.001')).toBe('USD has 2 decimals; the amount has 3');
  });

  test('19 decimals are refused for ETH', () => {
    expect(reasonOf('ETH', '0.0000000000000000001')).toBe('ETH has 18 decimals; the amount has 19');
  });

  test('9 decimals are refused for BTC', () => {
    expect(reasonOf('BTC', '443.930000001')).toBe('BTC has 8 decimals; the amount has 9');
  });

  test('decimals beyond the scale are refused even when they are zeros', () => {
    expect(reasonOf('USD', '1.500')).toBe('USD has 2 decimals; the amount has 3');
    expect(reasonOf('ETH', '1.0000000000000000000')).toBe('ETH has 18 decimals; the amount has 19');
  });

  test('more than 24 integer digits are refused', () => {
    expect(reasonOf('ETH', `1${'0'.repeat(AMOUNT_MAX_INTEGER_DIGITS)}`)).toBe('must have at most 24 digits before the point');
  });

  test('an absurdly long input is refused before any parsing', () => {
    expect(reasonOf('ETH', '1'.repeat(100_000))).toBe('must be at most 48 characters');
  });

  test('toMinor throws a TypeError for input the edges should have refused', () => {
    expect(() => toMinor('ETH', '1e3')).toThrow(TypeError);
  });

  test('formatting a negative amount is a broken invariant', () => {
    expect(() => formatAmount('ETH', -1n)).toThrow(InvariantViolation);
  });
});

describe('round trips, across every asset scale', () => {
  test('a random decimal text parses, formats to canonical form, and parses back to the same minor units', () => {
    const random = mulberry32(20220117);
    for (let i = 0; i < 5_000; i += 1) {
      const asset = ASSET_CODES[randomInt(random, ASSET_CODES.length)]!;
      const integerDigits = 1 + randomInt(random, AMOUNT_MAX_INTEGER_DIGITS);
      const integerPart = randomDigits(random, integerDigits).replace(/^0+(?=.)/, '');
      const fractionDigits = randomInt(random, assetScale(asset) + 1);
      const text = fractionDigits === 0 ? integerPart : `${integerPart}.${randomDigits(random, fractionDigits)}`;

      const minor = minorOf(asset, text);
      const formatted = formatAmount(asset, minor);
      expect(isCanonicalAmount(asset, formatted)).toBe(true);
      expect(minorOf(asset, formatted)).toBe(minor);
      // The canonical form only drops trailing fraction zeros and a point left with nothing after it.
      expect(formatted).toBe(text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text);
    }
  });

  test('a random minor-unit amount formats and parses back to itself', () => {
    const random = mulberry32(483);
    for (let i = 0; i < 5_000; i += 1) {
      const asset = ASSET_CODES[randomInt(random, ASSET_CODES.length)]!;
      const digits = 1 + randomInt(random, AMOUNT_MAX_INTEGER_DIGITS + assetScale(asset));
      const minor = BigInt(randomDigits(random, digits));
      const formatted = formatAmount(asset, minor);
      expect(isCanonicalAmount(asset, formatted)).toBe(true);
      expect(minorOf(asset, formatted)).toBe(minor);
    }
  });

  test.each(ASSET_CODES)('%s: one minor unit and its neighbours round-trip exactly', (asset) => {
    for (const minor of [0n, 1n, 9n, 10n, 10n ** BigInt(assetScale(asset)) - 1n, 10n ** BigInt(assetScale(asset)), 10n ** BigInt(assetScale(asset)) + 1n]) {
      expect(minorOf(asset, formatAmount(asset, minor))).toBe(minor);
    }
  });
});

describe('exactness: no float anywhere', () => {
  /** Splits a total into `parts` amounts that differ by at most one minor unit, as a payout run would. */
  const split = (asset: AssetCode, total: string, parts: number): string[] => {
    const minor = toMinor(asset, total);
    const base = minor / BigInt(parts);
    const remainder = Number(minor % BigInt(parts));
    return Array.from({ length: parts }, (_, i) => formatAmount(asset, base + (i < remainder ? 1n : 0n)));
  };
  const sum = (asset: AssetCode, amounts: string[]): string => formatAmount(asset, amounts.reduce((total, amount) => total + toMinor(asset, amount), 0n));

  test('4836.26 ETH split across 483 accounts reassembles exactly', () => {
    const parts = split('ETH', '4836.26', 483);
    expect(parts).toHaveLength(483);
    expect(parts[0]).toBe('10.012960662525879918');
    expect(sum('ETH', parts)).toBe('4836.26');
  });

  test('443.93 BTC split across 483 accounts reassembles exactly', () => {
    expect(sum('BTC', split('BTC', '443.93', 483))).toBe('443.93');
  });

  test('amounts a float would round are kept to the last minor unit', () => {
    // 0.1 + 0.2 is 0.30000000000000004 in binary floating point.
    expect(sum('ETH', ['0.1', '0.2'])).toBe('0.3');
    // 2^53 + 1 is not representable as a double.
    expect(formatAmount('USD', minorOf('USD', '90071992547409.93') + 1n)).toBe('90071992547409.94');
    expect(sum('ETH', ['123456789012345678.123456789012345678', '0.000000000000000001'])).toBe('123456789012345678.123456789012345679');
  });
});
