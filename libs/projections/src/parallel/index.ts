export * from './parallel-rebuild';
export { planPartitions, sliceOf, SLICES_PER_WORKER, type PartPlan, type WorkerPlan } from './partition';
