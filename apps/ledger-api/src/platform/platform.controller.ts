import { randomUUID } from 'node:crypto';
import { Body, Controller, Logger, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Ledger, TwoFactorRevocationJob, type CommandMetadata } from '@app/ledger';
import type { FastifyReply } from 'fastify';
import { CloseIncidentDto, HaltWithdrawalsDto, OpenIncidentDto, RecordPriceDto, RevokeAllTwoFactorDto, SecondFactorPolicyDto, WithdrawalPolicyDto } from './platform.dto';
import { CommandMeta } from '../http/command-metadata.decorator';
import { CommandResponse, respond } from '../http/command-response';
import { IdParamPipe } from '../http/id-param.pipe';
import { Roles } from '../http/roles.decorator';

/** Platform, incident and price commands: the administrators' routes. */
@ApiTags('platform')
@ApiBearerAuth()
@ApiResponse({ status: 201, type: CommandResponse, description: 'appended' })
@ApiResponse({ status: 200, type: CommandResponse, description: 'idempotent replay: nothing appended' })
@ApiResponse({ status: 400, description: 'invalid input; every failing field is named' })
@ApiResponse({ status: 422, description: 'refused by a business rule; the body has its code' })
@Controller()
export class PlatformController {
  private readonly logger = new Logger('PlatformController');

  constructor(
    private readonly ledger: Ledger,
    private readonly revocations: TwoFactorRevocationJob,
  ) {}

  @Post('platform/withdrawals/halt')
  @Roles('admin')
  @ApiOperation({ summary: 'Halt all withdrawals' })
  async halt(@Body() dto: HaltWithdrawalsDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const result = await this.ledger.executePlatform({ type: 'HaltWithdrawals', data: { incidentId: dto.incidentId ?? null, reason: dto.reason } }, meta);
    return respond(result, res);
  }

  @Post('platform/withdrawals/resume')
  @Roles('admin')
  @ApiOperation({ summary: 'Resume withdrawals' })
  async resume(@Body() dto: HaltWithdrawalsDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const result = await this.ledger.executePlatform({ type: 'ResumeWithdrawals', data: { incidentId: dto.incidentId ?? null, reason: dto.reason } }, meta);
    return respond(result, res);
  }

  @Post('platform/two-factor-tokens/revoke-all')
  @Roles('admin')
  @ApiOperation({
    summary: 'Revoke every second-factor token on the platform',
    description: 'Appends AllTwoFactorTokensRevoked, then a background job appends TwoFactorTokenRevoked on every account that held a live token; it resumes after a restart.',
  })
  async revokeAll(@Body() dto: RevokeAllTwoFactorDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const revocationId = dto.revocationId ?? `rev-${randomUUID()}`;
    const data = { revocationId, incidentId: dto.incidentId, reason: dto.reason };
    const result = await this.ledger.executePlatform({ type: 'RevokeAllTwoFactorTokens', data }, meta);
    // The per-account revocations run in the background and resume after a restart; the command is already durable.
    this.revocations.run(revocationId, meta.correlationId).catch((error: unknown) => {
      this.logger.error(`revocation ${revocationId} stopped: ${String(error)}; it resumes at the next start`);
    });
    return { ...respond(result, res), revocationId };
  }

  @Post('platform/withdrawal-policy')
  @Roles('admin')
  @ApiOperation({ summary: 'Set the hold on newly whitelisted addresses (0 to 720 hours)' })
  async policy(@Body() dto: WithdrawalPolicyDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const result = await this.ledger.executePlatform({ type: 'ChangeWithdrawalPolicy', data: { newAddressHoldHours: dto.newAddressHoldHours } }, meta);
    return respond(result, res);
  }

  @Post('platform/second-factor-policy')
  @Roles('admin')
  @ApiOperation({ summary: 'Require second-factor proofs (or not), and set the USD value from which a withdrawal needs two methods' })
  async secondFactorPolicy(@Body() dto: SecondFactorPolicyDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const command = { type: 'ChangeSecondFactorPolicy' as const, data: { required: dto.required, mfaThresholdUsd: dto.mfaThresholdUsd } };
    return respond(await this.ledger.executePlatform(command, meta), res);
  }

  @Post('incidents')
  @Roles('admin')
  @ApiOperation({ summary: 'Open an incident' })
  async openIncident(@Body() dto: OpenIncidentDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const result = await this.ledger.executeIncident(dto.incidentId, { type: 'OpenIncident', data: { incidentId: dto.incidentId, title: dto.title } }, meta);
    return respond(result, res);
  }

  @Post('incidents/:id/close')
  @Roles('admin')
  @ApiOperation({ summary: 'Close an incident' })
  async closeIncident(
    @Param('id', IdParamPipe) incidentId: string,
    @Body() dto: CloseIncidentDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const result = await this.ledger.executeIncident(incidentId, { type: 'CloseIncident', data: { incidentId, summary: dto.summary } }, meta);
    return respond(result, res);
  }

  @Post('prices')
  @Roles('admin')
  @ApiOperation({ summary: 'Record a USD price for an asset' })
  async recordPrice(@Body() dto: RecordPriceDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const result = await this.ledger.executePrice({ type: 'RecordPrice', data: { asset: dto.asset, usd: dto.usd } }, meta);
    return respond(result, res);
  }
}
