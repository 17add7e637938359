import { PERSISTENT_FROM, PersistentMap, PersistentSet, withEntry, withMember, withoutEntry } from './persistent';

/** Applies the same changes to a native Map (the reference) and through the copy-on-write helpers. */
function bothWays(changes: number) {
  const reference = new Map<string, number>();
  let map: ReadonlyMap<string, number> = new Map();
  const versions: { map: ReadonlyMap<string, number>; expected: [string, number][] }[] = [];
  for (let i = 0; i < changes; i += 1) {
    // Mostly new keys, now and then an update of an old one (which keeps its place) or a removal.
    const key = i % 7 === 6 ? `k${i - 5}` : `k${i}`;
    if (i % 11 === 10) {
      reference.delete(key);
      map = withoutEntry(map, key);
    } else {
      reference.set(key, i);
      map = withEntry(map, key, i);
    }
    versions.push({ map, expected: [...reference] });
  }
  return versions;
}

describe('copy-on-write collections', () => {
  it('behave like a Map copied at every change, below and above the persistent threshold, in insertion order', () => {
    const versions = bothWays(PERSISTENT_FROM * 4);
    expect(versions[versions.length - 1]!.map).toBeInstanceOf(PersistentMap);
    // Every earlier version is still intact: nothing was changed in place.
    for (const { map, expected } of versions) {
      expect([...map]).toEqual(expected);
      expect(map.size).toBe(expected.length);
      expect([...map.keys()]).toEqual(expected.map(([key]) => key));
      expect([...map.values()]).toEqual(expected.map(([, value]) => value));
      const seen: [string, number][] = [];
      map.forEach((value, key, self) => {
        expect(self).toBe(map);
        seen.push([key, value]);
      });
      expect(seen).toEqual(expected);
      for (const [key, value] of expected) expect(map.get(key)).toBe(value);
      expect(map.has('absent')).toBe(false);
      expect(map.get('absent')).toBeUndefined();
    }
  });

  it('keep sets the same way', () => {
    let set: ReadonlySet<string> = new Set();
    const versions: ReadonlySet<string>[] = [];
    for (let i = 0; i < PERSISTENT_FROM * 2; i += 1) {
      set = withMember(set, `d${i % (PERSISTENT_FROM + 10)}`);
      versions.push(set);
    }
    expect(set).toBeInstanceOf(PersistentSet);
    versions.forEach((version, i) => {
      const expected = Array.from({ length: Math.min(i + 1, PERSISTENT_FROM + 10) }, (_, j) => `d${j}`);
      expect([...version]).toEqual(expected);
      expect(version.size).toBe(expected.length);
      expect(version.has(expected[expected.length - 1]!)).toBe(true);
      expect(version.has(`d${PERSISTENT_FROM + 10}`)).toBe(false);
    });
  });
});
