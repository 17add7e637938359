import { StreamBusyError } from './errors';

/** At most this many commands may wait for one stream in one process. */
export const MAX_WAITERS_PER_KEY = 10_000;

/**
 * Serialises work per key (a stream) inside one process, so that commands on the same account do not race each
 * other into revision conflicts. Across processes, the store's expected-revision check still decides.
 */
export class KeyedMutex {
  private readonly queues = new Map<string, { tail: Promise<void>; waiters: number }>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const queue = this.queues.get(key) ?? { tail: Promise.resolve(), waiters: 0 };
    if (queue.waiters >= MAX_WAITERS_PER_KEY) throw new StreamBusyError(key);
    let release!: () => void;
    const previous = queue.tail;
    queue.tail = new Promise<void>((resolve) => (release = resolve));
    queue.waiters += 1;
    this.queues.set(key, queue);
    await previous;
    try {
      return await work();
    } finally {
      queue.waiters -= 1;
      if (queue.waiters === 0) this.queues.delete(key);
      release();
    }
  }
}
