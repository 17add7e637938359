import { KnownPositions } from './known-positions';

describe('KnownPositions', () => {
  it('finds the greatest known position at or before a bound', () => {
    const known = new KnownPositions();
    for (const position of [900n, 100n, 500n, 500n]) known.add(position);
    expect(known.size).toBe(3);
    expect(known.floor(99n)).toBeUndefined();
    expect(known.floor(100n)).toBe(100n);
    expect(known.floor(101n)).toBe(100n);
    expect(known.floor(899n)).toBe(500n);
    expect(known.floor(10_000n)).toBe(900n);
  });

  it('stays bounded, always keeps the greatest position, and still answers at or before the bound', () => {
    const known = new KnownPositions(8);
    for (let position = 1n; position <= 1_000n; position += 1n) known.add(position * 10n);
    expect(known.size).toBeLessThanOrEqual(8);
    expect(known.floor(10_000n)).toBe(10_000n);
    for (const bound of [5n, 15n, 5_005n, 9_999n]) {
      const floor = known.floor(bound);
      if (floor !== undefined) expect(floor).toBeLessThanOrEqual(bound);
    }
  });

  it('refuses a capacity that could not keep a position', () => {
    expect(() => new KnownPositions(1)).toThrow(/at least 2/);
  });
});
