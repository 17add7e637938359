import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const CONSOLE_PREFIX = '/console/';

/**
 * The console's page policy: its own scripts, styles and API calls, nothing else (no inline code, no other origin,
 * no framing, no form posting anywhere).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Where `npm run build` put the console: beside the compiled API (dist/console), or under dist/ when run from source. */
export function consoleDirectory(): string | null {
  const candidates = [resolve(__dirname, '../../../../console'), resolve(__dirname, '../../../../dist/console')];
  return candidates.find((candidate) => existsSync(join(candidate, 'index.html'))) ?? null;
}

function setConsoleHeaders(reply: FastifyReply, path: string): void {
  reply.header('Content-Security-Policy', CONSOLE_CSP);
  // Built assets carry a content hash in their names; the page itself is checked again on every load.
  reply.header('Cache-Control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
  reply.header('Referrer-Policy', 'no-referrer');
}

/** Serves the built web console at /console/ (issue 14); false when it has not been built. */
export async function installConsole(app: NestFastifyApplication): Promise<boolean> {
  const root = consoleDirectory();
  if (root === null) return false;
  // The router ignores trailing slashes, so `/console/` is `/console`, which the plugin's `/console/*` does not match:
  // the page itself is answered here (read once: it only names the hashed assets of this build).
  const page = readFileSync(join(root, 'index.html'));
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  fastify.get('/console', (_request, reply) => {
    setConsoleHeaders(reply, 'index.html');
    void reply.type('text/html; charset=utf-8').send(page);
  });
  await app.register(fastifyStatic as never, {
    root,
    prefix: CONSOLE_PREFIX,
    // Swagger UI registers the plugin too: only one registration may decorate the reply.
    decorateReply: false,
    index: ['index.html'],
    cacheControl: false,
    setHeaders: setConsoleHeaders,
  });
  return true;
}
