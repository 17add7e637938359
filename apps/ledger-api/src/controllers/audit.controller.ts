import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { auditEventView, EVENT_STORE, verifyEventStore, verifyReportView, verifyStream, type AuditEventView, type EventStore } from '@app/event-store';
import { AuditEventsQuery, AuditStreamQuery, AuditVerifyQuery } from '../dto/read.dto';
import { badRequest } from '../http/validation';
import { Roles } from '../http/roles.decorator';

const DEFAULT_AUDIT_PAGE = 100;
const MAX_AUDIT_PAGE = 1_000;
const STREAM_PARAM = /^[A-Za-z0-9_-]{1,128}$/;

function pageSize(limit: string | undefined): number {
  const size = limit === undefined ? DEFAULT_AUDIT_PAGE : Number(limit);
  if (size > MAX_AUDIT_PAGE) throw badRequest([{ field: 'limit', reasons: [`limit must be a whole number from 1 to ${MAX_AUDIT_PAGE}`] }]);
  return size;
}

interface EventPage {
  readonly events: AuditEventView[];
  /** Pass back as fromRevision / fromPosition for the next page; null when this page reached the end. */
  readonly next: string | null;
}

/** History for auditors: the raw events with their metadata and hash chain, and its verification (DESIGN §6). */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Get('streams/:stream')
  @Roles('auditor')
  @ApiOperation({ summary: "One stream's events in revision order, with metadata (actor, recordedAt, prevHash, hash)" })
  async stream(@Param('stream') stream: string, @Query() query: AuditStreamQuery): Promise<EventPage & { streamId: string }> {
    if (!STREAM_PARAM.test(stream)) throw badRequest([{ field: 'stream', reasons: ['must be a stream name such as account-alice'] }]);
    const limit = pageSize(query.limit);
    const events: AuditEventView[] = [];
    const fromRevision = BigInt(query.fromRevision ?? '0');
    for await (const event of this.store.readStream(stream, { fromRevision, maxCount: limit + 1 })) events.push(auditEventView(event));
    const more = events.length > limit;
    return { streamId: stream, events: events.slice(0, limit), next: more ? events[limit]!.revision : null };
  }

  @Get('events')
  @Roles('auditor')
  @ApiOperation({ summary: 'The global log in commit order from a position (inclusive), with metadata' })
  async events(@Query() query: AuditEventsQuery): Promise<EventPage> {
    const limit = pageSize(query.limit);
    const events: AuditEventView[] = [];
    const fromPosition = BigInt(query.fromPosition ?? '0');
    for await (const event of this.store.readAll({ fromPosition, maxCount: limit + 1 })) events.push(auditEventView(event));
    const more = events.length > limit;
    return { events: events.slice(0, limit), next: more ? events[limit]!.position : null };
  }

  @Get('verify')
  @Roles('auditor')
  @ApiOperation({ summary: 'Walk every stream (or one) and name the first event whose hash or link does not hold' })
  async verify(@Query() query: AuditVerifyQuery) {
    const report = query.stream === undefined ? await verifyEventStore(this.store) : await verifyStream(this.store, query.stream);
    return verifyReportView(report);
  }
}
