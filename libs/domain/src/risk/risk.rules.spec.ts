import {
  decodeRiskMemoryDoc,
  DEFAULT_RISK_THRESHOLDS,
  encodeRiskMemoryDoc,
  observeForRisk,
  type ObservedEvent,
  type RiskDetection,
  type RiskMemory,
  type RiskThresholds,
} from './risk.rules';
import { referenceObserveForRisk } from '../testing/risk-rules-reference';

/** The rules' memory as a Map of stored JSON (through the read model's codec), with log positions handed out in order. */
class Log {
  readonly rows = new Map<string, unknown>();
  private position = 0n;
  /** `stored`: every doc goes through the codec and JSON, as the read store keeps it; `memory`: docs stay as put, as the runner's row cache holds them between commits. */
  constructor(private readonly mode: 'stored' | 'memory' = 'stored') {}
  readonly memory: RiskMemory = {
    get: <Doc>(key: string) => {
      if (!this.rows.has(key)) return undefined;
      return (this.mode === 'memory' ? this.rows.get(key) : decodeRiskMemoryDoc(key, this.rows.get(key))) as Doc;
    },
    put: (key, doc) => void this.rows.set(key, this.mode === 'memory' ? doc : JSON.parse(JSON.stringify(encodeRiskMemoryDoc(key, doc)))),
  };

  append(type: string, streamId: string, data: unknown): RiskDetection[] {
    this.position += 1n;
    const event: ObservedEvent = { type, streamId, position: this.position, data };
    return observeForRisk(this.memory, event);
  }

  /** An event at a position the caller chose. */
  appendAt(event: ObservedEvent): RiskDetection[] {
    this.position = event.position;
    return observeForRisk(this.memory, event);
  }

  thresholds(thresholds: Partial<RiskThresholds>): void {
    this.append('RiskRulesChanged', 'risk', { thresholds: { ...DEFAULT_RISK_THRESHOLDS, ...thresholds } });
  }

  whitelist(accountId: string, address: string, atIso: string, amr?: string[]): RiskDetection[] {
    const secondFactor = amr ? { kid: 'k', amr, jti: `j-${this.position}`, proofSha256: 'x' } : undefined;
    return this.append('AddressWhitelisted', `account-${accountId}`, { asset: 'ETH', address, whitelistedAt: atIso, holdHours: 0, withdrawableFrom: atIso, secondFactor });
  }

  withdraw(accountId: string, withdrawalId: string, address: string, atIso: string, amr?: string[]): RiskDetection[] {
    const secondFactor = amr ? { kid: 'k', amr, jti: `j-${this.position}`, proofSha256: 'x' } : undefined;
    return this.append('WithdrawalRequested', `account-${accountId}`, {
      withdrawalId, asset: 'ETH', amount: '1', address, twoFactorTokenId: 't', requestedAt: atIso, ...(secondFactor ? { secondFactor } : {}),
    });
  }
}

const rules = (detections: RiskDetection[]) => detections.map((d) => d.rule);
const minute = (n: number) => new Date(Date.parse('2022-01-17T00:00:00Z') + n * 60_000).toISOString();

describe('fresh-address-withdrawal', () => {
  it('flags a withdrawal to an address whitelisted less than 60 minutes earlier, naming it after its log position', () => {
    const log = new Log();
    log.whitelist('alice', 'a1', minute(0));
    const [hit] = log.withdraw('alice', 'w1', 'a1', minute(12));
    expect(hit).toEqual({
      alertId: 'fresh-address-withdrawal-2',
      rule: 'fresh-address-withdrawal',
      severity: 'medium',
      summary: 'alice withdraws ETH to an address whitelisted 12 minutes earlier',
      accounts: ['alice'],
      withdrawals: [{ accountId: 'alice', withdrawalId: 'w1' }],
      positions: ['2'],
      detectedAt: minute(12),
    });
  });

  it('alerts once per whitelisting, not for each later withdrawal to that address', () => {
    const log = new Log();
    log.whitelist('alice', 'a1', minute(0));
    expect(rules(log.withdraw('alice', 'w1', 'a1', minute(1)))).toEqual(['fresh-address-withdrawal']);
    expect(rules(log.withdraw('alice', 'w2', 'a1', minute(2)))).toEqual([]);
  });

  it('lets a withdrawal to an older address pass, and follows a changed threshold', () => {
    const log = new Log();
    log.whitelist('alice', 'a1', minute(0));
    expect(log.withdraw('alice', 'w1', 'a1', minute(60))).toEqual([]);
    log.thresholds({ freshAddressMinutes: 120 });
    expect(rules(log.withdraw('alice', 'w2', 'a1', minute(61)))).toEqual(['fresh-address-withdrawal']);
  });

  it('does not look at another account that whitelisted the same address', () => {
    const log = new Log();
    log.whitelist('bob', 'a1', minute(0));
    expect(rules(log.withdraw('alice', 'w1', 'a1', minute(1)))).not.toContain('fresh-address-withdrawal');
  });
});

describe('shared-destination', () => {
  it('fires once when a third account withdraws to one address within 60 minutes, and not again in that episode', () => {
    const log = new Log();
    expect(rules(log.withdraw('a', 'w1', 'drop', minute(0)))).toEqual([]);
    expect(rules(log.withdraw('b', 'w1', 'drop', minute(10)))).toEqual([]);
    const [hit] = log.withdraw('c', 'w1', 'drop', minute(20));
    expect(hit).toMatchObject({ rule: 'shared-destination', severity: 'high', accounts: ['a', 'b', 'c'], positions: ['1', '2', '3'] });
    expect(hit!.withdrawals).toHaveLength(3);
    expect(rules(log.withdraw('d', 'w1', 'drop', minute(30)))).toEqual([]);
    // A window after the alert, a new episode can alert again.
    expect(rules(log.withdraw('e', 'w1', 'drop', minute(85)))).toEqual([]);
    const [again] = log.withdraw('g', 'w1', 'drop', minute(88));
    expect(again).toMatchObject({ rule: 'shared-destination', accounts: ['d', 'e', 'g'] });
  });

  it('does not count one account twice, nor withdrawals outside the window', () => {
    const log = new Log();
    log.withdraw('a', 'w1', 'drop', minute(0));
    log.withdraw('a', 'w2', 'drop', minute(1));
    log.withdraw('b', 'w1', 'drop', minute(2));
    expect(rules(log.withdraw('c', 'w1', 'drop', minute(61)))).toEqual([]);
  });
});

describe('withdrawal-burst', () => {
  it('fires when a window holds at least the minimum and five times the baseline, once per window', () => {
    const log = new Log();
    log.thresholds({ burstMinWithdrawals: 10, burstWindowMinutes: 10, burstBaselineFactor: 5, burstBaselineHours: 2 });
    // A quiet baseline: one withdrawal every 10 minutes for 100 minutes (each account its own address).
    for (let i = 0; i < 10; i += 1) expect(log.withdraw(`q${i}`, 'w', `addr-q${i}`, minute(i * 10))).toEqual([]);
    const hits: string[] = [];
    for (let i = 0; i < 12; i += 1) hits.push(...rules(log.withdraw(`b${i}`, 'w', `addr-b${i}`, minute(105))));
    expect(hits).toEqual(['withdrawal-burst']);
  });

  it('stays quiet when the platform is as busy as it always is (after the first window, which has no baseline yet)', () => {
    const log = new Log();
    log.thresholds({ burstMinWithdrawals: 10, burstWindowMinutes: 10, burstBaselineFactor: 5, burstBaselineHours: 2 });
    const hits: Array<[number, string]> = [];
    for (let m = 0; m < 240; m += 1) {
      for (let i = 0; i < 2; i += 1) hits.push(...rules(log.withdraw(`u${m}-${i}`, 'w', `addr-${m}-${i}`, minute(m))).map((rule) => [m, rule] as [number, string]));
    }
    // On a fresh ledger the minimum alone decides (10 withdrawals by minute 4); then 20 per window against a
    // baseline of 20 per window is no burst.
    expect(hits).toEqual([[4, 'withdrawal-burst']]);
  });
});

describe('weak-second-factor', () => {
  it('flags a withdrawal without a proof (high) or with fewer methods (medium) than the account used before', () => {
    const log = new Log();
    log.whitelist('alice', 'a1', minute(0), ['totp', 'webauthn']);
    expect(log.withdraw('alice', 'w1', 'a1', minute(200), ['totp', 'webauthn'])).toEqual([]);
    const [missing] = log.withdraw('alice', 'w2', 'a1', minute(300), undefined);
    expect(missing).toMatchObject({ rule: 'weak-second-factor', severity: 'high', summary: 'alice withdraws without a second-factor proof; its earlier proofs used 2' });
    const [weaker] = log.withdraw('alice', 'w3', 'a1', minute(400), ['totp']);
    expect(weaker).toMatchObject({ rule: 'weak-second-factor', severity: 'medium' });
    expect(log.withdraw('alice', 'w4', 'a1', minute(500), ['totp', 'webauthn'])).toEqual([]);
  });

  it('says nothing of an account that never sent a proof (a ledger before the requirement)', () => {
    const log = new Log();
    log.whitelist('alice', 'a1', minute(0));
    expect(log.withdraw('alice', 'w1', 'a1', minute(100))).toEqual([]);
  });
});

describe('fresh-address-wave', () => {
  it('fires when 20 accounts whitelist addresses never seen before within 10 minutes', () => {
    const log = new Log();
    const hits: RiskDetection[] = [];
    for (let i = 0; i < 20; i += 1) hits.push(...log.whitelist(`v${i}`, `attacker-${i}`, minute(i * 0.4)));
    expect(hits.map((h) => [h.rule, h.severity, h.accounts.length])).toEqual([['fresh-address-wave', 'high', 20]]);
  });

  it('does not count an address the platform has seen before', () => {
    const log = new Log();
    log.whitelist('owner', 'exchange-hot-wallet', minute(0));
    const hits: RiskDetection[] = [];
    for (let i = 0; i < 25; i += 1) hits.push(...log.whitelist(`c${i}`, 'exchange-hot-wallet', minute(100 + i * 0.1)));
    expect(hits).toEqual([]);
  });
});

describe('the rules as a whole', () => {
  it('detect the same alerts when the same log is folded again from position zero', () => {
    const play = () => {
      const log = new Log();
      const hits: RiskDetection[] = [];
      for (let i = 0; i < 30; i += 1) {
        hits.push(...log.whitelist(`v${i}`, 'drop', minute(i)));
        hits.push(...log.withdraw(`v${i}`, 'w1', 'drop', minute(i + 0.5)));
      }
      return hits;
    };
    const first = play();
    expect(first.length).toBeGreaterThan(3);
    expect(play()).toEqual(first);
  });

  it('ignore events that are not account withdrawals or whitelistings', () => {
    const log = new Log();
    expect(log.append('FundsDeposited', 'account-alice', { depositId: 'd', asset: 'ETH', amount: '1', depositedAt: minute(0) })).toEqual([]);
    expect(log.append('WithdrawalsHalted', 'platform', { incidentId: null, reason: 'x', haltedAt: minute(0) })).toEqual([]);
  });
});

describe('the rules against their first, array-based version (the oracle in testing/risk-rules-reference.ts)', () => {
  /** A small deterministic PRNG (mulberry32), so a failure names its seed. */
  const prng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  it.each([1, 2, 3, 4, 5])('gives the same detections on a random log whose times sometimes go back (seed %i)', (seed) => {
    const random = prng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const stored = new Log('stored');
    const held = new Log('memory');
    const referenceRows = new Map<string, unknown>();
    const reference: RiskMemory = {
      get: <Doc>(key: string) => referenceRows.get(key) as Doc | undefined,
      put: (key, doc) => void referenceRows.set(key, JSON.parse(JSON.stringify(doc))),
    };
    // Low thresholds, so that every rule fires and cools down many times in 3,000 events.
    const thresholds = { ...DEFAULT_RISK_THRESHOLDS, sharedDestinationAccounts: 3, sharedDestinationWindowMinutes: 20, burstWindowMinutes: 5, burstMinWithdrawals: 8, burstBaselineFactor: 2, burstBaselineHours: 2, freshAddressWaveAccounts: 4, freshAddressWaveWindowMinutes: 10 };
    let position = 0n;
    const both = (type: string, streamId: string, data: unknown) => {
      position += 1n;
      const event: ObservedEvent = { type, streamId, position, data };
      const expected = referenceObserveForRisk(reference, event);
      expect(stored.appendAt(event)).toEqual(expected);
      expect(held.appendAt(event)).toEqual(expected);
      return expected.length;
    };
    both('RiskRulesChanged', 'risk', { thresholds });
    let atMs = Date.UTC(2022, 0, 16, 20);
    let detections = 0;
    const accounts = Array.from({ length: 12 }, (_, i) => `acct-${i}`);
    const addresses = ['0xA1', '0xB2', '0xC3', '0xD4', '0xE5', '0xF6', '0x07'];
    for (let i = 0; i < 3_000; i += 1) {
      // Mostly forward by up to two minutes; one event in ten goes back by up to five.
      atMs += random() < 0.1 ? -Math.floor(random() * 5 * 60_000) : Math.floor(random() * 2 * 60_000);
      const at = new Date(atMs).toISOString();
      const accountId = pick(accounts);
      const address = random() < 0.2 ? `0xNEW${i}` : pick(addresses);
      const amr = random() < 0.3 ? ['totp', 'webauthn'] : random() < 0.8 ? ['totp'] : null;
      if (random() < 0.3) {
        detections += both('AddressWhitelisted', `account-${accountId}`, { asset: 'ETH', address, whitelistedAt: at, secondFactor: amr && { amr } });
      } else {
        detections += both('WithdrawalRequested', `account-${accountId}`, { withdrawalId: `w-${i}`, asset: 'ETH', address, requestedAt: at, secondFactor: amr && { amr } });
      }
    }
    expect(detections).toBeGreaterThan(50);
  });
});
