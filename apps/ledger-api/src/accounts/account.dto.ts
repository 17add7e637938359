import { TRANSACTION_TYPES, TWO_FACTOR_METHODS, type TransactionType, type TwoFactorMethod, type AssetCode } from '@app/domain';
import { COMPACT_JWS_PATTERN, MAX_PROOF_LENGTH } from '@app/ledger';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { IsAsset, IsLedgerId, IsPositiveAmountOf } from '../http/validators';

/** Blockchain addresses and memo tags: bounded, no spaces, no control characters. */
const ADDRESS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._-]{7,127}$/;
const TX_HASH_PATTERN = /^(0x)?[A-Za-z0-9]{16,128}$/;

function IsAddress(): PropertyDecorator {
  return (target, key) => {
    ApiProperty({ example: '0x5a1e5a1e5a1e5a1e5a1e5a1e5a1e5a1e5a1e5a1e', pattern: ADDRESS_PATTERN.source })(target, key);
    IsString({ message: '$property must be a string' })(target, key);
    MaxLength(128, { message: '$property must be at most 128 characters' })(target, key);
    Matches(ADDRESS_PATTERN, { message: '$property must be 8 to 128 of A-Z a-z 0-9 : . _ - and start with a letter or digit' })(target, key);
  };
}

/**
 * The proof that the customer entered their second factor for this transaction: a compact JWS (EdDSA) from the
 * exchange's authentication service. Its shape is checked here (400); what it says is checked by the ledger (422).
 */
function IsSecondFactorProof(): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      description: 'compact JWS (EdDSA) signed by the authentication service for exactly this transaction; required while the second-factor policy says so',
      example: 'eyJhbGciOiJFZERTQSIsImtpZCI6ImRldiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln',
      maxLength: MAX_PROOF_LENGTH,
    })(target, key);
    IsOptional()(target, key);
    IsString({ message: '$property must be a string' })(target, key);
    MaxLength(MAX_PROOF_LENGTH, { message: `$property must be at most ${MAX_PROOF_LENGTH} characters` })(target, key);
    Matches(COMPACT_JWS_PATTERN, { message: '$property must be a compact JWS: three base64url parts separated by dots' })(target, key);
  };
}

export class OpenAccountDto {
  @IsLedgerId('acct-1001') readonly accountId!: string;
}

export class DepositDto {
  @IsLedgerId('dep-1') readonly depositId!: string;
  @IsAsset() readonly asset!: AssetCode;
  @IsPositiveAmountOf('asset') readonly amount!: string;
}

export class EnrolTwoFactorDto {
  @IsLedgerId('tok-1') readonly tokenId!: string;
  @ApiProperty({ enum: TWO_FACTOR_METHODS })
  @IsString({ message: '$property must be a string' })
  @IsIn(TWO_FACTOR_METHODS, { message: `$property must be one of ${TWO_FACTOR_METHODS.join(', ')}` })
  readonly method!: TwoFactorMethod;
}

export class AddressDto {
  @IsAddress() readonly address!: string;
  @IsAsset() readonly asset!: AssetCode;
}

export class WhitelistAddressDto extends AddressDto {
  @IsSecondFactorProof() readonly secondFactor?: string;
}

export class RequestWithdrawalDto {
  @IsLedgerId('wd-1') readonly withdrawalId!: string;
  @IsAsset() readonly asset!: AssetCode;
  @IsPositiveAmountOf('asset') readonly amount!: string;
  @IsAddress() readonly address!: string;
  @IsLedgerId('tok-1') readonly twoFactorTokenId!: string;
  @IsSecondFactorProof() readonly secondFactor?: string;
}

/** Commands that carry nothing but their path. Any field sent is refused. */
export class EmptyDto {}

export class SettleWithdrawalDto {
  @ApiProperty({ example: '0x9f2c4a0b7d1e3f5a6b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c' })
  @IsString({ message: '$property must be a string' })
  @Matches(TX_HASH_PATTERN, { message: '$property must be 16 to 128 letters or digits, optionally after 0x' })
  readonly txHash!: string;
}

export class ReportUnauthorizedDto {
  @IsLedgerId('inc-2022-01-17') readonly incidentId!: string;
}

export class ReimburseDto {
  @IsLedgerId('reimb-1') readonly reimbursementId!: string;
  @IsLedgerId('inc-2022-01-17') readonly incidentId!: string;
  @IsAsset() readonly asset!: AssetCode;
  @IsPositiveAmountOf('asset') readonly amount!: string;
}

export class SetMfaDto {
  @ApiProperty({ example: true })
  @IsBoolean({ message: '$property must be true or false' })
  readonly enabled!: boolean;

  @ApiProperty({ enum: TRANSACTION_TYPES, isArray: true, example: ['withdrawal', 'whitelist'] })
  @IsArray({ message: '$property must be an array' })
  @ArrayMinSize(1, { message: '$property must name at least one transaction type' })
  @ArrayMaxSize(TRANSACTION_TYPES.length, { message: `$property must have at most ${TRANSACTION_TYPES.length} entries` })
  @ArrayUnique({ message: '$property must not repeat a type' })
  @IsIn(TRANSACTION_TYPES, { each: true, message: `each of $property must be one of ${TRANSACTION_TYPES.join(', ')}` })
  readonly transactionTypes!: TransactionType[];
}

export class FileProtectionClaimDto {
  @IsLedgerId('claim-1') readonly claimId!: string;
  @IsLedgerId('wd-1') readonly withdrawalId!: string;

  @ApiProperty({ example: 'PR-2022-0316-118', nullable: true, description: 'the police report reference, or null when none was filed' })
  @ValidateIf((_object, value) => value !== null)
  @IsString({ message: '$property must be a string or null' })
  @Matches(/^[A-Za-z0-9/ ._-]{1,64}$/, { message: '$property must be 1 to 64 of letters, digits, space, / . _ -' })
  readonly policeReportReference!: string | null;

  @ApiProperty() @IsBoolean({ message: '$property must be true or false' }) readonly policeReportCopyProvided!: boolean;
  @ApiProperty() @IsBoolean({ message: '$property must be true or false' }) readonly questionnaireCompleted!: boolean;
  @ApiProperty() @IsBoolean({ message: '$property must be true or false' }) readonly deviceJailbroken!: boolean;
}
