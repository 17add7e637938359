import type { AccountEvent } from './account.events';
import {
  ACCOUNT_ID,
  at,
  deposited,
  enrolled,
  ETH_ADDRESS as ADDR,
  givenAccount,
  opened,
  requestWithdrawal,
  tokenRevoked,
  whitelistAddress,
  whitelisted,
} from '../testing/given';
import type { SecondFactorClaims, VerifiedSecondFactor } from './second-factor';

const NOW = '2022-01-18T12:00Z';
const NOW_SECONDS = Math.floor(at(NOW).toMillis() / 1_000);
const OTHER_ADDR = '0xB0B0000000000000000000000000000000000002';
const required = { secondFactorRequired: true };

const ready: AccountEvent[] = [opened(), deposited('ETH', '10'), enrolled('tok-1', '2022-01-01T00:00Z', 'totp'), whitelisted('ETH', ADDR)];

/** A verified proof for withdrawal w-1 of 1 ETH to ADDR from tok-1, issued a few seconds before NOW. */
function proof(claims: Partial<SecondFactorClaims> = {}, jti = 'jti-1'): VerifiedSecondFactor {
  return {
    kid: 'attester-1',
    proofSha256: 'ab'.repeat(32),
    claims: {
      sub: ACCOUNT_ID,
      act: 'withdrawal',
      tid: 'tok-1',
      amr: ['totp'],
      iat: NOW_SECONDS - 5,
      exp: NOW_SECONDS + 115,
      jti,
      wid: 'w-1',
      asset: 'ETH',
      amount: '1',
      address: ADDR,
      ...claims,
    },
  };
}

const withdraw = (secondFactor: VerifiedSecondFactor | null, fields: Record<string, string> = {}) => {
  const command = requestWithdrawal({ amount: '1', ...fields });
  return { ...command, data: { ...command.data, secondFactor } };
};

describe('rule 2, per transaction: a withdrawal carries proof that the customer entered the second factor', () => {
  test('while the policy requires it, a withdrawal without a proof is SECOND_FACTOR_REQUIRED', () => {
    givenAccount(ready).withPlatform(required).when(withdraw(null), at(NOW)).thenThrows('SECOND_FACTOR_REQUIRED');
  });

  test('with the policy off, a withdrawal without a proof is accepted and records none', () => {
    givenAccount(ready)
      .when(withdraw(null), at(NOW))
      .thenEvents([
        {
          type: 'WithdrawalRequested',
          data: { withdrawalId: 'w-1', asset: 'ETH', amount: '1', address: ADDR, twoFactorTokenId: 'tok-1', requestedAt: '2022-01-18T12:00:00.000Z' },
          schemaVersion: 1,
        },
      ]);
  });

  test('a valid proof is accepted; the event keeps kid, amr, jti and the proof\'s SHA-256, never the proof', () => {
    givenAccount(ready)
      .withPlatform(required)
      .when(withdraw(proof()), at(NOW))
      .thenEvents([
        {
          type: 'WithdrawalRequested',
          data: {
            withdrawalId: 'w-1',
            asset: 'ETH',
            amount: '1',
            address: ADDR,
            twoFactorTokenId: 'tok-1',
            requestedAt: '2022-01-18T12:00:00.000Z',
            secondFactor: { kid: 'attester-1', amr: ['totp'], jti: 'jti-1', proofSha256: 'ab'.repeat(32) },
          },
          schemaVersion: 1,
        },
      ])
      .thenState((state) => expect(state.usedProofIds.has('jti-1')).toBe(true));
  });

  test('the amount is compared in its canonical form: "1.000" in the command is the proof\'s "1"', () => {
    givenAccount(ready).withPlatform(required).when(withdraw(proof(), { amount: '1.000' }), at(NOW)).thenState(() => undefined);
  });

  test.each<[string, Partial<SecondFactorClaims>, RegExp]>([
    ['another account', { sub: 'acc-2' }, /field mismatch: sub/],
    ['a whitelisting', { act: 'whitelist' }, /field mismatch: act/],
    ['another withdrawal', { wid: 'w-2' }, /field mismatch: wid/],
    ['another asset', { asset: 'BTC' }, /field mismatch: asset/],
    ['another amount', { amount: '1000' }, /field mismatch: amount/],
    ['another address', { address: OTHER_ADDR }, /field mismatch: address/],
    ['another token', { tid: 'tok-2' }, /field mismatch: tid/],
  ])('a proof for %s is SECOND_FACTOR_INVALID naming the field', (_label, claims, reason) => {
    givenAccount(ready).withPlatform(required).when(withdraw(proof(claims)), at(NOW)).thenThrows('SECOND_FACTOR_INVALID', reason);
  });

  test.each<[string, Partial<SecondFactorClaims>, RegExp]>([
    ['expired', { iat: NOW_SECONDS - 400, exp: NOW_SECONDS - 100 }, /expired 100 s ago/],
    ['expiring at this very second', { iat: NOW_SECONDS - 60, exp: NOW_SECONDS }, /expired 0 s ago/],
    ['living longer than 300 s', { iat: NOW_SECONDS - 5, exp: NOW_SECONDS + 296 }, /lifetime of 301 s exceeds 300 s/],
    ['issued in the future', { iat: NOW_SECONDS + 31, exp: NOW_SECONDS + 100 }, /issued in the future/],
    ['expiring before it was issued', { iat: NOW_SECONDS, exp: NOW_SECONDS }, /exp is not after iat/],
  ])('a proof %s is SECOND_FACTOR_INVALID', (_label, claims, reason) => {
    givenAccount(ready).withPlatform(required).when(withdraw(proof(claims)), at(NOW)).thenThrows('SECOND_FACTOR_INVALID', reason);
  });

  test('a proof issued up to 30 s ahead of the ledger clock is still accepted (attester clock skew)', () => {
    givenAccount(ready).withPlatform(required).when(withdraw(proof({ iat: NOW_SECONDS + 30, exp: NOW_SECONDS + 120 })), at(NOW)).thenState(() => undefined);
  });

  test('a proof whose jti this account already used is SECOND_FACTOR_INVALID (reused jti), even for another withdrawal', () => {
    const usedBefore = { ...proof({ wid: 'w-0' }, 'jti-1') };
    const first = withdraw(usedBefore, { withdrawalId: 'w-0' });
    const history = [...ready];
    givenAccount(history)
      .withPlatform(required)
      .when(first, at(NOW))
      .thenState((state) => expect(state.usedProofIds.size).toBe(1));
    const afterFirst: AccountEvent[] = [
      ...ready,
      {
        type: 'WithdrawalRequested',
        data: {
          withdrawalId: 'w-0', asset: 'ETH', amount: '1', address: ADDR, twoFactorTokenId: 'tok-1', requestedAt: '2022-01-18T11:59:00.000Z',
          secondFactor: { kid: 'attester-1', amr: ['totp'], jti: 'jti-1', proofSha256: 'cd'.repeat(32) },
        },
        schemaVersion: 1,
      },
    ];
    givenAccount(afterFirst).withPlatform(required).when(withdraw(proof({}, 'jti-1')), at(NOW)).thenThrows('SECOND_FACTOR_INVALID', /reused jti jti-1/);
  });

  test('a proof listing methods that do not include the token\'s own is SECOND_FACTOR_INVALID', () => {
    givenAccount(ready).withPlatform(required).when(withdraw(proof({ amr: ['sms'] })), at(NOW)).thenThrows('SECOND_FACTOR_INVALID', /do not include the token's totp/);
  });

  test('the token must still be valid: a revoked one is refused before the proof is looked at (TWO_FACTOR_REVOKED)', () => {
    givenAccount([...ready, tokenRevoked('tok-1', '2022-01-18T11:00Z')]).withPlatform(required).when(withdraw(proof()), at(NOW)).thenThrows('TWO_FACTOR_REVOKED');
  });

  test('a proof sent while the policy is off must hold all the same', () => {
    givenAccount(ready).when(withdraw(proof({ amount: '9' })), at(NOW)).thenThrows('SECOND_FACTOR_INVALID', /field mismatch: amount/);
  });
});

describe('the MFA threshold: withdrawals at or above a USD value need two distinct factor methods', () => {
  const withTwoTokens: AccountEvent[] = [...ready, enrolled('tok-hw', '2022-01-02T00:00Z', 'webauthn')];
  const threshold = { secondFactorRequired: true, mfaThresholdUsdCents: 1_000_000n };

  test('1 ETH at 3129 USD is under a US$10,000 threshold: one method is enough', () => {
    givenAccount(ready).withPlatform(threshold).withPrices({ ETH: '3129' }).when(withdraw(proof()), at(NOW)).thenState(() => undefined);
  });

  test('4 ETH at 3129 USD (12,516) is over it: one method is SECOND_FACTOR_INVALID (too few factor methods)', () => {
    givenAccount(ready)
      .withPlatform(threshold)
      .withPrices({ ETH: '3129' })
      .when(withdraw(proof({ amount: '4' }), { amount: '4' }), at(NOW))
      .thenThrows('SECOND_FACTOR_INVALID', /too few factor methods: worth 12516 USD/);
  });

  test('exactly at the threshold needs two methods too', () => {
    givenAccount(ready)
      .withPlatform(threshold)
      .withPrices({ ETH: '2500' })
      .when(withdraw(proof({ amount: '4' }), { amount: '4' }), at(NOW))
      .thenThrows('SECOND_FACTOR_INVALID', /too few factor methods/);
  });

  test('over the threshold with totp and webauthn is accepted', () => {
    givenAccount(withTwoTokens)
      .withPlatform(threshold)
      .withPrices({ ETH: '3129' })
      .when(withdraw(proof({ amount: '4', amr: ['totp', 'webauthn'] }), { amount: '4' }), at(NOW))
      .thenState((state) => expect(state.usedProofIds.has('jti-1')).toBe(true));
  });

  test('without a recorded price the withdrawal cannot be valued, so it needs two methods', () => {
    givenAccount(ready).withPlatform(threshold).when(withdraw(proof()), at(NOW)).thenThrows('SECOND_FACTOR_INVALID', /no recorded price/);
  });
});

describe('a new whitelisted address needs the second factor too', () => {
  const fresh: AccountEvent[] = [opened(), enrolled('tok-1', '2022-01-01T00:00Z', 'totp')];
  const whitelistProof = (claims: Partial<SecondFactorClaims> = {}): VerifiedSecondFactor => {
    const base = proof({ act: 'whitelist', address: OTHER_ADDR, ...claims });
    const { wid: _wid, amount: _amount, ...rest } = base.claims;
    return { ...base, claims: { ...rest, ...claims } as SecondFactorClaims };
  };
  const whitelist = (secondFactor: VerifiedSecondFactor | null) => {
    const command = whitelistAddress('ETH', OTHER_ADDR);
    return { ...command, data: { ...command.data, secondFactor } };
  };

  test('without a proof it is SECOND_FACTOR_REQUIRED while the policy requires one', () => {
    givenAccount(fresh).withPlatform(required).when(whitelist(null), at(NOW)).thenThrows('SECOND_FACTOR_REQUIRED');
  });

  test('with a proof for this asset and address it is whitelisted, and the event records the proof', () => {
    givenAccount(fresh)
      .withPlatform(required)
      .when(whitelist(whitelistProof()), at(NOW))
      .thenState((state) => expect(state.usedProofIds.has('jti-1')).toBe(true));
  });

  test('a withdrawal proof does not whitelist (field mismatch: act)', () => {
    givenAccount(fresh).withPlatform(required).when(whitelist(proof({ address: OTHER_ADDR })), at(NOW)).thenThrows('SECOND_FACTOR_INVALID', /field mismatch: act/);
  });

  test('a proof from a token that is not enrolled is SECOND_FACTOR_INVALID (token not valid)', () => {
    givenAccount(fresh).withPlatform(required).when(whitelist(whitelistProof({ tid: 'tok-9' })), at(NOW)).thenThrows('SECOND_FACTOR_INVALID', /token not valid: tok-9/);
  });

  test('a proof from a token ended by the platform-wide revocation is SECOND_FACTOR_INVALID (token not valid)', () => {
    givenAccount(fresh)
      .withPlatform({ ...required, latestTwoFactorRevocationAt: at('2022-01-17T05:00Z') })
      .when(whitelist(whitelistProof()), at(NOW))
      .thenThrows('SECOND_FACTOR_INVALID', /token not valid: .*platform-wide revocation/);
  });
});
