import {
  ACCOUNT_STREAM_PREFIX,
  invariant,
  type AccountEvent,
  type IncidentEvent,
  type PlatformEvent,
  type PriceEvent,
} from '@app/domain';
import type { RecordedEvent } from '@app/event-store';

/** Every event the ledger writes, by type. */
export type LedgerEvent = AccountEvent | PlatformEvent | IncidentEvent | PriceEvent;
export type LedgerEventType = LedgerEvent['type'];
export type DataOf<Type extends LedgerEventType> = Extract<LedgerEvent, { type: Type }>['data'];

/** The data of a recorded event of a known type (the store holds what the deciders wrote). */
export function dataOf<Type extends LedgerEventType>(event: RecordedEvent, _type: Type): DataOf<Type> {
  return event.data as DataOf<Type>;
}

/** The account an event of an account stream belongs to. */
export function accountIdOf(event: RecordedEvent): string {
  invariant(event.streamId.startsWith(ACCOUNT_STREAM_PREFIX), `${event.type} at ${event.position} is not in an account stream`);
  return event.streamId.slice(ACCOUNT_STREAM_PREFIX.length);
}

/** Positions as row keys: zero-padded so that key order is log order. */
export function positionKey(position: bigint): string {
  return position.toString().padStart(20, '0');
}

/** Copies a record with its keys in code-unit order, so that a doc's JSON does not depend on event order. */
export function sortedRecord<Value>(record: Readonly<Record<string, Value>>): Record<string, Value> {
  const sorted: Record<string, Value> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key]!;
  return sorted;
}
