/**
 * Resolves the monorepo's `@app/<lib>` aliases (tsconfig.json "paths") to `libs/<lib>/src` for scripts run from
 * source with ts-node, which does not read "paths" itself. Import it before anything that imports `@app/...`.
 */
import Module from 'node:module';
import { join } from 'node:path';

const LIBS = join(__dirname, '..', 'libs');
const ALIAS = /^@app\/(access|domain|event-store|incident-scenario|ledger|projections)(\/.*)?$/;

type Resolve = (request: string, ...rest: unknown[]) => string;
const moduleWithResolver = Module as unknown as { _resolveFilename: Resolve };
const resolveFilename = moduleWithResolver._resolveFilename;
moduleWithResolver._resolveFilename = function resolveAppAlias(this: unknown, request: string, ...rest: unknown[]): string {
  const match = ALIAS.exec(request);
  const target = match === null ? request : join(LIBS, match[1]!, 'src', match[2] ?? '');
  return resolveFilename.call(this, target, ...rest);
};
