import { ASSET_CODES, ID_MAX_LENGTH, ID_PATTERN, isAssetCode, parseAmount } from '@app/domain';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Matches, MaxLength, registerDecorator, type ValidationArguments } from 'class-validator';

/** A client-chosen id: `[A-Za-z0-9_-]{1,64}`, safe in a path, a stream name and a log line. */
export function IsLedgerId(example = 'acct-1001'): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ example, pattern: ID_PATTERN.source, maxLength: ID_MAX_LENGTH }),
    IsString({ message: '$property must be a string' }),
    MaxLength(ID_MAX_LENGTH, { message: `$property must be at most ${ID_MAX_LENGTH} characters` }),
    Matches(ID_PATTERN, { message: '$property must contain only letters, digits, _ and - (1 to 64 characters)' }),
  );
}

export function IsAsset(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ enum: ASSET_CODES, example: 'ETH' }),
    IsString({ message: '$property must be a string' }),
    IsIn(ASSET_CODES, { message: `$property must be one of ${ASSET_CODES.join(', ')}` }),
  );
}

/** Free text such as a reason or a title: bounded, and without control characters. */
export function IsText(maxLength: number, example: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ example, maxLength }),
    IsString({ message: '$property must be a string' }),
    MaxLength(maxLength, { message: `$property must be at most ${maxLength} characters` }),
    Matches(/^[^\p{Cc}]+$/u, { message: '$property must be non-empty text without control characters' }),
  );
}

/**
 * A positive amount of the asset named by a sibling property, as a decimal string with no more decimals than
 * the asset has: money is exact, so an amount the asset cannot hold is refused rather than rounded. JSON numbers,
 * exponents, signs, hex, spaces and zero are refused with the reason.
 */
export function IsPositiveAmountOf(assetProperty: string): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    ApiProperty({ type: String, example: '1.5', description: 'decimal string in whole units of the asset' })(target, propertyName);
    registerDecorator({
      name: 'isPositiveAmountOf',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          return amountProblem(value, (args.object as Record<string, unknown>)[assetProperty]) === null;
        },
        defaultMessage(args: ValidationArguments): string {
          const problem = amountProblem(args.value, (args.object as Record<string, unknown>)[assetProperty]);
          return `${args.property} ${problem ?? 'is invalid'}`;
        },
      },
    });
  };
}

function amountProblem(value: unknown, asset: unknown): string | null {
  // Without a valid asset the scale is unknown; the asset's own error says why, and the amount is still checked
  // against the widest scale so that a malformed amount is reported too.
  const parsed = parseAmount(isAssetCode(asset) ? asset : 'ETH', value);
  if (!parsed.ok) return parsed.reason;
  if (parsed.minor <= 0n) return 'must be greater than zero';
  return null;
}
