import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { eventsToAppend, WrongExpectedRevisionError, type EventStore } from '@app/event-store';
import { StoredMerkleTree, type ReadStore } from '@app/projections';
import type { Clock } from '../clock';
import type { CheckpointConfig } from '../config';
import { CHECKPOINT_ISSUED, CHECKPOINTS_STREAM, signCheckpoint, type CheckpointKey, type SignedCheckpoint } from './checkpoint';

export interface IssuedCheckpoint {
  readonly checkpoint: SignedCheckpoint;
  readonly revision: bigint;
  readonly position: bigint;
}

/**
 * Issues a signed checkpoint of the Merkle tree when one is due: the tree has grown by `everyEvents` since the last
 * checkpoint, or `everySeconds` have passed since it (since the first event, before the first checkpoint) and it has
 * grown at all (by more than the last checkpoint's own event).
 * Appended on the `checkpoints` stream at the expected revision (two processes issue one checkpoint, not two), and,
 * when a file is configured, appended there too and flushed to disk, so that a copy lives outside the database.
 */
export class CheckpointIssuer {
  constructor(
    private readonly store: EventStore,
    private readonly readStore: ReadStore,
    private readonly key: CheckpointKey,
    private readonly options: Pick<CheckpointConfig, 'everyEvents' | 'everySeconds' | 'file'> & { readonly webhook?: string | null },
    private readonly clock: Clock,
    private readonly logger?: { warn?(message: string): void; error(message: string): void },
  ) {}

  async last(): Promise<IssuedCheckpoint | undefined> {
    for await (const event of this.store.readStream(CHECKPOINTS_STREAM, { direction: 'backwards', maxCount: 1 })) {
      return { checkpoint: event.data as SignedCheckpoint, revision: event.revision, position: event.position };
    }
    return undefined;
  }

  private async firstEventAt(): Promise<number> {
    for await (const event of this.store.readAll({ maxCount: 1 })) return Date.parse(event.metadata.recordedAt);
    return this.clock.now().toMillis();
  }

  async issueIfDue(): Promise<SignedCheckpoint | undefined> {
    const tree = await StoredMerkleTree.open(this.readStore);
    const headPosition = tree.lastPosition;
    if (headPosition === undefined) return undefined;
    const last = await this.last();
    // Nothing new, or nothing but the last checkpoint's own event: no checkpoint of a checkpoint.
    if (last !== undefined && (tree.size <= last.checkpoint.treeSize || headPosition === last.position)) return undefined;
    // Due once the tree has grown by everyEvents, or everySeconds after the last checkpoint (the first event, before the first one).
    const grown = tree.size - (last?.checkpoint.treeSize ?? 0);
    const since = last === undefined ? await this.firstEventAt() : Date.parse(last.checkpoint.issuedAt);
    const ageSeconds = (this.clock.now().toMillis() - since) / 1_000;
    if (grown < this.options.everyEvents && ageSeconds < this.options.everySeconds) return undefined;
    const issuedAt = this.clock.now().toUTC().toISO()!;
    const checkpoint = await signCheckpoint(this.key, {
      treeSize: tree.size,
      rootHash: (await tree.head()).toString('base64'),
      headPosition: headPosition.toString(),
      issuedAt,
    });
    const commandId = `checkpoint:${tree.size}`;
    try {
      await this.store.append(
        CHECKPOINTS_STREAM,
        eventsToAppend([{ type: CHECKPOINT_ISSUED, data: checkpoint, schemaVersion: 1 }], {
          commandId,
          correlationId: commandId,
          causationId: commandId,
          actor: { id: 'checkpoint-issuer', role: 'system' },
          recordedAt: issuedAt,
        }),
        { expectedRevision: last === undefined ? 'no_stream' : last.revision },
      );
    } catch (error) {
      // Another process issued one first: its checkpoint stands.
      if (error instanceof WrongExpectedRevisionError) return undefined;
      throw error;
    }
    if (this.options.file !== null) appendLine(this.options.file, JSON.stringify(checkpoint));
    if (this.options.webhook) await this.deliver(this.options.webhook, checkpoint);
    return checkpoint;
  }

  /**
   * POSTs the checkpoint as JSON, trying three times within 15 s. A delivery that fails is logged and not retried
   * later: the stream (and the file, when configured) keep every checkpoint, and GET /v1/audit/checkpoints serves them.
   */
  private async deliver(url: string, checkpoint: SignedCheckpoint): Promise<void> {
    let failure = '';
    for (let attempt = 1; attempt <= WEBHOOK_ATTEMPTS; attempt += 1) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(checkpoint),
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        if (response.ok) return;
        failure = `HTTP ${response.status}`;
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
    }
    this.logger?.error(`checkpoint of tree size ${checkpoint.treeSize} not delivered to the webhook after ${WEBHOOK_ATTEMPTS} attempts (${failure}); it is on the checkpoints stream`);
  }
}

const WEBHOOK_ATTEMPTS = 3;
const WEBHOOK_TIMEOUT_MS = 5_000;

/** Appends one line and flushes it to disk before returning. */
function appendLine(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a', 0o644);
  try {
    writeSync(fd, `${line}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
