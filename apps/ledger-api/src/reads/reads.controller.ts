import { Controller, Get, NotFoundException, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { accountStream, isAssetCode } from '@app/domain';
import {
  accountBalances,
  balancesProjection,
  incidentLedger,
  lossTotals,
  lossTotalsProjection,
  MAX_PAGE_LIMIT,
  protectionClaims,
  reimbursements,
  reimbursementsCsv,
  type ReimbursementRow,
} from '@app/projections';
import type { FastifyReply } from 'fastify';
import { AsOfQuery, IncidentLedgerQueryDto, ProtectionClaimsQueryDto, ReimbursementsQueryDto } from './read.dto';
import { IdParamPipe } from '../http/id-param.pipe';
import { ReadModelsService, type ReadModels } from '../http/read-models.service';
import { Roles } from '../http/roles.decorator';

/** Every CSV export is bounded: finance filters by incident for anything larger. */
export const MAX_CSV_ROWS = 100_000;

function limitOf(limit: string | undefined): number | undefined {
  return limit === undefined ? undefined : Number(limit);
}

/** Tells the client which log position an answer reflects, and whether the projections were behind. */
function describe(res: FastifyReply, models: ReadModels): void {
  res.header('X-Read-Model-Position', models.position?.toString() ?? '0');
  if (!models.current) res.header('X-Read-Model-Stale', 'true');
}

/** Read models for finance and auditors: the projections' answers, now or as of a past position or instant. */
@ApiTags('read models')
@ApiBearerAuth()
@ApiResponse({ status: 400, description: 'invalid query; every failing parameter is named' })
@Controller()
export class ReadsController {
  constructor(private readonly models: ReadModelsService) {}

  @Get('accounts/:id/balances')
  @Roles('service', 'finance', 'auditor')
  @ApiOperation({ summary: 'Balances per asset (available, held, withdrawn, deposited, reimbursed); as of a position or instant' })
  async balances(@Param('id', IdParamPipe) id: string, @Query() query: AsOfQuery, @Res({ passthrough: true }) res: FastifyReply) {
    // One account's balances come from its own stream only: the as-of fold reads that stream, not the log.
    const models = await this.models.at(query, [balancesProjection], { stream: accountStream(id) });
    describe(res, models);
    const view = await accountBalances(models.readStore, id);
    if (!view) throw new NotFoundException({ message: 'the account does not exist', code: 'ACCOUNT_NOT_FOUND' });
    return { ...view, position: models.position?.toString() ?? '0' };
  }

  @Get('incidents/:id/ledger')
  @Roles('finance', 'auditor')
  @ApiOperation({ summary: 'Every affected account of an incident: its unauthorized withdrawals, losses and reimbursements (404 for an unknown incident)' })
  async incidentLedger(@Param('id', IdParamPipe) id: string, @Query() query: IncidentLedgerQueryDto, @Res({ passthrough: true }) res: FastifyReply) {
    const models = await this.models.current();
    describe(res, models);
    const { accountId, asset, status, cursor } = query;
    // An unknown incident is 404 here as on /loss-totals, not an empty page a typo could pass for.
    if (!(await lossTotals(models.readStore, id))) throw new NotFoundException({ message: 'the incident does not exist', code: 'INCIDENT_NOT_FOUND' });
    return incidentLedger(models.readStore, id, { accountId, asset, status, cursor, limit: limitOf(query.limit) });
  }

  @Get('incidents/:id/loss-totals')
  @Roles('finance', 'auditor')
  @ApiOperation({ summary: 'Per-asset loss totals of an incident (lost, prevented, reimbursed, outstanding, USD); as of a position or instant' })
  async lossTotals(@Param('id', IdParamPipe) id: string, @Query() query: AsOfQuery, @Res({ passthrough: true }) res: FastifyReply) {
    const models = await this.models.at(query, [lossTotalsProjection]);
    describe(res, models);
    const totals = await lossTotals(models.readStore, id);
    if (!totals) throw new NotFoundException({ message: 'the incident does not exist', code: 'INCIDENT_NOT_FOUND' });
    return { ...totals, position: models.position?.toString() ?? '0' };
  }

  @Get('reimbursements')
  @Roles('finance', 'auditor')
  @ApiOperation({ summary: 'Reimbursements for finance; ?format=csv exports every matching row' })
  async reimbursements(@Query() query: ReimbursementsQueryDto, @Res({ passthrough: true }) res: FastifyReply) {
    const models = await this.models.current();
    describe(res, models);
    const { incidentId, accountId, cursor } = query;
    const asset = query.asset !== undefined && isAssetCode(query.asset) ? query.asset : undefined;
    if (query.format !== 'csv') return reimbursements(models.readStore, { incidentId, accountId, asset, cursor, limit: limitOf(query.limit) });
    const rows: ReimbursementRow[] = [];
    let next: string | null | undefined = cursor;
    do {
      const page = await reimbursements(models.readStore, { incidentId, accountId, asset, cursor: next ?? undefined, limit: MAX_PAGE_LIMIT });
      rows.push(...page.items);
      next = page.nextCursor;
    } while (next && rows.length < MAX_CSV_ROWS);
    res.header('Content-Type', 'text/csv; charset=utf-8');
    res.header('Content-Disposition', 'attachment; filename="reimbursements.csv"');
    return reimbursementsCsv(rows.slice(0, MAX_CSV_ROWS));
  }

  @Get('protection-claims')
  @Roles('finance', 'auditor')
  @ApiOperation({ summary: 'Protection programme claims and their decisions' })
  async claims(@Query() query: ProtectionClaimsQueryDto, @Res({ passthrough: true }) res: FastifyReply) {
    const models = await this.models.current();
    describe(res, models);
    return protectionClaims(models.readStore, { status: query.status, accountId: query.accountId, cursor: query.cursor, limit: limitOf(query.limit) });
  }
}
