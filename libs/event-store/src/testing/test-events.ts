import { randomUUID } from 'node:crypto';
import { eventsToAppend, type CommandOrigin } from '../events-to-append';
import type { EventToAppend } from '../event-store.port';

/** The command the adapter suites' events claim to come from, under a fresh command id each time. */
export function testOrigin(): CommandOrigin {
  return {
    commandId: randomUUID(),
    correlationId: 'correlation-1',
    causationId: 'causation-1',
    actor: { id: 'user-1', role: 'service' },
    recordedAt: '2024-03-01T12:00:00.000Z',
  };
}

/** One event of schema version 1 under a random id (no command is retried here), as the adapter suites append. */
export function anEvent(type = 'Tested', data: unknown = { value: randomUUID() }): EventToAppend {
  return eventsToAppend([{ type, data, schemaVersion: 1 }], testOrigin(), () => randomUUID())[0]!;
}
