import 'reflect-metadata';
import helmet from '@fastify/helmet';
import { ConsoleLogger, Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadOrCreateKeyRing, type GeneratedKey } from '@app/access';
import type { Clock, LedgerConfig } from '@app/ledger';
import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { BODY_LIMIT_BYTES, parseJsonBody, unsupportedMediaType } from './http/json-body';
import { toErrorResponse } from './http/exception.filter';
import { JsonLogger } from './http/json-logger';
import { completeOpenApiDocument } from './http/openapi';
import { installConsole } from './http/console';
import { accessLog as textAccessLog, assignRequestId } from './http/request-context';
import { installGracefulClose } from './http/graceful-close';
import { LedgerValidationPipe } from './http/validation';
import { installMetrics } from './metrics/metrics-endpoint';

export { BODY_LIMIT_BYTES } from './http/json-body';

export interface CreateAppOptions {
  readonly clock?: Clock;
  /** Log levels to print; false for none. Defaults to log, warn and error. */
  readonly logLevels?: LogLevel[] | false;
  /** Where JSON log lines go (LEDGER_LOG_FORMAT=json); standard output by default. */
  readonly jsonLogDestination?: DestinationStream;
  /** Called once with the keys generated on first start (no LEDGER_API_KEYS and no key file yet). */
  readonly onKeysGenerated?: (keys: readonly GeneratedKey[]) => void;
}

/** The API's own routes (as Express mounted them: the prefix, any case, then nothing, a slash or a query). */
const API_PATH = /^\/(v1|health)(\/|\?|$)/i;

/**
 * The edge, as Fastify hooks: a request id on every answer (and in every log line of the request), the API routes'
 * own page policy, bodies that are JSON or nothing (415 before anything reads them), one access-log line per answer.
 */
function installEdge(fastify: FastifyInstance, accessLog: onResponseHookHandler | null): void {
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    // A JSON API never serves a page: forbid everything a browser could load or frame from it.
    if (API_PATH.test(request.url)) {
      reply.header('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      reply.header('Cache-Control', 'no-store');
    }
    assignRequestId(request, reply);
    const refusal = unsupportedMediaType(request.headers);
    // Answered here, before any body is read, in the shape the exception filter gives every other error.
    if (refusal) void reply.status(415).send(toErrorResponse(refusal));
    else done();
  });
  if (accessLog !== null) fastify.addHook('onResponse', accessLog);
  // The only body parser: JSON, within the limit, no field named twice, an object or an array at the top.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/** Colour codes only for a person at a terminal: a log written to a file or a pipe gets plain text. */
function colorsWanted(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}

/** Builds the HTTP application (also used by the end-to-end tests, so they test what production runs). */
export async function createApp(config: LedgerConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const { ring, generated } = await loadOrCreateKeyRing(config.apiKeys, config.dataDir);
  if (generated.length > 0) options.onKeysGenerated?.(generated);
  const logLevels = options.logLevels ?? ['log', 'warn', 'error'];
  const jsonLogger = logLevels !== false && config.logFormat === 'json' ? new JsonLogger(logLevels, options.jsonLogDestination) : null;
  const logger: LoggerService | false = logLevels === false ? false : (jsonLogger ?? new ConsoleLogger({ logLevels, colors: colorsWanted() }));
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // The ledger logs through Nest (the access log below); Fastify's own logger stays off.
    logger: false,
    // Behind a proxy, configure trust there; the client address is the socket's.
    trustProxy: false,
    // Routes match as they did on Express: a trailing slash (which the idempotency hash drops too) and the letter case
    // of the fixed segments make no difference; ids in the path keep their case.
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false, maxParamLength: 256 },
    // On close (SIGTERM, see main.ts): idle keep-alive connections are closed at once; a request Fastify still
    // receives while it closes is answered 503 with `Connection: close`, so the client retries elsewhere; requests
    // already in flight finish (with `Connection: close`, http/graceful-close.ts).
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, { clock: options.clock, keyRing: ring }), adapter, {
    bodyParser: false,
    logger,
    // CORS stays closed (no headers at all) unless origins are configured.
    cors: config.corsOrigins.length > 0 ? { origin: [...config.corsOrigins], methods: ['GET', 'POST'] } : false,
  });
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  // Metrics first: their hooks instrument every route registered after them (issue 14; off unless configured).
  if (config.metrics !== null) await installMetrics(app, fastify, config.metrics, config.host, ring);
  // Swagger UI needs inline scripts, so helmet's page policy is left to the API routes' own header.
  await app.register(helmet as never, { contentSecurityPolicy: false, global: true });
  // The web console (issue 14), when built: its own page policy, so it is left out of helmet's and the API's.
  if (!(await installConsole(app))) Logger.warn('the web console is not built (npm run build): /console is not served', 'Console');
  installEdge(fastify, logLevels !== false && logLevels.includes('log') ? (jsonLogger?.accessLog ?? textAccessLog) : null);
  installGracefulClose(fastify);
  app.setGlobalPrefix('v1', { exclude: ['health', 'health/live', 'health/ready'] });
  app.useGlobalPipes(new LedgerValidationPipe());
  const document = completeOpenApiDocument(SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Withdrawal & incident ledger')
      .setDescription('Commands append immutable events; amounts are decimal strings; ids are [A-Za-z0-9_-]{1,64}.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  ));
  SwaggerModule.setup('docs', app, document);
  Logger.flush();
  return app;
}
