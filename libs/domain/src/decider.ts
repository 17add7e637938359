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
import { memberSet } from './shared/assert';

/**
 * One aggregate's pure decision logic: fold events into state, decide commands against it. Pure and synchronous,
 * so that a replay decides exactly as the ledger decided at the time.
 */
export interface Decider<Command, Event, State, Context> {
  readonly initialState: () => State;
  readonly evolve: (state: State, event: Event) => State;
  readonly decide: (command: Command, state: State, context: Context) => Event[];
  /** The event types this decider folds (every member of its event union); anything else in its stream is a fault. */
  readonly eventTypes: ReadonlySet<string>;
}

export const accountDecider: Decider<AccountCommand, AccountEvent, AccountState, AccountDecisionContext> = {
  initialState: initialAccountState,
  evolve: evolveAccount,
  decide: decideAccount,
  eventTypes: memberSet<AccountEvent['type']>({
    AccountOpened: true, FundsDeposited: true, TwoFactorEnrolled: true, TwoFactorTokenRevoked: true, AntiPhishingCodeSet: true,
    MfaEnabled: true, MfaDisabled: true, AddressWhitelisted: true, AddressRemoved: true, WithdrawalRequested: true,
    WithdrawalApproved: true, WithdrawalSettled: true, WithdrawalRejected: true, WithdrawalCancelled: true,
    UnauthorizedWithdrawalDetected: true, Reimbursed: true, ProtectionProgrammeEnrolled: true, ProtectionClaimFiled: true,
    ProtectionClaimApproved: true, ProtectionClaimDenied: true,
  }),
};

export const platformDecider: Decider<PlatformCommand, PlatformEvent, PlatformState, PlatformDecisionContext> = {
  initialState: initialPlatformState,
  evolve: evolvePlatform,
  decide: decidePlatform,
  eventTypes: memberSet<PlatformEvent['type']>({
    WithdrawalsHalted: true, WithdrawalsResumed: true, AllTwoFactorTokensRevoked: true, AllTwoFactorTokensRevocationCompleted: true,
    WithdrawalPolicyChanged: true, SecondFactorPolicyChanged: true, RiskHaltSkipped: true, AutoHaltPolicyChanged: true,
  }),
};

export const riskDecider: Decider<RiskCommand, RiskEvent, RiskState, RiskDecisionContext> = {
  initialState: initialRiskState,
  evolve: evolveRisk,
  decide: decideRisk,
  eventTypes: memberSet<RiskEvent['type']>({
    RiskAlertRaised: true, RiskAlertAcknowledged: true, RiskAlertDismissed: true, RiskAlertConfirmed: true,
    RiskAlertConfirmationCompleted: true, RiskRulesChanged: true,
  }),
};

export const incidentDecider: Decider<IncidentCommand, IncidentEvent, IncidentState, { now: DateTime }> = {
  initialState: initialIncidentState,
  evolve: evolveIncident,
  decide: decideIncident,
  eventTypes: memberSet<IncidentEvent['type']>({ IncidentOpened: true, IncidentClosed: true }),
};

export const priceDecider: Decider<PriceCommand, PriceEvent, PriceState, { now: DateTime }> = {
  initialState: initialPriceState,
  evolve: evolvePrice,
  decide: decidePrice,
  eventTypes: memberSet<PriceEvent['type']>({ AssetPriceRecorded: true }),
};
