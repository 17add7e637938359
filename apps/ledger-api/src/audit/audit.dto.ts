import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { LIMIT_PATTERN, POSITION_PATTERN } from '../http/shared.dto';

const TREE_SIZE_PATTERN = /^(0|[1-9][0-9]{0,14})$/;

export class AuditStreamQuery {
  @ApiPropertyOptional({ example: '0' })
  @IsOptional()
  @Matches(POSITION_PATTERN, { message: '$property must be a whole number (a stream revision)' })
  readonly fromRevision?: string;

  @ApiPropertyOptional({ example: '100' })
  @IsOptional()
  @Matches(LIMIT_PATTERN, { message: '$property must be a whole number from 1 to 1000' })
  readonly limit?: string;
}

export class AuditEventsQuery {
  @ApiPropertyOptional({ example: '1', description: 'inclusive global position' })
  @IsOptional()
  @Matches(POSITION_PATTERN, { message: '$property must be a whole number (a global position)' })
  readonly fromPosition?: string;

  @ApiPropertyOptional({ example: '100' })
  @IsOptional()
  @Matches(LIMIT_PATTERN, { message: '$property must be a whole number from 1 to 1000' })
  readonly limit?: string;
}

export class AuditVerifyQuery {
  @ApiPropertyOptional({ description: 'verify one stream only' })
  @IsOptional()
  @IsString({ message: '$property must be a stream name' })
  @Matches(/^[A-Za-z0-9_-]{1,128}$/, { message: '$property must be a stream name such as account-alice' })
  readonly stream?: string;
}

export class CheckpointsQuery {
  @ApiPropertyOptional({ example: '100' })
  @IsOptional()
  @Matches(LIMIT_PATTERN, { message: '$property must be a whole number from 1 to 1000' })
  readonly limit?: string;
}

export class MerkleInclusionQuery {
  @ApiProperty({ example: '42', description: 'the global position of the event' })
  @Matches(POSITION_PATTERN, { message: '$property must be a whole number (a global position)' })
  readonly position!: string;

  @ApiPropertyOptional({ example: '1000', description: 'the tree size the proof is for (a checkpoint\'s); the current size when absent' })
  @IsOptional()
  @Matches(TREE_SIZE_PATTERN, { message: '$property must be a whole number (a tree size)' })
  readonly treeSize?: string;
}

export class MerkleConsistencyQuery {
  @ApiProperty({ example: '1000', description: 'the older tree size' })
  @Matches(TREE_SIZE_PATTERN, { message: '$property must be a whole number (a tree size)' })
  readonly from!: string;

  @ApiProperty({ example: '2000', description: 'the newer tree size' })
  @Matches(TREE_SIZE_PATTERN, { message: '$property must be a whole number (a tree size)' })
  readonly to!: string;
}
