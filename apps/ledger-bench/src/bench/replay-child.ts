import { openSqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, openSqliteReadStore, rebuild, rebuildInParallel } from '@app/projections';

/**
 * `node replay-child.js EVENT_STORE READ_STORE [WORKERS]`: rebuilds every projection from the whole log into a fresh SQLite
 * read store and prints one JSON line: what it folded, how long it took, and this process's peak RSS. A process
 * of its own, so that the memory of whatever wrote the log does not count.
 */
async function main(): Promise<void> {
  const [eventStorePath, readStorePath, workersArg = '0'] = process.argv.slice(2);
  if (eventStorePath === undefined || readStorePath === undefined) throw new Error('usage: replay-child EVENT_STORE READ_STORE [WORKERS]');
  const workers = Number(workersArg);
  if (!Number.isInteger(workers) || workers < 0) throw new Error(`replay-child: WORKERS must be a whole number, got ${workersArg}`);
  const baselineRssMb = process.resourceUsage().maxRSS / 1024;
  const store = openSqliteEventStore({ path: eventStorePath });
  const readStore = openSqliteReadStore({ path: readStorePath });
  try {
    const startedMs = performance.now();
    const options = { store, readStore, projections: ALL_PROJECTIONS };
    const result = workers === 0 ? await rebuild(options) : await rebuildInParallel({ ...options, workers });
    const elapsedMs = performance.now() - startedMs;
    const position = Number(result.position ?? 0n);
    process.stdout.write(
      `${JSON.stringify({
        position,
        eventsFolded: result.eventsRead,
        batches: result.batches,
        elapsedMs: Math.round(elapsedMs),
        eventsPerSecond: elapsedMs > 0 ? Math.round(position / (elapsedMs / 1_000)) : 0,
        peakRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
        baselineRssMb: Math.round(baselineRssMb * 10) / 10,
        workers,
      })}\n`,
    );
  } finally {
    await readStore.close();
    await store.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`replay-child: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
