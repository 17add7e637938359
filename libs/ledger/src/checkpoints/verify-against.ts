import type { KeyObject } from 'node:crypto';
import { eventLeafHash, LeafList, treeHead, type EventStore, type Hash } from '@app/event-store';
import { StoredMerkleTree, type ReadStore } from '@app/projections';
import { CheckpointError, verifyCheckpoint, type CheckpointBody } from './checkpoint';

export type CheckpointFailureReason = 'bad-checkpoint' | 'truncated' | 'rewritten';

export interface CheckpointFailure {
  readonly reason: CheckpointFailureReason;
  /** The checkpoint (as signed) whose history does not hold; null when a line of the file is not a valid checkpoint. */
  readonly checkpoint: CheckpointBody | null;
  /** The line of the file (1-based). */
  readonly line: number;
  /** The first event that differs from what the checkpoint signed: its leaf index and log position, when known. */
  readonly firstLeafIndex: number | null;
  readonly firstPosition: bigint | null;
  readonly detail: string;
}

export interface CheckpointVerification {
  readonly ok: boolean;
  readonly checkpointsChecked: number;
  /** Events in the log now. */
  readonly logEvents: number;
  /** The largest tree size a valid checkpoint signed (events after it are covered by none). */
  readonly largestTreeSize: number;
  readonly failure?: CheckpointFailure;
}

/**
 * `ledger verify --against FILE`: recomputes the Merkle tree from the log and checks it against every signed
 * checkpoint in the file (one JSON line each, with its `jws`), with the public key alone. The first checkpoint
 * whose history no longer holds fails the check: the log is shorter than it signed (truncated, or events deleted),
 * or its head differs (events rewritten or reordered, however consistently with the hash chain). The first event
 * that differs is named from the tree kept in the read store, after checking that tree against the signature (so
 * its leaves are what was signed); failing that, the failure names the range between the last checkpoint that held
 * and the first that did not.
 */
export async function verifyAgainstCheckpoints(
  store: EventStore,
  lines: readonly string[],
  publicKey: KeyObject,
  readStore?: ReadStore,
): Promise<CheckpointVerification> {
  const checkpoints: Array<CheckpointBody & { line: number }> = [];
  for (const [i, text] of lines.entries()) {
    if (text.trim() === '') continue;
    try {
      const line = JSON.parse(text) as { jws?: unknown };
      if (typeof line.jws !== 'string') throw new CheckpointError('has no jws');
      checkpoints.push({ ...(await verifyCheckpoint(line.jws, publicKey)), line: i + 1 });
    } catch (error) {
      const detail = error instanceof CheckpointError ? `line ${i + 1} ${error.message}` : `line ${i + 1} is not a JSON checkpoint`;
      return { ok: false, checkpointsChecked: 0, logEvents: 0, largestTreeSize: 0, failure: { reason: 'bad-checkpoint', checkpoint: null, line: i + 1, firstLeafIndex: null, firstPosition: null, detail } };
    }
  }
  checkpoints.sort((a, b) => a.treeSize - b.treeSize);
  const leaves: Hash[] = [];
  const positions: bigint[] = [];
  for await (const event of store.readAll()) {
    leaves.push(eventLeafHash(event));
    positions.push(event.position);
  }
  const tree = new LeafList(leaves);
  let held: (CheckpointBody & { line: number }) | undefined;
  for (const checkpoint of checkpoints) {
    const truncated = leaves.length < checkpoint.treeSize;
    if (!truncated && treeHead(tree, checkpoint.treeSize).toString('base64') === checkpoint.rootHash) {
      held = checkpoint;
      continue;
    }
    const first = await firstDifference(readStore, checkpoint, leaves, held?.treeSize ?? 0);
    const where = first
      ? `the first event that differs from what was signed is leaf ${first.index} (position ${first.position} when signed)`
      : `the change lies between tree sizes ${held?.treeSize ?? 0} and ${checkpoint.treeSize} (positions ${positions[held?.treeSize ?? 0] ?? 'none'} to ${positions[Math.min(checkpoint.treeSize, leaves.length) - 1] ?? 'none'} now); the read store's tree cannot pin it`;
    const what = truncated ? `the log holds ${leaves.length} events, the checkpoint signed ${checkpoint.treeSize}` : `the head of the first ${checkpoint.treeSize} events is not the signed ${checkpoint.rootHash}`;
    return {
      ok: false,
      checkpointsChecked: checkpoints.indexOf(checkpoint) + 1,
      logEvents: leaves.length,
      largestTreeSize: checkpoint.treeSize,
      failure: { reason: truncated ? 'truncated' : 'rewritten', checkpoint, line: checkpoint.line, firstLeafIndex: first?.index ?? null, firstPosition: first?.position ?? null, detail: `${what}; ${where}` },
    };
  }
  return { ok: true, checkpointsChecked: checkpoints.length, logEvents: leaves.length, largestTreeSize: held?.treeSize ?? 0 };
}

/** The first leaf where the log differs from the stored tree, once the stored tree is shown to be the signed one. */
async function firstDifference(readStore: ReadStore | undefined, checkpoint: CheckpointBody, leaves: readonly Hash[], from: number): Promise<{ index: number; position: bigint } | undefined> {
  if (readStore === undefined) return undefined;
  const stored = await StoredMerkleTree.open(readStore);
  if (stored.size < checkpoint.treeSize) return undefined;
  if ((await stored.head(checkpoint.treeSize)).toString('base64') !== checkpoint.rootHash) return undefined;
  for await (const leaf of stored.leaves(from, checkpoint.treeSize)) {
    if (leaf.index >= leaves.length || !leaf.hash.equals(leaves[leaf.index]!)) return { index: leaf.index, position: leaf.position };
  }
  return undefined;
}
