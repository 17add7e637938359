import { ASSET_CODES, ID_PATTERN, RISK_RULES } from '@app/domain';
import { RISK_ALERT_ROW_STATUSES } from '@app/projections';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const POSITION_PATTERN = /^(0|[1-9][0-9]{0,15})$/;
const LIMIT_PATTERN = /^[1-9][0-9]{0,3}$/;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,512}$/;

/** "As the ledger stood then": a global position, or an instant (the log prefix recorded at or before it). */
export class AsOfQuery {
  @ApiPropertyOptional({ description: 'answer as of this global position (inclusive)', example: '1200' })
  @IsOptional()
  @Matches(POSITION_PATTERN, { message: '$property must be a whole number (a global position)' })
  asOfPosition?: string;

  @ApiPropertyOptional({ description: 'answer as of this instant (ISO-8601, UTC)', example: '2022-01-17T12:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: '$property must be an ISO-8601 instant such as 2022-01-17T12:00:00Z' })
  @MaxLength(40, { message: '$property must be at most 40 characters' })
  asOf?: string;
}

export class PageQuery {
  @ApiPropertyOptional({ description: 'rows per page, 1 to 1000 (default 100)', example: '100' })
  @IsOptional()
  @Matches(LIMIT_PATTERN, { message: '$property must be a whole number from 1 to 1000' })
  limit?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @Matches(CURSOR_PATTERN, { message: '$property must be a cursor returned by a previous page' })
  cursor?: string;
}

function IsOptionalId(): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({ pattern: ID_PATTERN.source })(target, key);
    IsOptional()(target, key);
    Matches(ID_PATTERN, { message: '$property must contain only letters, digits, _ and - (1 to 64 characters)' })(target, key);
  };
}

function IsOptionalAsset(): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({ enum: ASSET_CODES })(target, key);
    IsOptional()(target, key);
    IsIn(ASSET_CODES, { message: `$property must be one of ${ASSET_CODES.join(', ')}` })(target, key);
  };
}

export class IncidentLedgerQueryDto extends PageQuery {
  @IsOptionalId() accountId?: string;
  @IsOptionalAsset() asset?: string;
  @ApiPropertyOptional({ enum: ['prevented', 'outstanding', 'reimbursed'] })
  @IsOptional()
  @IsIn(['prevented', 'outstanding', 'reimbursed'], { message: '$property must be prevented, outstanding or reimbursed' })
  status?: string;
}

export class ReimbursementsQueryDto extends PageQuery {
  @IsOptionalId() incidentId?: string;
  @IsOptionalId() accountId?: string;
  @IsOptionalAsset() asset?: string;
  @ApiPropertyOptional({ enum: ['json', 'csv'] })
  @IsOptional()
  @IsIn(['json', 'csv'], { message: '$property must be json or csv' })
  format?: string;
}

export class ProtectionClaimsQueryDto extends PageQuery {
  @IsOptionalId() accountId?: string;
  @ApiPropertyOptional({ enum: ['filed', 'approved', 'denied'] })
  @IsOptional()
  @IsIn(['filed', 'approved', 'denied'], { message: '$property must be filed, approved or denied' })
  status?: string;
}

export class AuditStreamQuery {
  @ApiPropertyOptional({ example: '0' })
  @IsOptional()
  @Matches(POSITION_PATTERN, { message: '$property must be a whole number (a stream revision)' })
  fromRevision?: string;

  @ApiPropertyOptional({ example: '100' })
  @IsOptional()
  @Matches(LIMIT_PATTERN, { message: '$property must be a whole number from 1 to 1000' })
  limit?: string;
}

export class AuditEventsQuery {
  @ApiPropertyOptional({ example: '1', description: 'inclusive global position' })
  @IsOptional()
  @Matches(POSITION_PATTERN, { message: '$property must be a whole number (a global position)' })
  fromPosition?: string;

  @ApiPropertyOptional({ example: '100' })
  @IsOptional()
  @Matches(LIMIT_PATTERN, { message: '$property must be a whole number from 1 to 1000' })
  limit?: string;
}

export class AuditVerifyQuery {
  @ApiPropertyOptional({ description: 'verify one stream only' })
  @IsOptional()
  @IsString({ message: '$property must be a stream name' })
  @Matches(/^[A-Za-z0-9_-]{1,128}$/, { message: '$property must be a stream name such as account-alice' })
  stream?: string;
}

export class CheckpointsQuery {
  @ApiPropertyOptional({ example: '100' })
  @IsOptional()
  @Matches(LIMIT_PATTERN, { message: '$property must be a whole number from 1 to 1000' })
  limit?: string;
}

const TREE_SIZE_PATTERN = /^(0|[1-9][0-9]{0,14})$/;

export class MerkleInclusionQuery {
  @ApiProperty({ example: '42', description: 'the global position of the event' })
  @Matches(POSITION_PATTERN, { message: '$property must be a whole number (a global position)' })
  position!: string;

  @ApiPropertyOptional({ example: '1000', description: 'the tree size the proof is for (a checkpoint\'s); the current size when absent' })
  @IsOptional()
  @Matches(TREE_SIZE_PATTERN, { message: '$property must be a whole number (a tree size)' })
  treeSize?: string;
}

export class MerkleConsistencyQuery {
  @ApiProperty({ example: '1000', description: 'the older tree size' })
  @Matches(TREE_SIZE_PATTERN, { message: '$property must be a whole number (a tree size)' })
  from!: string;

  @ApiProperty({ example: '2000', description: 'the newer tree size' })
  @Matches(TREE_SIZE_PATTERN, { message: '$property must be a whole number (a tree size)' })
  to!: string;
}

export class RiskAlertsQueryDto extends PageQuery {
  @ApiPropertyOptional({ enum: RISK_ALERT_ROW_STATUSES })
  @IsOptional()
  @IsIn(RISK_ALERT_ROW_STATUSES, { message: `$property must be one of ${RISK_ALERT_ROW_STATUSES.join(', ')}` })
  status?: string;

  @ApiPropertyOptional({ enum: RISK_RULES })
  @IsOptional()
  @IsIn(RISK_RULES, { message: `$property must be one of ${RISK_RULES.join(', ')}` })
  rule?: string;
}
