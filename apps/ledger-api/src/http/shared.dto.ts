import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { IsText } from './validators';

/** DTO parts more than one feature takes: a reason, a page of a listing, and the patterns of positions and limits. */
export const POSITION_PATTERN = /^(0|[1-9][0-9]{0,15})$/;
export const LIMIT_PATTERN = /^[1-9][0-9]{0,3}$/;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,512}$/;
export const REASON_MAX_LENGTH = 500;

export class ReasonDto {
  @IsText(REASON_MAX_LENGTH, 'customer request') readonly reason!: string;
}

export class PageQuery {
  @ApiPropertyOptional({ description: 'rows per page, 1 to 1000 (default 100)', example: '100' })
  @IsOptional()
  @Matches(LIMIT_PATTERN, { message: '$property must be a whole number from 1 to 1000' })
  readonly limit?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @Matches(CURSOR_PATTERN, { message: '$property must be a cursor returned by a previous page' })
  readonly cursor?: string;
}
