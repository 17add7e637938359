import { invariant, type Decider, type DomainEvent } from '@app/domain';
import type { EventStore, RecordedEvent } from '@app/event-store';

/** An aggregate's state as of a stream revision (undefined: the stream has no events). */
export interface Loaded<State> {
  readonly state: State;
  readonly revision: bigint | undefined;
}

/**
 * How `load` treats a kept fold. Neither way decides on a stale one: a refusal or an empty decision never reaches
 * the append's expected-revision check, so a kept fold must be proven current before anything is decided on it.
 * true folds in whatever was appended since (one read); 'if-changed' skips that read when the store proves that
 * nothing was appended since the fold (the stream's head it knows, or its change token), and reads otherwise.
 */
export type Refresh = true | 'if-changed';

interface Kept<State> extends Loaded<State> {
  /** The store's change token taken before the fold was read; undefined when unknown. */
  readonly token?: string | undefined;
}

/** How many aggregates one repository keeps folded in memory. */
export const DEFAULT_AGGREGATE_CACHE_SIZE = 50_000;

/** Turns a stored event back into the domain event the decider folds. */
export function toDomainEvent<Event extends DomainEvent>(recorded: RecordedEvent, eventTypes: ReadonlySet<string>): Event {
  invariant(eventTypes.has(recorded.type), `stream ${recorded.streamId} holds an event of unknown type ${recorded.type}`);
  return { type: recorded.type, data: recorded.data, schemaVersion: recorded.metadata.schemaVersion } as Event;
}

/**
 * Loads aggregates by folding their streams, and keeps the folded state of recently used streams in memory.
 * A kept fold is used only once the store has proven it current, or after folding in what was appended since
 * (by any process): the append's expected revision alone would not do, because a command refused on a stale fold
 * (a token enrolled elsewhere, a withdrawal requested elsewhere) never reaches it.
 */
export class AggregateRepository<Command, Event extends DomainEvent, State, Context> {
  private readonly cache = new Map<string, Kept<State>>();

  constructor(
    private readonly store: EventStore,
    readonly decider: Decider<Command, Event, State, Context>,
    private readonly cacheSize = DEFAULT_AGGREGATE_CACHE_SIZE,
  ) {}

  /**
   * The aggregate's state, current as of the call: events appended since the kept revision (by anyone) are
   * folded in first, unless the store proves there are none (`'if-changed'`).
   */
  async load(streamId: string, options: { refresh: Refresh }): Promise<Loaded<State>> {
    const cached = this.cache.get(streamId);
    if (cached && options.refresh === 'if-changed' && cached.revision !== undefined && this.store.knownStreamRevision?.(streamId) === cached.revision) {
      this.touch(streamId, cached);
      return cached;
    }
    // Taken before reading: an append that lands during the read changes it, so the next load reads again.
    const token = options.refresh === 'if-changed' ? this.store.streamChangeToken?.(streamId) : undefined;
    if (cached && token !== undefined && token === cached.token) {
      this.touch(streamId, cached);
      return cached;
    }
    const base = cached ?? { state: this.decider.initialState(), revision: undefined };
    const loaded = await this.foldFrom(streamId, base);
    this.remember(streamId, token === undefined ? loaded : { ...loaded, token });
    return loaded;
  }

  /** Records the state after a successful append of `events` at `revision`. */
  applied(streamId: string, before: Loaded<State>, events: readonly Event[], revision: bigint): Loaded<State> {
    const state = events.reduce(this.decider.evolve, before.state);
    const loaded = { state, revision };
    this.remember(streamId, loaded);
    return loaded;
  }

  forget(streamId: string): void {
    this.cache.delete(streamId);
  }

  private async foldFrom(streamId: string, base: Loaded<State>): Promise<Loaded<State>> {
    let { state, revision } = base;
    let expected = revision === undefined ? 0n : revision + 1n;
    for await (const recorded of this.store.readStream(streamId, { fromRevision: expected })) {
      invariant(recorded.revision === expected, `stream ${streamId} jumps from revision ${expected} to ${recorded.revision}`);
      state = this.decider.evolve(state, toDomainEvent<Event>(recorded, this.decider.eventTypes));
      revision = recorded.revision;
      expected += 1n;
    }
    return { state, revision };
  }

  private remember(streamId: string, loaded: Kept<State>): void {
    const cached = this.cache.get(streamId);
    // A concurrent reader may have folded further already; the cache never moves back in revision.
    if (cached && cached.revision !== undefined && (loaded.revision === undefined || loaded.revision < cached.revision)) return;
    this.touch(streamId, loaded);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }

  private touch(streamId: string, loaded: Kept<State>): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, loaded);
  }
}
