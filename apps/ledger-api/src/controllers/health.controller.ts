import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { LEDGER_CONFIG, type LedgerConfig } from '@app/ledger';
import { ProjectionRunner } from '@app/projections';
import { Public } from '../http/roles.decorator';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    private readonly projections: ProjectionRunner,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: "Liveness, the event store's head, and each projection's lag (events and seconds behind)" })
  async health() {
    const [head, projections] = await Promise.all([this.store.headPosition(), this.projections.status()]);
    return {
      status: 'ok' as const,
      eventStore: this.config.eventStore.kind,
      readStore: this.config.readStore.kind,
      headPosition: head?.toString() ?? null,
      projections: projections.map((projection) => ({
        name: projection.name,
        version: projection.version,
        position: projection.position?.toString() ?? null,
        lagEvents: projection.lagEvents.toString(),
        lagSeconds: projection.lagSeconds,
      })),
    };
  }
}
