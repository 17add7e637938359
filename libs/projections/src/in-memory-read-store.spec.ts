import { InMemoryReadStore } from './in-memory-read-store';
import { describeReadStoreContract } from './testing/read-store-contract';

describeReadStoreContract('InMemoryReadStore', () => new InMemoryReadStore());

describe('InMemoryReadStore', () => {
  it('never shares a doc with the caller', async () => {
    const rs = new InMemoryReadStore();
    const doc = { amount: '1' };
    await rs.commit('p', 1, undefined, 1n, new Map([['a', { key: 'a', doc, index: {} }]]));
    doc.amount = '2';
    const read = await rs.get<{ amount: string }>('p', 'a');
    read!.doc.amount = '3';
    expect((await rs.get('p', 'a'))?.doc).toEqual({ amount: '1' });
  });
});
