import { DateTime } from 'luxon';
import { invariant } from './assert';

/** Instants are UTC luxon DateTimes in memory and ISO-8601 strings ending in Z in events. */
export type Instant = DateTime;

export function toIso(instant: DateTime): string {
  invariant(instant.isValid, 'an invalid DateTime reached an event');
  return instant.toUTC().toISO({ suppressMilliseconds: false, includeOffset: true })!.replace('+00:00', 'Z');
}

export function fromIso(iso: string): DateTime {
  const instant = DateTime.fromISO(iso, { zone: 'utc' });
  invariant(instant.isValid, `not an ISO-8601 instant: ${iso}`);
  return instant;
}
