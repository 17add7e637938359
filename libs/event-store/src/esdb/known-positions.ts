/** At most this many positions are remembered; beyond it, older ones are thinned out (see add). */
export const MAX_KNOWN_POSITIONS = 4_096;

/**
 * Positions at which this process has seen an event start in the EventStoreDB log.
 *
 * The port lets a caller read from any position, and callers do: a projection reads from `checkpoint + 1n`. An
 * EventStoreDB position is a byte offset, and the server must only be asked to read from the start of a record, so
 * the adapter reads from the greatest position it knows to be a record start at or before the one asked for, and
 * skips what comes before. Every position the adapter hands out is remembered here, so that reading on from it, or
 * from just after it, starts exactly there.
 *
 * Bounded: when full, every other position is dropped (the greatest is always kept). Older positions then map to
 * a nearby earlier start, which costs a short scan, never a wrong answer.
 */
export class KnownPositions {
  private positions: bigint[] = [];

  constructor(private readonly capacity = MAX_KNOWN_POSITIONS) {
    if (!Number.isSafeInteger(capacity) || capacity < 2)
      throw new Error(`capacity must be at least 2, got ${capacity}`);
  }

  get size(): number {
    return this.positions.length;
  }

  add(position: bigint): void {
    const index = this.lowerBound(position);
    if (this.positions[index] === position) return;
    this.positions.splice(index, 0, position);
    if (this.positions.length > this.capacity) this.thin();
  }

  /** The greatest known position at or before `bound`, if any. */
  floor(bound: bigint): bigint | undefined {
    const index = this.lowerBound(bound);
    if (this.positions[index] === bound) return bound;
    return index === 0 ? undefined : this.positions[index - 1];
  }

  /** The index of the first position not less than `position`. */
  private lowerBound(position: bigint): number {
    let low = 0;
    let high = this.positions.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.positions[middle]! < position) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private thin(): void {
    const last = this.positions.length - 1;
    // Keep every other position counting down from the greatest, which is the one most likely to be read on from.
    this.positions = this.positions.filter((_, index) => (last - index) % 2 === 0);
  }
}
