import type { Config } from 'jest';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';

// One SWC transform for every project: type checking is `npm run typecheck`, which `npm test` runs first.
const swcConfig = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8'));
const transform: Config['transform'] = {
  '^.+\\.ts$': ['@swc/jest', { ...swcConfig, swcrc: false }],
  // ESM-only dependencies (content-disposition 1+, under @fastify/static, which Swagger UI's assets need): Node
  // loads them with require(esm), Jest's module loader does not, so they are compiled to CommonJS for the tests.
  '/node_modules/.+\\.js$': ['@swc/jest', { ...swcConfig, swcrc: false }],
};
/** Everything in node_modules runs as published, except the ESM-only packages above. */
const transformIgnorePatterns = ['/node_modules/(?!(@fastify/static/node_modules/)?content-disposition/)'];
const moduleNameMapper = {
  '^@app/(access|domain|event-store|incident-scenario|ledger|projections)$': '<rootDir>/libs/$1/src',
  '^@app/(access|domain|event-store|incident-scenario|ledger|projections)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const common = { rootDir: __dirname, transform, transformIgnorePatterns, moduleNameMapper, testEnvironment: 'node' as const };

/** The HTTP suites that do not start their own server processes run a second time on PostgreSQL. */
const HTTP_SUITES = ['walkthrough', 'validation', 'rules', 'access', 'reads', 'hardening', 'second-factor', 'risk', 'merkle', 'operations'].map((name) => `<rootDir>/apps/ledger-api/test/${name}.e2e-spec.ts`);
const POSTGRES_URL = process.env.LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function postgresReachable(): Promise<boolean> {
  const client = new Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export default async (): Promise<Config> => {
  const projects: Config['projects'] = [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/src/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/libs/**/*.int-spec.ts', '<rootDir>/apps/**/src/**/*.int-spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/apps/**/test/**/*.e2e-spec.ts'] },
  ];
  if (await postgresReachable()) {
    projects.push({ ...common, displayName: 'e2e-postgres', testMatch: HTTP_SUITES, setupFiles: ['<rootDir>/tools/jest-postgres-env.js'] });
  } else {
    console.warn(`HTTP suites on PostgreSQL skipped: no PostgreSQL at ${POSTGRES_URL} (set LEDGER_TEST_POSTGRES_URL)`);
  }
  return { reporters: ['default', '<rootDir>/tools/jest-summary-reporter.js'], projects };
};
