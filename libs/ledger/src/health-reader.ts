import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ProjectionRunner, type ProjectionStatus } from '@app/projections';

/** What the health routes show: the event store's head and what its adapter reports, and each projection's lag. */
@Injectable()
export class HealthReader {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projections: ProjectionRunner,
  ) {}

  headPosition(): Promise<bigint | undefined> {
    return this.store.headPosition();
  }

  /** Adapter-specific (EventStoreDB: clock skew, append deadline, appends still to be confirmed); undefined when it reports nothing. */
  eventStoreHealth(): Readonly<Record<string, number | string | null | undefined>> | undefined {
    return this.store.health?.();
  }

  projectionStatus(): Promise<ProjectionStatus[]> {
    return this.projections.status();
  }
}
