import 'reflect-metadata';
import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadOrCreateKeyRing, type Clock, type GeneratedKey, type LedgerConfig } from '@app/ledger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { AppModule } from './app.module';
import { assertNoDuplicateKeys, hasBody, isJsonMediaType, RefusedBodyError } from './http/json-body';
import { accessLogMiddleware, requestIdMiddleware, RequestAwareLogger } from './http/request-context';
import { LedgerValidationPipe } from './http/validation';

/** A command body is a handful of short fields; 64 KiB leaves ample room and bounds a hostile request. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface CreateAppOptions {
  readonly clock?: Clock;
  /** Log levels to print; false for none. Defaults to log, warn and error. */
  readonly logLevels?: LogLevel[] | false;
  /** Called once with the keys generated on first start (no LEDGER_API_KEYS and no key file yet). */
  readonly onKeysGenerated?: (keys: readonly GeneratedKey[]) => void;
}

/** A JSON API never serves a page: forbid everything a browser could load or frame from it. */
function apiSecurityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('Cache-Control', 'no-store');
  next();
}

/**
 * Every body is JSON, on every route: a body of another type (a form, plain text) is refused with 415 before anything
 * reads it, rather than left unparsed and the route acting as if no body had been sent.
 */
function jsonBodiesOnly(req: Request, res: Response, next: NextFunction): void {
  if (!hasBody(req.headers) || isJsonMediaType(req.headers['content-type'])) return next();
  const reason = 'must be application/json: the API reads no other body';
  res.status(415).json({
    statusCode: 415,
    error: 'Unsupported Media Type',
    message: 'request bodies must be JSON: send Content-Type: application/json',
    errors: [{ field: 'Content-Type', reasons: [reason] }],
  });
}

/** Turns a body-parser failure (malformed JSON, too large, bad charset) into the ledger's JSON error shape. */
function bodyParserErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (error instanceof RefusedBodyError) {
    const errors = [{ field: error.field, reasons: [error.reason] }];
    res.status(error.status).json({ statusCode: error.status, error: 'Bad Request', message: 'validation failed', errors });
    return;
  }
  const failure = error as { status?: number; type?: string } | undefined;
  if (!failure || typeof failure.status !== 'number') return next(error);
  if (failure.type === 'entity.too.large') {
    res.status(413).json({ statusCode: 413, error: 'Payload Too Large', message: `request body must be at most ${BODY_LIMIT_BYTES} bytes` });
    return;
  }
  const message = failure.type === 'entity.parse.failed' ? 'request body must be a JSON object' : 'request body could not be read';
  res.status(400).json({ statusCode: 400, error: 'Bad Request', message, errors: [{ field: 'body', reasons: [message] }] });
}

/** Builds the HTTP application (also used by the end-to-end tests, so they test what production runs). */
export async function createApp(config: LedgerConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const { ring, generated } = await loadOrCreateKeyRing(config.apiKeys, config.dataDir);
  if (generated.length > 0) options.onKeysGenerated?.(generated);
  const logLevels = options.logLevels ?? ['log', 'warn', 'error'];
  const logger: LoggerService | false = logLevels === false ? false : new RequestAwareLogger({ logLevels });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, { clock: options.clock, keyRing: ring }), {
    bodyParser: false,
    logger,
    // CORS stays closed (no headers at all) unless origins are configured.
    cors: config.corsOrigins.length > 0 ? { origin: [...config.corsOrigins], methods: ['GET', 'POST'] } : false,
  });
  app.use(requestIdMiddleware);
  if (logLevels !== false && logLevels.includes('log')) app.use(accessLogMiddleware);
  // Swagger UI needs inline scripts, so helmet's page policy is left to the API routes' own header below.
  app.use(helmet({ contentSecurityPolicy: false }));
  app.use(['/v1', '/health'], apiSecurityHeaders);
  app.use(jsonBodiesOnly);
  // Checked on the raw bytes, before JSON.parse keeps the last of two equal keys.
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES, strict: true, verify: (_req: unknown, _res: unknown, raw: Buffer) => assertNoDuplicateKeys(raw) });
  app.use(bodyParserErrors);
  app.disable('x-powered-by');
  app.setGlobalPrefix('v1', { exclude: ['health'] });
  app.useGlobalPipes(new LedgerValidationPipe());
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Withdrawal & incident ledger')
      .setDescription('Commands append immutable events; amounts are decimal strings; ids are [A-Za-z0-9_-]{1,64}.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  Logger.flush();
  return app;
}
