import { DateTime } from 'luxon';
import { fromIso, toIso } from './time';

describe('instants in events', () => {
  it('are written as ISO-8601 UTC with milliseconds and Z, whatever zone the DateTime is in', () => {
    expect(toIso(DateTime.fromISO('2022-01-17T01:46:00.5+01:00', { setZone: true }))).toBe('2022-01-17T00:46:00.500Z');
    expect(toIso(DateTime.fromMillis(0, { zone: 'utc' }))).toBe('1970-01-01T00:00:00.000Z');
    expect(toIso(DateTime.fromISO('1969-12-31T23:59:59.999Z', { zone: 'utc' }))).toBe('1969-12-31T23:59:59.999Z');
    expect(toIso(DateTime.fromISO('+012022-01-17T00:00:00.000Z', { zone: 'utc' }))).toBe('+012022-01-17T00:00:00.000Z');
  });

  it('read back to the same instant, in UTC, and refuse what is not an instant', () => {
    for (const iso of ['2022-01-17T00:46:00.000Z', '2024-02-29T23:59:59.999Z', '1969-12-31T23:59:59.999Z']) {
      const instant = fromIso(iso);
      expect(instant.zoneName).toBe('UTC');
      expect(toIso(instant)).toBe(iso);
    }
    expect(fromIso('2022-01-17T01:46:00+01:00').toMillis()).toBe(Date.UTC(2022, 0, 17, 0, 46));
    expect(() => fromIso('2022-02-30T00:00:00.000Z')).toThrow(/not an ISO-8601 instant/);
    expect(() => fromIso('yesterday')).toThrow(/not an ISO-8601 instant/);
  });
});
