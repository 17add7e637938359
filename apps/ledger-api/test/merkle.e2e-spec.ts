import { verifyConsistency, verifyInclusion } from '@app/event-store';
import { MerkleTreeJob, parseCheckpointPublicKey, verifyCheckpoint } from '@app/ledger';
import { fundedAccount, startTestApp, type TestApp } from './support/test-app';

const b64 = (text: string): Buffer => Buffer.from(text, 'base64');

/**
 * The Merkle tree over the log over HTTP (issue 13): the tree the API keeps beside its read models, and the proofs
 * an auditor checks without trusting the ledger (verified here with the RFC 9162 verifier, not the server's code).
 */
describe('the Merkle tree and its proofs', () => {
  let t: TestApp;

  /**
   * The tree once it holds every event (the job follows the log about a second behind; this runs it now, twice: a
   * pass may end by appending a checkpoint, which the next one folds without signing another).
   */
  async function tree(): Promise<{ treeSize: number; rootHash: string; lastPosition: string | null }> {
    await t.app.get(MerkleTreeJob).pass();
    await t.app.get(MerkleTreeJob).pass();
    const response = await t.auditor.get('/v1/audit/tree').expect(200);
    expect(response.body.treeSize).toBe(Number(await t.head()));
    return response.body;
  }

  beforeAll(async () => {
    t = await startTestApp({ LEDGER_CHECKPOINT_EVERY_EVENTS: '5' });
    await fundedAccount(t, 'mk-1');
  });
  afterAll(() => t.close());

  it('proves each event in the tree, and an older tree a prefix of the newer one', async () => {
    const older = await tree();
    expect(older.lastPosition).toBe((await t.head()).toString());
    await fundedAccount(t, 'mk-2');
    const newer = await tree();
    expect(newer.treeSize).toBeGreaterThan(older.treeSize);

    for (let position = 1; position <= newer.treeSize; position += 1) {
      const proof = (await t.auditor.get(`/v1/audit/proofs/inclusion?position=${position}`).expect(200)).body;
      expect(proof).toMatchObject({ position: String(position), treeSize: newer.treeSize, rootHash: newer.rootHash });
      expect(verifyInclusion(b64(proof.leafHash), proof.leafIndex, proof.treeSize, proof.inclusionPath.map(b64), b64(newer.rootHash))).toBe(true);
    }
    const atOlder = (await t.auditor.get(`/v1/audit/proofs/inclusion?position=2&treeSize=${older.treeSize}`).expect(200)).body;
    expect(atOlder.rootHash).toBe(older.rootHash);
    expect(verifyInclusion(b64(atOlder.leafHash), atOlder.leafIndex, older.treeSize, atOlder.inclusionPath.map(b64), b64(older.rootHash))).toBe(true);

    const consistency = (await t.auditor.get(`/v1/audit/proofs/consistency?from=${older.treeSize}&to=${newer.treeSize}`).expect(200)).body;
    expect(consistency).toMatchObject({ from: older.treeSize, to: newer.treeSize, fromRoot: older.rootHash, toRoot: newer.rootHash });
    expect(verifyConsistency(older.treeSize, newer.treeSize, b64(older.rootHash), b64(newer.rootHash), consistency.consistencyPath.map(b64))).toBe(true);
  });

  it('signs checkpoints of the tree that verify with the public key it serves, and each names a head the proofs use', async () => {
    await tree();
    const listed = (await t.auditor.get('/v1/audit/checkpoints').expect(200)).body.checkpoints as Array<{ treeSize: number; rootHash: string; jws: string; kid: string }>;
    expect(listed.length).toBeGreaterThan(0);
    const jwk = (await t.auditor.get('/v1/audit/checkpoint-key').expect(200)).body;
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(jwk.d).toBeUndefined();
    const publicKey = parseCheckpointPublicKey(JSON.stringify(jwk));
    for (const checkpoint of listed) {
      expect(await verifyCheckpoint(checkpoint.jws, publicKey)).toMatchObject({ treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, kid: jwk.kid });
      const proof = (await t.auditor.get(`/v1/audit/proofs/inclusion?position=1&treeSize=${checkpoint.treeSize}`).expect(200)).body;
      expect(proof.rootHash).toBe(checkpoint.rootHash);
    }
    // Newest first.
    expect(listed.map((c) => c.treeSize)).toEqual([...listed.map((c) => c.treeSize)].sort((a, b) => b - a));
  });

  it('refuses sizes the tree has not reached, positions outside it and malformed numbers with 400 naming the field', async () => {
    const { treeSize } = await tree();
    const fieldOf = async (url: string) => (await t.auditor.get(url).expect(400)).body.errors[0].field;
    expect(await fieldOf(`/v1/audit/proofs/inclusion?position=1&treeSize=${treeSize + 1}`)).toBe('treeSize');
    expect(await fieldOf(`/v1/audit/proofs/inclusion?position=${treeSize + 1}`)).toBe('position');
    expect(await fieldOf('/v1/audit/proofs/inclusion?position=3&treeSize=2')).toBe('position');
    expect(await fieldOf('/v1/audit/proofs/inclusion?position=abc')).toBe('position');
    expect(await fieldOf('/v1/audit/proofs/inclusion')).toBe('position');
    expect(await fieldOf(`/v1/audit/proofs/consistency?from=2&to=${treeSize + 5}`)).toBe('to');
    expect(await fieldOf('/v1/audit/proofs/consistency?from=5&to=2')).toBe('from');
    expect(await fieldOf('/v1/audit/proofs/consistency?from=-1&to=2')).toBe('from');
    await t.finance.get('/v1/audit/tree').expect(403);
  });
});
