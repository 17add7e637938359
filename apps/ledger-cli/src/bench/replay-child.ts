import { openSqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, openSqliteReadStore, rebuild } from '@app/projections';

/**
 * `node replay-child.js EVENT_STORE READ_STORE`: rebuilds every projection from the whole log into a fresh SQLite
 * read store and prints one JSON line: what it folded, how long it took, and this process's peak RSS. A process
 * of its own, so that the memory of whatever wrote the log does not count.
 */
async function main(): Promise<void> {
  const [eventStorePath, readStorePath] = process.argv.slice(2);
  if (eventStorePath === undefined || readStorePath === undefined) throw new Error('usage: replay-child EVENT_STORE READ_STORE');
  const baselineRssMb = process.resourceUsage().maxRSS / 1024;
  const store = openSqliteEventStore({ path: eventStorePath });
  const readStore = openSqliteReadStore({ path: readStorePath });
  try {
    const startedMs = performance.now();
    const result = await rebuild({ store, readStore, projections: ALL_PROJECTIONS });
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
