import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { LEDGER_CONFIG, type LedgerConfig } from '@app/ledger';
import { Public } from '../http/roles.decorator';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness and the event store head' })
  async health(): Promise<{ status: 'ok'; eventStore: string; headPosition: string | null }> {
    const head = await this.store.headPosition();
    return { status: 'ok', eventStore: this.config.eventStore.kind, headPosition: head?.toString() ?? null };
  }
}
