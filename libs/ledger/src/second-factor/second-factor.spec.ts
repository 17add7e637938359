import { generateKeyPairSync } from 'node:crypto';
import { DomainError } from '@app/domain';
import { loadConfig } from '../config';
import { attesterFromJwk, attesterKeysEnv, generateAttester, privateJwk, publicJwk, signProof, type ProofRequest } from './attester';
import { DEFAULT_SECOND_FACTOR_AUDIENCE, jwkThumbprint, parseAttesterKeys } from './attester-keys';
import { SecondFactorVerifier } from './verifier';

const request: ProofRequest = {
  accountId: 'alice',
  act: 'withdrawal',
  tokenId: 'tok-1',
  amr: ['totp'],
  withdrawalId: 'wd-1',
  asset: 'ETH',
  amount: '1',
  address: '0xB0B0000000000000000000000000000000000002',
  issuedAt: 1_700_000_000,
  jti: 'jti-1',
};

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe('SECOND_FACTOR_INVALID');
  return (error as DomainError).detail ?? '';
}

describe('attester keys (LEDGER_SECOND_FACTOR_KEYS)', () => {
  const a = generateAttester('key-a');
  const b = generateAttester('key-b');

  it('reads a JWK set, an array of JWKs and a single JWK, each with its kid', () => {
    expect(parseAttesterKeys(attesterKeysEnv(a, b)).map((key) => key.kid)).toEqual(['key-a', 'key-b']);
    expect(parseAttesterKeys(JSON.stringify([publicJwk(a)])).map((key) => key.kid)).toEqual(['key-a']);
    expect(parseAttesterKeys(JSON.stringify(publicJwk(b))).map((key) => key.kid)).toEqual(['key-b']);
    expect(parseAttesterKeys(undefined)).toEqual([]);
  });

  it('reads PEM public keys, whose kid is their RFC 7638 thumbprint', () => {
    const pem = `${a.publicKey.export({ format: 'pem', type: 'spki' }) as string}\n${b.publicKey.export({ format: 'pem', type: 'spki' }) as string}`;
    expect(parseAttesterKeys(pem).map((key) => key.kid)).toEqual([jwkThumbprint(a.publicKey), jwkThumbprint(b.publicKey)]);
    // RFC 7638 section 3.1's construction, over the members of an OKP key: crv, kty, x.
    expect(jwkThumbprint(a.publicKey)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ['a private key', () => JSON.stringify({ keys: [privateJwk(a)] }), /private key/],
    ['a P-256 key', () => JSON.stringify({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'ec' }), /not an Ed25519 key|ec an Ed25519/],
    ['a key without kid', () => JSON.stringify({ ...publicJwk(a), kid: undefined }), /needs a "kid"/],
    ['the same kid twice', () => JSON.stringify([publicJwk(a), { ...publicJwk(b), kid: 'key-a' }]), /names kid key-a twice/],
    ['neither JSON nor PEM', () => 'hello', /neither JSON/],
    ['an empty set', () => '{"keys":[]}', /holds no key/],
  ])('refuses %s, and start-up names the variable', (_label, value, reason) => {
    expect(() => loadConfig({ LEDGER_SECOND_FACTOR_KEYS: value() })).toThrow(/^invalid configuration: LEDGER_SECOND_FACTOR_KEYS /);
    expect(() => loadConfig({ LEDGER_SECOND_FACTOR_KEYS: value() })).toThrow(reason);
  });

  it('refuses a malformed audience naming LEDGER_SECOND_FACTOR_AUDIENCE', () => {
    expect(() => loadConfig({ LEDGER_SECOND_FACTOR_AUDIENCE: 'has spaces' })).toThrow(/LEDGER_SECOND_FACTOR_AUDIENCE/);
    expect(loadConfig({}).secondFactor).toEqual({ keys: [], audience: DEFAULT_SECOND_FACTOR_AUDIENCE });
  });

  it('round-trips the development key pair that `ledger attester keygen` prints', () => {
    const restored = attesterFromJwk(JSON.stringify(privateJwk(a)));
    expect(restored.kid).toBe('key-a');
    expect(publicJwk(restored)).toEqual(publicJwk(a));
  });
});

describe('SecondFactorVerifier', () => {
  const attester = generateAttester('attester-2026');
  const verifier = new SecondFactorVerifier(parseAttesterKeys(attesterKeysEnv(attester)), DEFAULT_SECOND_FACTOR_AUDIENCE);

  it('verifies a proof signed by a configured key and returns its claims, kid and SHA-256', async () => {
    const proof = await signProof(attester, request);
    const verified = await verifier.verify(proof);
    expect(verified.kid).toBe('attester-2026');
    expect(verified.proofSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(verified.claims).toEqual({
      sub: 'alice', act: 'withdrawal', tid: 'tok-1', amr: ['totp'], iat: 1_700_000_000, exp: 1_700_000_120, jti: 'jti-1',
      wid: 'wd-1', asset: 'ETH', amount: '1', address: request.address,
    });
  });

  it('refuses a proof signed by an unknown key id', async () => {
    const stranger = generateAttester('stranger');
    expect(await refusal(verifier.verify(await signProof(stranger, request)))).toMatch(/unknown key id \(kid\) stranger/);
  });

  it('refuses a proof signed by another key under a configured kid (bad signature)', async () => {
    const impostor = generateAttester('attester-2026');
    expect(await refusal(verifier.verify(await signProof(impostor, request)))).toMatch(/bad signature for key attester-2026/);
  });

  it('refuses a proof whose payload was changed after signing', async () => {
    const [header, payload, signature] = (await signProof(attester, request)).split('.');
    const changed = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...changed, amount: '1000' })).toString('base64url');
    expect(await refusal(verifier.verify(`${header}.${forged}.${signature}`))).toMatch(/bad signature/);
  });

  it('refuses a proof for another audience', async () => {
    expect(await refusal(verifier.verify(await signProof(attester, { ...request, audience: 'another-ledger' })))).toMatch(/audience \(aud\) must include withdrawal-ledger/);
  });

  it('refuses another algorithm, text that is no JWS, and says when no key is configured', async () => {
    const hs = `${Buffer.from('{"alg":"HS256","kid":"attester-2026"}').toString('base64url')}.e30.c2ln`;
    expect(await refusal(verifier.verify(hs))).toMatch(/alg must be EdDSA/);
    expect(await refusal(verifier.verify('not-a-jws'))).toMatch(/not a compact JWS/);
    const none = new SecondFactorVerifier([], DEFAULT_SECOND_FACTOR_AUDIENCE);
    expect(await refusal(none.verify(await signProof(attester, request)))).toMatch(/no attester keys are configured/);
  });

  it('accepts proofs from either key during a rotation', async () => {
    const next = generateAttester('attester-2027');
    const rotating = new SecondFactorVerifier(parseAttesterKeys(attesterKeysEnv(attester, next)), DEFAULT_SECOND_FACTOR_AUDIENCE);
    expect((await rotating.verify(await signProof(attester, request))).kid).toBe('attester-2026');
    expect((await rotating.verify(await signProof(next, request))).kid).toBe('attester-2027');
  });

  it('refuses malformed claims naming the claim', async () => {
    expect(await refusal(verifier.verify(await signProof(attester, { ...request, amr: [] })))).toMatch(/malformed claim amr/);
    expect(await refusal(verifier.verify(await signProof(attester, { ...request, act: 'transfer' as never })))).toMatch(/malformed claim act/);
  });
});
