import { accountStream } from '@app/domain';
import { mulberry32 } from '@app/domain/testing/random';
import { openSqliteEventStore } from '@app/event-store';
import {
  accountBalances,
  ALL_PROJECTIONS,
  AsOfReads,
  balancesProjection,
  lossTotals,
  lossTotalsProjection,
  openSqliteReadStore,
  positionAsOf,
  ProjectionRunner,
  replay,
} from '@app/projections';
import { DateTime } from 'luxon';
import type { AsOfFigures, AsOfLatency } from './as-of';
import { SYNTHETIC_INCIDENT } from './synthetic-log';

/** Reads of each kind timed; the figures are their median and slowest. */
const SAMPLES = 25;
/** The synthetic log records event i at START_MS + i seconds (synthetic-log.ts). */
const START_MS = Date.UTC(2022, 0, 10);

/**
 * `node as-of-child.js EVENT_STORE READ_STORE`: times as-of reads on a log whose read store a rebuild made (with
 * its snapshots), as the API answers them (AsOfReads, then the route's query): an account's balances as of a
 * position, and an incident's loss totals as of a position and as of an instant. Then, once each, what the same
 * reads cost before as-of reads were bounded: a full replay, and a scan of the log from its start for an instant.
 * Prints one JSON line.
 */
async function main(): Promise<void> {
  const [eventStorePath, readStorePath] = process.argv.slice(2);
  if (eventStorePath === undefined || readStorePath === undefined) throw new Error('usage: as-of-child EVENT_STORE READ_STORE');
  const store = openSqliteEventStore({ path: eventStorePath });
  const readStore = openSqliteReadStore({ path: readStorePath });
  try {
    const asOf = AsOfReads.of(new ProjectionRunner({ store, readStore, projections: ALL_PROJECTIONS }));
    const head = (await store.headPosition()) ?? 0n;
    if (head === 0n) throw new Error('as-of-child: the log is empty');
    // Account rows have no asset; key order puts them (account/...) before the withdrawals still pending (pending/...).
    const accounts = (await readStore.list(balancesProjection.name, { filter: { asset: null }, limit: 10_000 }))
      .filter((row) => row.key.startsWith('account/'))
      .map((row) => row.key.slice('account/'.length));
    const random = mulberry32(20220117);
    const somePosition = (): bigint => 1n + BigInt(Math.floor(random() * Number(head)));
    const someInstant = (): DateTime => DateTime.fromMillis(START_MS + Math.floor(random() * Number(head)) * 1_000, { zone: 'utc' });

    const balancesByPosition = await timed(async () => {
      const accountId = accounts[Math.floor(random() * accounts.length)]!;
      const models = await asOf.readModelsAt(somePosition(), [balancesProjection], { stream: accountStream(accountId) });
      await accountBalances(models, accountId);
      await models.close();
    });
    const lossTotalsByPosition = await timed(async () => {
      const models = await asOf.readModelsAt(somePosition(), [lossTotalsProjection]);
      await lossTotals(models, SYNTHETIC_INCIDENT);
      await models.close();
    });
    // A rebuild leaves the snapshots' recordedAt high-waters unknown: the first read by instant works them out (up to
    // the instant; here the log's end, so all of them) and stores them. Timed apart: it happens once.
    let startedMs = performance.now();
    await asOf.positionAsOf(DateTime.fromMillis(START_MS + Number(head) * 1_000, { zone: 'utc' }));
    const firstByInstantMs = performance.now() - startedMs;
    const lossTotalsByInstant = await timed(async () => {
      const position = (await asOf.positionAsOf(someInstant())) ?? 0n;
      const models = await asOf.readModelsAt(position, [lossTotalsProjection]);
      await lossTotals(models, SYNTHETIC_INCIDENT);
      await models.close();
    });

    // The old way, once each, at the middle of the log; the answers must agree with the bounded ones.
    const middle = head / 2n;
    const bounded = await asOf.readModelsAt(middle, [lossTotalsProjection]);
    const boundedTotals = await lossTotals(bounded, SYNTHETIC_INCIDENT);
    await bounded.close();
    startedMs = performance.now();
    const full = await replay({ store, projections: [lossTotalsProjection], toPosition: middle });
    const fullTotals = await lossTotals(full, SYNTHETIC_INCIDENT);
    const fullReplayLossTotalsMs = performance.now() - startedMs;
    await full.close();
    if (JSON.stringify(fullTotals) !== JSON.stringify(boundedTotals)) throw new Error('as-of-child: the bounded loss totals differ from a full replay');
    startedMs = performance.now();
    const fullBalances = await replay({ store, projections: [balancesProjection], toPosition: middle });
    await accountBalances(fullBalances, accounts[0]!);
    const fullReplayBalancesMs = performance.now() - startedMs;
    await fullBalances.close();
    const instant = DateTime.fromMillis(START_MS + Number(middle) * 1_000, { zone: 'utc' });
    startedMs = performance.now();
    const scanned = await positionAsOf(store, instant);
    const fullScanPositionAsOfMs = performance.now() - startedMs;
    if (scanned !== (await asOf.positionAsOf(instant))) throw new Error('as-of-child: the bounded positionAsOf differs from the full scan');

    const figures: AsOfFigures = {
      position: Number(head),
      snapshots: (await readStore.snapshots(lossTotalsProjection.name)).length,
      balancesByPosition,
      lossTotalsByPosition,
      lossTotalsByInstant,
      firstByInstantMs: Math.round(firstByInstantMs),
      fullReplayLossTotalsMs: Math.round(fullReplayLossTotalsMs),
      fullReplayBalancesMs: Math.round(fullReplayBalancesMs),
      fullScanPositionAsOfMs: Math.round(fullScanPositionAsOfMs),
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await readStore.close();
    await store.close();
  }
}

async function timed(read: () => Promise<void>): Promise<AsOfLatency> {
  const durations: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const startedMs = performance.now();
    await read();
    durations.push(performance.now() - startedMs);
  }
  durations.sort((a, b) => a - b);
  const round = (ms: number): number => Math.round(ms * 100) / 100;
  return { samples: SAMPLES, p50Ms: round(durations[Math.floor(SAMPLES / 2)]!), maxMs: round(durations[SAMPLES - 1]!) };
}

main().catch((error: unknown) => {
  process.stderr.write(`as-of-child: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
