import { Inject, Injectable } from '@nestjs/common';
import { AsOfReads, ProjectionRunner, READ_STORE, type AsOfScope, type Projection, type ReadStore } from '@app/projections';
import { DateTime } from 'luxon';
import type { AsOfQuery } from '../reads/read.dto';
import { badRequest } from './validation';

/** How long a read waits for the projections to reach the log's head as it was when the read arrived. */
export const READ_YOUR_WRITES_WAIT_MS = 2_000;

export interface ReadModels {
  readonly readStore: ReadStore;
  /** The log position the answer reflects (null: the log was empty). */
  readonly position: bigint | null;
  /** False when the projections had not caught up within the wait; the answer is then slightly stale. */
  readonly current: boolean;
}

/**
 * Chooses what a read answers from: the stored read models, once they have caught up with every event committed
 * before the request arrived (so a client reads its own writes), or the read models as of a past position or
 * instant, which AsOfReads (libs/projections) folds in memory at a bounded cost. This class only turns the query
 * into a position and refusals into 400s.
 */
@Injectable()
export class ReadModelsService {
  private readonly asOf: AsOfReads;

  constructor(
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    private readonly runner: ProjectionRunner,
  ) {
    this.asOf = AsOfReads.of(runner);
  }

  async current(): Promise<ReadModels> {
    const head = (await this.asOf.headPosition()) ?? null;
    const current = head === null ? true : await this.runner.waitUntil(head, READ_YOUR_WRITES_WAIT_MS);
    return { readStore: this.readStore, position: head, current };
  }

  /** `scope` narrows the fold (one account's stream for its balances); the answer is the same without it. */
  async at(query: AsOfQuery, projections: readonly Projection[], scope: AsOfScope = {}): Promise<ReadModels> {
    if (query.asOfPosition !== undefined && query.asOf !== undefined) {
      throw badRequest([{ field: 'asOf', reasons: ['give asOf or asOfPosition, not both'] }]);
    }
    if (query.asOfPosition === undefined && query.asOf === undefined) return this.current();
    const position = query.asOfPosition !== undefined ? await this.positionWithinLog(BigInt(query.asOfPosition)) : await this.positionAt(query.asOf!);
    const readStore = await this.asOf.readModelsAt(position, projections, scope);
    return { readStore, position, current: true };
  }

  /**
   * A position beyond the head does not exist yet: an answer "as of" it would change as the log grows, so it is
   * refused rather than answered as if it were the head.
   */
  private async positionWithinLog(position: bigint): Promise<bigint> {
    const head = (await this.asOf.headPosition()) ?? 0n;
    if (position > head) {
      throw badRequest([{ field: 'asOfPosition', reasons: [`must be at most the log's head position, ${head.toString()} (got ${position.toString()})`] }]);
    }
    return position;
  }

  private async positionAt(asOf: string): Promise<bigint> {
    const instant = DateTime.fromISO(asOf, { zone: 'utc' });
    if (!instant.isValid) throw badRequest([{ field: 'asOf', reasons: ['must be an ISO-8601 instant'] }]);
    return (await this.asOf.positionAsOf(instant)) ?? 0n;
  }
}
