import 'reflect-metadata';
import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Clock, LedgerConfig } from '@app/ledger';
import type { NextFunction, Request, Response } from 'express';
import { AppModule } from './app.module';
import { LedgerValidationPipe } from './http/validation';

/** A command body is a handful of short fields; 64 KiB leaves ample room and bounds a hostile request. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface CreateAppOptions {
  readonly clock?: Clock;
  readonly logger?: LoggerService | LogLevel[] | false;
}

/** Turns a body-parser failure (malformed JSON, too large, bad charset) into the ledger's JSON error shape. */
function bodyParserErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
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
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, { clock: options.clock }), {
    bodyParser: false,
    logger: options.logger ?? ['log', 'warn', 'error'],
  });
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES, strict: true });
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
