import { OrderedMap, OrderedSet } from 'immutable';

/**
 * Copy-on-write for the collections in an aggregate's state (evolve never mutates the state it is given).
 *
 * Copying a native Map per event costs O(n) in the map's size: an account's withdrawals map grows with every
 * withdrawal, so each command would cost more than the last, and folding a long stream from scratch O(n^2). Past
 * PERSISTENT_FROM entries a collection becomes persistent (immutable.js, structure shared between versions: O(log n)
 * per change). Below it a native copy is cheaper than the persistent structure's bookkeeping. Either way the result
 * is a ReadonlyMap / ReadonlySet that iterates in insertion order, as a Map does.
 */
export const PERSISTENT_FROM = 64;

/** A ReadonlyMap over an immutable.js OrderedMap; `with` and `without` return new maps sharing structure. */
export class PersistentMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(private readonly inner: OrderedMap<K, V>) {}

  static from<K, V>(map: ReadonlyMap<K, V>): PersistentMap<K, V> {
    return map instanceof PersistentMap ? map : new PersistentMap(OrderedMap<K, V>(map));
  }

  get size(): number {
    return this.inner.size;
  }

  get(key: K): V | undefined {
    return this.inner.get(key);
  }

  has(key: K): boolean {
    return this.inner.has(key);
  }

  with(key: K, value: V): PersistentMap<K, V> {
    return new PersistentMap(this.inner.set(key, value));
  }

  without(key: K): PersistentMap<K, V> {
    return new PersistentMap(this.inner.delete(key));
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.inner) callback.call(thisArg, value, key, this);
  }

  entries(): MapIterator<[K, V]> {
    return this.inner.entries() as MapIterator<[K, V]>;
  }

  keys(): MapIterator<K> {
    return this.inner.keys() as MapIterator<K>;
  }

  values(): MapIterator<V> {
    return this.inner.values() as MapIterator<V>;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'PersistentMap';
  }
}

/** A ReadonlySet over an immutable.js OrderedSet; `with` returns a new set sharing structure. */
export class PersistentSet<T> implements ReadonlySet<T> {
  private constructor(private readonly inner: OrderedSet<T>) {}

  static from<T>(set: ReadonlySet<T>): PersistentSet<T> {
    return set instanceof PersistentSet ? set : new PersistentSet(OrderedSet<T>(set));
  }

  get size(): number {
    return this.inner.size;
  }

  has(value: T): boolean {
    return this.inner.has(value);
  }

  with(value: T): PersistentSet<T> {
    return new PersistentSet(this.inner.add(value));
  }

  forEach(callback: (value: T, key: T, set: ReadonlySet<T>) => void, thisArg?: unknown): void {
    for (const value of this.inner) callback.call(thisArg, value, value, this);
  }

  entries(): SetIterator<[T, T]> {
    return this.inner.entries() as SetIterator<[T, T]>;
  }

  keys(): SetIterator<T> {
    return this.inner.values() as SetIterator<T>;
  }

  values(): SetIterator<T> {
    return this.inner.values() as SetIterator<T>;
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.values();
  }

  get [Symbol.toStringTag](): string {
    return 'PersistentSet';
  }
}

/** The map with `key` set to `value`; `map` itself is unchanged. */
export function withEntry<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> {
  if (map instanceof PersistentMap) return map.with(key, value);
  if (map.size < PERSISTENT_FROM) return new Map(map).set(key, value);
  return PersistentMap.from(map).with(key, value);
}

/** The map without `key`; `map` itself is unchanged. */
export function withoutEntry<K, V>(map: ReadonlyMap<K, V>, key: K): ReadonlyMap<K, V> {
  if (map instanceof PersistentMap) return map.without(key);
  const copy = new Map(map);
  copy.delete(key);
  return copy;
}

/** The set with `member` added; `set` itself is unchanged. */
export function withMember<T>(set: ReadonlySet<T>, member: T): ReadonlySet<T> {
  if (set instanceof PersistentSet) return set.with(member);
  if (set.size < PERSISTENT_FROM) return new Set(set).add(member);
  return PersistentSet.from(set).with(member);
}
