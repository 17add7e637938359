import { accountDecider } from '../decider';
import { InvariantViolation } from '../shared/assert';
import {
  approved,
  deposited,
  enrolled,
  opened,
  reimbursed,
  requested,
  settled,
  tokenRevoked,
  unauthorizedDetected,
  whitelisted,
  ETH_ADDRESS as ADDR,
} from '../testing/given';
import type { AccountEvent } from './account.events';
import { availableMinor, balanceOf, initialAccountState } from './account.state';

const fold = (history: AccountEvent[]) => history.reduce(accountDecider.evolve, initialAccountState());
const ETH = 10n ** 18n;
const ready = [opened(), deposited('ETH', '10'), enrolled('tok-1'), whitelisted('ETH', ADDR)];

describe('evolve: available = deposited + reimbursed - held - withdrawn', () => {
  test('each kind of movement lands in its own column', () => {
    const state = fold([
      ...ready,
      requested({ withdrawalId: 'w-1', amount: '10' }),
      approved('w-1'),
      settled('w-1'),
      unauthorizedDetected({ withdrawalId: 'w-1', amount: '10', outcome: 'loss' }),
      reimbursed({ amount: '7' }),
      requested({ withdrawalId: 'w-2', amount: '3' }),
    ]);
    expect(balanceOf(state, 'ETH')).toEqual({ depositedMinor: 10n * ETH, reimbursedMinor: 7n * ETH, heldMinor: 3n * ETH, withdrawnMinor: 10n * ETH });
    expect(availableMinor(balanceOf(state, 'ETH'))).toBe(4n * ETH);
  });

  test('folding never changes the state it is given (cached states stay valid)', () => {
    const before = fold(ready);
    const after = accountDecider.evolve(before, requested({ amount: '4' }));
    expect(availableMinor(balanceOf(before, 'ETH'))).toBe(10n * ETH);
    expect(before.withdrawals.size).toBe(0);
    expect(availableMinor(balanceOf(after, 'ETH'))).toBe(6n * ETH);
  });
});

describe('evolve asserts its invariants instead of accepting a history that breaks them', () => {
  test('a withdrawal beyond the balance would make it negative: InvariantViolation', () => {
    expect(() => fold([...ready, requested({ amount: '10.000000000000000001' })])).toThrow(InvariantViolation);
  });

  test('two withdrawals that together exceed the balance: InvariantViolation', () => {
    expect(() => fold([...ready, requested({ withdrawalId: 'w-1', amount: '6' }), requested({ withdrawalId: 'w-2', amount: '5' })])).toThrow(
      InvariantViolation,
    );
  });

  test('a reimbursement beyond the loss: InvariantViolation', () => {
    const lostFour = [...ready, requested({ amount: '4' }), approved(), settled(), unauthorizedDetected({ amount: '4', outcome: 'loss' })];
    expect(() => fold([...lostFour, reimbursed({ amount: '4.000000000000000001' })])).toThrow(InvariantViolation);
  });

  test('a reimbursement without any loss: InvariantViolation', () => {
    expect(() => fold([...ready, reimbursed({ amount: '1' })])).toThrow(InvariantViolation);
  });

  test('a withdrawal settled twice: InvariantViolation', () => {
    expect(() => fold([...ready, requested({ amount: '1' }), approved(), settled(), settled()])).toThrow(InvariantViolation);
  });

  test('a withdrawal approved twice: InvariantViolation', () => {
    expect(() => fold([...ready, requested({ amount: '1' }), approved(), approved()])).toThrow(InvariantViolation);
  });

  test('an event naming an unknown withdrawal: InvariantViolation', () => {
    expect(() => fold([...ready, settled('w-unknown')])).toThrow(InvariantViolation);
  });

  test('revoking an unknown token: InvariantViolation', () => {
    expect(() => fold([opened(), tokenRevoked('tok-unknown', '2022-01-05T00:00Z')])).toThrow(InvariantViolation);
  });

  test('a recorded amount that is not a valid amount of its asset is refused when folded', () => {
    expect(() => fold([opened(), deposited('USD', '0.001')])).toThrow(TypeError);
  });
});
