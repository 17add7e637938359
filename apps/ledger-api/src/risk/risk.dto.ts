import { applyDecorators } from '@nestjs/common';
import { DEFAULT_RISK_THRESHOLDS, RISK_RULES, RISK_SEVERITIES, RISK_THRESHOLD_BOUNDS, type RiskRuleName, type RiskSeverity, type RiskThresholds } from '@app/domain';
import { RISK_ALERT_ROW_STATUSES } from '@app/projections';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { PageQuery } from '../http/shared.dto';
import { IsLedgerId } from '../http/validators';

export class AutoHaltPolicyDto {
  @ApiProperty({ enum: RISK_RULES, isArray: true, example: ['shared-destination', 'withdrawal-burst', 'fresh-address-wave'], description: 'rules whose alerts halt withdrawals on their own; [] for none' })
  @IsArray({ message: '$property must be a list of rule names' })
  @ArrayMaxSize(RISK_RULES.length, { message: `$property must list at most ${RISK_RULES.length} rules` })
  @IsIn(RISK_RULES, { each: true, message: `$property must list rules among ${RISK_RULES.join(', ')}` })
  readonly rules!: RiskRuleName[];

  @ApiProperty({ enum: RISK_SEVERITIES, example: 'high', description: 'the least severity that halts' })
  @IsIn(RISK_SEVERITIES, { message: `$property must be one of ${RISK_SEVERITIES.join(', ')}` })
  readonly minSeverity!: RiskSeverity;
}

/** Each threshold optional: those sent change, the others keep their value. */
export class RiskRulesDto {
  @ThresholdOf('freshAddressMinutes') readonly freshAddressMinutes?: number;
  @ThresholdOf('sharedDestinationAccounts') readonly sharedDestinationAccounts?: number;
  @ThresholdOf('sharedDestinationWindowMinutes') readonly sharedDestinationWindowMinutes?: number;
  @ThresholdOf('burstWindowMinutes') readonly burstWindowMinutes?: number;
  @ThresholdOf('burstMinWithdrawals') readonly burstMinWithdrawals?: number;
  @ThresholdOf('burstBaselineFactor') readonly burstBaselineFactor?: number;
  @ThresholdOf('burstBaselineHours') readonly burstBaselineHours?: number;
  @ThresholdOf('freshAddressWaveAccounts') readonly freshAddressWaveAccounts?: number;
  @ThresholdOf('freshAddressWaveWindowMinutes') readonly freshAddressWaveWindowMinutes?: number;
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
  @IsLedgerId('inc-2022-01-17') readonly incidentId!: string;
}
export class RiskAlertsQueryDto extends PageQuery {
  @ApiPropertyOptional({ enum: RISK_ALERT_ROW_STATUSES })
  @IsOptional()
  @IsIn(RISK_ALERT_ROW_STATUSES, { message: `$property must be one of ${RISK_ALERT_ROW_STATUSES.join(', ')}` })
  readonly status?: string;

  @ApiPropertyOptional({ enum: RISK_RULES })
  @IsOptional()
  @IsIn(RISK_RULES, { message: `$property must be one of ${RISK_RULES.join(', ')}` })
  readonly rule?: string;
}
