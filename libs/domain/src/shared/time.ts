import { DateTime } from 'luxon';
import { invariant } from './assert';

/** Instants are UTC luxon DateTimes in memory and ISO-8601 strings ending in Z in events. */
export type Instant = DateTime;

/** The form every instant in an event takes (what Date#toISOString writes for years 0 to 9999). */
const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MAX_FAST_MILLIS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function toIso(instant: DateTime): string {
  invariant(instant.isValid, 'an invalid DateTime reached an event');
  const millis = instant.toMillis();
  // Date writes the same string as luxon for years 0-9999, at a fraction of the cost (this runs once per event).
  if (millis >= 0 && millis <= MAX_FAST_MILLIS) return new Date(millis).toISOString();
  return instant.toUTC().toISO({ suppressMilliseconds: false, includeOffset: true })!.replace('+00:00', 'Z');
}

export function fromIso(iso: string): DateTime {
  if (CANONICAL_ISO.test(iso)) {
    // The canonical form parsed natively; kept only if it writes back the same (Date would roll 02-30 over to March).
    const millis = Date.parse(iso);
    if (Number.isFinite(millis) && new Date(millis).toISOString() === iso) return DateTime.fromMillis(millis, { zone: 'utc' });
  }
  const instant = DateTime.fromISO(iso, { zone: 'utc' });
  invariant(instant.isValid, `not an ISO-8601 instant: ${iso}`);
  return instant;
}
