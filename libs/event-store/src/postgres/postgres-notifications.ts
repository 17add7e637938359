import { Client, escapeIdentifier } from 'pg';

/** The channel every store NOTIFYs after a commit; the payload is the schema, so one log never wakes another. */
export const NOTIFICATION_CHANNEL = 'ledger_event_store_appended';
/** The application_name of the LISTEN connection, so that operators (and tests) can tell it apart. */
export const LISTENER_APPLICATION_NAME = 'ledger-event-store-listener';
/** Backoff between reconnection attempts of a dropped LISTEN connection: doubles from the first to the last. */
export const LISTEN_RECONNECT_FIRST_DELAY_MS = 100;
export const LISTEN_RECONNECT_MAX_DELAY_MS = 5_000;
/** How long one connection attempt may take before it counts as failed. */
export const LISTEN_CONNECT_TIMEOUT_MS = 10_000;

export interface NotificationListenerOptions {
  readonly connectionString: string;
  /** Only notifications with this payload are passed on. */
  readonly payload: string;
  /**
   * Called for every matching notification, and after every (re)connection: commits made while nobody was
   * listening were never signalled, so the subscriptions must look for them at once.
   */
  readonly onSignal: () => void;
}

/**
 * One dedicated connection that LISTENs for commits of other store instances (other processes, or other pools
 * of this one) and wakes the subscriptions. It only shortens the wait: a subscription still polls, so a missed or
 * late notification delays an event by at most one poll interval and never loses it.
 *
 * A dropped connection is re-opened with exponential backoff until the listener is closed.
 */
export class NotificationListener {
  private client: Client | undefined;
  private attempt: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private connects = 0;
  private closed = false;

  constructor(private readonly options: NotificationListenerOptions) {}

  /** How many times the LISTEN connection has been established; grows by one on each reconnection. */
  get connectCount(): number {
    return this.connects;
  }

  /** Makes the first connection attempt; on failure the listener keeps retrying in the background. */
  start(): Promise<void> {
    // Already listening (or closed): a second connection would deliver every notification twice.
    if (this.closed || this.client !== undefined) return Promise.resolve();
    this.attempt ??= this.connect().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    // An attempt in flight ends its own client when it sees the close; wait for it so that nothing outlives close().
    await this.attempt;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({
      connectionString: this.options.connectionString,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: LISTEN_CONNECT_TIMEOUT_MS,
    });
    let lost = false;
    const onLost = (): void => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      this.scheduleReconnect();
    };
    client.on('error', () => {
      onLost();
      // The socket is broken: end the client so that it lets go of it.
      void client.end().catch(() => undefined);
    });
    client.on('end', onLost);
    client.on('notification', (message) => {
      if (message.channel === NOTIFICATION_CHANNEL && message.payload === this.options.payload) this.options.onSignal();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${escapeIdentifier(NOTIFICATION_CHANNEL)}`);
    } catch {
      onLost();
      // Not awaited: a half-open client may only report its end once the socket times out.
      void client.end().catch(() => undefined);
      return;
    }
    if (lost) return;
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    this.connects += 1;
    this.options.onSignal();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delayMs = Math.min(LISTEN_RECONNECT_MAX_DELAY_MS, LISTEN_RECONNECT_FIRST_DELAY_MS * 2 ** this.failures);
    // Stop doubling at the cap, so the exponent never grows without bound during a long outage.
    if (delayMs < LISTEN_RECONNECT_MAX_DELAY_MS) this.failures += 1;
    // Commits made while the connection is down are not signalled: let the subscriptions look now, then poll.
    this.options.onSignal();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.start();
    }, delayMs);
  }
}
