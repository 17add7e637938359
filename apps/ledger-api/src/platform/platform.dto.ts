import { MAX_NEW_ADDRESS_HOLD_HOURS, PRICE_MAX_LENGTH, parseAmount, parsePrice, type AssetCode } from '@app/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, Max, Min, Validate, ValidateIf, type ValidatorConstraintInterface, ValidatorConstraint, type ValidationArguments } from 'class-validator';
import { REASON_MAX_LENGTH } from '../http/shared.dto';
import { IsAsset, IsLedgerId, IsText } from '../http/validators';

export class HaltWithdrawalsDto {
  @IsOptional() @IsLedgerId('inc-2022-01-17') readonly incidentId?: string;
  @IsText(REASON_MAX_LENGTH, 'unauthorized withdrawals detected') readonly reason!: string;
}

export class RevokeAllTwoFactorDto {
  @IsLedgerId('inc-2022-01-17') readonly incidentId!: string;
  @IsText(REASON_MAX_LENGTH, 'withdrawals approved without the second factor') readonly reason!: string;
  @ApiPropertyOptional({ description: 'client-chosen id of the revocation; generated when absent' })
  @IsOptional()
  @IsLedgerId('rev-2022-01-17')
  readonly revocationId?: string;
}

export class WithdrawalPolicyDto {
  @ApiProperty({ minimum: 0, maximum: MAX_NEW_ADDRESS_HOLD_HOURS, example: 24 })
  @IsInt({ message: '$property must be a whole number of hours' })
  @Min(0, { message: '$property must be at least 0' })
  @Max(MAX_NEW_ADDRESS_HOLD_HOURS, { message: `$property must be at most ${MAX_NEW_ADDRESS_HOLD_HOURS}` })
  readonly newAddressHoldHours!: number;
}

@ValidatorConstraint({ name: 'isUsdAmount' })
class IsPositiveUsd implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    const parsed = parseAmount('USD', value);
    return parsed.ok && parsed.minor > 0n;
  }
  defaultMessage(args: ValidationArguments): string {
    const parsed = parseAmount('USD', args.value);
    return `${args.property} ${parsed.ok ? 'must be greater than zero' : parsed.reason} (US dollars, or null for no threshold)`;
  }
}

export class SecondFactorPolicyDto {
  @ApiProperty({ example: true, description: 'whether withdrawals and whitelistings need a second-factor proof' })
  @IsBoolean({ message: '$property must be true or false' })
  readonly required!: boolean;

  @ApiProperty({ type: String, nullable: true, example: '10000', description: 'USD value from which a withdrawal needs two factor methods; null for none' })
  @ValidateIf((dto: SecondFactorPolicyDto) => dto.mfaThresholdUsd !== null)
  @Validate(IsPositiveUsd)
  readonly mfaThresholdUsd!: string | null;
}

export class OpenIncidentDto {
  @IsLedgerId('inc-2022-01-17') readonly incidentId!: string;
  @IsText(200, 'Withdrawals approved without 2FA') readonly title!: string;
}

export class CloseIncidentDto {
  @IsText(2_000, 'All affected customers reimbursed.') readonly summary!: string;
}

@ValidatorConstraint({ name: 'isUsdPrice' })
class IsUsdPrice implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    const parsed = parsePrice(value);
    return parsed.ok && parsed.scaled > 0n;
  }
  defaultMessage(args: ValidationArguments): string {
    const parsed = parsePrice(args.value);
    return `${args.property} ${parsed.ok ? 'must be greater than zero' : parsed.reason}`;
  }
}

export class RecordPriceDto {
  @IsAsset() readonly asset!: AssetCode;
  @ApiProperty({ example: '3129', maxLength: PRICE_MAX_LENGTH, description: 'US dollars per whole unit, up to 8 decimals' })
  @Validate(IsUsdPrice)
  readonly usd!: string;
}
