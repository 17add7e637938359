import { eventIdFor, timeOrderedUuid } from './event-ids';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event ids', () => {
  it('are the same for the same command and index, and differ otherwise', () => {
    const command = timeOrderedUuid();
    expect(eventIdFor(command, 0)).toBe(eventIdFor(command, 0));
    expect(eventIdFor(command, 1)).not.toBe(eventIdFor(command, 0));
    expect(eventIdFor(timeOrderedUuid(), 0)).not.toBe(eventIdFor(command, 0));
  });

  it('keep the id an idempotency key gave before ids became time-ordered (version 5 layout)', () => {
    // Recorded with the earlier code: a retried idempotent command must still find its stored events.
    expect(eventIdFor('service-key:order-17', 0)).toBe('4e4be0ca-71ea-5d0a-8546-f289ad3bda4e');
  });

  it('of a time-ordered command sort in the order the commands were made, whatever the index', () => {
    const commands = [0, 1, 2, 3].map((offset) => timeOrderedUuid(Date.UTC(2027, 0, 1) + offset));
    const ids = commands.flatMap((command) => [eventIdFor(command, 1), eventIdFor(command, 0)].sort());
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(ids[0]!.slice(14, 15)).toBe('8');
  });
});

describe('timeOrderedUuid', () => {
  it('is a version 7 UUID that carries its millisecond and sorts by it, and by call order within one', () => {
    // Later than any clock this runs on, so the process's last millisecond does not hold it back.
    const at = Date.UTC(2028, 10, 24, 12, 0, 0);
    const ids = Array.from({ length: 5_000 }, (_, i) => timeOrderedUuid(at + Math.floor(i / 1_000)));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(parseInt(ids[0]!.slice(0, 8) + ids[0]!.slice(9, 13), 16)).toBe(at);
  });

  it('never goes backwards when the clock does', () => {
    const later = timeOrderedUuid(Date.UTC(2030, 0, 1));
    const earlier = timeOrderedUuid(Date.UTC(2029, 0, 1));
    expect(earlier > later).toBe(true);
  });
});
