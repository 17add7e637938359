import { platformDecider, riskDecider } from '../decider';
import type { PlatformEvent } from '../platform/platform.events';
import { initialPlatformState } from '../platform/platform.decider';
import { DomainError } from '../shared/errors';
import { at } from '../testing/given';
import { DEFAULT_AUTO_HALT_POLICY, haltingAlerts, initialRiskState, pendingConfirmations, type RiskCommand, type RiskDecisionContext, type RiskEvent } from './risk.decider';
import { DEFAULT_RISK_THRESHOLDS, type RiskDetection } from './risk.rules';

const NOW = at('2022-01-17T00:46Z');
const DETECTION: RiskDetection = {
  alertId: 'shared-destination-42',
  rule: 'shared-destination',
  severity: 'high',
  summary: '3 accounts withdraw ETH to drop within 60 minutes',
  accounts: ['a', 'b', 'c'],
  withdrawals: [{ accountId: 'a', withdrawalId: 'w1' }, { accountId: 'b', withdrawalId: 'w1' }, { accountId: 'c', withdrawalId: 'w1' }],
  positions: ['40', '41', '42'],
  detectedAt: '2022-01-17T00:45:00.000Z',
};
const CONTEXT: RiskDecisionContext = { now: NOW, autoHalt: DEFAULT_AUTO_HALT_POLICY, incident: { incidentId: 'inc-1', status: 'open' } };

function decide(history: RiskEvent[], command: RiskCommand, context: Partial<RiskDecisionContext> = {}): RiskEvent[] {
  const state = history.reduce(riskDecider.evolve, initialRiskState());
  const events = riskDecider.decide(command, state, { ...CONTEXT, ...context });
  // Whatever is decided folds: the history stays valid.
  events.reduce(riskDecider.evolve, state);
  return events;
}

function refusal(history: RiskEvent[], command: RiskCommand, context: Partial<RiskDecisionContext> = {}): string {
  try {
    decide(history, command, context);
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

const raise = (context: Partial<RiskDecisionContext> = {}) => decide([], { type: 'RaiseRiskAlert', data: { detection: DETECTION } }, context);
const raised = () => raise();

describe('risk alerts', () => {
  it('raises a detection once; offered again (a restarted monitor, a second process) it changes nothing', () => {
    const events = raised();
    expect(events).toEqual([{ type: 'RiskAlertRaised', data: { ...DETECTION, halts: false, raisedAt: '2022-01-17T00:46:00.000Z' }, schemaVersion: 1 }]);
    expect(decide(events, { type: 'RaiseRiskAlert', data: { detection: DETECTION } })).toEqual([]);
  });

  it('marks an alert as halting when the auto-halt policy lists its rule and it is severe enough', () => {
    expect(raise({ autoHalt: { rules: ['shared-destination'], minSeverity: 'high' } })[0]!.data).toMatchObject({ halts: true });
    expect(raise({ autoHalt: { rules: ['shared-destination'], minSeverity: 'critical' } })[0]!.data).toMatchObject({ halts: false });
    expect(raise({ autoHalt: { rules: ['withdrawal-burst'], minSeverity: 'low' } })[0]!.data).toMatchObject({ halts: false });
    const state = raise({ autoHalt: { rules: ['shared-destination'], minSeverity: 'medium' } }).reduce(riskDecider.evolve, initialRiskState());
    expect(haltingAlerts(state).map((alert) => alert.alertId)).toEqual(['shared-destination-42']);
  });

  it('is acknowledged once, then dismissed with a reason; a dismissed alert takes no further decision', () => {
    const ack = decide(raised(), { type: 'AcknowledgeRiskAlert', data: { alertId: DETECTION.alertId } });
    expect(ack[0]!.type).toBe('RiskAlertAcknowledged');
    expect(refusal([...raised(), ...ack], { type: 'AcknowledgeRiskAlert', data: { alertId: DETECTION.alertId } })).toBe('RISK_ALERT_ALREADY_ACKNOWLEDGED');
    const dismissed = decide([...raised(), ...ack], { type: 'DismissRiskAlert', data: { alertId: DETECTION.alertId, reason: 'payroll run' } });
    expect(dismissed[0]!.data).toMatchObject({ reason: 'payroll run' });
    const history = [...raised(), ...ack, ...dismissed];
    expect(refusal(history, { type: 'ConfirmRiskAlert', data: { alertId: DETECTION.alertId, incidentId: 'inc-1' } })).toBe('RISK_ALERT_ALREADY_CLOSED');
    expect(refusal(history, { type: 'DismissRiskAlert', data: { alertId: DETECTION.alertId, reason: 'again' } })).toBe('RISK_ALERT_ALREADY_CLOSED');
  });

  it('refuses a decision on an alert that does not exist', () => {
    expect(refusal([], { type: 'AcknowledgeRiskAlert', data: { alertId: 'nope' } })).toBe('RISK_ALERT_NOT_FOUND');
  });

  it('is confirmed into an open incident with every withdrawal it names; the job then completes it once', () => {
    const confirmed = decide(raised(), { type: 'ConfirmRiskAlert', data: { alertId: DETECTION.alertId, incidentId: 'inc-1' } });
    expect(confirmed[0]!.data).toMatchObject({ incidentId: 'inc-1', withdrawals: DETECTION.withdrawals });
    const history = [...raised(), ...confirmed];
    expect(pendingConfirmations(history.reduce(riskDecider.evolve, initialRiskState())).map((a) => a.alertId)).toEqual([DETECTION.alertId]);
    const completed = decide(history, { type: 'CompleteRiskAlertConfirmation', data: { alertId: DETECTION.alertId, reported: 3, skipped: 0 } });
    expect(completed[0]!.type).toBe('RiskAlertConfirmationCompleted');
    expect(decide([...history, ...completed], { type: 'CompleteRiskAlertConfirmation', data: { alertId: DETECTION.alertId, reported: 3, skipped: 0 } })).toEqual([]);
    expect(pendingConfirmations([...history, ...completed].reduce(riskDecider.evolve, initialRiskState()))).toEqual([]);
  });

  it('refuses a confirmation into a closed or unknown incident, and of an alert naming no withdrawal', () => {
    const confirm: RiskCommand = { type: 'ConfirmRiskAlert', data: { alertId: DETECTION.alertId, incidentId: 'inc-1' } };
    expect(refusal(raised(), confirm, { incident: { incidentId: 'inc-1', status: 'closed' } })).toBe('INCIDENT_NOT_OPEN');
    expect(refusal(raised(), confirm, { incident: null })).toBe('INCIDENT_NOT_FOUND');
    const wave = decide([], { type: 'RaiseRiskAlert', data: { detection: { ...DETECTION, alertId: 'fresh-address-wave-9', rule: 'fresh-address-wave', withdrawals: [] } } });
    expect(refusal(wave, { type: 'ConfirmRiskAlert', data: { alertId: 'fresh-address-wave-9', incidentId: 'inc-1' } })).toBe('RISK_ALERT_NAMES_NO_WITHDRAWAL');
  });

  it('changes thresholds it is given and keeps the others; the same values again are refused', () => {
    const [changed] = decide([], { type: 'ChangeRiskRules', data: { thresholds: { freshAddressMinutes: 240 } } });
    expect(changed!.data).toMatchObject({ thresholds: { ...DEFAULT_RISK_THRESHOLDS, freshAddressMinutes: 240 }, previous: DEFAULT_RISK_THRESHOLDS });
    expect(refusal([changed!], { type: 'ChangeRiskRules', data: { thresholds: { freshAddressMinutes: 240 } } })).toBe('RISK_RULES_UNCHANGED');
    expect(() => decide([], { type: 'ChangeRiskRules', data: { thresholds: { freshAddressMinutes: 0 } } })).toThrow(/freshAddressMinutes/);
  });
});

describe('the automatic halt on the platform stream', () => {
  const fold = (history: PlatformEvent[]) => history.reduce(platformDecider.evolve, initialPlatformState());
  const halt = { type: 'HaltWithdrawals' as const, data: { incidentId: null, reason: 'risk alert shared-destination-42', alertId: 'shared-destination-42' } };
  const ctx = { now: NOW, incident: null };

  it('halts withdrawals once per alert, naming the alert; the alert never halts again, even after a resumption', () => {
    const [halted] = platformDecider.decide(halt, fold([]), ctx);
    expect(halted).toEqual({ type: 'WithdrawalsHalted', data: { incidentId: null, reason: 'risk alert shared-destination-42', haltedAt: '2022-01-17T00:46:00.000Z', alertId: 'shared-destination-42' }, schemaVersion: 1 });
    const resumed = platformDecider.decide({ type: 'ResumeWithdrawals', data: { incidentId: null, reason: 'investigated' } }, fold([halted!]), { now: at('2022-01-17T01:00Z'), incident: null });
    expect(platformDecider.decide(halt, fold([halted!, ...resumed]), ctx)).toEqual([]);
  });

  it('records that a halting alert found withdrawals halted already, so that it does not halt them after the resumption', () => {
    const [manual] = platformDecider.decide({ type: 'HaltWithdrawals', data: { incidentId: null, reason: 'ops' } }, fold([]), ctx);
    const [skipped] = platformDecider.decide(halt, fold([manual!]), ctx);
    expect(skipped).toMatchObject({ type: 'RiskHaltSkipped', data: { alertId: 'shared-destination-42' } });
    expect(fold([manual!, skipped!]).appliedRiskHalts.has('shared-destination-42')).toBe(true);
    expect(platformDecider.decide(halt, fold([manual!, skipped!]), ctx)).toEqual([]);
  });

  it('changes the policy, refusing one that changes nothing', () => {
    const [changed] = platformDecider.decide({ type: 'ChangeAutoHaltPolicy', data: { rules: ['withdrawal-burst', 'shared-destination'], minSeverity: 'high' } }, fold([]), ctx);
    expect(changed!.data).toMatchObject({ rules: ['shared-destination', 'withdrawal-burst'], previousRules: [] });
    expect(fold([changed!]).autoHalt).toEqual({ rules: ['shared-destination', 'withdrawal-burst'], minSeverity: 'high' });
    expect(() => platformDecider.decide({ type: 'ChangeAutoHaltPolicy', data: { rules: ['shared-destination', 'withdrawal-burst'], minSeverity: 'high' } }, fold([changed!]), ctx)).toThrow(
      expect.objectContaining({ code: 'AUTO_HALT_POLICY_UNCHANGED' }),
    );
  });
});
