import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Ledger, type AccountRequest, type CommandMetadata } from '@app/ledger';
import type { FastifyReply } from 'fastify';
import {
  AddressDto,
  DepositDto,
  EmptyDto,
  EnrolTwoFactorDto,
  FileProtectionClaimDto,
  OpenAccountDto,
  ReimburseDto,
  ReportUnauthorizedDto,
  RequestWithdrawalDto,
  SetMfaDto,
  SettleWithdrawalDto,
  WhitelistAddressDto,
} from './account.dto';
import { ReasonDto } from '../http/shared.dto';
import { CommandMeta } from '../http/command-metadata.decorator';
import { CommandResponse, respond } from '../http/command-response';
import { IdParamPipe } from '../http/id-param.pipe';
import { Roles } from '../http/roles.decorator';

/**
 * Account commands, sent by backend services. Each route validates its body, sends one command and maps the result; the rules
 * live in the domain's account decider.
 */
@ApiTags('accounts')
@ApiBearerAuth()
@ApiHeader({ name: 'Idempotency-Key', required: false, description: 'repeat a command safely: same key and body returns the first result' })
@ApiResponse({ status: 201, type: CommandResponse, description: 'appended' })
@ApiResponse({ status: 200, type: CommandResponse, description: 'idempotent replay: nothing appended' })
@ApiResponse({ status: 400, description: 'invalid input; every failing field is named' })
@ApiResponse({ status: 404, description: 'unknown account or withdrawal' })
@ApiResponse({ status: 409, description: 'idempotency key reused with another body, or a persistent revision conflict' })
@ApiResponse({ status: 422, description: 'refused by a business rule; the body has its code' })
@Controller('accounts')
export class AccountsController {
  constructor(private readonly ledger: Ledger) {}

  private send(accountId: string, command: AccountRequest, meta: CommandMetadata, res: FastifyReply): Promise<CommandResponse> {
    return this.ledger.executeAccount(accountId, command, meta).then((result) => respond(result, res));
  }

  @Post()
  @Roles('service')
  @ApiOperation({ summary: 'Open an account' })
  open(@Body() dto: OpenAccountDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return this.send(dto.accountId, { type: 'OpenAccount', data: { accountId: dto.accountId } }, meta, res);
  }

  @Post(':id/deposits')
  @Roles('service')
  @ApiOperation({ summary: 'Record a deposit' })
  deposit(@Param('id', IdParamPipe) id: string, @Body() dto: DepositDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return this.send(id, { type: 'DepositFunds', data: { depositId: dto.depositId, asset: dto.asset, amount: dto.amount } }, meta, res);
  }

  @Post(':id/two-factor-tokens')
  @Roles('service')
  @ApiOperation({ summary: 'Enrol a second-factor token' })
  enrol(@Param('id', IdParamPipe) id: string, @Body() dto: EnrolTwoFactorDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return this.send(id, { type: 'EnrolTwoFactor', data: { tokenId: dto.tokenId, method: dto.method } }, meta, res);
  }

  @Post(':id/two-factor-tokens/:tokenId/revoke')
  @Roles('service')
  @ApiOperation({ summary: 'Revoke one second-factor token' })
  revokeToken(
    @Param('id', IdParamPipe) id: string,
    @Param('tokenId', IdParamPipe) tokenId: string,
    @Body() dto: ReasonDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.send(id, { type: 'RevokeTwoFactorToken', data: { tokenId, reason: dto.reason } }, meta, res);
  }

  @Post(':id/whitelisted-addresses')
  @Roles('service')
  @ApiOperation({ summary: 'Whitelist a withdrawal address (withdrawable after the hold in force now)' })
  whitelist(@Param('id', IdParamPipe) id: string, @Body() dto: WhitelistAddressDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return this.send(id, { type: 'WhitelistAddress', data: { asset: dto.asset, address: dto.address, secondFactor: dto.secondFactor } }, meta, res);
  }

  @Post(':id/whitelisted-addresses/remove')
  @Roles('service')
  @ApiOperation({ summary: 'Remove a whitelisted address' })
  removeAddress(@Param('id', IdParamPipe) id: string, @Body() dto: AddressDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return this.send(id, { type: 'RemoveAddress', data: { asset: dto.asset, address: dto.address } }, meta, res);
  }

  @Post(':id/withdrawals')
  @Roles('service')
  @ApiOperation({ summary: 'Request a withdrawal (funds are held)' })
  requestWithdrawal(
    @Param('id', IdParamPipe) id: string,
    @Body() dto: RequestWithdrawalDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const { withdrawalId, asset, amount, address, twoFactorTokenId, secondFactor } = dto;
    return this.send(id, { type: 'RequestWithdrawal', data: { withdrawalId, asset, amount, address, twoFactorTokenId, secondFactor } }, meta, res);
  }

  @Post(':id/withdrawals/:wid/approve')
  @Roles('service')
  @ApiOperation({ summary: 'Approve a requested withdrawal' })
  approve(
    @Param('id', IdParamPipe) id: string,
    @Param('wid', IdParamPipe) withdrawalId: string,
    @Body() _dto: EmptyDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.send(id, { type: 'ApproveWithdrawal', data: { withdrawalId } }, meta, res);
  }

  @Post(':id/withdrawals/:wid/settle')
  @Roles('service')
  @ApiOperation({ summary: 'Settle an approved withdrawal (funds leave)' })
  settle(
    @Param('id', IdParamPipe) id: string,
    @Param('wid', IdParamPipe) withdrawalId: string,
    @Body() dto: SettleWithdrawalDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.send(id, { type: 'SettleWithdrawal', data: { withdrawalId, txHash: dto.txHash } }, meta, res);
  }

  @Post(':id/withdrawals/:wid/reject')
  @Roles('service')
  @ApiOperation({ summary: 'Reject a pending withdrawal (hold released)' })
  reject(
    @Param('id', IdParamPipe) id: string,
    @Param('wid', IdParamPipe) withdrawalId: string,
    @Body() dto: ReasonDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.send(id, { type: 'RejectWithdrawal', data: { withdrawalId, reason: dto.reason } }, meta, res);
  }

  @Post(':id/withdrawals/:wid/cancel')
  @Roles('service')
  @ApiOperation({ summary: 'Cancel a pending withdrawal (hold released)' })
  cancel(
    @Param('id', IdParamPipe) id: string,
    @Param('wid', IdParamPipe) withdrawalId: string,
    @Body() dto: ReasonDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.send(id, { type: 'CancelWithdrawal', data: { withdrawalId, reason: dto.reason } }, meta, res);
  }

  @Post(':id/withdrawals/:wid/unauthorized')
  @Roles('admin')
  @ApiOperation({ summary: 'Report a withdrawal as unauthorized in an open incident (pending: cancelled; settled: a loss)' })
  unauthorized(
    @Param('id', IdParamPipe) id: string,
    @Param('wid', IdParamPipe) withdrawalId: string,
    @Body() dto: ReportUnauthorizedDto,
    @CommandMeta() meta: CommandMetadata,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.send(id, { type: 'ReportUnauthorizedWithdrawal', data: { withdrawalId, incidentId: dto.incidentId } }, meta, res);
  }

  @Post(':id/reimbursements')
  @Roles('admin')
  @ApiOperation({ summary: "Reimburse an incident loss (never beyond the account's loss in that asset)" })
  reimburse(@Param('id', IdParamPipe) id: string, @Body() dto: ReimburseDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const { reimbursementId, incidentId, asset, amount } = dto;
    return this.send(id, { type: 'Reimburse', data: { reimbursementId, incidentId, asset, amount } }, meta, res);
  }

  @Post(':id/anti-phishing-code')
  @Roles('service')
  @ApiOperation({ summary: 'Record that the customer set an anti-phishing code (the code itself is never stored)' })
  antiPhishing(@Param('id', IdParamPipe) id: string, @Body() _dto: EmptyDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return this.send(id, { type: 'SetAntiPhishingCode', data: {} }, meta, res);
  }

  @Post(':id/mfa')
  @Roles('service')
  @ApiOperation({ summary: 'Enable or disable MFA for transaction types' })
  mfa(@Param('id', IdParamPipe) id: string, @Body() dto: SetMfaDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return this.send(id, { type: 'SetMfa', data: { enabled: dto.enabled, transactionTypes: dto.transactionTypes } }, meta, res);
  }

  @Post(':id/protection/enrol')
  @Roles('service')
  @ApiOperation({ summary: 'Enrol the account in the account protection programme' })
  enrolProtection(@Param('id', IdParamPipe) id: string, @Body() _dto: EmptyDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    return this.send(id, { type: 'EnrolInProtectionProgramme', data: {} }, meta, res);
  }

  @Post(':id/protection/claims')
  @Roles('service')
  @ApiOperation({ summary: 'File a protection programme claim; decided at once (approved with a capped payout, or denied with every reason)' })
  fileClaim(@Param('id', IdParamPipe) id: string, @Body() dto: FileProtectionClaimDto, @CommandMeta() meta: CommandMetadata, @Res({ passthrough: true }) res: FastifyReply) {
    const { claimId, withdrawalId, policeReportReference, policeReportCopyProvided, questionnaireCompleted, deviceJailbroken } = dto;
    const data = { claimId, withdrawalId, policeReportReference, policeReportCopyProvided, questionnaireCompleted, deviceJailbroken };
    return this.send(id, { type: 'FileProtectionClaim', data }, meta, res);
  }
}
