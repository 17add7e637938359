import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Once the server starts closing (SIGTERM), every answer says `Connection: close`: the request in flight finishes,
 * then its keep-alive connection ends rather than carry more requests to a server that is going away. Fastify
 * closes the idle connections itself (forceCloseConnections) and answers a request that arrives on a busy one
 * with 503 (return503OnClosing), both set where the server is built (app.ts).
 */
export function installGracefulClose(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done: () => void) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', (_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}
