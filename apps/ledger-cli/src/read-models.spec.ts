import { YIELD_EVERY_EVENTS, type EventStore, type RecordedEvent } from '@app/event-store';
import { InterruptedError } from './cli-errors';
import { catchUpListener, lowestPosition, perSecond, selectProjections, yieldingStore } from './read-models';

/** A store whose readAll hands out `count` events without ever waiting, as the SQLite adapter does. */
function synchronousStore(count: number): EventStore {
  const unused = () => {
    throw new Error('not used');
  };
  return {
    append: unused,
    readStream: unused,
    subscribe: unused,
    streamRevision: unused,
    findCommand: unused,
    headPosition: async () => BigInt(count),
    close: async () => undefined,
    async *readAll() {
      for (let position = 1; position <= count; position += 1) yield { position: BigInt(position) } as RecordedEvent;
    },
  };
}

describe('read-model command helpers', () => {
  it('hands the event loop back while the runner reads a log that never waits, so signals and timers run', async () => {
    const events = 3 * YIELD_EVERY_EVENTS;
    let seenWhenTimerRan: number | undefined;
    let seen = 0;
    setTimeout(() => (seenWhenTimerRan = seen), 0);
    for await (const event of yieldingStore(synchronousStore(events), () => (seen += 1)).readAll()) expect(event.position).toBe(BigInt(seen));
    expect(seen).toBe(events);
    expect(seenWhenTimerRan).toBeDefined();
    expect(seenWhenTimerRan).toBeLessThan(events);

    // Without the wrapper the same read starves the timer until it is over: the reason for the wrapper.
    let starvedUntil: number | undefined;
    let read = 0;
    setTimeout(() => (starvedUntil = read), 0);
    for await (const _event of synchronousStore(events).readAll()) read += 1;
    expect(starvedUntil).toBeUndefined();
  });

  it('reports a catch-up in positions from where it began, then stops it once a signal came', () => {
    const updates: Array<[number, number | undefined]> = [];
    const controller = new AbortController();
    const listener = catchUpListener({ update: (done, total) => updates.push([done, total]), finish: () => undefined }, controller.signal, 100n);
    listener({ position: 300n, targetPosition: 1_100n, eventsRead: 150 });
    controller.abort(new InterruptedError('SIGINT'));
    expect(() => listener({ position: 500n, targetPosition: 1_100n, eventsRead: 300 })).toThrow(InterruptedError);
    expect(updates).toEqual([
      [200, 1_000],
      [400, 1_000],
    ]);
  });

  it('resumes from the lowest checkpoint, a projection without one counting as position 0', () => {
    expect(lowestPosition([])).toBe(0n);
    expect(lowestPosition([7n, 3n, 9n])).toBe(3n);
    expect(lowestPosition([7n, null])).toBe(0n);
  });

  it('selects one projection by name or all of them, and rates whole events per second', () => {
    expect(selectProjections('balances').map((projection) => projection.name)).toEqual(['balances']);
    expect(selectProjections(undefined)).toHaveLength(6);
    expect(perSecond(1_000_000n, 40)).toBe(25_000);
    expect(perSecond(10, 0)).toBe(0);
  });
});
