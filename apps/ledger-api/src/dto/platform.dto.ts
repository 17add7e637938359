import { applyDecorators } from '@nestjs/common';
import {
  DEFAULT_RISK_THRESHOLDS,
  MAX_NEW_ADDRESS_HOLD_HOURS,
  PRICE_MAX_LENGTH,
  RISK_RULES,
  RISK_SEVERITIES,
  RISK_THRESHOLD_BOUNDS,
  parseAmount,
  parsePrice,
  type AssetCode,
  type RiskRuleName,
  type RiskSeverity,
  type RiskThresholds,
} from '@app/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, Max, Min, Validate, ValidateIf, type ValidatorConstraintInterface, ValidatorConstraint, type ValidationArguments } from 'class-validator';
import { REASON_MAX_LENGTH } from './account.dto';
import { IsAsset, IsLedgerId, IsText } from './validators';

export class HaltWithdrawalsDto {
  @IsOptional() @IsLedgerId('inc-2022-01-17') incidentId?: string;
  @IsText(REASON_MAX_LENGTH, 'unauthorized withdrawals detected') reason!: string;
}

export class RevokeAllTwoFactorDto {
  @IsLedgerId('inc-2022-01-17') incidentId!: string;
  @IsText(REASON_MAX_LENGTH, 'withdrawals approved without the second factor') reason!: string;
  @ApiPropertyOptional({ description: 'client-chosen id of the revocation; generated when absent' })
  @IsOptional()
  @IsLedgerId('rev-2022-01-17')
  revocationId?: string;
}

export class WithdrawalPolicyDto {
  @ApiProperty({ minimum: 0, maximum: MAX_NEW_ADDRESS_HOLD_HOURS, example: 24 })
  @IsInt({ message: '$property must be a whole number of hours' })
  @Min(0, { message: '$property must be at least 0' })
  @Max(MAX_NEW_ADDRESS_HOLD_HOURS, { message: `$property must be at most ${MAX_NEW_ADDRESS_HOLD_HOURS}` })
  newAddressHoldHours!: number;
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
  required!: boolean;

  @ApiProperty({ type: String, nullable: true, example: '10000', description: 'USD value from which a withdrawal needs two factor methods; null for none' })
  @ValidateIf((dto: SecondFactorPolicyDto) => dto.mfaThresholdUsd !== null)
  @Validate(IsPositiveUsd)
  mfaThresholdUsd!: string | null;
}

export class OpenIncidentDto {
  @IsLedgerId('inc-2022-01-17') incidentId!: string;
  @IsText(200, 'Withdrawals approved without 2FA') title!: string;
}

export class CloseIncidentDto {
  @IsText(2_000, 'All affected customers reimbursed.') summary!: string;
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
  @IsAsset() asset!: AssetCode;
  @ApiProperty({ example: '3129', maxLength: PRICE_MAX_LENGTH, description: 'US dollars per whole unit, up to 8 decimals' })
  @Validate(IsUsdPrice)
  usd!: string;
}

export class AutoHaltPolicyDto {
  @ApiProperty({ enum: RISK_RULES, isArray: true, example: ['shared-destination', 'withdrawal-burst', 'fresh-address-wave'], description: 'rules whose alerts halt withdrawals on their own; [] for none' })
  @IsArray({ message: '$property must be a list of rule names' })
  @ArrayMaxSize(RISK_RULES.length, { message: `$property must list at most ${RISK_RULES.length} rules` })
  @IsIn(RISK_RULES, { each: true, message: `$property must list rules among ${RISK_RULES.join(', ')}` })
  rules!: RiskRuleName[];

  @ApiProperty({ enum: RISK_SEVERITIES, example: 'high', description: 'the least severity that halts' })
  @IsIn(RISK_SEVERITIES, { message: `$property must be one of ${RISK_SEVERITIES.join(', ')}` })
  minSeverity!: RiskSeverity;
}

/** Each threshold optional: those sent change, the others keep their value. */
export class RiskRulesDto {
  @ThresholdOf('freshAddressMinutes') freshAddressMinutes?: number;
  @ThresholdOf('sharedDestinationAccounts') sharedDestinationAccounts?: number;
  @ThresholdOf('sharedDestinationWindowMinutes') sharedDestinationWindowMinutes?: number;
  @ThresholdOf('burstWindowMinutes') burstWindowMinutes?: number;
  @ThresholdOf('burstMinWithdrawals') burstMinWithdrawals?: number;
  @ThresholdOf('burstBaselineFactor') burstBaselineFactor?: number;
  @ThresholdOf('burstBaselineHours') burstBaselineHours?: number;
  @ThresholdOf('freshAddressWaveAccounts') freshAddressWaveAccounts?: number;
  @ThresholdOf('freshAddressWaveWindowMinutes') freshAddressWaveWindowMinutes?: number;
}

function ThresholdOf(name: keyof RiskThresholds): PropertyDecorator {
  const [min, max] = RISK_THRESHOLD_BOUNDS[name];
  return applyDecorators(
    ApiPropertyOptional({ minimum: min, maximum: max, example: DEFAULT_RISK_THRESHOLDS[name] }),
    IsOptional(),
    IsInt({ message: '$property must be a whole number' }),
    Min(min, { message: `$property must be at least ${min}` }),
    Max(max, { message: `$property must be at most ${max}` }),
  );
}

export class ConfirmRiskAlertDto {
  @IsLedgerId('inc-2022-01-17') incidentId!: string;
}
