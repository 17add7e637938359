import { DateTime } from 'luxon';
import { formatAmount } from '../money/amount';
import type { AssetCode } from '../money/assets';
import { event } from '../shared/event';
import { PERSISTENT_FROM } from '../shared/persistent';
import {
  addressRemoved,
  applyPlatformRevocation,
  approveWithdrawal,
  approved,
  at,
  cancelWithdrawal,
  cancelled,
  deposit,
  deposited,
  enrolInProtection,
  enrolTwoFactor,
  enrolled,
  ETH_ADDRESS as ADDR,
  givenAccount,
  mfaEnabled,
  openAccount,
  opened,
  protectionEnrolled,
  reimburse,
  reimbursed,
  rejectWithdrawal,
  rejected,
  removeAddress,
  reportUnauthorized,
  requestWithdrawal,
  requested,
  revokeToken,
  setAntiPhishingCode,
  setMfa,
  settleWithdrawal,
  settled,
  tokenRevoked,
  unauthorizedDetected,
  whitelistAddress,
  whitelisted,
  type WithdrawalFields,
} from '../testing/given';
import type { AccountCommand } from './account.commands';
import { availableMinor, balanceOf, lossOf, type AccountState } from './account.state';

const NOW = '2022-01-18T12:00Z';
const NOW_ISO = '2022-01-18T12:00:00.000Z';
const BTC_ADDR = 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh';

/** Open, 10 ETH deposited, a token and an address out of their hold long ago. */
const ready = [opened(), deposited('ETH', '10'), enrolled('tok-1'), whitelisted('ETH', ADDR)];

const withdraw = (amount: string, fields: Partial<WithdrawalFields> = {}) => requestWithdrawal({ amount, ...fields });
const available = (state: AccountState, asset: AssetCode): string => formatAmount(asset, availableMinor(balanceOf(state, asset)));
const held = (state: AccountState, asset: AssetCode): string => formatAmount(asset, balanceOf(state, asset).heldMinor);

describe('account lifecycle', () => {
  test('opening an account records its id and time', () => {
    givenAccount([])
      .when(openAccount('acc-1'), at('2022-01-10T09:30Z'))
      .thenEvents([{ type: 'AccountOpened', data: { accountId: 'acc-1', openedAt: '2022-01-10T09:30:00.000Z' }, schemaVersion: 1 }]);
  });

  test('an account is opened only once', () => {
    givenAccount([opened()]).when(openAccount(), at(NOW)).thenThrows('ACCOUNT_ALREADY_OPEN');
  });

  const commandsOnAnAccount: [string, AccountCommand][] = [
    ['DepositFunds', deposit('ETH', '1')],
    ['EnrolTwoFactor', enrolTwoFactor('tok-1')],
    ['RevokeTwoFactorToken', revokeToken('tok-1')],
    ['SetAntiPhishingCode', setAntiPhishingCode()],
    ['SetMfa', setMfa(true, ['withdrawal'])],
    ['WhitelistAddress', whitelistAddress('ETH', ADDR)],
    ['RemoveAddress', removeAddress('ETH', ADDR)],
    ['RequestWithdrawal', withdraw('1')],
    ['ApproveWithdrawal', approveWithdrawal()],
    ['SettleWithdrawal', settleWithdrawal()],
    ['RejectWithdrawal', rejectWithdrawal()],
    ['CancelWithdrawal', cancelWithdrawal()],
    ['ReportUnauthorizedWithdrawal', reportUnauthorized()],
    ['Reimburse', reimburse({ amount: '1' })],
    ['EnrolInProtectionProgramme', enrolInProtection()],
  ];
  test.each(commandsOnAnAccount)('%s on an account that was never opened is ACCOUNT_NOT_FOUND', (_name, command) => {
    givenAccount([]).withIncident('inc-1').when(command, at(NOW)).thenThrows('ACCOUNT_NOT_FOUND');
  });

  test('the platform revocation job passes over an account that was never opened', () => {
    givenAccount([]).when(applyPlatformRevocation('rev-1', '2022-01-17T05:00Z'), at(NOW)).thenNothing();
  });

  test('events hold canonical amounts and UTC instants ending in Z, whatever the zone of the clock', () => {
    const newYorkEvening = DateTime.fromISO('2022-01-16T19:17:00', { zone: 'America/New_York' });
    givenAccount(ready)
      .when(withdraw('0.50'), newYorkEvening)
      .thenEvents([
        {
          type: 'WithdrawalRequested',
          data: { withdrawalId: 'w-1', asset: 'ETH', amount: '0.5', address: ADDR, twoFactorTokenId: 'tok-1', requestedAt: '2022-01-17T00:17:00.000Z' },
          schemaVersion: 1,
        },
      ]);
  });
});

describe('rule 1: amounts are positive and a withdrawal never exceeds the available balance', () => {
  test('a deposit is recorded with its canonical amount', () => {
    givenAccount([opened()])
      .when(deposit('USD', '66200.50', 'dep-1'), at(NOW))
      .thenEvents([{ type: 'FundsDeposited', data: { depositId: 'dep-1', asset: 'USD', amount: '66200.5' }, schemaVersion: 1 }]);
  });

  test('a deposit of one minor unit is exact', () => {
    givenAccount([opened()])
      .when(deposit('ETH', '0.000000000000000001', 'dep-1'), at(NOW))
      .thenEvents([deposited('ETH', '0.000000000000000001', 'dep-1')])
      .thenState((state) => expect(balanceOf(state, 'ETH').depositedMinor).toBe(1n));
  });

  test('a zero deposit is refused', () => {
    givenAccount([opened()]).when(deposit('ETH', '0'), at(NOW)).thenThrows('AMOUNT_NOT_POSITIVE');
  });

  test('a deposit id is recorded only once', () => {
    givenAccount([opened(), deposited('ETH', '1', 'dep-1')]).when(deposit('ETH', '2', 'dep-1'), at(NOW)).thenThrows('DEPOSIT_ALREADY_RECORDED');
  });

  test('a zero withdrawal is refused', () => {
    givenAccount(ready).when(withdraw('0.0'), at(NOW)).thenThrows('AMOUNT_NOT_POSITIVE');
  });

  test('the whole available balance can be withdrawn, and is then held', () => {
    givenAccount(ready)
      .when(withdraw('10'), at(NOW))
      .thenEvents([requested({ amount: '10' }, NOW)])
      .thenState((state) => {
        expect(available(state, 'ETH')).toBe('0');
        expect(held(state, 'ETH')).toBe('10');
      });
  });

  test('one minor unit more than the available balance is INSUFFICIENT_FUNDS', () => {
    givenAccount(ready).when(withdraw('10.000000000000000001'), at(NOW)).thenThrows('INSUFFICIENT_FUNDS');
  });

  test('an asset never deposited has nothing available', () => {
    givenAccount([...ready, whitelisted('BTC', BTC_ADDR)])
      .when(withdraw('0.00000001', { asset: 'BTC', address: BTC_ADDR }), at(NOW))
      .thenThrows('INSUFFICIENT_FUNDS');
  });

  test('held funds are not available', () => {
    givenAccount([...ready, requested({ amount: '6' })])
      .when(withdraw('4.000000000000000001', { withdrawalId: 'w-2' }), at(NOW))
      .thenThrows('INSUFFICIENT_FUNDS');
  });

  test('what is not held stays available', () => {
    givenAccount([...ready, requested({ amount: '6' })])
      .when(withdraw('4', { withdrawalId: 'w-2' }), at(NOW))
      .thenEvents([requested({ withdrawalId: 'w-2', amount: '4' }, NOW)]);
  });

  test('settled funds are gone', () => {
    givenAccount([...ready, requested({ amount: '6' }), approved(), settled()])
      .when(withdraw('4.000000000000000001', { withdrawalId: 'w-2' }), at(NOW))
      .thenThrows('INSUFFICIENT_FUNDS');
  });

  test('what was not settled stays available', () => {
    givenAccount([...ready, requested({ amount: '6' }), approved(), settled()])
      .when(withdraw('4', { withdrawalId: 'w-2' }), at(NOW))
      .thenEvents([requested({ withdrawalId: 'w-2', amount: '4' }, NOW)]);
  });

  test('a rejected withdrawal releases its hold', () => {
    givenAccount([...ready, requested({ amount: '6' }), rejected()])
      .when(withdraw('10', { withdrawalId: 'w-2' }), at(NOW))
      .thenEvents([requested({ withdrawalId: 'w-2', amount: '10' }, NOW)]);
  });

  test('a cancelled withdrawal releases its hold', () => {
    givenAccount([...ready, requested({ amount: '6' }), approved(), cancelled()])
      .when(withdraw('10', { withdrawalId: 'w-2' }), at(NOW))
      .thenEvents([requested({ withdrawalId: 'w-2', amount: '10' }, NOW)]);
  });

  const reimbursedFour = [
    ...ready,
    requested({ amount: '10' }),
    approved(),
    settled(),
    unauthorizedDetected({ amount: '10', outcome: 'loss' }),
    reimbursed({ amount: '4' }),
  ];

  test('reimbursed funds become available', () => {
    givenAccount(reimbursedFour).when(withdraw('4', { withdrawalId: 'w-2' }), at(NOW)).thenEvents([requested({ withdrawalId: 'w-2', amount: '4' }, NOW)]);
  });

  test('only what was reimbursed becomes available', () => {
    givenAccount(reimbursedFour).when(withdraw('4.000000000000000001', { withdrawalId: 'w-2' }), at(NOW)).thenThrows('INSUFFICIENT_FUNDS');
  });
});

describe('rule 2: a withdrawal needs a live second factor enrolled after the latest platform-wide revocation', () => {
  const REVOCATION = '2022-01-17T05:00Z';
  const revokedPlatform = { latestTwoFactorRevocationAt: at(REVOCATION) };

  test('an unknown token is TWO_FACTOR_TOKEN_NOT_FOUND', () => {
    givenAccount(ready).when(withdraw('1', { twoFactorTokenId: 'tok-unknown' }), at(NOW)).thenThrows('TWO_FACTOR_TOKEN_NOT_FOUND');
  });

  test('a revoked token is TWO_FACTOR_REVOKED', () => {
    givenAccount([...ready, tokenRevoked('tok-1', '2022-01-05T00:00Z')]).when(withdraw('1'), at(NOW)).thenThrows('TWO_FACTOR_REVOKED');
  });

  test('a token enrolled before the platform-wide revocation is refused', () => {
    givenAccount(ready).withPlatform(revokedPlatform).when(withdraw('1'), at(NOW)).thenThrows('TWO_FACTOR_REVOKED');
  });

  test('a token enrolled at the very instant of the platform-wide revocation is refused', () => {
    givenAccount([...ready, enrolled('tok-2', REVOCATION)])
      .withPlatform(revokedPlatform)
      .when(withdraw('1', { twoFactorTokenId: 'tok-2' }), at(NOW))
      .thenThrows('TWO_FACTOR_REVOKED');
  });

  test('a token enrolled after the platform-wide revocation is accepted', () => {
    givenAccount([...ready, enrolled('tok-2', '2022-01-17T05:00:00.001Z')])
      .withPlatform(revokedPlatform)
      .when(withdraw('1', { twoFactorTokenId: 'tok-2' }), at(NOW))
      .thenEvents([requested({ amount: '1', twoFactorTokenId: 'tok-2' }, NOW)]);
  });

  test('approval refuses a request whose token was revoked platform-wide since', () => {
    givenAccount([...ready, requested({ amount: '1' })]).withPlatform(revokedPlatform).when(approveWithdrawal(), at(NOW)).thenThrows('TWO_FACTOR_REVOKED');
  });

  test('approval refuses a request whose token was revoked since', () => {
    givenAccount([...ready, requested({ amount: '1' }), tokenRevoked('tok-1', '2022-01-11T00:00Z')])
      .when(approveWithdrawal(), at(NOW))
      .thenThrows('TWO_FACTOR_REVOKED');
  });

  test('enrolling a token records its method and time', () => {
    givenAccount([opened()])
      .when(enrolTwoFactor('tok-2', 'webauthn'), at(NOW))
      .thenEvents([{ type: 'TwoFactorEnrolled', data: { tokenId: 'tok-2', method: 'webauthn', enrolledAt: NOW_ISO }, schemaVersion: 1 }]);
  });

  test('a token id is enrolled only once', () => {
    givenAccount(ready).when(enrolTwoFactor('tok-1'), at(NOW)).thenThrows('TWO_FACTOR_TOKEN_ALREADY_ENROLLED');
  });

  test('a revoked token id cannot be enrolled again', () => {
    givenAccount([...ready, tokenRevoked('tok-1', '2022-01-05T00:00Z')]).when(enrolTwoFactor('tok-1'), at(NOW)).thenThrows('TWO_FACTOR_TOKEN_ALREADY_ENROLLED');
  });

  test('revoking a token records the reason and time', () => {
    givenAccount(ready)
      .when(revokeToken('tok-1', 'lost phone'), at(NOW))
      .thenEvents([{ type: 'TwoFactorTokenRevoked', data: { tokenId: 'tok-1', reason: 'lost phone', revokedAt: NOW_ISO }, schemaVersion: 1 }]);
  });

  test('revoking an unknown token is TWO_FACTOR_TOKEN_NOT_FOUND', () => {
    givenAccount(ready).when(revokeToken('tok-unknown'), at(NOW)).thenThrows('TWO_FACTOR_TOKEN_NOT_FOUND');
  });

  test('a token is revoked only once', () => {
    givenAccount([...ready, tokenRevoked('tok-1', '2022-01-05T00:00Z')]).when(revokeToken('tok-1'), at(NOW)).thenThrows('TWO_FACTOR_TOKEN_ALREADY_REVOKED');
  });

  const tokensAroundTheRevocation = [
    opened(),
    enrolled('tok-old', '2022-01-01T00:00Z'),
    enrolled('tok-lost', '2022-01-02T00:00Z'),
    tokenRevoked('tok-lost', '2022-01-03T00:00Z'),
    enrolled('tok-at', REVOCATION),
    enrolled('tok-new', '2022-01-17T06:00Z'),
  ];

  test('the platform-wide revocation revokes each live token enrolled at or before it, and no other', () => {
    givenAccount(tokensAroundTheRevocation)
      .when(applyPlatformRevocation('rev-1', REVOCATION), at('2022-01-17T07:00Z'))
      .thenEvents([
        {
          type: 'TwoFactorTokenRevoked',
          data: { tokenId: 'tok-old', reason: 'platform-wide revocation', revokedAt: '2022-01-17T05:00:00.000Z', platformRevocationId: 'rev-1' },
          schemaVersion: 1,
        },
        tokenRevoked('tok-at', REVOCATION, 'rev-1'),
      ]);
  });

  test('applying the same platform-wide revocation again yields nothing', () => {
    givenAccount([...tokensAroundTheRevocation, tokenRevoked('tok-old', REVOCATION, 'rev-1'), tokenRevoked('tok-at', REVOCATION, 'rev-1')])
      .when(applyPlatformRevocation('rev-1', REVOCATION), at('2022-01-17T08:00Z'))
      .thenNothing();
  });

  test('the platform-wide revocation yields nothing for an account whose tokens all came after it', () => {
    givenAccount([opened(), enrolled('tok-new', '2022-01-17T06:00Z')])
      .when(applyPlatformRevocation('rev-1', REVOCATION), at('2022-01-17T07:00Z'))
      .thenNothing();
  });

  test('a token revoked by the platform-wide revocation can no longer authorise a withdrawal', () => {
    givenAccount([...ready, tokenRevoked('tok-1', REVOCATION, 'rev-1')]).when(withdraw('1'), at(NOW)).thenThrows('TWO_FACTOR_REVOKED');
  });
});

describe('rule 3: while withdrawals are halted, none is requested, approved or settled', () => {
  const halted = { withdrawalsHalted: true };

  test('a request is WITHDRAWALS_HALTED', () => {
    givenAccount(ready).withPlatform(halted).when(withdraw('1'), at(NOW)).thenThrows('WITHDRAWALS_HALTED');
  });

  test('an approval is WITHDRAWALS_HALTED', () => {
    givenAccount([...ready, requested({ amount: '1' })]).withPlatform(halted).when(approveWithdrawal(), at(NOW)).thenThrows('WITHDRAWALS_HALTED');
  });

  test('a settlement is WITHDRAWALS_HALTED', () => {
    givenAccount([...ready, requested({ amount: '1' }), approved()]).withPlatform(halted).when(settleWithdrawal(), at(NOW)).thenThrows('WITHDRAWALS_HALTED');
  });

  test('a pending withdrawal can still be rejected', () => {
    givenAccount([...ready, requested({ amount: '1' }), approved()])
      .withPlatform(halted)
      .when(rejectWithdrawal('w-1', 'halted'), at(NOW))
      .thenEvents([rejected('w-1', NOW, 'halted')]);
  });

  test('a pending withdrawal can still be cancelled', () => {
    givenAccount([...ready, requested({ amount: '1' })])
      .withPlatform(halted)
      .when(cancelWithdrawal('w-1', 'halted'), at(NOW))
      .thenEvents([cancelled('w-1', NOW, 'halted')]);
  });
});

describe('rule 4: only to an address whitelisted for the asset, and not before its withdrawableFrom', () => {
  const WHITELISTED_AT = '2022-01-18T10:17Z';
  const onHold = [opened(), deposited('ETH', '10'), enrolled('tok-1'), whitelisted('ETH', ADDR, WHITELISTED_AT, 24)];

  test('whitelisting fixes withdrawableFrom from the hold policy in force', () => {
    givenAccount([opened()])
      .withPlatform({ newAddressHoldHours: 24 })
      .when(whitelistAddress('ETH', ADDR), at(WHITELISTED_AT))
      .thenEvents([
        {
          type: 'AddressWhitelisted',
          data: { asset: 'ETH', address: ADDR, whitelistedAt: '2022-01-18T10:17:00.000Z', holdHours: 24, withdrawableFrom: '2022-01-19T10:17:00.000Z' },
          schemaVersion: 1,
        },
      ]);
  });

  test('with no hold in force an address is withdrawable at once', () => {
    givenAccount([opened()])
      .withPlatform({ newAddressHoldHours: 0 })
      .when(whitelistAddress('ETH', ADDR), at(WHITELISTED_AT))
      .thenEvents([whitelisted('ETH', ADDR, WHITELISTED_AT, 0)]);
  });

  test('an address is whitelisted for an asset only once', () => {
    givenAccount(ready).when(whitelistAddress('ETH', ADDR), at(NOW)).thenThrows('ADDRESS_ALREADY_WHITELISTED');
  });

  test('the same address can be whitelisted for another asset', () => {
    givenAccount(ready).when(whitelistAddress('USDC', ADDR), at(NOW)).thenEvents([whitelisted('USDC', ADDR, NOW, 24)]);
  });

  test('a withdrawal to an address never whitelisted is ADDRESS_NOT_WHITELISTED', () => {
    givenAccount(ready).when(withdraw('1', { address: '0x000000000000000000000000000000000000dEaD' }), at(NOW)).thenThrows('ADDRESS_NOT_WHITELISTED');
  });

  test('an address whitelisted for one asset does not take another', () => {
    givenAccount([...ready, deposited('USDC', '100')])
      .when(withdraw('1', { asset: 'USDC' }), at(NOW))
      .thenThrows('ADDRESS_NOT_WHITELISTED');
  });

  test('a withdrawal inside the hold is ADDRESS_ON_HOLD', () => {
    givenAccount(onHold).when(withdraw('1'), at('2022-01-19T10:16:59.999Z')).thenThrows('ADDRESS_ON_HOLD');
  });

  test('a withdrawal exactly at withdrawableFrom is allowed', () => {
    givenAccount(onHold).when(withdraw('1'), at('2022-01-19T10:17Z')).thenEvents([requested({ amount: '1' }, '2022-01-19T10:17Z')]);
  });

  test("dropping the hold policy later does not shorten an existing address's hold", () => {
    givenAccount(onHold).withPlatform({ newAddressHoldHours: 0 }).when(withdraw('1'), at('2022-01-18T11:00Z')).thenThrows('ADDRESS_ON_HOLD');
  });

  test("raising the hold policy later does not lengthen an existing address's hold", () => {
    givenAccount([opened(), deposited('ETH', '10'), enrolled('tok-1'), whitelisted('ETH', ADDR, WHITELISTED_AT, 0)])
      .withPlatform({ newAddressHoldHours: 720 })
      .when(withdraw('1'), at(WHITELISTED_AT))
      .thenEvents([requested({ amount: '1' }, WHITELISTED_AT)]);
  });

  test('a withdrawal to a removed address is ADDRESS_NOT_WHITELISTED', () => {
    givenAccount([...ready, addressRemoved('ETH', ADDR, '2022-01-05T00:00Z')]).when(withdraw('1'), at(NOW)).thenThrows('ADDRESS_NOT_WHITELISTED');
  });

  test('an address whitelisted again after removal starts a new hold', () => {
    givenAccount([...ready, addressRemoved('ETH', ADDR, '2022-01-18T00:00Z'), whitelisted('ETH', ADDR, WHITELISTED_AT, 24)])
      .when(withdraw('1'), at(NOW))
      .thenThrows('ADDRESS_ON_HOLD');
  });

  test('removing an address records it', () => {
    givenAccount(ready).when(removeAddress('ETH', ADDR), at(NOW)).thenEvents([addressRemoved('ETH', ADDR, NOW)]);
  });

  test('removing an address that is not whitelisted is ADDRESS_NOT_WHITELISTED', () => {
    givenAccount(ready).when(removeAddress('BTC', ADDR), at(NOW)).thenThrows('ADDRESS_NOT_WHITELISTED');
  });
});

describe('rule 5: requested -> approved -> settled, or -> rejected/cancelled; never backwards, never twice', () => {
  const pending = [...ready, requested({ amount: '1' })];
  const approvedOne = [...pending, approved()];

  test('a requested withdrawal is approved', () => {
    givenAccount(pending)
      .when(approveWithdrawal(), at(NOW))
      .thenEvents([{ type: 'WithdrawalApproved', data: { withdrawalId: 'w-1', approvedAt: NOW_ISO }, schemaVersion: 1 }]);
  });

  test('an approved withdrawal is settled, and its funds leave', () => {
    givenAccount(approvedOne)
      .when(settleWithdrawal('w-1', '0xabc'), at(NOW))
      .thenEvents([{ type: 'WithdrawalSettled', data: { withdrawalId: 'w-1', txHash: '0xabc', settledAt: NOW_ISO }, schemaVersion: 1 }])
      .thenState((state) => {
        expect(balanceOf(state, 'ETH').withdrawnMinor).toBe(10n ** 18n);
        expect(held(state, 'ETH')).toBe('0');
        expect(available(state, 'ETH')).toBe('9');
      });
  });

  test.each([
    ['requested', pending],
    ['approved', approvedOne],
  ])('a withdrawal that is %s can be rejected, releasing its hold', (_status, history) => {
    givenAccount(history)
      .when(rejectWithdrawal('w-1', 'compliance'), at(NOW))
      .thenEvents([{ type: 'WithdrawalRejected', data: { withdrawalId: 'w-1', reason: 'compliance', rejectedAt: NOW_ISO }, schemaVersion: 1 }])
      .thenState((state) => expect(available(state, 'ETH')).toBe('10'));
  });

  test.each([
    ['requested', pending],
    ['approved', approvedOne],
  ])('a withdrawal that is %s can be cancelled, releasing its hold', (_status, history) => {
    givenAccount(history)
      .when(cancelWithdrawal('w-1', 'customer cancelled'), at(NOW))
      .thenEvents([{ type: 'WithdrawalCancelled', data: { withdrawalId: 'w-1', reason: 'customer cancelled', cancelledAt: NOW_ISO }, schemaVersion: 1 }])
      .thenState((state) => expect(available(state, 'ETH')).toBe('10'));
  });

  describe('on an account with a long history (its collections past PERSISTENT_FROM, held without copying)', () => {
    const count = PERSISTENT_FROM * 3;
    const ids = Array.from({ length: count }, (_, i) => `old-${i}`);
    const history = [
      ...ready,
      ...ids.flatMap((withdrawalId, i) => [
        requested({ withdrawalId, amount: '0.01' }),
        approved(withdrawalId),
        ...(i % 2 === 0 ? [settled(withdrawalId)] : []),
      ]),
    ];

    test('every earlier withdrawal is still known: ids are not reused, pending ones settle, settled ones do not', () => {
      givenAccount(history).when(requestWithdrawal({ withdrawalId: 'old-0', amount: '0.01' }), at(NOW)).thenThrows('WITHDRAWAL_ALREADY_EXISTS');
      givenAccount(history)
        .when(settleWithdrawal('old-1', '0xabc'), at(NOW))
        .thenEvents([{ type: 'WithdrawalSettled', data: { withdrawalId: 'old-1', txHash: '0xabc', settledAt: NOW_ISO }, schemaVersion: 1 }]);
      givenAccount(history).when(settleWithdrawal('old-2', '0xabc'), at(NOW)).thenThrows('WITHDRAWAL_ALREADY_FINAL');
    });

    test('the balance counts every one of them exactly', () => {
      givenAccount(history)
        .when(requestWithdrawal({ withdrawalId: 'new', amount: '8.09' }), at(NOW))
        .thenThrows('INSUFFICIENT_FUNDS');
      // 10 deposited, 192 withdrawals of 0.01: 8.08 left.
      givenAccount(history)
        .when(requestWithdrawal({ withdrawalId: 'new', amount: '8.08' }), at(NOW))
        .thenState((state) => {
          expect(state.withdrawals.size).toBe(count + 1);
          expect([...state.withdrawals.keys()]).toEqual([...ids, 'new']);
          expect(available(state, 'ETH')).toBe('0');
          expect(held(state, 'ETH')).toBe(formatAmount('ETH', BigInt(count / 2) * 10n ** 16n + 808n * 10n ** 16n));
        });
    });
  });

  test('a withdrawal is approved only once', () => {
    givenAccount(approvedOne).when(approveWithdrawal(), at(NOW)).thenThrows('WITHDRAWAL_ALREADY_APPROVED');
  });

  test('a withdrawal is not settled before it is approved', () => {
    givenAccount(pending).when(settleWithdrawal(), at(NOW)).thenThrows('WITHDRAWAL_NOT_APPROVED');
  });

  const finals = [
    ['settled', [...approvedOne, settled()]],
    ['rejected', [...pending, rejected()]],
    ['cancelled', [...approvedOne, cancelled()]],
  ] as const;
  const moves = [
    ['approve', approveWithdrawal()],
    ['settle', settleWithdrawal()],
    ['reject', rejectWithdrawal()],
    ['cancel', cancelWithdrawal()],
  ] as const;
  test.each(finals.flatMap(([status, history]) => moves.map(([move, command]) => [move, status, history, command] as const)))(
    'cannot %s a %s withdrawal: WITHDRAWAL_ALREADY_FINAL',
    (_move, _status, history, command) => {
      givenAccount(history).when(command, at(NOW)).thenThrows('WITHDRAWAL_ALREADY_FINAL');
    },
  );

  test.each(moves)('cannot %s an unknown withdrawal: WITHDRAWAL_NOT_FOUND', (_move, command) => {
    givenAccount(ready).when(command, at(NOW)).thenThrows('WITHDRAWAL_NOT_FOUND');
  });

  test('a withdrawal id is used only once, even after it was rejected', () => {
    givenAccount([...pending, rejected()]).when(withdraw('1'), at(NOW)).thenThrows('WITHDRAWAL_ALREADY_EXISTS');
  });
});

describe('rule 6: an unauthorized withdrawal names a withdrawal of the account and an open incident', () => {
  const pending = [...ready, requested({ amount: '4' })];
  const settledFour = [...pending, approved(), settled()];

  test('a pending one is stopped: prevented, cancelled, and the funds stay available', () => {
    givenAccount(pending)
      .withIncident('inc-1')
      .when(reportUnauthorized('w-1', 'inc-1'), at(NOW))
      .thenEvents([
        {
          type: 'UnauthorizedWithdrawalDetected',
          data: { withdrawalId: 'w-1', incidentId: 'inc-1', asset: 'ETH', amount: '4', outcome: 'prevented', detectedAt: NOW_ISO },
          schemaVersion: 1,
        },
        event('WithdrawalCancelled', { withdrawalId: 'w-1', reason: 'unauthorized (incident inc-1)', cancelledAt: NOW_ISO }),
      ])
      .thenState((state) => {
        expect(available(state, 'ETH')).toBe('10');
        expect(lossOf(state, 'inc-1', 'ETH').lostMinor).toBe(0n);
      });
  });

  test('an approved but unsettled one is stopped too', () => {
    givenAccount([...pending, approved()])
      .withIncident('inc-1')
      .when(reportUnauthorized(), at(NOW))
      .thenEvents([unauthorizedDetected({ amount: '4', outcome: 'prevented' }, NOW), cancelled('w-1', NOW, 'unauthorized (incident inc-1)')]);
  });

  test('a settled one becomes a loss of that incident', () => {
    givenAccount(settledFour)
      .withIncident('inc-1')
      .when(reportUnauthorized(), at(NOW))
      .thenEvents([unauthorizedDetected({ amount: '4', outcome: 'loss' }, NOW)])
      .thenState((state) => expect(lossOf(state, 'inc-1', 'ETH')).toEqual({ lostMinor: 4n * 10n ** 18n, reimbursedMinor: 0n, paidOutMinor: 0n }));
  });

  test('an unknown withdrawal is WITHDRAWAL_NOT_FOUND', () => {
    givenAccount(settledFour).withIncident('inc-1').when(reportUnauthorized('w-unknown'), at(NOW)).thenThrows('WITHDRAWAL_NOT_FOUND');
  });

  test('an incident that does not exist is INCIDENT_NOT_FOUND', () => {
    givenAccount(settledFour).when(reportUnauthorized(), at(NOW)).thenThrows('INCIDENT_NOT_FOUND');
  });

  test('an incident other than the one named is INCIDENT_NOT_FOUND', () => {
    givenAccount(settledFour).withIncident('inc-2').when(reportUnauthorized('w-1', 'inc-1'), at(NOW)).thenThrows('INCIDENT_NOT_FOUND');
  });

  test('a closed incident is INCIDENT_NOT_OPEN', () => {
    givenAccount(settledFour).withIncident('inc-1', 'closed').when(reportUnauthorized(), at(NOW)).thenThrows('INCIDENT_NOT_OPEN');
  });

  test('a loss is reported only once', () => {
    givenAccount([...settledFour, unauthorizedDetected({ amount: '4', outcome: 'loss' })])
      .withIncident('inc-1')
      .when(reportUnauthorized(), at(NOW))
      .thenThrows('UNAUTHORIZED_ALREADY_REPORTED');
  });

  test('a prevented withdrawal is reported only once', () => {
    givenAccount([...pending, unauthorizedDetected({ amount: '4', outcome: 'prevented' }), cancelled('w-1', '2022-01-17T12:00Z', 'unauthorized')])
      .withIncident('inc-1')
      .when(reportUnauthorized(), at(NOW))
      .thenThrows('UNAUTHORIZED_ALREADY_REPORTED');
  });

  test.each([
    ['rejected', [...pending, rejected()]],
    ['cancelled', [...pending, cancelled()]],
  ])('a %s withdrawal moved no funds and is refused', (_status, history) => {
    givenAccount(history).withIncident('inc-1').when(reportUnauthorized(), at(NOW)).thenThrows('WITHDRAWAL_ALREADY_FINAL');
  });
});

describe('approval and settlement check again what the request checked: the address and the second factor', () => {
  const requestedOne = [...ready, requested({ amount: '1' })];
  const approvedOne = [...requestedOne, approved()];
  const REMOVED_AT = '2022-01-18T11:00Z';

  test('approval refuses a withdrawal whose address was removed since it was requested (ADDRESS_NOT_WHITELISTED)', () => {
    givenAccount([...requestedOne, addressRemoved('ETH', ADDR, REMOVED_AT)]).when(approveWithdrawal(), at(NOW)).thenThrows('ADDRESS_NOT_WHITELISTED');
  });

  test('settlement refuses an approved withdrawal whose address was removed since (ADDRESS_NOT_WHITELISTED)', () => {
    givenAccount([...approvedOne, addressRemoved('ETH', ADDR, REMOVED_AT)]).when(settleWithdrawal(), at(NOW)).thenThrows('ADDRESS_NOT_WHITELISTED');
  });

  test('an address removed and whitelisted again is inside its new hold: settlement waits (ADDRESS_ON_HOLD)', () => {
    const again = [...approvedOne, addressRemoved('ETH', ADDR, REMOVED_AT), whitelisted('ETH', ADDR, '2022-01-18T11:30Z', 24)];
    givenAccount(again).when(settleWithdrawal(), at(NOW)).thenThrows('ADDRESS_ON_HOLD');
  });

  test('settlement refuses an approved withdrawal whose token was revoked since (TWO_FACTOR_REVOKED)', () => {
    givenAccount([...approvedOne, tokenRevoked('tok-1', '2022-01-18T11:00Z')]).when(settleWithdrawal(), at(NOW)).thenThrows('TWO_FACTOR_REVOKED');
  });

  test('settlement refuses an approved withdrawal whose token a platform-wide revocation ended (TWO_FACTOR_REVOKED)', () => {
    givenAccount(approvedOne)
      .withPlatform({ latestTwoFactorRevocationAt: at('2022-01-17T05:00Z') })
      .when(settleWithdrawal(), at(NOW))
      .thenThrows('TWO_FACTOR_REVOKED');
  });

  test('such a withdrawal can still be rejected, and its hold is released', () => {
    givenAccount([...approvedOne, tokenRevoked('tok-1', '2022-01-18T11:00Z'), addressRemoved('ETH', ADDR, REMOVED_AT)])
      .when(rejectWithdrawal(), at(NOW))
      .thenEvents([rejected('w-1', NOW)])
      .thenState((state) => expect(available(state, 'ETH')).toBe('10'));
  });

  test('with the address and the token still valid, settlement goes through', () => {
    givenAccount(approvedOne).when(settleWithdrawal(), at(NOW)).thenEvents([settled('w-1', NOW)]);
  });
});

describe("rule 7: reimbursements never exceed the account's loss in that incident, per asset", () => {
  const lostTen = [...ready, requested({ amount: '10' }), approved(), settled(), unauthorizedDetected({ amount: '10', outcome: 'loss' })];
  const reimbursedFour = [...lostTen, reimbursed({ reimbursementId: 'r-1', amount: '4' })];

  test('the whole loss can be reimbursed, and becomes available', () => {
    givenAccount(lostTen)
      .withIncident('inc-1')
      .when(reimburse({ reimbursementId: 'r-1', amount: '10.0' }), at(NOW))
      .thenEvents([
        { type: 'Reimbursed', data: { reimbursementId: 'r-1', incidentId: 'inc-1', asset: 'ETH', amount: '10', reimbursedAt: NOW_ISO }, schemaVersion: 1 },
      ])
      .thenState((state) => {
        expect(available(state, 'ETH')).toBe('10');
        expect(lossOf(state, 'inc-1', 'ETH').reimbursedMinor).toBe(10n * 10n ** 18n);
      });
  });

  test('a partial reimbursement may be followed by the rest', () => {
    givenAccount(reimbursedFour).withIncident('inc-1').when(reimburse({ amount: '6' }), at(NOW)).thenEvents([reimbursed({ reimbursementId: 'r-new', amount: '6' }, NOW)]);
  });

  test('after a partial reimbursement, one minor unit beyond the rest is REIMBURSEMENT_EXCEEDS_LOSS', () => {
    givenAccount(reimbursedFour).withIncident('inc-1').when(reimburse({ amount: '6.000000000000000001' }), at(NOW)).thenThrows('REIMBURSEMENT_EXCEEDS_LOSS');
  });

  test('more than the loss is REIMBURSEMENT_EXCEEDS_LOSS', () => {
    givenAccount(lostTen).withIncident('inc-1').when(reimburse({ amount: '10.000000000000000001' }), at(NOW)).thenThrows('REIMBURSEMENT_EXCEEDS_LOSS');
  });

  test('an asset the account did not lose is REIMBURSEMENT_EXCEEDS_LOSS', () => {
    givenAccount(lostTen).withIncident('inc-1').when(reimburse({ asset: 'BTC', amount: '0.00000001' }), at(NOW)).thenThrows('REIMBURSEMENT_EXCEEDS_LOSS');
  });

  test('an incident in which the account lost nothing is REIMBURSEMENT_EXCEEDS_LOSS', () => {
    givenAccount(lostTen).withIncident('inc-2').when(reimburse({ incidentId: 'inc-2', amount: '1' }), at(NOW)).thenThrows('REIMBURSEMENT_EXCEEDS_LOSS');
  });

  test('a prevented withdrawal is no loss and is not reimbursed', () => {
    givenAccount([...ready, requested({ amount: '4' }), unauthorizedDetected({ amount: '4', outcome: 'prevented' }), cancelled()])
      .withIncident('inc-1')
      .when(reimburse({ amount: '4' }), at(NOW))
      .thenThrows('REIMBURSEMENT_EXCEEDS_LOSS');
  });

  test('an incident that does not exist is INCIDENT_NOT_FOUND', () => {
    givenAccount(lostTen).when(reimburse({ amount: '1' }), at(NOW)).thenThrows('INCIDENT_NOT_FOUND');
  });

  test('a reimbursement id is recorded only once', () => {
    givenAccount(reimbursedFour).withIncident('inc-1').when(reimburse({ reimbursementId: 'r-1', amount: '1' }), at(NOW)).thenThrows('REIMBURSEMENT_ALREADY_RECORDED');
  });

  test('a zero reimbursement is AMOUNT_NOT_POSITIVE', () => {
    givenAccount(lostTen).withIncident('inc-1').when(reimburse({ amount: '0' }), at(NOW)).thenThrows('AMOUNT_NOT_POSITIVE');
  });
});

describe('MFA, anti-phishing code and protection programme enrolment', () => {
  test('setting the anti-phishing code records when', () => {
    givenAccount([opened()]).when(setAntiPhishingCode(), at(NOW)).thenEvents([{ type: 'AntiPhishingCodeSet', data: { setAt: NOW_ISO }, schemaVersion: 1 }]);
  });

  test('changing the anti-phishing code is recorded again, restarting its 21-day clock', () => {
    givenAccount([opened(), event('AntiPhishingCodeSet', { setAt: '2022-01-01T00:00:00.000Z' })])
      .when(setAntiPhishingCode(), at(NOW))
      .thenEvents([event('AntiPhishingCodeSet', { setAt: NOW_ISO })])
      .thenState((state) => expect(state.antiPhishingCodeSetAt?.toMillis()).toBe(at(NOW).toMillis()));
  });

  test('enabling MFA records only the transaction types it changes', () => {
    givenAccount([opened(), mfaEnabled(['withdrawal'])])
      .when(setMfa(true, ['withdrawal', 'whitelist']), at(NOW))
      .thenEvents([{ type: 'MfaEnabled', data: { transactionTypes: ['whitelist'], enabledAt: NOW_ISO }, schemaVersion: 1 }]);
  });

  test('enabling MFA where it is already on is MFA_UNCHANGED', () => {
    givenAccount([opened(), mfaEnabled(['withdrawal', 'trade'])]).when(setMfa(true, ['trade']), at(NOW)).thenThrows('MFA_UNCHANGED');
  });

  test('disabling MFA records the transaction types it turns off', () => {
    givenAccount([opened(), mfaEnabled(['withdrawal', 'trade'])])
      .when(setMfa(false, ['trade', 'transfer']), at(NOW))
      .thenEvents([{ type: 'MfaDisabled', data: { transactionTypes: ['trade'], disabledAt: NOW_ISO }, schemaVersion: 1 }])
      .thenState((state) => expect([...state.mfaTransactionTypes]).toEqual(['withdrawal']));
  });

  test('disabling MFA where it is off is MFA_UNCHANGED', () => {
    givenAccount([opened()]).when(setMfa(false, ['withdrawal']), at(NOW)).thenThrows('MFA_UNCHANGED');
  });

  test('enrolling in the protection programme records when', () => {
    givenAccount([opened()])
      .when(enrolInProtection(), at('2022-02-01T00:00Z'))
      .thenEvents([{ type: 'ProtectionProgrammeEnrolled', data: { enrolledAt: '2022-02-01T00:00:00.000Z' }, schemaVersion: 1 }]);
  });

  test('an account enrols in the protection programme only once', () => {
    givenAccount([opened(), protectionEnrolled('2022-02-01T00:00Z')]).when(enrolInProtection(), at(NOW)).thenThrows('PROTECTION_ALREADY_ENROLLED');
  });
});
