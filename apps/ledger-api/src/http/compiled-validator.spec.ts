import 'reflect-metadata';
import fc from 'fast-check';
import { getMetadataStorage } from 'class-validator';
import * as accountDtos from '../accounts/account.dto';
import * as auditDtos from '../audit/audit.dto';
import * as platformDtos from '../platform/platform.dto';
import * as readDtos from '../reads/read.dto';
import * as riskDtos from '../risk/risk.dto';
import * as sharedDtos from './shared.dto';
import { compileDto } from './compiled-validator';
import { LedgerValidationPipe } from './validation';

type Dto = new () => object;

/** Every DTO the controllers take: the exported classes that carry class-validator metadata. */
const DTOS: Dto[] = [accountDtos, platformDtos, readDtos, auditDtos, riskDtos, sharedDtos]
  .flatMap((module) => Object.values(module))
  .filter((value): value is Dto => typeof value === 'function' && getMetadataStorage().getTargetValidationMetadatas(value, '', false, false, undefined).length > 0);

function propertiesOf(dto: Dto): string[] {
  return Object.keys(getMetadataStorage().groupByPropertyName(getMetadataStorage().getTargetValidationMetadatas(dto, '', false, false, undefined)));
}

/** Values that pass some rule somewhere: the DTOs' own examples and allowed values, and near misses of them. */
function interestingValues(dto: Dto): unknown[] {
  const values: unknown[] = ['acct-1', 'a', 'ETH', 'BTC', 'USDC', 'eth', '1', '1.5', '0', '0.00000001', '1e3', '-1', ' 1', '1.1234567890123456789'];
  values.push('customer request', '', 'a\u0000b', '0x5a1e5a1e5a1e5a1e5a1e5a1e', 'aaa.bbb.ccc', 'x'.repeat(65), 'x'.repeat(501));
  values.push(true, false, 0, 1, 24, 1.5, -1, 10 ** 9, null, ['a'], ['ETH', 'BTC'], ['a', 'a'], [], { nested: 1 });
  for (const property of propertiesOf(dto)) {
    const swagger = Reflect.getMetadata('swagger/apiModelProperties', dto.prototype, property) as { example?: unknown; enum?: unknown[] } | undefined;
    if (swagger?.example !== undefined) values.push(swagger.example);
    if (Array.isArray(swagger?.enum)) values.push(...swagger.enum);
  }
  for (const metadata of getMetadataStorage().getTargetValidationMetadatas(dto, '', false, false, undefined)) {
    for (const constraint of metadata.constraints ?? []) if (Array.isArray(constraint)) values.push(...constraint, constraint.slice(0, 2));
  }
  return values;
}

function exampleOf(dto: Dto, property: string): unknown {
  const example = (Reflect.getMetadata('swagger/apiModelProperties', dto.prototype, property) as { example?: unknown } | undefined)?.example;
  if (example !== undefined) return example;
  return Reflect.getMetadata('design:type', dto.prototype, property) === Boolean ? true : undefined;
}

/** Bodies near a valid one: each field its documented example most of the time, otherwise another value or absent. */
function bodies(dto: Dto): fc.Arbitrary<Record<string, unknown>> {
  const other = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...interestingValues(dto)) }, fc.string(), fc.integer(), fc.constant(undefined));
  const fields = Object.fromEntries(
    propertiesOf(dto).map((property) => [property, fc.oneof({ weight: 8, arbitrary: fc.constant(exampleOf(dto, property)) }, { weight: 2, arbitrary: other })]),
  );
  const known = fc.record(fields);
  return fc.oneof({ weight: 6, arbitrary: known }, fc.tuple(known, fc.constantFrom('extra', 'amountt', 'Amount'), other).map(([body, key, extra]) => ({ ...body, [key]: extra })));
}

const pipe = new LedgerValidationPipe();

async function throughClassValidator(dto: Dto, body: object): Promise<object | undefined> {
  // The pipe's own slow path: ValidationPipe.transform, which is what runs whenever the compiled check says no.
  try {
    return (await Object.getPrototypeOf(LedgerValidationPipe.prototype).transform.call(pipe, body, { type: 'body', metatype: dto })) as object;
  } catch {
    return undefined;
  }
}

describe('compiled DTO validation', () => {
  it('covers every DTO the controllers take', () => {
    expect(DTOS.length).toBeGreaterThan(20);
    for (const dto of DTOS) expect(compileDto(dto)).not.toBeNull();
  });

  it.each(DTOS.map((dto) => [dto.name, dto] as const))('%s: accepts exactly what class-validator accepts, as the same instance', async (_name, dto) => {
    const check = compileDto(dto)!;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(bodies(dto), async (raw) => {
        const body = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
        const slow = await throughClassValidator(dto, structuredClone(body));
        const fast = check(structuredClone(body));
        if (fast !== undefined) accepted += 1;
        expect(fast === undefined).toBe(slow === undefined);
        if (fast !== undefined) {
          expect(fast).toBeInstanceOf(dto);
          expect({ ...fast }).toEqual({ ...slow });
        }
      }),
      { numRuns: 300 },
    );
    // The comparison means something only if both sides accepted some bodies.
    expect(accepted).toBeGreaterThan(0);
  });

  it('refuses a body field named after an Object.prototype member, which class-transformer would drop silently', async () => {
    await expect(pipe.transform({ accountId: 'acct-1', toString: 'x' }, { type: 'body', metatype: accountDtos.OpenAccountDto })).rejects.toMatchObject({
      response: { errors: [{ field: 'toString', reasons: ['is a reserved name and is not allowed'] }] },
    });
  });

  it('leaves what it cannot follow to class-validator: primitives, and anything nested', () => {
    expect(compileDto(String)).toBeNull();
    expect(compileDto(undefined)).toBeNull();
    const check = compileDto(accountDtos.OpenAccountDto)!;
    expect(check({ accountId: 'acct-1' })).toBeInstanceOf(accountDtos.OpenAccountDto);
    expect(check({ accountId: { toString: 'acct-1' } })).toBeUndefined();
    expect(check([{ accountId: 'acct-1' }])).toBeUndefined();
  });
});
