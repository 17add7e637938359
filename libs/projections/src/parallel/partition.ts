import type { Projection } from '../projection';

/** Slices per worker of a projection split by stream: fine enough to even out the workers' loads. */
export const SLICES_PER_WORKER = 4;

/** One projection, or some stream slices of it, as one worker folds it. */
export interface PartPlan {
  readonly projection: string;
  /** Null: the worker folds every event the projection handles; otherwise the slices (of `count`) it folds. */
  readonly slices: { readonly indexes: readonly number[]; readonly count: number } | null;
}

export interface WorkerPlan {
  readonly parts: readonly PartPlan[];
  /** The sum of its parts' fold weights. */
  readonly load: number;
}

/** FNV-1a (32 bits) of a stream id, modulo `count`: the slice of a stream-split projection that folds the stream. */
export function sliceOf(streamId: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < streamId.length; i += 1) {
    hash ^= streamId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/**
 * Which worker folds what, so that the workers' loads (by the projections' `foldWeight`) come out even: the whole
 * projections first, heaviest first, each to the least loaded worker; then every projection whose rows each come
 * from one stream (`partitionedBy: 'stream'`) is cut into slices of streams, dealt one at a time to the least
 * loaded worker. With one worker, nothing is cut.
 */
export function planPartitions(projections: readonly Projection[], workers: number): WorkerPlan[] {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive whole number, got ${workers}`);
  const plans = Array.from({ length: workers }, () => ({ parts: new Map<string, PartPlan>(), load: 0 }));
  const leastLoaded = () => plans.reduce((best, plan) => (plan.load < best.load ? plan : best));
  const weight = (projection: Projection) => projection.foldWeight ?? 1;
  const split = workers > 1 ? projections.filter((projection) => projection.partitionedBy === 'stream') : [];
  const whole = projections.filter((projection) => !split.includes(projection)).sort((a, b) => weight(b) - weight(a));
  for (const projection of whole) {
    const plan = leastLoaded();
    plan.parts.set(projection.name, { projection: projection.name, slices: null });
    plan.load += weight(projection);
  }
  const count = workers * SLICES_PER_WORKER;
  for (const projection of split) {
    for (let slice = 0; slice < count; slice += 1) {
      const plan = leastLoaded();
      const indexes = [...(plan.parts.get(projection.name)?.slices?.indexes ?? []), slice];
      plan.parts.set(projection.name, { projection: projection.name, slices: { indexes, count } });
      plan.load += weight(projection) / count;
    }
  }
  return plans.filter((plan) => plan.parts.size > 0).map((plan) => ({ parts: [...plan.parts.values()], load: plan.load }));
}
