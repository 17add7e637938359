import { platformDecider } from '../decider';
import { InvariantViolation } from '../shared/assert';
import {
  allTokensRevoked,
  at,
  changeWithdrawalPolicy,
  completeRevocation,
  givenPlatform,
  haltWithdrawals,
  policyChanged,
  resumeWithdrawals,
  revocationCompleted,
  revokeAllTokens,
  withdrawalsHalted,
  withdrawalsResumed,
} from '../testing/given';
import { DEFAULT_NEW_ADDRESS_HOLD_HOURS, initialPlatformState, pendingRevocations, platformView } from './platform.decider';
import type { PlatformEvent } from './platform.events';

const HALTED_AT = '2022-01-17T00:20Z';
const NOW = '2022-01-17T14:20:30.900Z';
const fold = (history: PlatformEvent[]) => history.reduce(platformDecider.evolve, initialPlatformState());

describe('rule 3: halting and resuming withdrawals', () => {
  test('withdrawals are halted, naming the open incident', () => {
    givenPlatform([])
      .withIncident('inc-1')
      .when(haltWithdrawals('inc-1', 'suspicious withdrawals'), at(HALTED_AT))
      .thenEvents([
        { type: 'WithdrawalsHalted', data: { incidentId: 'inc-1', reason: 'suspicious withdrawals', haltedAt: '2022-01-17T00:20:00.000Z' }, schemaVersion: 1 },
      ])
      .thenState((state) => expect(platformView(state).withdrawalsHalted).toBe(true));
  });

  test('withdrawals can be halted without naming an incident', () => {
    givenPlatform([]).when(haltWithdrawals(null, 'maintenance'), at(HALTED_AT)).thenEvents([
      { type: 'WithdrawalsHalted', data: { incidentId: null, reason: 'maintenance', haltedAt: '2022-01-17T00:20:00.000Z' }, schemaVersion: 1 },
    ]);
  });

  test('halted withdrawals are not halted again', () => {
    givenPlatform([withdrawalsHalted(HALTED_AT)]).withIncident('inc-1').when(haltWithdrawals(), at(NOW)).thenThrows('WITHDRAWALS_ALREADY_HALTED');
  });

  test('a halt naming an incident that does not exist is INCIDENT_NOT_FOUND', () => {
    givenPlatform([]).when(haltWithdrawals('inc-1'), at(HALTED_AT)).thenThrows('INCIDENT_NOT_FOUND');
  });

  test('a halt naming a closed incident is INCIDENT_NOT_OPEN', () => {
    givenPlatform([]).withIncident('inc-1', 'closed').when(haltWithdrawals('inc-1'), at(HALTED_AT)).thenThrows('INCIDENT_NOT_OPEN');
  });

  test('resuming records when the halt began and how many whole seconds it lasted', () => {
    givenPlatform([withdrawalsHalted(HALTED_AT)])
      .withIncident('inc-1')
      .when(resumeWithdrawals('inc-1', 'fixed'), at(NOW))
      .thenEvents([
        {
          type: 'WithdrawalsResumed',
          data: {
            incidentId: 'inc-1',
            reason: 'fixed',
            resumedAt: '2022-01-17T14:20:30.900Z',
            haltedAt: '2022-01-17T00:20:00.000Z',
            haltedForSeconds: 14 * 3600 + 30,
          },
          schemaVersion: 1,
        },
      ])
      .thenState((state) => expect(platformView(state).withdrawalsHalted).toBe(false));
  });

  test('withdrawals that are not halted are not resumed', () => {
    givenPlatform([]).when(resumeWithdrawals(null), at(NOW)).thenThrows('WITHDRAWALS_NOT_HALTED');
  });

  test('resumed withdrawals are not resumed again', () => {
    givenPlatform([withdrawalsHalted(HALTED_AT), withdrawalsResumed('2022-01-17T14:00Z', HALTED_AT, 49200)])
      .when(resumeWithdrawals(null), at(NOW))
      .thenThrows('WITHDRAWALS_NOT_HALTED');
  });

  test('a resumption naming an incident that does not exist is INCIDENT_NOT_FOUND', () => {
    givenPlatform([withdrawalsHalted(HALTED_AT)]).when(resumeWithdrawals('inc-1'), at(NOW)).thenThrows('INCIDENT_NOT_FOUND');
  });

  test('a resumption naming another incident than the one loaded is INCIDENT_NOT_FOUND', () => {
    givenPlatform([withdrawalsHalted(HALTED_AT)]).withIncident('inc-2').when(resumeWithdrawals('inc-1'), at(NOW)).thenThrows('INCIDENT_NOT_FOUND');
  });

  test('a resumption may name an incident that has been closed since', () => {
    givenPlatform([withdrawalsHalted(HALTED_AT)])
      .withIncident('inc-1', 'closed')
      .when(resumeWithdrawals('inc-1', 'fixed'), at('2022-01-17T14:20Z'))
      .thenEvents([withdrawalsResumed('2022-01-17T14:20Z', HALTED_AT, 14 * 3600)]);
  });

  test('withdrawals can be halted again after they resumed', () => {
    givenPlatform([withdrawalsHalted(HALTED_AT), withdrawalsResumed('2022-01-17T14:00Z', HALTED_AT, 49200)])
      .when(haltWithdrawals(null, 'again'), at(NOW))
      .thenEvents([withdrawalsHalted(NOW, null, 'again')]);
  });
});

describe('rule 2: platform-wide revocation of every second-factor token', () => {
  const REVOKED_AT = '2022-01-17T05:00Z';

  test('a revocation is recorded for an open incident, and from then on tokens enrolled before it are invalid', () => {
    givenPlatform([])
      .withIncident('inc-1')
      .when(revokeAllTokens('rev-1', 'inc-1', 'unauthorized withdrawals'), at(REVOKED_AT))
      .thenEvents([
        {
          type: 'AllTwoFactorTokensRevoked',
          data: { revocationId: 'rev-1', incidentId: 'inc-1', reason: 'unauthorized withdrawals', revokedAt: '2022-01-17T05:00:00.000Z' },
          schemaVersion: 1,
        },
      ])
      .thenState((state) => {
        expect(platformView(state).latestTwoFactorRevocationAt?.toMillis()).toBe(at(REVOKED_AT).toMillis());
        expect(pendingRevocations(state).map((revocation) => revocation.revocationId)).toEqual(['rev-1']);
      });
  });

  test('a revocation naming an incident that does not exist is INCIDENT_NOT_FOUND', () => {
    givenPlatform([]).when(revokeAllTokens('rev-1', 'inc-1'), at(REVOKED_AT)).thenThrows('INCIDENT_NOT_FOUND');
  });

  test('a revocation naming a closed incident is INCIDENT_NOT_OPEN', () => {
    givenPlatform([]).withIncident('inc-1', 'closed').when(revokeAllTokens('rev-1', 'inc-1'), at(REVOKED_AT)).thenThrows('INCIDENT_NOT_OPEN');
  });

  test('a revocation id is recorded only once', () => {
    givenPlatform([allTokensRevoked('rev-1', REVOKED_AT)])
      .withIncident('inc-1')
      .when(revokeAllTokens('rev-1', 'inc-1'), at(NOW))
      .thenThrows('TWO_FACTOR_REVOCATION_ALREADY_RECORDED');
  });

  test('the latest of several revocations is the one accounts are held to', () => {
    const state = fold([allTokensRevoked('rev-1', REVOKED_AT), allTokensRevoked('rev-2', '2022-01-20T00:00Z')]);
    expect(platformView(state).latestTwoFactorRevocationAt?.toMillis()).toBe(at('2022-01-20T00:00Z').toMillis());
  });

  test('completing a revocation records it and leaves it the latest', () => {
    givenPlatform([allTokensRevoked('rev-1', REVOKED_AT)])
      .when(completeRevocation('rev-1'), at(NOW))
      .thenEvents([{ type: 'AllTwoFactorTokensRevocationCompleted', data: { revocationId: 'rev-1', completedAt: '2022-01-17T14:20:30.900Z' }, schemaVersion: 1 }])
      .thenState((state) => {
        expect(pendingRevocations(state)).toEqual([]);
        expect(platformView(state).latestTwoFactorRevocationAt?.toMillis()).toBe(at(REVOKED_AT).toMillis());
      });
  });

  test('completing an unknown revocation is TWO_FACTOR_REVOCATION_NOT_FOUND', () => {
    givenPlatform([]).when(completeRevocation('rev-1'), at(NOW)).thenThrows('TWO_FACTOR_REVOCATION_NOT_FOUND');
  });

  test('a revocation is completed only once', () => {
    givenPlatform([allTokensRevoked('rev-1', REVOKED_AT), revocationCompleted('rev-1', '2022-01-17T06:00Z')])
      .when(completeRevocation('rev-1'), at(NOW))
      .thenThrows('TWO_FACTOR_REVOCATION_ALREADY_COMPLETED');
  });
});

describe('rule 4: the new-address hold policy', () => {
  test('a fresh platform holds new addresses for 24 hours', () => {
    expect(DEFAULT_NEW_ADDRESS_HOLD_HOURS).toBe(24);
    expect(platformView(initialPlatformState()).newAddressHoldHours).toBe(24);
  });

  test('setting the fresh default again is WITHDRAWAL_POLICY_UNCHANGED', () => {
    givenPlatform([]).when(changeWithdrawalPolicy(24), at(NOW)).thenThrows('WITHDRAWAL_POLICY_UNCHANGED');
  });

  test('a change records the new and the previous hold', () => {
    givenPlatform([])
      .when(changeWithdrawalPolicy(0), at('2022-01-01T00:00Z'))
      .thenEvents([
        { type: 'WithdrawalPolicyChanged', data: { newAddressHoldHours: 0, previousNewAddressHoldHours: 24, changedAt: '2022-01-01T00:00:00.000Z' }, schemaVersion: 1 },
      ])
      .thenState((state) => expect(platformView(state).newAddressHoldHours).toBe(0));
  });

  test('the incident scenario adds the 24-hour hold back after starting with none', () => {
    givenPlatform([policyChanged(0, 24, '2022-01-01T00:00Z')])
      .when(changeWithdrawalPolicy(24), at('2022-01-18T10:17Z'))
      .thenEvents([policyChanged(24, 0, '2022-01-18T10:17Z')]);
  });

  test('the maximum hold of 720 hours is accepted', () => {
    givenPlatform([]).when(changeWithdrawalPolicy(720), at(NOW)).thenEvents([policyChanged(720, 24, NOW)]);
  });

  test('setting the hold in force again is WITHDRAWAL_POLICY_UNCHANGED', () => {
    givenPlatform([policyChanged(48, 24, '2022-01-01T00:00Z')]).when(changeWithdrawalPolicy(48), at(NOW)).thenThrows('WITHDRAWAL_POLICY_UNCHANGED');
  });

  test.each([-1, 721, 1.5, Number.NaN])('a hold of %p hours is a broken invariant: the edges refuse it first', (hours) => {
    expect(() => platformDecider.decide(changeWithdrawalPolicy(hours), initialPlatformState(), { now: at(NOW), incident: null })).toThrow(InvariantViolation);
  });
});

describe('rule 2, per transaction: the second-factor policy', () => {
  const POLICY_AT = '2022-01-17T17:42Z';
  const change = (required: boolean, mfaThresholdUsd: string | null) => ({ type: 'ChangeSecondFactorPolicy' as const, data: { required, mfaThresholdUsd } });
  const changed = (required: boolean, mfaThresholdUsd: string | null, previousRequired: boolean, previousMfaThresholdUsd: string | null): PlatformEvent => ({
    type: 'SecondFactorPolicyChanged',
    data: { required, mfaThresholdUsd, previousRequired, previousMfaThresholdUsd, changedAt: '2022-01-17T17:42:00.000Z' },
    schemaVersion: 1,
  });

  test('a fresh ledger requires proofs, with no MFA threshold', () => {
    expect(platformView(initialPlatformState())).toMatchObject({ secondFactorRequired: true, mfaThresholdUsdCents: null });
  });

  test('the requirement can be turned off (the incident scenario starts so) and on again with a threshold', () => {
    givenPlatform([]).when(change(false, null), at(POLICY_AT)).thenEvents([changed(false, null, true, null)]);
    givenPlatform([changed(false, null, true, null)])
      .when(change(true, '10000.00'), at(POLICY_AT))
      .thenEvents([changed(true, '10000', false, null)])
      .thenState((state) => expect(platformView(state)).toMatchObject({ secondFactorRequired: true, mfaThresholdUsdCents: 1_000_000n }));
  });

  test('the same policy again is SECOND_FACTOR_POLICY_UNCHANGED', () => {
    givenPlatform([]).when(change(true, null), at(POLICY_AT)).thenThrows('SECOND_FACTOR_POLICY_UNCHANGED');
  });

  test('a threshold of zero is AMOUNT_NOT_POSITIVE', () => {
    givenPlatform([]).when(change(true, '0'), at(POLICY_AT)).thenThrows('AMOUNT_NOT_POSITIVE');
  });
});
