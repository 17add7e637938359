import type { EventStore } from '@app/event-store';
import { catchUpMerkleTree, CheckpointMovedError, type ReadStore } from '@app/projections';
import type { CheckpointIssuer } from './checkpoints/checkpoint-issuer';
import { PeriodicJob } from './periodic-job';
import type { JobLogger } from './two-factor-revocation.job';

export const MERKLE_JOB_INTERVAL_MS = 1_000;

/**
 * Keeps the Merkle tree over the log (issue 13) up to date beside the projector, and signs its checkpoints: once a
 * second it folds what was appended since its checkpoint, then issues a signed checkpoint when one is due. Each batch commits with its checkpoint, so a kill loses nothing but the batch in
 * progress, and another process keeping the same tree makes this one's commit fail harmlessly (it reads again).
 */
export class MerkleTreeJob extends PeriodicJob<void> {
  private readonly abort = new AbortController();

  constructor(
    private readonly store: EventStore,
    private readonly readStore: ReadStore,
    logger: JobLogger,
    /** Signs a checkpoint of the tree after a catch-up, when one is due. */
    private readonly checkpoints?: CheckpointIssuer,
  ) {
    super(logger, 'Merkle tree');
  }

  override start(intervalMs = MERKLE_JOB_INTERVAL_MS): void {
    super.start(intervalMs);
  }

  /** Another process keeping the same tree committed first: it reads again next time. */
  protected override worthLogging(error: unknown): boolean {
    return !(error instanceof CheckpointMovedError);
  }

  protected override onStop(): void {
    this.abort.abort();
  }

  protected async runPass(): Promise<void> {
    await catchUpMerkleTree(this.store, this.readStore, { signal: this.abort.signal });
    const issued = await this.checkpoints?.issueIfDue();
    if (issued) this.logger.log(`checkpoint signed: tree size ${issued.treeSize}, root ${issued.rootHash} (key ${issued.kid})`);
  }
}
