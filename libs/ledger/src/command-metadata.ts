import type { Role } from '@app/access';
import { timeOrderedUuid } from '@app/event-store';

/** Who may send commands: a key's role, or the ledger itself (its jobs). */
export type ActorRole = Role | 'system';

export interface Actor {
  /** A key id or a system component's name; never key material. */
  readonly id: string;
  readonly role: ActorRole;
}

/** Who sent a command and how it relates to others: every event it appends carries this, so the log says who did what and why. */
export interface CommandMetadata {
  /** Deterministic for an idempotent command (its scoped key), random otherwise; event ids derive from it. */
  readonly commandId: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: Actor;
  /** Present when the client sent an Idempotency-Key: the scoped key and the hash of its request. */
  readonly idempotency?: { readonly key: string; readonly requestHash: string };
}

export const SYSTEM_ACTOR: Actor = { id: 'ledger', role: 'system' };

/**
 * Metadata for a command with no idempotency key: a fresh command id that also correlates and causes it. The id is
 * time-ordered (UUID v7), so the event ids derived from it are too (see eventIdFor).
 */
export function freshCommand(actor: Actor, correlationId?: string): CommandMetadata {
  const commandId = timeOrderedUuid();
  return { commandId, correlationId: correlationId ?? commandId, causationId: commandId, actor };
}

/** Metadata for a command that must be recognised when repeated: the same key gives the same event ids. */
export function idempotentCommand(actor: Actor, key: string, requestHash: string, correlationId?: string): CommandMetadata {
  const commandId = `${actor.id}:${key}`;
  return {
    commandId,
    correlationId: correlationId ?? commandId,
    causationId: commandId,
    actor,
    idempotency: { key: commandId, requestHash },
  };
}
