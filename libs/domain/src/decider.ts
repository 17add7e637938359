import type { AccountCommand } from './account/account.commands';
import { decideAccount, type AccountDecisionContext } from './account/account.decider';
import type { AccountEvent } from './account/account.events';
import { evolveAccount, initialAccountState, type AccountState } from './account/account.state';
import type { IncidentCommand } from './incident/incident.commands';
import { decideIncident, evolveIncident, initialIncidentState, type IncidentState } from './incident/incident.decider';
import type { IncidentEvent } from './incident/incident.events';
import type { PlatformCommand } from './platform/platform.commands';
import {
  decidePlatform,
  evolvePlatform,
  initialPlatformState,
  type PlatformDecisionContext,
  type PlatformState,
} from './platform/platform.decider';
import type { PlatformEvent } from './platform/platform.events';
import { decidePrice, evolvePrice, initialPriceState, type PriceCommand, type PriceState } from './prices/price.decider';
import type { PriceEvent } from './prices/price.events';
import { decideRisk, evolveRisk, initialRiskState, type RiskCommand, type RiskDecisionContext, type RiskEvent, type RiskState } from './risk/risk.decider';
import type { DateTime } from 'luxon';

/** One aggregate's pure decision logic (DESIGN §3): fold events into state, decide commands against it. */
export interface Decider<Command, Event, State, Context> {
  readonly initialState: () => State;
  readonly evolve: (state: State, event: Event) => State;
  readonly decide: (command: Command, state: State, context: Context) => Event[];
  /** The event types this decider folds; anything else in its stream is a fault. */
  readonly eventTypes: ReadonlySet<string>;
}

export const accountDecider: Decider<AccountCommand, AccountEvent, AccountState, AccountDecisionContext> = {
  initialState: initialAccountState,
  evolve: evolveAccount,
  decide: decideAccount,
  eventTypes: new Set<AccountEvent['type']>([
    'AccountOpened', 'FundsDeposited', 'TwoFactorEnrolled', 'TwoFactorTokenRevoked', 'AntiPhishingCodeSet',
    'MfaEnabled', 'MfaDisabled', 'AddressWhitelisted', 'AddressRemoved', 'WithdrawalRequested', 'WithdrawalApproved',
    'WithdrawalSettled', 'WithdrawalRejected', 'WithdrawalCancelled', 'UnauthorizedWithdrawalDetected', 'Reimbursed',
    'ProtectionProgrammeEnrolled', 'ProtectionClaimFiled', 'ProtectionClaimApproved', 'ProtectionClaimDenied',
  ]),
};

export const platformDecider: Decider<PlatformCommand, PlatformEvent, PlatformState, PlatformDecisionContext> = {
  initialState: initialPlatformState,
  evolve: evolvePlatform,
  decide: decidePlatform,
  eventTypes: new Set<PlatformEvent['type']>([
    'WithdrawalsHalted', 'WithdrawalsResumed', 'AllTwoFactorTokensRevoked', 'AllTwoFactorTokensRevocationCompleted',
    'WithdrawalPolicyChanged', 'SecondFactorPolicyChanged', 'RiskHaltSkipped', 'AutoHaltPolicyChanged',
  ]),
};

export const riskDecider: Decider<RiskCommand, RiskEvent, RiskState, RiskDecisionContext> = {
  initialState: initialRiskState,
  evolve: evolveRisk,
  decide: decideRisk,
  eventTypes: new Set<RiskEvent['type']>([
    'RiskAlertRaised', 'RiskAlertAcknowledged', 'RiskAlertDismissed', 'RiskAlertConfirmed', 'RiskAlertConfirmationCompleted', 'RiskRulesChanged',
  ]),
};

export const incidentDecider: Decider<IncidentCommand, IncidentEvent, IncidentState, { now: DateTime }> = {
  initialState: initialIncidentState,
  evolve: evolveIncident,
  decide: decideIncident,
  eventTypes: new Set<IncidentEvent['type']>(['IncidentOpened', 'IncidentClosed']),
};

export const priceDecider: Decider<PriceCommand, PriceEvent, PriceState, { now: DateTime }> = {
  initialState: initialPriceState,
  evolve: evolvePrice,
  decide: decidePrice,
  eventTypes: new Set<PriceEvent['type']>(['AssetPriceRecorded']),
};
