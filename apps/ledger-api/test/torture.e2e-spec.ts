/**
 * The short version of `npm run torture`'s crash cycles (tools/torture/crash-cycles.ts): the built API killed with
 * SIGKILL under concurrent commands, restarted and checked (nothing acknowledged lost or duplicated, balances as
 * acknowledged, verify and reconcile pass), twice on SQLite and once on PostgreSQL with two API processes.
 */
import { describeWithPostgres } from '@app/event-store/testing/postgres-test-database';
import { runCrashCycles } from '../../../tools/torture/crash-cycles';
import { requireBuild } from './support/server-process';

const SEED = Number(process.env.TORTURE_SEED ?? 15);

describe('crash cycles (kill -9 under load)', () => {
  beforeAll(requireBuild);

  it('survive 2 cycles on SQLite', async () => {
    const report = await runCrashCycles({ store: 'sqlite', cycles: 2, seed: SEED });
    // Each cycle sends at least 126 commands (6 fund deposits and 120 or more of the load), all acknowledged in the end.
    expect([report.cycles, report.commandsAcknowledged >= 2 * 126]).toEqual([2, true]);
  }, 90_000);

});

describeWithPostgres('crash cycles on PostgreSQL')('crash cycles on PostgreSQL (kill -9 under load)', () => {
  beforeAll(requireBuild);

  it('survive 1 cycle with two API processes', async () => {
    const report = await runCrashCycles({ store: 'postgres', cycles: 1, seed: SEED });
    expect([report.cycles, report.commandsAcknowledged >= 126]).toEqual([1, true]);
  }, 90_000);
});
