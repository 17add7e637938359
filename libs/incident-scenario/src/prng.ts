/**
 * The scenario's only source of chance: a seeded generator (sfc32, seeded through splitmix32), so that the same seed
 * gives the same accounts, amounts and times on every run and every machine. Math.random is never used.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new RangeError(`seed must be an integer from 0 to 4294967295, got ${seed}`);
    let s = seed >>> 0;
    const splitmix32 = (): number => {
      s = (s + 0x9e37_79b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = splitmix32();
    // The first outputs of sfc32 are still close to its seed words.
    for (let i = 0; i < 12; i += 1) this.uint32();
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.uint32() / 4_294_967_296;
  }

  /** A uniform integer in [0, below). */
  int(below: number): number {
    if (!Number.isSafeInteger(below) || below < 1 || below > 0xffff_ffff) throw new RangeError(`int() needs 1 <= below <= 2^32, got ${below}`);
    return Math.floor(this.next() * below);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[this.int(items.length)]!;
  }

  /** One of the keys, with the given relative weights. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return entries[entries.length - 1]![0];
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }

  /** Lower-case hexadecimal digits. */
  hex(digits: number): string {
    let text = '';
    while (text.length < digits) text += this.uint32().toString(16).padStart(8, '0');
    return text.slice(0, digits);
  }

  /** Characters from an alphabet (addresses, references). */
  chars(alphabet: string, count: number): string {
    let text = '';
    for (let i = 0; i < count; i += 1) text += alphabet[this.int(alphabet.length)];
    return text;
  }
}
