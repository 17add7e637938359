import { ASSET_CODES, ID_PATTERN } from '@app/domain';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches, MaxLength } from 'class-validator';
import { PageQuery, POSITION_PATTERN } from '../http/shared.dto';

/** "As the ledger stood then": a global position, or an instant (the log prefix recorded at or before it). */
export class AsOfQuery {
  @ApiPropertyOptional({ description: 'answer as of this global position (inclusive)', example: '1200' })
  @IsOptional()
  @Matches(POSITION_PATTERN, { message: '$property must be a whole number (a global position)' })
  readonly asOfPosition?: string;

  @ApiPropertyOptional({ description: 'answer as of this instant (ISO-8601, UTC)', example: '2022-01-17T12:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: '$property must be an ISO-8601 instant such as 2022-01-17T12:00:00Z' })
  @MaxLength(40, { message: '$property must be at most 40 characters' })
  readonly asOf?: string;
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
  @IsOptionalId() readonly accountId?: string;
  @IsOptionalAsset() readonly asset?: string;
  @ApiPropertyOptional({ enum: ['prevented', 'outstanding', 'reimbursed'] })
  @IsOptional()
  @IsIn(['prevented', 'outstanding', 'reimbursed'], { message: '$property must be prevented, outstanding or reimbursed' })
  readonly status?: string;
}

export class ReimbursementsQueryDto extends PageQuery {
  @IsOptionalId() readonly incidentId?: string;
  @IsOptionalId() readonly accountId?: string;
  @IsOptionalAsset() readonly asset?: string;
  @ApiPropertyOptional({ enum: ['json', 'csv'] })
  @IsOptional()
  @IsIn(['json', 'csv'], { message: '$property must be json or csv' })
  readonly format?: string;
}

export class ProtectionClaimsQueryDto extends PageQuery {
  @IsOptionalId() readonly accountId?: string;
  @ApiPropertyOptional({ enum: ['filed', 'approved', 'denied'] })
  @IsOptional()
  @IsIn(['filed', 'approved', 'denied'], { message: '$property must be filed, approved or denied' })
  readonly status?: string;
}

