import type { OpenAPIObject } from '@nestjs/swagger';
import { BODY_LIMIT_BYTES } from './json-body';
import { IDEMPOTENCY_KEY_PATTERN } from './command-metadata.decorator';
import { RESPONSE_SCHEMAS, SUCCESS_SCHEMAS, type Schema } from './openapi-schemas';

type Operation = {
  operationId?: string;
  parameters?: Array<Record<string, unknown>>;
  requestBody?: unknown;
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
  security?: unknown[];
};

const json = (schema: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } });

/** Every error the edge can answer, with the body schema each has. */
const ERRORS: Record<string, { description: string; schema: string }> = {
  '400': { description: 'invalid input: `errors` names every failing field, parameter or header', schema: 'ValidationErrorResponse' },
  '401': { description: 'no API key, or an unknown one (with `WWW-Authenticate: Bearer`)', schema: 'ErrorResponse' },
  '403': { description: "the key's role may not use this route", schema: 'ErrorResponse' },
  '404': { description: 'unknown account, withdrawal, incident or risk alert (`code` says which)', schema: 'DomainErrorResponse' },
  '409': { description: 'an Idempotency-Key reused with another request, or a revision conflict that outlived the retries', schema: 'DomainErrorResponse' },
  '413': { description: `a body over ${BODY_LIMIT_BYTES} bytes`, schema: 'ErrorResponse' },
  '415': { description: 'a body that is not application/json', schema: 'ErrorResponse' },
  '422': { description: 'a business rule refused the command: `code` is its DomainError code', schema: 'DomainErrorResponse' },
  '429': { description: "over the key's rate limit, or too many wrong keys from this address (with `Retry-After`)", schema: 'ErrorResponse' },
  '503': { description: 'too many commands queued on one account (with `Retry-After`)', schema: 'ErrorResponse' },
};

const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'repeat a command safely: the same key with the same method, path and body answers the first result with 200',
  schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source },
};

/** Body fields that name something the ledger must already hold: a command naming an unknown one is answered 404. */
const REFERENCING_FIELDS = ['incidentId'];

/** Whether the command's body names an incident (or such) that must exist, other than the one it creates. */
function referencesByBody(operation: Operation, path: string, schemas: Readonly<Record<string, Schema>>): boolean {
  const ref = (operation.requestBody as { content?: Record<string, { schema?: { $ref?: string } }> } | undefined)?.content?.['application/json']?.schema?.$ref;
  const properties = ref === undefined ? {} : ((schemas[ref.replace('#/components/schemas/', '')]?.properties ?? {}) as Record<string, unknown>);
  return path !== '/v1/incidents' && REFERENCING_FIELDS.some((field) => field in properties);
}

function errorCodesOf(method: string, path: string, operation: Operation, schemas: Readonly<Record<string, Schema>>): string[] {
  const codes = ['429'];
  if (operation.security !== undefined && operation.security.length > 0) codes.push('401', '403');
  if (method === 'post') codes.push('400', '409', '413', '415', '422', '503');
  if (method === 'get' && (operation.parameters ?? []).some((parameter) => parameter.in !== 'header')) codes.push('400');
  if (path.includes('{') || (method === 'post' && referencesByBody(operation, path, schemas))) codes.push('404');
  return codes;
}

function completeOperation(method: string, path: string, operation: Operation, schemas: Readonly<Record<string, Schema>>): void {
  const successCode = method === 'post' ? '201' : '200';
  const success = SUCCESS_SCHEMAS[`${method} ${path}`] ?? (method === 'post' ? 'CommandResponse' : undefined);
  if (success !== undefined) {
    for (const code of method === 'post' ? ['200', '201'] : ['200']) {
      const description = code === '200' && method === 'post' ? 'idempotent replay: nothing appended' : code === '201' ? 'appended' : 'the answer';
      operation.responses[code] = { description: operation.responses[code]?.description || description, content: json(success) };
    }
  }
  if (path === '/v1/reimbursements') operation.responses['200']!.content!['text/csv'] = { schema: { type: 'string', description: 'with ?format=csv' } };
  if (path === '/health/ready') operation.responses['503'] = { description: 'not ready: `reasons` says why', content: json('Readiness') };
  const declared = Object.keys(operation.responses).filter((code) => ERRORS[code] !== undefined);
  for (const code of new Set([...errorCodesOf(method, path, operation, schemas), ...declared])) {
    if (path === '/health/ready' && code === '503') continue;
    const error = ERRORS[code]!;
    operation.responses[code] = { description: operation.responses[code]?.description || error.description, content: json(error.schema) };
  }
  if (method === 'post' && !(operation.parameters ?? []).some((parameter) => parameter.name === 'Idempotency-Key')) {
    operation.parameters = [IDEMPOTENCY_KEY_PARAMETER, ...(operation.parameters ?? [])];
  }
  for (const parameter of operation.parameters ?? []) if (parameter.name === 'Idempotency-Key') Object.assign(parameter, IDEMPOTENCY_KEY_PARAMETER);
  if (!operation.responses[successCode] && success === undefined) operation.responses[successCode] = { description: 'the answer' };
}

/** Nest's Swagger module types a `string | null` property as an object; its example (a string) says what it is. */
function fixUnionTypedProperties(schema: Schema): void {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const property of Object.values(properties)) {
    if (property.type === 'object' && typeof property.example === 'string') property.type = 'string';
  }
}

/**
 * What Nest's Swagger module cannot see from the decorators: every error each route can answer (from the guards,
 * the body parser, the validation pipe and the exception filter), the answers' schemas, the Idempotency-Key header
 * on every command, and an API key (not a JWT) as the bearer scheme.
 */
export function completeOpenApiDocument(document: OpenAPIObject): OpenAPIObject {
  document.components = document.components ?? {};
  document.components.schemas = { ...document.components.schemas, ...(RESPONSE_SCHEMAS as NonNullable<typeof document.components.schemas>) };
  document.components.securitySchemes = {
    bearer: { type: 'http', scheme: 'bearer', description: 'an API key: `Authorization: Bearer <key>`; each key has one role (service, admin, auditor, finance)' },
  };
  document.servers = [{ url: '/', description: 'this server' }];
  document.info.license = { name: 'UNLICENSED' };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post'] as const) {
      const operation = (item as Record<string, Operation | undefined>)[method];
      if (operation === undefined) continue;
      completeOperation(method, path, operation, document.components.schemas as Record<string, Schema>);
      // Open routes say so, rather than leaving the scheme undefined.
      operation.security ??= [];
    }
  }
  for (const schema of Object.values(document.components.schemas)) fixUnionTypedProperties(schema as Schema);
  return document;
}
