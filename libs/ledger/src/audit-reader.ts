import { Inject, Injectable } from '@nestjs/common';
import { auditEventView, EVENT_STORE, verifyEventStore, verifyReportView, verifyStream, type AuditEventView, type EventStore, type VerifyReportView } from '@app/event-store';
import { READ_STORE, StoredMerkleTree, type ReadStore } from '@app/projections';
import { CHECKPOINT_ISSUED, CHECKPOINTS_STREAM, checkpointPublicJwk, type CheckpointKey, type SignedCheckpoint } from './checkpoints/checkpoint';
import { CHECKPOINT_KEY } from './ledger.tokens';

/**
 * What auditors read: the raw events with their metadata and hash chain, its verification, the Merkle tree over the
 * log and the signed checkpoints. The API's audit routes reach the stores through this reader only.
 */
@Injectable()
export class AuditReader {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    @Inject(CHECKPOINT_KEY) private readonly checkpointKey: CheckpointKey,
  ) {}

  /** At most maxCount events of one stream from fromRevision (inclusive), in revision order. */
  async streamEvents(streamId: string, fromRevision: bigint, maxCount: number): Promise<AuditEventView[]> {
    const events: AuditEventView[] = [];
    for await (const event of this.store.readStream(streamId, { fromRevision, maxCount })) events.push(auditEventView(event));
    return events;
  }

  /** At most maxCount events of the global log from fromPosition (inclusive), in commit order. */
  async logEvents(fromPosition: bigint, maxCount: number): Promise<AuditEventView[]> {
    const events: AuditEventView[] = [];
    for await (const event of this.store.readAll({ fromPosition, maxCount })) events.push(auditEventView(event));
    return events;
  }

  /** Walks every stream, or the one named; an unknown stream is an UnknownStreamError. */
  async verify(streamId: string | undefined): Promise<VerifyReportView> {
    const report = streamId === undefined ? await verifyEventStore(this.store) : await verifyStream(this.store, streamId);
    return verifyReportView(report);
  }

  /** The Merkle tree over the log as the read store holds it now (it follows the log about a second behind). */
  merkleTree(): Promise<StoredMerkleTree> {
    return StoredMerkleTree.open(this.readStore);
  }

  /** The public key (JWK) that verifies the signed checkpoints. */
  checkpointPublicKey(): Record<string, string> {
    return checkpointPublicJwk(this.checkpointKey);
  }

  /** The latest signed checkpoints, newest first: at most limit of the checkpoint stream's newest events. */
  async latestCheckpoints(limit: number): Promise<SignedCheckpoint[]> {
    const checkpoints: SignedCheckpoint[] = [];
    for await (const event of this.store.readStream(CHECKPOINTS_STREAM, { direction: 'backwards', maxCount: limit })) {
      if (event.type === CHECKPOINT_ISSUED) checkpoints.push(event.data as SignedCheckpoint);
    }
    return checkpoints;
  }
}
