import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthReader, LEDGER_CONFIG, type LedgerConfig } from '@app/ledger';
import type { ProjectionStatus } from '@app/projections';
import type { FastifyReply } from 'fastify';
import { Public } from '../http/roles.decorator';

/** A store or read store that has not answered within this long counts as not answering. */
export const READY_CHECK_TIMEOUT_MS = 2_000;

function projectionView(projection: ProjectionStatus) {
  return {
    name: projection.name,
    version: projection.version,
    position: projection.position?.toString() ?? null,
    lagEvents: projection.lagEvents.toString(),
    lagSeconds: projection.lagSeconds,
  };
}

function withinTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${READY_CHECK_TIMEOUT_MS} ms`)), READY_CHECK_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly reader: HealthReader,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: "Liveness, the event store's head, and each projection's lag (events and seconds behind)" })
  async health() {
    const [head, projections] = await Promise.all([this.reader.headPosition(), this.reader.projectionStatus()]);
    const eventStoreHealth = this.reader.eventStoreHealth();
    return {
      status: 'ok' as const,
      eventStore: this.config.eventStore.kind,
      readStore: this.config.readStore.kind,
      headPosition: head?.toString() ?? null,
      // Adapter-specific: EventStoreDB's clock skew, append deadline and appends still to be confirmed.
      ...(eventStoreHealth === undefined ? {} : { eventStoreHealth }),
      projections: projections.map(projectionView),
    };
  }

  @Get('live')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process serves HTTP (no I/O; restart the process when this fails)' })
  live() {
    return { status: 'live' as const };
  }

  @Get('ready')
  @Public()
  @ApiOperation({
    summary: 'Readiness: 200 when the event store and read store answer and every projection is within the configured lag; 503 otherwise',
  })
  @ApiResponse({ status: 503, description: 'not ready; `reasons` says why' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const { maxLagEvents, maxLagSeconds } = this.config.readiness;
    const reasons: string[] = [];
    let headPosition: string | null = null;
    let projections: ReturnType<typeof projectionView>[] = [];
    try {
      headPosition = (await withinTimeout(this.reader.headPosition(), 'the event store'))?.toString() ?? null;
      const statuses = await withinTimeout(this.reader.projectionStatus(), 'the read store');
      projections = statuses.map(projectionView);
      for (const projection of statuses) {
        if (projection.lagEvents > BigInt(maxLagEvents)) reasons.push(`${projection.name} is ${projection.lagEvents} events behind (at most ${maxLagEvents})`);
        if (projection.lagSeconds > maxLagSeconds) reasons.push(`${projection.name} has been behind for ${projection.lagSeconds} s (at most ${maxLagSeconds})`);
      }
    } catch (error) {
      reasons.push(error instanceof Error ? error.message : String(error));
    }
    const ready = reasons.length === 0;
    if (!ready) {
      reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      reply.header('Retry-After', '1');
    }
    return { status: ready ? ('ready' as const) : ('not-ready' as const), reasons, headPosition, maxLagEvents, maxLagSeconds, projections };
  }
}
