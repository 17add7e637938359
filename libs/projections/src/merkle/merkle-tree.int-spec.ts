import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consistencyProof, eventLeafHash, inclusionProof, LeafList, openSqliteEventStore, treeHead, verifyConsistency, verifyInclusion, type EventStore, type Hash } from '@app/event-store';
import { openSqliteReadStore } from '../sqlite/sqlite-read-store';
import type { ReadStore } from '../read-store.port';
import { catchUpMerkleTree, MERKLE_TREE, StoredMerkleTree } from './merkle-tree';

const STREAMS = ['account-a', 'account-b', 'account-c', 'platform', 'prices-ETH'];

async function appendEvents(store: EventStore, count: number, offset = 0): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (let i = offset; i < offset + count; i += 1) {
    const metadata = { commandId: `cmd-${i}`, correlationId: `cmd-${i}`, causationId: `cmd-${i}`, actor: { id: 'test', role: 'service' }, recordedAt: new Date(Date.UTC(2022, 0, 17) + i * 1000).toISOString(), schemaVersion: 1 };
    pending.push(store.append(STREAMS[i % STREAMS.length]!, [{ eventId: randomUUID(), type: 'Noted', data: { i }, metadata }], { expectedRevision: 'any' }));
    if (pending.length === 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

async function leavesOf(store: EventStore): Promise<Hash[]> {
  const leaves: Hash[] = [];
  for await (const event of store.readAll()) leaves.push(eventLeafHash(event));
  return leaves;
}

/** The stored tree (tiles in a real SQLite read store) against the in-memory reference over the same leaves. */
describe('the Merkle tree kept in the read store', () => {
  let dir: string;
  let store: EventStore;
  let readStore: ReadStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'merkle-tree-'));
    store = openSqliteEventStore({ path: join(dir, 'ledger.db') });
    readStore = openSqliteReadStore({ path: join(dir, 'read-models.db') });
  });
  afterEach(async () => {
    await readStore.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same heads and proofs as the reference, across tiles and levels, folded in uneven batches', async () => {
    await appendEvents(store, 70_000);
    // 70,000 leaves: two levels of full tiles (65,536 leaves) and partial ones on the right edge of each level.
    const result = await catchUpMerkleTree(store, readStore, { batchEvents: 9_999 });
    expect(result).toMatchObject({ size: 70_000, lastPosition: 70_000n, batches: 8 });
    const leaves = await leavesOf(store);
    const reference = new LeafList(leaves);
    const tree = await StoredMerkleTree.open(readStore);
    for (const size of [0, 1, 2, 255, 256, 257, 65_535, 65_536, 65_537, 69_999, 70_000]) {
      expect((await tree.head(size)).equals(treeHead(reference, size))).toBe(true);
    }
    for (const [index, size] of [[0, 1], [255, 256], [256, 70_000], [65_536, 70_000], [69_999, 70_000], [12_345, 50_000]] as const) {
      const proof = await tree.inclusionProof(index, size);
      expect(proof).toEqual(inclusionProof(reference, index, size));
      expect(verifyInclusion(leaves[index]!, index, size, proof, treeHead(reference, size))).toBe(true);
    }
    expect(await tree.consistencyProof(300, 70_000)).toEqual(consistencyProof(reference, 300, 70_000));
    expect(await tree.leaf(65_536)).toEqual({ hash: leaves[65_536], position: 65_537n });
    expect(tree.lastPosition).toBe(70_000n);
    const range = [];
    for await (const leaf of tree.leaves(65_530, 65_540)) range.push(leaf);
    expect(range).toEqual(leaves.slice(65_530, 65_540).map((hash, i) => ({ index: 65_530 + i, hash, position: BigInt(65_531 + i) })));
    expect(await tree.indexOf(65_537n)).toBe(65_536);
    expect(await tree.indexOf(70_001n)).toBeUndefined();
  }, 60_000);

  it('proves every pair of checkpoints of a 10,000-event log consistent, and refuses a forged proof', async () => {
    const heads: Array<{ size: number; root: Hash }> = [];
    for (let k = 1; k <= 20; k += 1) {
      await appendEvents(store, 500, (k - 1) * 500);
      await catchUpMerkleTree(store, readStore);
      const tree = await StoredMerkleTree.open(readStore);
      heads.push({ size: tree.size, root: await tree.head() });
    }
    const tree = await StoredMerkleTree.open(readStore);
    let pairs = 0;
    for (const [i, older] of heads.entries()) {
      for (const newer of heads.slice(i + 1)) {
        const proof = await tree.consistencyProof(older.size, newer.size);
        expect(verifyConsistency(older.size, newer.size, older.root, newer.root, proof)).toBe(true);
        const forged = proof.map((hash, j) => (j === proof.length - 1 ? Buffer.from(hash.map((byte) => byte ^ 0xff)) : hash));
        expect(verifyConsistency(older.size, newer.size, older.root, newer.root, forged)).toBe(false);
        pairs += 1;
      }
    }
    expect(pairs).toBe(190);
  }, 60_000);

  it('resumes after a stop between batches, and a rebuild writes the same rows', async () => {
    await appendEvents(store, 3_000);
    const stop = new AbortController();
    let batches = 0;
    // Stops the keeper after its second commit, as a kill between batches would.
    const commit = readStore.commit.bind(readStore);
    readStore.commit = async (...args) => {
      await commit(...args);
      batches += 1;
      if (batches === 2) stop.abort();
    };
    await expect(catchUpMerkleTree(store, readStore, { batchEvents: 700, signal: stop.signal })).rejects.toThrow();
    readStore.commit = commit;
    expect((await StoredMerkleTree.open(readStore)).size).toBe(1_400);
    await catchUpMerkleTree(store, readStore, { batchEvents: 700 });
    const resumed = await StoredMerkleTree.open(readStore);
    expect(resumed.size).toBe(3_000);
    expect((await resumed.head()).equals(treeHead(new LeafList(await leavesOf(store)), 3_000))).toBe(true);

    const rows = async () => {
      const all: unknown[] = [];
      for await (const row of readStore.rows(MERKLE_TREE)) all.push(row);
      return all;
    };
    const before = await rows();
    await readStore.reset(MERKLE_TREE);
    await catchUpMerkleTree(store, readStore);
    expect(await rows()).toEqual(before);
  }, 60_000);
});
