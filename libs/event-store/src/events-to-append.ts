import { eventIdFor } from './event-ids';
import type { EventToAppend, MetadataToAppend } from './event-store.port';

/**
 * What the store takes of a decided event: its type, data and schema version. A domain event of libs/domain has
 * this shape; it is written here rather than imported so that the store does not depend on the domain.
 */
export interface DecidedEvent {
  readonly type: string;
  readonly data: unknown;
  readonly schemaVersion: number;
}

/** The command the events came from: who sent it, how it relates to others, and when it was decided. */
export type CommandOrigin = Omit<MetadataToAppend, 'schemaVersion'>;

/**
 * The port's append input for the events one command decided, in order: the metadata of each is the command's
 * plus the event's own schema version, and its id is derived from the command id and its index (eventIdFor), so
 * that a retried command appends the same ids and the store recognises the retry. `eventId` replaces that rule
 * where nothing is retried (a test's or the bench's generated history).
 */
export function eventsToAppend(
  events: readonly DecidedEvent[],
  origin: CommandOrigin,
  eventId: (index: number) => string = (index) => eventIdFor(origin.commandId, index),
): EventToAppend[] {
  return events.map((event, index) => ({
    eventId: eventId(index),
    type: event.type,
    data: event.data,
    metadata: {
      commandId: origin.commandId,
      correlationId: origin.correlationId,
      causationId: origin.causationId,
      actor: origin.actor,
      recordedAt: origin.recordedAt,
      schemaVersion: event.schemaVersion,
    },
  }));
}
