import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RISK_STREAM } from '@app/domain';
import { Ledger, RiskAlertJob, type CommandMetadata } from '@app/ledger';
import { riskAlerts } from '@app/projections';
import type { FastifyReply } from 'fastify';
import { ReasonDto } from '../http/shared.dto';
import { AutoHaltPolicyDto, ConfirmRiskAlertDto, RiskAlertsQueryDto, RiskRulesDto } from './risk.dto';
import { CommandMeta } from '../http/command-metadata.decorator';
import { CommandResponse, respond } from '../http/command-response';
import { IdParamPipe } from '../http/id-param.pipe';
import { ReadModelsService } from '../http/read-models.service';
import { Roles } from '../http/roles.decorator';

/** The risk monitor's alerts, the decisions on them, its thresholds and the automatic halt (issue 11, part 2). */
@ApiTags('risk')
@ApiBearerAuth()
@ApiResponse({ status: 400, description: 'invalid input; every failing field is named' })
@ApiResponse({ status: 422, description: 'refused by a business rule; the body has its code' })
@Controller()
export class RiskController {
  constructor(
    private readonly ledger: Ledger,
    private readonly job: RiskAlertJob,
    private readonly models: ReadModelsService,
  ) {}

  @Get('risk/alerts')
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: 'Risk alerts in log order, by status and rule' })
  async alerts(@Query() query: RiskAlertsQueryDto, @Res({ passthrough: true }) res: FastifyReply) {
    const models = await this.models.current();
    res.header('X-Read-Model-Position', models.position?.toString() ?? '0');
    if (!models.current) res.header('X-Read-Model-Stale', 'true');
    const limit = query.limit === undefined ? undefined : Number(query.limit);
    return riskAlerts(models.readStore, { status: query.status, rule: query.rule, cursor: query.cursor, limit });
  }

  @Post('risk/alerts/:alertId/acknowledge')
  @Roles('admin')
  @ApiResponse({ status: 201, type: CommandResponse })
  @ApiOperation({ summary: 'Acknowledge an alert (someone is looking at it)' })
  async acknowledge(@Param('alertId', IdParamPipe) alertId: string, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return respond(await this.ledger.executeRisk({ type: 'AcknowledgeRiskAlert', data: { alertId } }, meta), res);
  }

  @Post('risk/alerts/:alertId/dismiss')
  @Roles('admin')
  @ApiResponse({ status: 201, type: CommandResponse })
  @ApiOperation({ summary: 'Dismiss an alert with a reason (a false positive)' })
  async dismiss(@Param('alertId', IdParamPipe) alertId: string, @Body() dto: ReasonDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return respond(await this.ledger.executeRisk({ type: 'DismissRiskAlert', data: { alertId, reason: dto.reason } }, meta), res);
  }

  @Post('risk/alerts/:alertId/confirm')
  @Roles('admin')
  @ApiResponse({ status: 201, type: CommandResponse })
  @ApiOperation({
    summary: 'Confirm an alert as an attack: every withdrawal it names is reported unauthorized in the incident',
    description: 'Appends RiskAlertConfirmed, then reports each withdrawal (UnauthorizedWithdrawalDetected) and RiskAlertConfirmationCompleted; a crash in between resumes at the next start.',
  })
  async confirm(@Param('alertId', IdParamPipe) alertId: string, @Body() dto: ConfirmRiskAlertDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const result = await this.ledger.executeRisk({ type: 'ConfirmRiskAlert', data: { alertId, incidentId: dto.incidentId } }, meta);
    const alert = (await this.ledger.risk.load(RISK_STREAM, { refresh: true })).state.alerts.get(alertId);
    const applied = alert && alert.confirmation && !alert.confirmation.completed ? await this.job.applyConfirmation(alert) : null;
    return { ...respond(result, res), reported: applied?.reported ?? 0, alreadyReportedOrFinal: applied?.skipped ?? 0 };
  }

  @Post('risk/rules')
  @Roles('admin')
  @ApiResponse({ status: 201, type: CommandResponse })
  @ApiOperation({ summary: "Change the monitor's thresholds (those sent; the others keep their value)" })
  async rules(@Body() dto: RiskRulesDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const thresholds = Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined));
    return respond(await this.ledger.executeRisk({ type: 'ChangeRiskRules', data: { thresholds } }, meta), res);
  }

  @Post('platform/auto-halt-policy')
  @Roles('admin')
  @ApiResponse({ status: 201, type: CommandResponse })
  @ApiOperation({ summary: 'Which alerts halt withdrawals on their own: rules, and the least severity' })
  async autoHalt(@Body() dto: AutoHaltPolicyDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return respond(await this.ledger.executePlatform({ type: 'ChangeAutoHaltPolicy', data: { rules: dto.rules, minSeverity: dto.minSeverity } }, meta), res);
  }
}
