import { DateTime } from 'luxon';

/** The only place the ledger reads time; the domain receives it as a value. */
export interface Clock {
  now(): DateTime;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => DateTime.utc() };

/** A clock that a test or a scenario moves by hand. */
export class ManualClock implements Clock {
  constructor(private current: DateTime) {}
  now(): DateTime {
    return this.current;
  }
  set(instant: DateTime): void {
    this.current = instant.toUTC();
  }
  advance(duration: { hours?: number; minutes?: number; seconds?: number; milliseconds?: number }): void {
    this.current = this.current.plus(duration);
  }
}
