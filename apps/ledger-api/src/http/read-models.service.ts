import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { positionAsOf, ProjectionRunner, READ_STORE, replay, type Projection, type ReadStore } from '@app/projections';
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
 * before the request arrived (so a client reads its own writes), or an in-memory replay cut at a past position or
 * instant (as-of queries).
 */
@Injectable()
export class ReadModelsService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    private readonly runner: ProjectionRunner,
  ) {}

  async current(): Promise<ReadModels> {
    const head = (await this.store.headPosition()) ?? null;
    const current = head === null ? true : await this.runner.waitUntil(head, READ_YOUR_WRITES_WAIT_MS);
    return { readStore: this.readStore, position: head, current };
  }

  async at(query: AsOfQuery, projections: readonly Projection[]): Promise<ReadModels> {
    if (query.asOfPosition !== undefined && query.asOf !== undefined) {
      throw badRequest([{ field: 'asOf', reasons: ['give asOf or asOfPosition, not both'] }]);
    }
    if (query.asOfPosition === undefined && query.asOf === undefined) return this.current();
    const position = query.asOfPosition !== undefined ? await this.positionWithinLog(BigInt(query.asOfPosition)) : await this.positionAt(query.asOf!);
    const readStore = await replay({ store: this.store, projections, toPosition: position });
    return { readStore, position, current: true };
  }

  /**
   * A position beyond the head does not exist yet: an answer "as of" it would change as the log grows, so it is
   * refused rather than answered as if it were the head.
   */
  private async positionWithinLog(position: bigint): Promise<bigint> {
    const head = (await this.store.headPosition()) ?? 0n;
    if (position > head) {
      throw badRequest([{ field: 'asOfPosition', reasons: [`must be at most the log's head position, ${head.toString()} (got ${position.toString()})`] }]);
    }
    return position;
  }

  private async positionAt(asOf: string): Promise<bigint> {
    const instant = DateTime.fromISO(asOf, { zone: 'utc' });
    if (!instant.isValid) throw badRequest([{ field: 'asOf', reasons: ['must be an ISO-8601 instant'] }]);
    return (await positionAsOf(this.store, instant)) ?? 0n;
  }
}
