import type { RecordedEvent } from '../event-store.port';
import { eventHash, metadataWithoutChain } from '../hash-chain';
import { consistencyProof, eventLeafHash, inclusionProof, LeafList, treeHead, verifyConsistency, verifyInclusion, type Hash } from './merkle';
import { appendIncidentStory, auditFixture, STORY_EVENTS, tamper, type AuditFixture, type StoredRow } from './testing/audit-fixture';
import { verifyEventStore } from './verify';

async function leavesOf(fixture: AuditFixture): Promise<Hash[]> {
  const leaves: Hash[] = [];
  for await (const event of fixture.store.readAll()) leaves.push(eventLeafHash(event as RecordedEvent));
  return leaves;
}

/** Changes an event's data and recomputes its hash (and the stream head's), as a tamperer who knows the scheme would. */
function rewriteConsistently(path: string, streamId: string, revision: number, data: unknown): void {
  tamper(path, (db) => {
    const row = db.prepare<[string, number], StoredRow>('SELECT * FROM events WHERE stream_id = ? AND revision = ?').get(streamId, revision)!;
    const metadata = JSON.parse(row.metadata) as { prevHash: string; hash: string };
    const hash = eventHash({ streamId, revision: BigInt(revision), type: row.type, data, metadata: metadataWithoutChain(metadata as never), prevHash: metadata.prevHash });
    db.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?').run(JSON.stringify(data), JSON.stringify({ ...metadata, hash }), row.position);
    db.prepare('UPDATE streams SET last_hash = ? WHERE stream_id = ?').run(hash, streamId);
  });
}

/**
 * The Merkle tree over a real SQLite log: what the hash chain cannot see (a stream's tail rewritten with its hashes
 * recomputed, a whole stream deleted), a tree head saved earlier (as a signed checkpoint keeps it) shows.
 */
describe('the Merkle tree over the log', () => {
  let fixture: AuditFixture;
  /** The head an auditor saved (a signed checkpoint holds it), and the leaves the log had then. */
  let saved: { size: number; root: Hash; leaves: Hash[] };
  beforeEach(async () => {
    fixture = await auditFixture('merkle-');
    await appendIncidentStory(fixture.store);
    const leaves = await leavesOf(fixture);
    saved = { size: leaves.length, root: treeHead(new LeafList(leaves), leaves.length), leaves };
  });

  /** The first leaf that differs from the saved tree's (its index is the event's position - 1 here). */
  const firstDifference = (leaves: readonly Hash[]): number => {
    const n = Math.min(leaves.length, saved.leaves.length);
    for (let i = 0; i < n; i += 1) if (!leaves[i]!.equals(saved.leaves[i]!)) return i;
    return n;
  };
  afterEach(() => fixture.cleanup());

  it('has one leaf per event, in log order, and proves each of them against the saved head', async () => {
    const leaves = await leavesOf(fixture);
    expect(leaves).toHaveLength(STORY_EVENTS);
    const tree = new LeafList(leaves);
    leaves.forEach((leaf, index) => expect(verifyInclusion(leaf, index, saved.size, inclusionProof(tree, index, saved.size), saved.root)).toBe(true));
  });

  it("catches a stream's tail rewritten with its hashes recomputed, which the hash chain passes, and names the first leaf that differs", async () => {
    await fixture.store.close();
    // account-bob's last event (position 9): 100 USDC becomes 100,000.
    rewriteConsistently(fixture.path, 'account-bob', 2, { withdrawalId: 'w2', asset: 'USDC', amount: '100000' });
    await fixture.reopen();
    expect((await verifyEventStore(fixture.store)).ok).toBe(true);

    const leaves = await leavesOf(fixture);
    const tree = new LeafList(leaves);
    expect(treeHead(tree, saved.size).equals(saved.root)).toBe(false);
    // No proof from the saved head to today's tree can hold: the history under it changed.
    expect(verifyConsistency(saved.size, leaves.length, saved.root, treeHead(tree, leaves.length), consistencyProof(tree, saved.size, leaves.length))).toBe(false);
    expect(firstDifference(leaves)).toBe(8); // position 9
    // The events before it still prove against the saved head: the change is pinned to where it happened.
    const savedTree = new LeafList(saved.leaves);
    expect(verifyInclusion(leaves[7]!, 7, saved.size, inclusionProof(savedTree, 7, saved.size), saved.root)).toBe(true);
    expect(verifyInclusion(leaves[8]!, 8, saved.size, inclusionProof(savedTree, 8, saved.size), saved.root)).toBe(false);
  });

  it('catches a whole stream deleted (with its head), which the hash chain passes', async () => {
    await fixture.store.close();
    tamper(fixture.path, (db) => {
      db.prepare("DELETE FROM events WHERE stream_id = 'platform'").run();
      db.prepare("DELETE FROM streams WHERE stream_id = 'platform'").run();
    });
    await fixture.reopen();
    expect((await verifyEventStore(fixture.store)).ok).toBe(true);
    const leaves = await leavesOf(fixture);
    expect(leaves).toHaveLength(STORY_EVENTS - 2);
    expect(treeHead(new LeafList(leaves), leaves.length).equals(saved.root)).toBe(false);
    expect(firstDifference(leaves)).toBe(3); // position 4, the platform's first event
  });

});
