import type { DateTime } from 'luxon';
import type { AccountCommand } from '../account/account.commands';
import type { AccountDecisionContext } from '../account/account.decider';
import type { AccountEvent } from '../account/account.events';
import type { AccountState } from '../account/account.state';
import { accountDecider, incidentDecider, platformDecider, priceDecider, type Decider } from '../decider';
import type { IncidentStatus } from '../incident/incident.decider';
import type { IncidentEvent } from '../incident/incident.events';
import { DEFAULT_NEW_ADDRESS_HOLD_HOURS, type PlatformDecisionContext, type PlatformView } from '../platform/platform.decider';
import type { PlatformEvent } from '../platform/platform.events';
import type { PriceEvent } from '../prices/price.events';
import { DomainError, type DomainErrorCode } from '../shared/errors';
import { fromIso } from '../shared/time';
import type { AssetCode } from '../money/assets';
import { parsePrice } from '../prices/price.decider';

/** An account decision's prices when a test gives none. */
const NO_PRICES: ReadonlyMap<AssetCode, bigint> = new Map();

export * from './builders';

/** An instant in UTC from a short ISO string: at('2022-01-18T10:17Z'). */
export const at = (iso: string): DateTime => fromIso(iso);

/**
 * The platform as an account decision sees it on a fresh ledger (open, 24-hour hold, no revocation), except that
 * second-factor proofs are not required: each rule's specs test that rule alone, and the proof's own specs
 * (second-factor.spec.ts) turn the requirement on, as a fresh ledger has it.
 */
export const FRESH_PLATFORM: PlatformView = {
  withdrawalsHalted: false,
  newAddressHoldHours: DEFAULT_NEW_ADDRESS_HOLD_HOURS,
  latestTwoFactorRevocationAt: null,
  secondFactorRequired: false,
  mfaThresholdUsdCents: null,
};

type Decided<Event> = { readonly events: Event[] } | { readonly error: unknown };

/**
 * given(history).when(command, now).then...: folds the history with the decider's own evolve (so a history that
 * breaks an invariant fails the test loudly), decides the command, and checks what came out.
 */
export class Scenario<Command, Event, State, Context extends { now: DateTime }> {
  constructor(
    private readonly decider: Decider<Command, Event, State, Context>,
    private readonly history: readonly Event[],
    private readonly context: Omit<Context, 'now'>,
  ) {}

  /** Platform facts an account decision receives (halt, hold policy, latest platform-wide revocation). */
  withPlatform(
    this: Scenario<Command, Event, State, AccountDecisionContext>,
    platform: Partial<PlatformView>,
  ): Scenario<Command, Event, State, AccountDecisionContext> {
    return new Scenario(this.decider, this.history, { ...this.context, platform: { ...this.context.platform, ...platform } });
  }

  /** Latest recorded USD prices the handler would load (rule 8): withPrices({ ETH: '3129' }). */
  withPrices(
    this: Scenario<Command, Event, State, AccountDecisionContext>,
    prices: Partial<Record<AssetCode, string>>,
  ): Scenario<Command, Event, State, AccountDecisionContext> {
    const parsed = new Map<AssetCode, bigint>();
    for (const [asset, usd] of Object.entries(prices) as [AssetCode, string][]) {
      const price = parsePrice(usd);
      if (!price.ok) throw new Error(`test price ${usd} for ${asset}: ${price.reason}`);
      parsed.set(asset, price.scaled);
    }
    return new Scenario(this.decider, this.history, { ...this.context, prices: parsed });
  }

  /** The incident the handler would load for the command: withIncident('inc-1') or withIncident('inc-1', 'closed'). */
  withIncident<C extends AccountDecisionContext | PlatformDecisionContext>(
    this: Scenario<Command, Event, State, C>,
    incidentId: string,
    status: IncidentStatus = 'open',
  ): Scenario<Command, Event, State, C> {
    return new Scenario(this.decider, this.history, { ...this.context, incident: { incidentId, status } });
  }

  when(command: Command, now: DateTime): Outcome<Event, State> {
    const state = this.history.reduce<State>((folded, event) => this.decider.evolve(folded, event), this.decider.initialState());
    const context = { ...this.context, now } as Context;
    let decided: Decided<Event>;
    try {
      decided = { events: this.decider.decide(command, state, context) };
    } catch (error) {
      decided = { error };
    }
    return new Outcome(this.decider.evolve, state, decided);
  }
}

export class Outcome<Event, State> {
  constructor(
    private readonly evolve: (state: State, event: Event) => State,
    private readonly stateBefore: State,
    private readonly decided: Decided<Event>,
  ) {}

  /** The decision is exactly these events, in this order, with exactly this data. */
  thenEvents(expected: Event[]): this {
    expect(this.events()).toStrictEqual(expected);
    return this;
  }

  /** The command is accepted and changes nothing (an idempotent job re-run). */
  thenNothing(): this {
    return this.thenEvents([]);
  }

  /** The command is refused with this business rule (and, given, a detail matching `detail`); nothing would be appended. */
  thenThrows(code: DomainErrorCode, detail?: RegExp): void {
    if ('events' in this.decided) {
      throw new Error(`expected ${code}, but the decision was ${JSON.stringify(this.decided.events)}`);
    }
    expect(this.decided.error).toBeInstanceOf(DomainError);
    expect((this.decided.error as DomainError).code).toBe(code);
    if (detail) expect((this.decided.error as DomainError).detail).toMatch(detail);
  }

  /** Checks the state after the emitted events are folded in (e.g. what is available afterwards). */
  thenState(check: (state: State) => void): this {
    check(this.events().reduce<State>((state, event) => this.evolve(state, event), this.stateBefore));
    return this;
  }

  private events(): Event[] {
    // An unexpected refusal is rethrown as it is, so the failure names the rule that refused.
    if ('error' in this.decided) throw this.decided.error;
    return this.decided.events;
  }
}

export const givenAccount = (history: readonly AccountEvent[]): Scenario<AccountCommand, AccountEvent, AccountState, AccountDecisionContext> =>
  new Scenario(accountDecider, history, { platform: FRESH_PLATFORM, incident: null, prices: NO_PRICES });

export const givenPlatform = (history: readonly PlatformEvent[]) => new Scenario(platformDecider, history, { incident: null });

export const givenIncident = (history: readonly IncidentEvent[]) => new Scenario(incidentDecider, history, {});

export const givenPrices = (history: readonly PriceEvent[]) => new Scenario(priceDecider, history, {});
