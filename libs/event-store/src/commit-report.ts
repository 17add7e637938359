import type { CommitObserver } from './event-store.port';

/** What a group commit's report needs of each append it held. */
interface BatchedAppend {
  readonly append: { readonly events: readonly unknown[] };
}

/**
 * Tells the observer about one durable commit: its appends and events, the whole transaction's time and the final
 * COMMIT's (where the fsync is waited for). Times are performance.now() readings taken by the adapter.
 */
export function reportCommit(observer: CommitObserver, batch: readonly BatchedAppend[], startedMs: number, commitStartedMs: number): void {
  const endedMs = performance.now();
  let events = 0;
  for (const pending of batch) events += pending.append.events.length;
  observer(batch.length, events, endedMs - startedMs, endedMs - commitStartedMs);
}
