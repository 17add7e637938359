import { TransformationType } from 'class-transformer';
import type { MetadataStorage as TransformerMetadata } from 'class-transformer/types/MetadataStorage';
import { getMetadataStorage, ValidationTypes, type ValidationArguments, type ValidatorConstraintInterface } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

type Dto = new () => object;
type Check = (value: unknown, args: ValidationArguments) => boolean;
type Condition = (object: object, value: unknown) => boolean;

interface CompiledProperty {
  readonly name: string;
  readonly conditions: readonly Condition[];
  /** Every constraint on the property (IsDefined first, as class-validator runs them), with its arguments. */
  readonly checks: readonly { readonly check: Check; readonly each: boolean; readonly constraints: unknown[] }[];
}

/**
 * Accepts a plain value as an instance of the DTO when class-validator would, or answers undefined.
 * undefined means "not shown valid here": the caller then runs class-validator, which explains the refusal.
 */
export type CompiledDto = (plain: unknown) => object | undefined;

const PRIMITIVE_TYPES: ReadonlySet<unknown> = new Set([String, Boolean, Number, Array, Object, Buffer, Date]);

/** A value that class-transformer copies as it is (or, an array of them, element by element). */
function isFlat(value: unknown): boolean {
  if (value === null) return true;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return true;
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i += 1) {
    const element: unknown = value[i];
    // A gap or a nested array or object goes the slow way.
    if (!(i in value) || (element !== null && typeof element === 'object')) return false;
  }
  return true;
}

function hasTransformerMetadata(dto: Dto, properties: readonly string[]): boolean {
  // The store class-transformer's decorators write to (the package's index does not export it).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const storage = (require('class-transformer/cjs/storage') as { defaultMetadataStorage: TransformerMetadata }).defaultMetadataStorage;
  if (storage.getExposedMetadatas(dto).length > 0 || storage.getExcludedMetadatas(dto).length > 0) return true;
  return properties.some(
    (property) => storage.findTypeMetadata(dto, property) !== undefined || storage.findTransformMetadatas(dto, property, TransformationType.PLAIN_TO_CLASS).length > 0,
  );
}

function compileProperty(name: string, metadatas: readonly ValidationMetadata[]): CompiledProperty | null {
  const storage = getMetadataStorage();
  const conditions: Condition[] = [];
  const defined: CompiledProperty['checks'][number][] = [];
  const custom: CompiledProperty['checks'][number][] = [];
  for (const metadata of metadatas) {
    switch (metadata.type) {
      case ValidationTypes.WHITELIST:
        break;
      case ValidationTypes.CONDITIONAL_VALIDATION:
        conditions.push(metadata.constraints[0] as Condition);
        break;
      case ValidationTypes.IS_DEFINED:
      case ValidationTypes.CUSTOM_VALIDATION:
        for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
          if (constraint.async) return null;
          const instance = constraint.instance as ValidatorConstraintInterface;
          const check = instance.validate.bind(instance) as Check;
          (metadata.type === ValidationTypes.IS_DEFINED ? defined : custom).push({ check, each: metadata.each === true, constraints: metadata.constraints });
        }
        break;
      default:
        // Nested and promise validation: not compiled.
        return null;
    }
  }
  return { name, conditions, checks: [...defined, ...custom] };
}

function propertyHolds(dto: Dto, instance: Record<string, unknown>, property: CompiledProperty): boolean {
  const value = instance[property.name];
  for (const condition of property.conditions) if (!condition(instance, value)) return true;
  for (const { check, each, constraints } of property.checks) {
    const args: ValidationArguments = { targetName: dto.name, property: property.name, object: instance, value, constraints };
    if (each && Array.isArray(value)) {
      for (const element of value) if (check(element, args) !== true) return false;
    } else if (check(value, args) !== true) {
      return false;
    }
  }
  return true;
}

/**
 * Compiles what the global ValidationPipe does for one DTO (class-transformer's plainToInstance without implicit
 * conversion, then class-validator with whitelist and forbidNonWhitelisted) into one function, reading the
 * decorators' metadata once instead of on every request. The constraints are class-validator's own objects, so
 * the contract stays where it is written (the DTO's decorators, which OpenAPI reads too). The compiled function
 * only accepts: anything it does not show valid (an unknown field, a failing constraint, a nested object) goes to
 * class-validator, which gives the errors. A DTO the compiler cannot follow (nested or async validation,
 * class-transformer decorators) is answered null, and always goes the slow way.
 */
export function compileDto(dto: unknown): CompiledDto | null {
  if (typeof dto !== 'function' || PRIMITIVE_TYPES.has(dto)) return null;
  const type = dto as Dto;
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(type, '', false, false, undefined);
  if (metadatas.length === 0) return null;
  const grouped = getMetadataStorage().groupByPropertyName(metadatas);
  const names = Object.keys(grouped);
  if (hasTransformerMetadata(type, names)) return null;
  const properties: CompiledProperty[] = [];
  for (const name of names) {
    const compiled = compileProperty(name, grouped[name]!);
    if (!compiled) return null;
    properties.push(compiled);
  }
  const known = new Set(names);
  return (plain) => {
    if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) return undefined;
    const instance = new type() as Record<string, unknown>;
    for (const key of Object.keys(plain)) {
      const value = (plain as Record<string, unknown>)[key];
      if (!known.has(key) || !isFlat(value)) return undefined;
      instance[key] = Array.isArray(value) ? value.slice() : value;
    }
    // Fields set by the class itself count too, as they do for the whitelist.
    for (const key of Object.keys(instance)) if (!known.has(key)) return undefined;
    for (const property of properties) if (!propertyHolds(type, instance, property)) return undefined;
    return instance;
  };
}
