import { AccessDeniedError, UnavailableError, type AllStreamResolvedEvent } from './esdb-client';
import type { RecordedEvent } from '../event-store.port';
import { isTransientError } from './esdb-mapping';
import {
  idleSource,
  ReconnectingSubscription,
  type ReconnectingSubscriptionOptions,
  type SubscriptionSource,
} from './esdb-subscription';

/** A server subscription the test drives: messages, a failure or an end, in the order given. */
class ScriptedSource implements SubscriptionSource {
  unsubscribed = false;
  private readonly script: (bigint | Error | 'end')[] = [];
  private wake: (() => void) | undefined;

  constructor(...steps: (bigint | Error | 'end')[]) {
    this.script.push(...steps);
  }

  send(...steps: (bigint | Error | 'end')[]): void {
    this.script.push(...steps);
    this.wake?.();
  }

  async unsubscribe(): Promise<void> {
    this.unsubscribed = true;
    this.wake?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<AllStreamResolvedEvent> {
    return { next: () => this.next() };
  }

  private async next(): Promise<IteratorResult<AllStreamResolvedEvent>> {
    while (this.script.length === 0 && !this.unsubscribed) await new Promise<void>((resolve) => (this.wake = resolve));
    const step = this.script.shift();
    if (step === undefined || step === 'end') return { done: true, value: undefined };
    if (step instanceof Error) throw step;
    return { done: false, value: { commitPosition: step } };
  }
}

function eventAt(resolved: AllStreamResolvedEvent): RecordedEvent {
  const position = resolved.commitPosition!;
  return {
    streamId: 's-1',
    revision: position,
    position,
    eventId: `event-${position}`,
    type: 'T',
    data: {},
    metadata: {} as RecordedEvent['metadata'],
  };
}

function subscriptionOver(
  sources: (ScriptedSource | Promise<ScriptedSource>)[],
  overrides: Partial<ReconnectingSubscriptionOptions> = {},
) {
  const connects: (bigint | undefined)[] = [];
  const delays: number[] = [];
  const subscription = new ReconnectingSubscription({
    afterPosition: undefined,
    connect: async (after) => {
      connects.push(after);
      const source = sources.shift();
      if (source === undefined) throw new Error('no more sources');
      return source;
    },
    toEvent: eventAt,
    isTransient: isTransientError,
    reconnectDelayMs: (attempt) => {
      delays.push(attempt);
      return 1;
    },
    maxReconnectAttempts: 5,
    healthyConnectionMs: 60_000,
    onClose: () => undefined,
    ...overrides,
  });
  return { subscription, events: subscription[Symbol.asyncIterator](), connects, delays };
}

async function positions(iterator: AsyncIterator<RecordedEvent>, count: number): Promise<bigint[]> {
  const received: bigint[] = [];
  while (received.length < count) {
    const step = await iterator.next();
    if (step.done === true) throw new Error(`ended after ${received.length} events`);
    received.push(step.value.position);
  }
  return received;
}

describe('ReconnectingSubscription', () => {
  it('reconnects after a lost connection from the last delivered position, and drops what is sent again', async () => {
    const first = new ScriptedSource(10n, 20n, new UnavailableError());
    const second = new ScriptedSource(10n, 20n, 30n);
    const { subscription, events, connects } = subscriptionOver([first, second]);
    expect(await positions(events, 3)).toEqual([10n, 20n, 30n]);
    expect(connects).toEqual([undefined, 20n]);
    expect(first.unsubscribed).toBe(true);
    await subscription.close();
    expect(second.unsubscribed).toBe(true);
  });

  it('delivers only what comes after the position it starts from', async () => {
    const { subscription, events, connects } = subscriptionOver([new ScriptedSource(40n, 50n, 60n)], {
      afterPosition: 50n,
    });
    expect(await positions(events, 1)).toEqual([60n]);
    expect(connects).toEqual([50n]);
    await subscription.close();
  });

  it('reconnects when the server ends the subscription without an error', async () => {
    const { subscription, events, connects } = subscriptionOver([
      new ScriptedSource(1n, 'end'),
      new ScriptedSource(2n),
    ]);
    expect(await positions(events, 2)).toEqual([1n, 2n]);
    expect(connects).toEqual([undefined, 1n]);
    await subscription.close();
  });

  it('ends with a failure that is not about the connection, and releases the server subscription', async () => {
    const source = new ScriptedSource(1n, new AccessDeniedError());
    const { events, connects } = subscriptionOver([source]);
    expect(await positions(events, 1)).toEqual([1n]);
    await expect(events.next()).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(events.next()).resolves.toMatchObject({ done: true });
    expect(source.unsubscribed).toBe(true);
    expect(connects).toHaveLength(1);
  });

  it('gives up after a bounded number of reconnections without progress, backing off each time', async () => {
    const lost = new UnavailableError();
    const sources = Array.from({ length: 10 }, () => new ScriptedSource(lost));
    const { events, connects, delays } = subscriptionOver(sources, { maxReconnectAttempts: 3 });
    await expect(events.next()).rejects.toBe(lost);
    expect(connects).toHaveLength(4);
    expect(delays).toEqual([1, 2, 3]);
  });

  it('starts the backoff afresh once an event got through', async () => {
    const sources = [
      new ScriptedSource(new UnavailableError()),
      new ScriptedSource(new UnavailableError()),
      new ScriptedSource(5n, new UnavailableError()),
      new ScriptedSource(6n),
    ];
    const { subscription, events, delays } = subscriptionOver(sources);
    expect(await positions(events, 2)).toEqual([5n, 6n]);
    expect(delays).toEqual([1, 2, 1]);
    await subscription.close();
  });

  it('ends a pending next() when closed while connecting, and cancels the connection that opens late', async () => {
    let open: (source: ScriptedSource) => void = () => undefined;
    const late = new Promise<ScriptedSource>((resolve) => (open = resolve));
    const { subscription, events } = subscriptionOver([late]);
    const pending = events.next();
    await subscription.close();
    await expect(pending).resolves.toMatchObject({ done: true });
    const source = new ScriptedSource(1n);
    open(source);
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.unsubscribed).toBe(true);
  });

  it('ends a pending next() when closed while waiting for the next event', async () => {
    const source = new ScriptedSource(1n);
    const closed: ReconnectingSubscription[] = [];
    const { subscription, events } = subscriptionOver([source], { onClose: (which) => closed.push(which) });
    await positions(events, 1);
    const pending = events.next();
    await subscription.close();
    await expect(pending).resolves.toMatchObject({ done: true });
    await expect(events.next()).resolves.toMatchObject({ done: true });
    expect(source.unsubscribed).toBe(true);
    expect(closed).toEqual([subscription]);
  });

  it('cancels the server subscription when a for-await loop breaks', async () => {
    const source = new ScriptedSource(1n, 2n, 3n);
    const { subscription } = subscriptionOver([source]);
    for await (const event of subscription) {
      if (event.position === 2n) break;
    }
    expect(source.unsubscribed).toBe(true);
  });
});

describe('idleSource', () => {
  it('delivers nothing, and ends once unsubscribed', async () => {
    const source = idleSource();
    const next = source[Symbol.asyncIterator]().next();
    const raced = await Promise.race([next, new Promise((resolve) => setTimeout(() => resolve('waiting'), 20))]);
    expect(raced).toBe('waiting');
    await source.unsubscribe();
    await expect(next).resolves.toMatchObject({ done: true });
  });
});
