import type { ReadModelRow } from '../projection';
import type { PartPlan } from './partition';

/** An event as a fold worker receives it: what projections read, without its id and metadata (see fold-worker.ts). */
export interface WireEvent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly type: string;
  /** The data as the store keeps it (JSON text), when the store offers it; otherwise `data`. */
  readonly dataJson: string | undefined;
  readonly data: unknown;
}

export interface FoldWorkerData {
  readonly parts: readonly PartPlan[];
  /** Per projection, as for the single-threaded rebuild; a part folding some slices keeps that share of it. */
  readonly maxCachedRows: number;
}

/** Main thread → worker. */
export type ToWorker =
  | { readonly kind: 'events'; readonly events: readonly WireEvent[] }
  /** Send the rows changed since the last commit; they are committed (or the rebuild fails) before more events come. */
  | { readonly kind: 'commit' }
  | { readonly kind: 'loaded'; readonly id: number; readonly row: ReadModelRow | undefined };

/** Some of the rows one projection changed since the last commit (null: deleted). */
export interface PartChanges {
  readonly projection: string;
  readonly changes: readonly (readonly [string, ReadModelRow | null])[];
}

/** Worker → main thread. */
export type FromWorker =
  | { readonly kind: 'folded'; readonly dirtyRows: number }
  /** The changed rows go in pieces (a batch's rows in one message would be one large buffer at once)... */
  | ({ readonly kind: 'changes' } & PartChanges)
  /** ...and this says that they have all been sent. */
  | { readonly kind: 'changes-sent' }
  /** A row the worker's cache no longer holds: the main thread reads it from the read store (as of the last commit). */
  | { readonly kind: 'load'; readonly id: number; readonly projection: string; readonly key: string }
  | { readonly kind: 'failed'; readonly message: string };
