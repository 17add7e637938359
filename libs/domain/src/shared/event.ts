/**
 * A domain event: a past-tense fact with its data. `schemaVersion` lets a later reader upcast old shapes; every
 * event type starts at 1.
 */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
  readonly schemaVersion: number;
}

export type Event<Type extends string, Data> = DomainEvent<Type, Data>;

export function event<Type extends string, Data>(type: Type, data: Data): DomainEvent<Type, Data> {
  return { type, data, schemaVersion: 1 };
}

/** A command: an intent, named in the imperative, with the data it needs. */
export interface Command<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}
