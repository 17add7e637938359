import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { prepareAppend, storedMetadataJson } from './append-validation';
import type { MetadataToAppend } from './event-store.port';

const HASH = 'a'.repeat(64);
const PREV = 'b'.repeat(64);

function prepared(metadata: Record<string, unknown>) {
  return prepareAppend('s-1', [{ eventId: randomUUID(), type: 'T', data: { a: 1 }, metadata: metadata as unknown as MetadataToAppend }], { expectedRevision: 'any' }).events[0]!;
}

describe('the metadata JSON a store keeps', () => {
  it('is exactly JSON.stringify of the metadata with prevHash and hash added last, from the JSON encoded once', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string().filter((key) => key !== '__proto__'), fc.jsonValue()), (metadata) => {
        const event = prepared(metadata);
        expect(storedMetadataJson(event, PREV, HASH)).toBe(JSON.stringify({ ...event.metadata, prevHash: PREV, hash: HASH }));
      }),
      { numRuns: 300 },
    );
  });

  it('drops chain fields a caller sent, so that only the store sets them', () => {
    const event = prepared({ actor: 'svc', prevHash: 'forged', hash: 'forged' });
    expect(event.metadata).toEqual({ actor: 'svc' });
    expect(JSON.parse(storedMetadataJson(event, PREV, HASH))).toEqual({ actor: 'svc', prevHash: PREV, hash: HASH });
    expect(storedMetadataJson(prepared({}), PREV, HASH)).toBe(`{"prevHash":"${PREV}","hash":"${HASH}"}`);
  });
});
