import { compileDto, type CompiledDto } from './compiled-validator';
import { BadRequestException, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';

export interface FieldError {
  readonly field: string;
  readonly reasons: string[];
}

/** Keys that could reach an object's prototype if some library merged the body; refused wherever they appear. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_BODY_DEPTH = 8;

function flatten(errors: readonly ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, reasons: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

export function badRequest(errors: FieldError[]): BadRequestException {
  return new BadRequestException({ message: 'validation failed', errors });
}

function findForbiddenKey(value: unknown, path: string, depth: number): FieldError | null {
  if (value === null || typeof value !== 'object') return null;
  if (depth > MAX_BODY_DEPTH) return { field: path || 'body', reasons: [`must not nest deeper than ${MAX_BODY_DEPTH} levels`] };
  for (const key of Object.keys(value)) {
    const field = path ? `${path}.${key}` : key;
    // Object.prototype's names too: class-transformer would drop such a field silently rather than refuse it.
    if (FORBIDDEN_KEYS.has(key) || key in Object.prototype) return { field, reasons: ['is a reserved name and is not allowed'] };
    const nested = findForbiddenKey((value as Record<string, unknown>)[key], field, depth + 1);
    if (nested) return nested;
  }
  return null;
}

/**
 * The global pipe (STYLE.md): class-validator with whitelist, forbidNonWhitelisted and transform, every failing
 * field named. Bodies must be plain JSON objects and must not carry prototype-polluting keys. A valid value is
 * accepted by the DTO's compiled check (compiled-validator.ts) without class-validator's per-request work; anything
 * else goes through class-validator, so every refusal is explained by it.
 */
export class LedgerValidationPipe extends ValidationPipe {
  private readonly compiled = new Map<unknown, CompiledDto | null>();
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      stopAtFirstError: false,
      exceptionFactory: (errors) => badRequest(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      // A command without fields may be sent without a body; its DTO then sees an empty object.
      if (value === undefined) value = {};
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw badRequest([{ field: 'body', reasons: ['must be a JSON object'] }]);
      }
      const forbidden = findForbiddenKey(value, '', 0);
      if (forbidden) throw badRequest([forbidden]);
    }
    const accepted = this.toValidate(metadata) ? this.compiledFor(metadata.metatype)?.(value) : undefined;
    return accepted ?? super.transform(value, metadata);
  }

  private compiledFor(metatype: unknown): CompiledDto | null {
    let compiled = this.compiled.get(metatype);
    if (compiled === undefined) this.compiled.set(metatype, (compiled = compileDto(metatype)));
    return compiled;
  }
}
