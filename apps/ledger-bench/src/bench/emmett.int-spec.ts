import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMMETT_DEPOSIT_WEI, EMMETT_WITHDRAWAL_WEI, readEmmettAccounts, runEmmettWorkload } from './emmett';

describe('the bench workload on Emmett (SQLite event store)', () => {
  let folder: string;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'bench-emmett-'));
  });

  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('accepts every withdrawal in both phases and leaves each balance lower by exactly what was withdrawn', async () => {
    const size = { accounts: 5, withdrawals: 20, inFlight: 64 };
    const phases = new Set<string>();

    const figures = await runEmmettWorkload(folder, size, (phase) => phases.add(phase));

    expect(figures.storeUse).toBe('one-store-serialized');
    expect(figures.version).toBe('@event-driven-io/emmett-sqlite 0.38.5');
    expect(figures.settings).toMatch(/journal_mode=WAL, synchronous=FULL/);
    expect(figures.setupSeconds).toBeGreaterThan(0);
    expect([...phases]).toEqual(['setup', 'sequential', 'concurrent']);
    for (const phase of [figures.sequential, figures.concurrent]) {
      expect(phase).toMatchObject({ commands: 20, refused: 0, conflicts: 0, busy: 0, closed: 0, failures: {} });
      expect(phase.seconds).toBeGreaterThan(0);
      expect(phase.perSecond).toBeGreaterThan(0);
      expect(phase.perSecond).toBe(Math.round(phase.commands / phase.seconds));
    }

    // 20 + 20 withdrawals round-robin over 5 accounts: 8 each, after the 4 set-up events.
    const accounts = await readEmmettAccounts(figures.fileName, size.accounts);
    expect(accounts).toEqual(
      Array.from({ length: 5 }, () => ({ availableWei: EMMETT_DEPOSIT_WEI - 8n * EMMETT_WITHDRAWAL_WEI, withdrawals: 8, streamVersion: 12n })),
    );
    expect(accounts[0]!.availableWei).toBe(999_992_000_000_000_000_000n);
  }, 60_000);

  it('refuses a folder that already holds a run', async () => {
    const size = { accounts: 1, withdrawals: 1, inFlight: 1 };
    await runEmmettWorkload(folder, size);
    await expect(runEmmettWorkload(folder, size)).rejects.toThrow(/already exists/);
  }, 60_000);
});
