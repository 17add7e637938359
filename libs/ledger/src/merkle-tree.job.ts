import type { EventStore } from '@app/event-store';
import { catchUpMerkleTree, CheckpointMovedError, type ReadStore } from '@app/projections';
import type { CheckpointIssuer } from './checkpoints/checkpoint-issuer';
import type { JobLogger } from './two-factor-revocation.job';

export const MERKLE_JOB_INTERVAL_MS = 1_000;

/**
 * Keeps the Merkle tree over the log (issue 13) up to date beside the projector, and signs its checkpoints: once a
 * second it folds what was appended since its checkpoint, then issues a signed checkpoint when one is due. Each batch commits with its checkpoint, so a kill loses nothing but the batch in
 * progress, and another process keeping the same tree makes this one's commit fail harmlessly (it reads again).
 */
export class MerkleTreeJob {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private stopping = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly store: EventStore,
    private readonly readStore: ReadStore,
    private readonly logger: JobLogger,
    /** Signs a checkpoint of the tree after a catch-up, when one is due. */
    private readonly checkpoints?: CheckpointIssuer,
  ) {}

  start(intervalMs = MERKLE_JOB_INTERVAL_MS): void {
    const loop = (): void => {
      if (this.stopping) return;
      this.pass()
        .catch((error: unknown) => {
          if (error instanceof CheckpointMovedError || this.stopping) return;
          this.logger.error(`Merkle tree: ${error instanceof Error ? error.message : String(error)}`);
        })
        .finally(() => {
          if (!this.stopping) this.timer = setTimeout(loop, intervalMs);
        });
    };
    loop();
  }

  /** One catch-up (joins one already running). */
  pass(): Promise<unknown> {
    if (!this.current) this.current = this.runPass().finally(() => (this.current = undefined));
    return this.current;
  }

  private async runPass(): Promise<void> {
    await catchUpMerkleTree(this.store, this.readStore, { signal: this.abort.signal });
    const issued = await this.checkpoints?.issueIfDue();
    if (issued) this.logger.log(`checkpoint signed: tree size ${issued.treeSize}, root ${issued.rootHash} (key ${issued.kid})`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.current?.catch(() => undefined);
  }
}
