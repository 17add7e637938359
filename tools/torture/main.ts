/**
 * `npm run torture -- [--cycles N] [--seed S] [--store sqlite|postgres|both] [--model-runs N] [--fuzz-runs N]`:
 * the long run of issue 15's torture tests. Crash cycles (tools/torture/crash-cycles.ts): 50 SQLite cycles and 20
 * PostgreSQL cycles with two API processes by default (`--cycles N` sets both); then the model-based tests of the
 * deciders and the HTTP contract fuzzing with many more cases than `npm test` runs. The same seed reproduces a run.
 * Builds first (`npm run torture` does); needs the PostgreSQL server of the tests for its PostgreSQL part.
 */
import '../app-paths';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runCrashCycles, type CrashCycleReport } from './crash-cycles';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

async function main(): Promise<void> {
  const seed = Number(option('seed') ?? Date.now() % 2 ** 31);
  const cycles = option('cycles');
  const store = option('store') ?? 'both';
  const modelRuns = option('model-runs') ?? '20000';
  const fuzzRuns = option('fuzz-runs') ?? '200';
  console.log(`torture: seed ${seed} (npm run torture -- --seed ${seed} reproduces this run)`);
  const reports: CrashCycleReport[] = [];
  if (store !== 'postgres') reports.push(await runCrashCycles({ store: 'sqlite', cycles: Number(cycles ?? 50), seed, log: console.log }));
  if (store !== 'sqlite') reports.push(await runCrashCycles({ store: 'postgres', cycles: Number(cycles ?? 20), seed, log: console.log }));
  for (const report of reports) console.log(`crash cycles: ${JSON.stringify(report)}`);
  const root = join(__dirname, '..', '..');
  const jest = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', 'libs/domain/src/model-based.spec.ts', 'apps/ledger-api/test/contract-fuzz.e2e-spec.ts', 'libs/ledger/src/torture'],
    { cwd: root, stdio: 'inherit', env: { ...process.env, MODEL_RUNS: modelRuns, MODEL_SEED: String(seed), FUZZ_RUNS: fuzzRuns, FUZZ_SEED: String(seed), TORTURE_LONG: '1' } },
  );
  if (jest.status !== 0) throw new Error(`the model-based, fuzzing or fault-injection suites failed (seed ${seed})`);
  console.log('torture: OK');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
