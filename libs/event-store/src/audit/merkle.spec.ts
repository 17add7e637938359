import { createHash } from 'node:crypto';
import {
  consistencyProof,
  emptyTreeHash,
  inclusionProof,
  LeafList,
  leafHash,
  nodeHash,
  treeHead,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from './merkle';

const b64 = (text: string): Hash => Buffer.from(text, 'base64');

/**
 * Test vectors of C2SP/CCTV (merkle/testdata, BSD-2-Clause, by Rasmus Dahlberg): the tree over the leaves "a", "b",
 * ..., "p", its heads for sizes 1 to 16, and valid and invalid inclusion and consistency proofs.
 */
const LEAVES = 'abcdefghijklmnop'.split('');
const HEADS = [
  'Aippeebat6pa5MPl5F9+l3ESp+Y1k4INvsHsc4ok+Tw=',
  'sTeYX/SE+2ANuTEHx3sDZcgNePW0Kd7Q/Zc2HQd5mes=',
  'NmQuc8JUCrEh46a/lUWwokmCzYMOsT080Z3jzmwCHsE=',
  'MzdqO9Y+mZNwioTd/mworli4NQXdH+1xG9kk7FpiOfA=',
  '/hSlQm+9cMD6c/UjQq/tDaC9I8SDhmLM9riKMHDq2Xs=',
  '4Gn8EuIxzP1FFr8WF5Rfs8zVzIkQ2S1iZSifCI93f90=',
  'SuGRk59UjZk0dAuI3qLFy4m7iHD8RQXNed7Gu/qu6cs=',
  'pdrGsf8dyhPc+UI9y/G7tNvOfoy/f0wBTPQMbIFxor0=',
  '/UrtYHiqdk8U29MJmd7YWCsCcf4nwPU+7BGydzjge+k=',
  'X61aoZjC9sMP0iZaieElFosOH2CCZBO0W4EKIglQvSU=',
  'M6LEYTQ6r1ZTYe0X9pjaH2zGuOpPHx5/Fq5bCruRwyc=',
  'CCEpUpdplv7ioB7uOXMDN55+uZ3uydo7KMZgNyZiJDw=',
  '0iNGOoh+HR3hhFEs6i6urHqEDs1mbmaghpRAuWW9Plg=',
  'uG3+QLIU71SGseNZJEXVFnfI3ZNLGCDU8G0dMROSx60=',
  'jnp0/jvVLGETjDZU3ckThZ1zCNvRbkPL55AHD6XjgHA=',
  'CXGcbYyZRw8qK9HP+Uz71/U/8TjowWFmnIX5psYUAxM=',
];
const EMPTY = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const TEN_PATH = ['V+s1YV1H807HFMrN9f10YIpejhAnJOgLJLKHwMJ7ajE=', '271owyVhSnPay056h6K3tK6XJLSJ5WKe6DFR/o8Or9c=', 'lCw8dj8pYIlX2S0JVYnm5ftlQUw++a4m/B9J8H9eDcc=', 'k6jBBWXmeTmR34Cyqu3RxQSzpyvl1xghtCDcSDvLXk0='];

const leaves = LEAVES.map((leaf) => leafHash(leaf));
const tree = new LeafList(leaves);

describe('the RFC 9162 Merkle tree', () => {
  it('hashes the empty tree, leaves and nodes as the RFC says (0x00 and 0x01 prefixes)', () => {
    expect(emptyTreeHash().toString('base64')).toBe(EMPTY);
    expect(leafHash('a').toString('base64')).toBe('Aippeebat6pa5MPl5F9+l3ESp+Y1k4INvsHsc4ok+Tw=');
    expect(nodeHash(leafHash('a'), leafHash('b')).toString('base64')).toBe(HEADS[1]);
    expect(treeHead(tree, 0).toString('base64')).toBe(EMPTY);
  });

  it('computes a small tree as the RFC draws it, by hand: 5 leaves split 4 + 1, the 4 split 2 + 2', () => {
    const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((x) => sha(Buffer.from([0]), Buffer.from(x)));
    const node = (l: Buffer, r: Buffer) => sha(Buffer.from([1]), l, r);
    const root = node(node(node(a!, b!), node(c!, d!)), e!);
    expect(treeHead(tree, 5).equals(root)).toBe(true);
    // Leaf c's path: its sibling d, then the pair (a, b), then the lone e on the right.
    expect(inclusionProof(tree, 2, 5)).toEqual([d, node(a!, b!), e]);
    // 3 leaves to 5: c (the old tree's right edge), d, then (a, b), then e.
    expect(consistencyProof(tree, 3, 5)).toEqual([c, d, node(a!, b!), e]);
  });

  it.each(HEADS.map((head, i) => [i + 1, head]))('gives the C2SP head of the tree of the first %i leaves', (size, head) => {
    expect(treeHead(tree, size as number).toString('base64')).toBe(head);
  });

  it('makes the C2SP inclusion proofs, and accepts them', () => {
    const cases: Array<[number, number, string[]]> = [
      [0, 1, []],
      [0, 2, ['V+s1YV1H807HFMrN9f10YIpejhAnJOgLJLKHwMJ7ajE=']],
      [1, 2, ['Aippeebat6pa5MPl5F9+l3ESp+Y1k4INvsHsc4ok+Tw=']],
      [0, 10, TEN_PATH],
    ];
    for (const [index, size, path] of cases) {
      const proof = inclusionProof(tree, index, size);
      expect(proof.map((hash) => hash.toString('base64'))).toEqual(path);
      expect(verifyInclusion(leaves[index]!, index, size, proof, b64(HEADS[size - 1]!))).toBe(true);
    }
  });

  it('makes the C2SP consistency proofs, and accepts them', () => {
    expect(consistencyProof(tree, 0, 0)).toEqual([]);
    expect(verifyConsistency(0, 0, b64(EMPTY), b64(EMPTY), [])).toBe(true);
    expect(verifyConsistency(0, 1, b64(EMPTY), b64(HEADS[0]!), [])).toBe(true);
    expect(verifyConsistency(1, 1, b64(HEADS[0]!), b64(HEADS[0]!), [])).toBe(true);
    const proof = consistencyProof(tree, 1, 10);
    expect(proof.map((hash) => hash.toString('base64'))).toEqual(TEN_PATH);
    expect(verifyConsistency(1, 10, b64(HEADS[0]!), b64(HEADS[9]!), proof)).toBe(true);
  });

  it('refuses the C2SP invalid consistency proofs (sizes mutated, roots swapped)', () => {
    const a = b64(HEADS[0]!);
    const ten = b64(HEADS[9]!);
    const path = TEN_PATH.map(b64);
    expect(verifyConsistency(1, 0, b64(EMPTY), b64(EMPTY), [])).toBe(false);
    expect(verifyConsistency(1, 1, b64(EMPTY), a, [])).toBe(false);
    expect(verifyConsistency(2, 1, b64(EMPTY), a, [])).toBe(false);
    expect(verifyConsistency(0, 1, a, a, [])).toBe(false);
    expect(verifyConsistency(2, 1, a, a, [])).toBe(false);
    for (const oldSize of [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) expect(verifyConsistency(oldSize, 10, a, ten, path)).toBe(false);
  });

  it('agrees with itself on every inclusion and every consistency proof of trees up to 40 leaves, and refuses every forgery tried', () => {
    const many = Array.from({ length: 40 }, (_, i) => leafHash(`leaf-${i}`));
    const list = new LeafList(many);
    const flip = (proof: Hash[], at: number): Hash[] => proof.map((hash, i) => (i === at ? Buffer.from(hash.map((byte, j) => (j === 0 ? byte ^ 1 : byte))) : hash));
    for (let size = 1; size <= many.length; size += 1) {
      const root = treeHead(list, size);
      for (let index = 0; index < size; index += 1) {
        const proof = inclusionProof(list, index, size);
        expect(verifyInclusion(many[index]!, index, size, proof, root)).toBe(true);
        // Another leaf, another index, a changed hash, a dropped or an extra element: all refused.
        if (size > 1) {
          expect(verifyInclusion(many[(index + 1) % size]!, index, size, proof, root)).toBe(false);
          expect(verifyInclusion(many[index]!, (index + 1) % size, size, proof, root)).toBe(false);
        }
        // (Another tree size with the same root may pass: a root means something only with its size, which a
        // signed checkpoint pins together.) An index past the size never does.
        expect(verifyInclusion(many[index]!, size, size, proof, root)).toBe(false);
        for (let at = 0; at < proof.length; at += 1) expect(verifyInclusion(many[index]!, index, size, flip(proof, at), root)).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(many[index]!, index, size, proof.slice(1), root)).toBe(false);
        expect(verifyInclusion(many[index]!, index, size, [...proof, many[0]!], root)).toBe(false);
      }
      for (let oldSize = 0; oldSize <= size; oldSize += 1) {
        const oldRoot = treeHead(list, oldSize);
        const proof = consistencyProof(list, oldSize, size);
        expect(verifyConsistency(oldSize, size, oldRoot, root, proof)).toBe(true);
        for (let at = 0; at < proof.length; at += 1) expect(verifyConsistency(oldSize, size, oldRoot, root, flip(proof, at))).toBe(false);
        if (oldSize > 0 && oldSize < size) {
          // A tree whose old part was rewritten has another head: the proof for the real one does not fit it.
          const rewritten = treeHead(new LeafList([leafHash('rewritten'), ...many.slice(1)]), oldSize);
          expect(verifyConsistency(oldSize, size, rewritten, root, proof)).toBe(false);
          expect(verifyConsistency(oldSize, size, oldRoot, treeHead(list, size - 1), proof)).toBe(false);
        }
      }
    }
  });
});
