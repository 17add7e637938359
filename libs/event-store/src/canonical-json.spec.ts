import { canonicalJson } from './canonical-json';
import { eventHash, GENESIS_HASH } from './hash-chain';

describe('canonicalJson', () => {
  it('sorts keys by code unit at every depth, drops undefined members and writes no white space', () => {
    const value = { b: [1, 'two', { z: null, a: true }], a: { y: undefined, x: -0.5 }, é: 'ü', B: false, '\u{1F600}': 1 };
    expect(canonicalJson(value)).toBe('{"B":false,"a":{"x":-0.5},"b":[1,"two",{"a":true,"z":null}],"é":"ü","\u{1F600}":1}');
  });

  it('refuses what JSON cannot hold rather than encoding it ambiguously', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
  });

  it('keeps the hash of a recorded event: logs written earlier still verify', () => {
    // Computed by the first implementation; any change to the encoding would break every stored hash chain.
    const hash = eventHash({
      streamId: 'account-alice',
      revision: 3n,
      type: 'FundsDeposited',
      data: { depositId: 'd1', asset: 'ETH', amount: '1.5' },
      metadata: {
        commandId: 'c1',
        correlationId: 'c1',
        causationId: 'c1',
        actor: { id: 'svc', role: 'service' },
        recordedAt: '2022-01-17T00:00:00.000Z',
        schemaVersion: 1,
      },
      prevHash: GENESIS_HASH,
    });
    expect(hash).toBe('6f45e018bff5840ab86d57480fb3a2c9bb91701f945bbdfcc9ae7daf5d2bb88e');
  });
});
