/**
 * mulberry32: a small seeded generator of numbers in [0, 1), for tests and the bench, so that the same seed gives the
 * same cases on every run and every machine (a failure names its seed). Not for anything a customer's money depends
 * on: the incident scenario has its own generator (libs/incident-scenario/src/prng.ts).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
