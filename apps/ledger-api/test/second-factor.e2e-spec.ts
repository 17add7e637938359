import { createHash } from 'node:crypto';
import { generateAttester, signProof, type ProofRequest } from '@app/ledger';
import { ADDRESS_1, ADDRESS_2, startTestApp, TEST_ATTESTER, type TestApp } from './support/test-app';

/**
 * Rule 2 as January 2022 taught it: a token id is not a second factor. A withdrawal and a whitelisting carry a proof
 * (compact JWS, EdDSA) that the customer entered the factor for exactly that transaction; the ledger refuses anything
 * less with a 4xx that says why, and appends nothing.
 */
describe('second factor per transaction (HTTP, a fresh ledger requires it)', () => {
  let t: TestApp;
  let seq = 0;
  const nextId = () => `wd-${(seq += 1)}`;

  const withdrawalFields = (withdrawalId: string, amount = '1', address = ADDRESS_1) => ({
    accountId: 'alice', act: 'withdrawal' as const, tokenId: 'tok-1', amr: ['totp' as const], withdrawalId, asset: 'ETH', amount, address,
  });
  const withdraw = (withdrawalId: string, secondFactor: string | undefined, amount = '1', address = ADDRESS_1) =>
    t.service.post('/v1/accounts/alice/withdrawals').send({ withdrawalId, asset: 'ETH', amount, address, twoFactorTokenId: 'tok-1', ...(secondFactor === undefined ? {} : { secondFactor }) });

  /** Refused with 422 SECOND_FACTOR_INVALID whose message says `detail`, and nothing appended. */
  async function refusedAsInvalid(withdrawalId: string, proof: string, detail: RegExp, amount = '1'): Promise<void> {
    const before = await t.head();
    const response = await withdraw(withdrawalId, proof, amount).expect(422);
    expect(response.body).toMatchObject({ statusCode: 422, code: 'SECOND_FACTOR_INVALID' });
    expect(response.body.message).toMatch(detail);
    expect(await t.head()).toBe(before);
  }

  beforeAll(async () => {
    t = await startTestApp({}, { secondFactor: 'required' });
    await t.service.post('/v1/accounts').send({ accountId: 'alice' }).expect(201);
    await t.service.post('/v1/accounts/alice/deposits').send({ depositId: 'dep-1', asset: 'ETH', amount: '100' }).expect(201);
    await t.service.post('/v1/accounts/alice/two-factor-tokens').send({ tokenId: 'tok-1', method: 'totp' }).expect(201);
    await t.admin.post('/v1/platform/withdrawal-policy').send({ newAddressHoldHours: 0 }).expect(201);
    const proof = await t.proof({ accountId: 'alice', act: 'whitelist', tokenId: 'tok-1', amr: ['totp'], asset: 'ETH', address: ADDRESS_1 });
    await t.service.post('/v1/accounts/alice/whitelisted-addresses').send({ asset: 'ETH', address: ADDRESS_1, secondFactor: proof }).expect(201);
  });
  afterAll(() => t.close());

  it('refuses a withdrawal that names a valid token but carries no proof (what the attackers sent), appending nothing', async () => {
    const before = await t.head();
    const response = await withdraw(nextId(), undefined).expect(422);
    expect(response.body).toMatchObject({ code: 'SECOND_FACTOR_REQUIRED', message: expect.stringContaining('secondFactor') });
    expect(await t.head()).toBe(before);
  });

  it('refuses a whitelisting without a proof', async () => {
    const response = await t.service.post('/v1/accounts/alice/whitelisted-addresses').send({ asset: 'ETH', address: ADDRESS_2 }).expect(422);
    expect(response.body.code).toBe('SECOND_FACTOR_REQUIRED');
  });

  it('refuses what is not a compact JWS with 400 naming secondFactor', async () => {
    for (const bad of ['not-a-jws', 'a.b', 42, '']) {
      const response = await withdraw(nextId(), bad as string).expect(400);
      expect(response.body.errors).toEqual([{ field: 'secondFactor', reasons: expect.arrayContaining([expect.stringContaining('secondFactor must')]) }]);
    }
  });

  it('accepts a proof bound to the withdrawal and records kid, amr, jti and the proof\'s SHA-256, never the proof', async () => {
    const withdrawalId = nextId();
    const proof = await t.proof({ ...withdrawalFields(withdrawalId), jti: 'jti-accepted' });
    const accepted = await withdraw(withdrawalId, proof).expect(201);
    const events = [];
    for await (const event of t.store.readStream('account-alice')) events.push(event);
    const requested = events.find((event) => event.type === 'WithdrawalRequested' && (event.data as { withdrawalId: string }).withdrawalId === withdrawalId)!;
    expect(accepted.body.eventIds).toEqual([requested.eventId]);
    expect((requested.data as { secondFactor: unknown }).secondFactor).toEqual({
      kid: TEST_ATTESTER.kid, amr: ['totp'], jti: 'jti-accepted', proofSha256: createHash('sha256').update(proof).digest('hex'),
    });
    expect(JSON.stringify(events.map((event) => [event.data, event.metadata]))).not.toContain(proof.split('.')[2]);
  });

  it('refuses a jti used before on the account, even in a proof for another withdrawal', async () => {
    const withdrawalId = nextId();
    await refusedAsInvalid(withdrawalId, await t.proof({ ...withdrawalFields(withdrawalId), jti: 'jti-accepted' }), /reused jti jti-accepted/);
  });

  it('refuses a proof from a key the ledger does not trust, and one forged under a trusted kid', async () => {
    const stranger = generateAttester('stranger');
    const id = nextId();
    const clockSeconds = Math.floor(t.clock.now().toMillis() / 1_000);
    await refusedAsInvalid(id, await signProof(stranger, { ...withdrawalFields(id), issuedAt: clockSeconds }), /unknown key id \(kid\) stranger/);
    const forger = { ...generateAttester(), kid: TEST_ATTESTER.kid };
    await refusedAsInvalid(id, await signProof(forger, { ...withdrawalFields(id), issuedAt: clockSeconds }), /bad signature/);
  });

  it('refuses a proof for another account, amount, address, withdrawal or action, naming the field', async () => {
    const id = nextId();
    const cases: Array<[Partial<ProofRequest>, RegExp]> = [
      [{ accountId: 'mallory' }, /field mismatch: sub/],
      [{ amount: '10' }, /field mismatch: amount \(the proof says 10, the command 1\)/],
      [{ address: ADDRESS_2 }, /field mismatch: address/],
      [{ withdrawalId: 'wd-other' }, /field mismatch: wid/],
      [{ act: 'whitelist', withdrawalId: undefined, amount: undefined }, /field mismatch: act/],
      [{ tokenId: 'tok-9' }, /field mismatch: tid/],
    ];
    for (const [change, detail] of cases) await refusedAsInvalid(id, await t.proof({ ...withdrawalFields(id), ...change }), detail);
  });

  it('refuses an expired proof, one issued in the future, one that lives too long, and one for another audience', async () => {
    const id = nextId();
    const now = Math.floor(t.clock.now().toMillis() / 1_000);
    await refusedAsInvalid(id, await t.proof({ ...withdrawalFields(id), issuedAt: now - 200, ttlSeconds: 120 }), /expired 80 s ago/);
    await refusedAsInvalid(id, await t.proof({ ...withdrawalFields(id), issuedAt: now + 120 }), /issued in the future/);
    await refusedAsInvalid(id, await t.proof({ ...withdrawalFields(id), ttlSeconds: 3_600 }), /lifetime of 3600 s exceeds 300 s/);
    await refusedAsInvalid(id, await t.proof({ ...withdrawalFields(id), audience: 'another-ledger' }), /audience \(aud\) must include withdrawal-ledger/);
  });

  it('refuses methods that do not include the token\'s own, and a whitelisting proven with a revoked token', async () => {
    const id = nextId();
    await refusedAsInvalid(id, await t.proof({ ...withdrawalFields(id), amr: ['sms'] }), /do not include the token's totp/);
    await t.service.post('/v1/accounts/alice/two-factor-tokens').send({ tokenId: 'tok-old', method: 'totp' }).expect(201);
    await t.service.post('/v1/accounts/alice/two-factor-tokens/tok-old/revoke').send({ reason: 'phone lost' }).expect(201);
    const proof = await t.proof({ accountId: 'alice', act: 'whitelist', tokenId: 'tok-old', amr: ['totp'], asset: 'ETH', address: ADDRESS_2 });
    const before = await t.head();
    const response = await t.service.post('/v1/accounts/alice/whitelisted-addresses').send({ asset: 'ETH', address: ADDRESS_2, secondFactor: proof }).expect(422);
    expect(response.body).toMatchObject({ code: 'SECOND_FACTOR_INVALID', message: expect.stringMatching(/token not valid: .*tok-old/) });
    expect(await t.head()).toBe(before);
  });

  it('asks for two methods at or above the MFA threshold, and for one below it', async () => {
    await t.admin.post('/v1/prices').send({ asset: 'ETH', usd: '3000' }).expect(201);
    await t.admin.post('/v1/platform/second-factor-policy').send({ required: true, mfaThresholdUsd: '5000' }).expect(201);
    const big = nextId();
    await refusedAsInvalid(big, await t.proof(withdrawalFields(big, '2')), /worth 6000 USD, at or above the MFA threshold of 5000 USD it needs two/, '2');
    await withdraw(big, await t.proof({ ...withdrawalFields(big, '2'), amr: ['totp', 'webauthn'] }), '2').expect(201);
    const small = nextId();
    await withdraw(small, await t.proof(withdrawalFields(small, '1')), '1').expect(201);
  });

  it('lets an admin turn the requirement off (the policy is an event), and refuses a policy that changes nothing', async () => {
    const off = await t.admin.post('/v1/platform/second-factor-policy').send({ required: false, mfaThresholdUsd: null }).expect(201);
    expect(off.body.streamId).toBe('platform');
    await withdraw(nextId(), undefined).expect(201);
    const again = await t.admin.post('/v1/platform/second-factor-policy').send({ required: false, mfaThresholdUsd: null }).expect(422);
    expect(again.body.code).toBe('SECOND_FACTOR_POLICY_UNCHANGED');
    await t.service.post('/v1/platform/second-factor-policy').send({ required: true, mfaThresholdUsd: null }).expect(403);
    const invalid = await t.admin.post('/v1/platform/second-factor-policy').send({ required: 'yes', mfaThresholdUsd: 5 }).expect(400);
    expect(invalid.body.errors.map((error: { field: string }) => error.field).sort()).toEqual(['mfaThresholdUsd', 'required']);
    // A proof sent while the requirement is off is still checked: a bad one is not ignored.
    const id = nextId();
    await refusedAsInvalid(id, await t.proof({ ...withdrawalFields(id), amount: '7' }), /field mismatch: amount/);
    await t.admin.post('/v1/platform/second-factor-policy').send({ required: true, mfaThresholdUsd: null }).expect(201);
    await withdraw(nextId(), undefined).expect(422);
  });
});
