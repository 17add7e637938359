import { RateLimiter } from './rate-limiter';

describe('RateLimiter (GCRA)', () => {
  let now = 0;
  const limiter = (limit: number) => new RateLimiter(limit, 1_000, () => now);
  beforeEach(() => {
    now = 1_000_000;
  });

  it('lets a client spend its whole allowance at once, then refuses with the seconds to wait', () => {
    const l = limiter(5);
    const decisions = Array.from({ length: 6 }, () => l.take('a'));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
    expect(decisions[5]!.resetSeconds).toBe(1);
  });

  it('gives back one request per window / limit, so the steady rate is the limit', () => {
    const l = limiter(10);
    for (let i = 0; i < 10; i += 1) expect(l.take('a').allowed).toBe(true);
    expect(l.take('a').allowed).toBe(false);
    now += 100;
    expect(l.take('a').allowed).toBe(true);
    expect(l.take('a').allowed).toBe(false);
    // Over ten seconds at exactly the limit, nothing is refused.
    let refused = 0;
    for (let i = 0; i < 100; i += 1) {
      now += 100;
      if (!l.take('a').allowed) refused += 1;
    }
    expect(refused).toBe(0);
  });

  it('keeps each client on its own allowance, and a refusal costs the client nothing', () => {
    const l = limiter(2);
    l.take('a');
    l.take('a');
    for (let i = 0; i < 50; i += 1) expect(l.take('a').allowed).toBe(false);
    expect(l.take('b').allowed).toBe(true);
    now += 500;
    expect(l.take('a').allowed).toBe(true);
  });

  it('names the wait in whole seconds for a slow limit', () => {
    const l = new RateLimiter(1, 10_000, () => now);
    expect(l.take('a').allowed).toBe(true);
    const refused = l.take('a');
    expect(refused).toMatchObject({ allowed: false, resetSeconds: 10 });
    now += 9_001;
    expect(l.take('a').resetSeconds).toBe(1);
  });

  it('refuses a limit that is not a positive whole number', () => {
    expect(() => limiter(0)).toThrow(/positive whole number/);
    expect(() => limiter(1.5)).toThrow(/positive whole number/);
  });
});
