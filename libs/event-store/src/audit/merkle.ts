import { createHash } from 'node:crypto';
import type { MetadataToAppend, RecordedEvent } from '../event-store.port';
import { eventHashInput, metadataWithoutChain } from '../hash-chain';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency v2), section 2.1, over the global log: leaf i is the event at
 * position i + 1. Written from the RFC's definitions; checked against the C2SP test vectors (merkle.spec.ts).
 *
 * - leaf hash: SHA-256(0x00 || leaf data); node hash: SHA-256(0x01 || left || right);
 * - MTH of n > 1 leaves splits them at k, the largest power of two below n: MTH(D[0:k]) and MTH(D[k:n]);
 * - the empty tree's hash is SHA-256 of nothing.
 *
 * Hashes are 32-byte Buffers; proofs are lists of them, in the RFC's order.
 */
export const HASH_BYTES = 32;
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export type Hash = Buffer;

export function emptyTreeHash(): Hash {
  return createHash('sha256').digest();
}

export function leafHash(data: Buffer | string): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The largest power of two strictly below n (n > 1). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function assertSize(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a whole number, got ${n}`);
}

/**
 * What proofs are computed from: the hash of the subtree over leaves [start, end). An implementation may answer
 * from stored nodes; `LeafList` computes from the leaf hashes.
 */
export interface SubtreeHashes {
  subtreeHash(start: number, end: number): Hash;
}

/** MTH over leaf hashes held in memory: the reference the stored tree is compared with, and the offline verifier's. */
export class LeafList implements SubtreeHashes {
  constructor(private readonly leaves: readonly Hash[]) {}

  subtreeHash(start: number, end: number): Hash {
    if (start < 0 || end > this.leaves.length || start > end) throw new RangeError(`no subtree [${start}, ${end}) in ${this.leaves.length} leaves`);
    return rangeHash(this.leaves, start, end);
  }
}

function rangeHash(leaves: readonly Hash[], start: number, end: number): Hash {
  const n = end - start;
  if (n === 0) return emptyTreeHash();
  if (n === 1) return leaves[start]!;
  const k = splitPoint(n);
  return nodeHash(rangeHash(leaves, start, start + k), rangeHash(leaves, start + k, end));
}

/** MTH(D[0:size]). */
export function treeHead(tree: SubtreeHashes, size: number): Hash {
  assertSize('tree size', size);
  return size === 0 ? emptyTreeHash() : tree.subtreeHash(0, size);
}

/** PATH(m, D[0:size]) of RFC 9162 section 2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves. */
export function inclusionProof(tree: SubtreeHashes, index: number, size: number): Hash[] {
  assertSize('leaf index', index);
  assertSize('tree size', size);
  if (index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size} leaves`);
  const path: Hash[] = [];
  // PATH(m, D[start:end]), unrolled: the sibling subtrees from the top, then reversed into the RFC's order.
  let start = 0;
  let end = size;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      path.push(tree.subtreeHash(start + k, end));
      end = start + k;
    } else {
      path.push(tree.subtreeHash(start, start + k));
      start += k;
      m -= k;
    }
  }
  return path.reverse();
}

/** PROOF(m, D[0:n]) of RFC 9162 section 2.1.4.1: that the tree of `oldSize` leaves is a prefix of the tree of `newSize`. */
export function consistencyProof(tree: SubtreeHashes, oldSize: number, newSize: number): Hash[] {
  assertSize('old tree size', oldSize);
  assertSize('new tree size', newSize);
  if (oldSize > newSize) throw new RangeError(`a tree of ${oldSize} leaves cannot be a prefix of one of ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const proof: Hash[] = [];
  // SUBPROOF(m, D[start:end], b), unrolled.
  let start = 0;
  let end = newSize;
  let m = oldSize;
  let whole = true;
  for (;;) {
    const n = end - start;
    if (m === n) {
      if (!whole) proof.push(tree.subtreeHash(start, end));
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      proof.push(tree.subtreeHash(start + k, end));
      end = start + k;
    } else {
      proof.push(tree.subtreeHash(start, start + k));
      start += k;
      m -= k;
      whole = false;
    }
  }
  return proof.reverse();
}

const isOdd = (n: number): boolean => n % 2 === 1;

export function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}
const half = (n: number): number => Math.floor(n / 2);

/** RFC 9162 section 2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` leaves whose head is `root`? */
export function verifyInclusion(leaf: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== HASH_BYTES || sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 section 2.1.4.2: does `proof` show the tree of `oldSize` (head `oldRoot`) as a prefix of the tree of `newSize`? */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Hash, newRoot: Hash, proof: readonly Hash[]): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) return false;
  if (proof.some((hash) => hash.length !== HASH_BYTES)) return false;
  if (oldSize === newSize) return proof.length === 0 && oldRoot.equals(newRoot);
  // Every tree extends the empty one; its head must still be the empty tree's.
  if (oldSize === 0) return proof.length === 0 && oldRoot.equals(emptyTreeHash());
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}

/**
 * The leaf of a recorded event: its canonical hash input (stream, revision, type, data, metadata without the chain
 * fields, and prevHash: what the event's own hash covers), prefixed 0x00 and hashed. The event's place in the tree
 * is its place in the global log.
 */
export function eventLeafHash(event: RecordedEvent): Hash {
  const metadata = event.metadata as MetadataToAppend & { prevHash?: string };
  if (typeof metadata.prevHash !== 'string') throw new Error(`event at ${event.position} has no prevHash: it was not written through the hash chain`);
  return leafHash(
    eventHashInput({ streamId: event.streamId, revision: event.revision, type: event.type, data: event.data, metadata: metadataWithoutChain(metadata), prevHash: metadata.prevHash }),
  );
}
