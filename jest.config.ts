import type { Config } from 'jest';
import { readFileSync } from 'node:fs';

// One SWC transform for every project: type checking is `npm run typecheck`, which `npm test` runs first.
const swcConfig = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8'));
const transform: Config['transform'] = { '^.+\\.ts$': ['@swc/jest', { ...swcConfig, swcrc: false }] };
const moduleNameMapper = {
  '^@app/(domain|event-store|ledger|projections)$': '<rootDir>/libs/$1/src',
  '^@app/(domain|event-store|ledger|projections)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const common = { rootDir: __dirname, transform, moduleNameMapper, testEnvironment: 'node' as const };

const config: Config = {
  reporters: ['default', '<rootDir>/tools/jest-summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/src/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/libs/**/*.int-spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/apps/**/test/**/*.e2e-spec.ts'] },
  ],
};

export default config;
