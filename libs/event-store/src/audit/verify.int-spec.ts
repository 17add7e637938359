import { MAX_EVENTS_PER_APPEND } from '../append-validation';
import { eventHash, metadataWithoutChain } from '../hash-chain';
import type { EventMetadata } from '../event-store.port';
import { PROGRESS_EVERY_EVENTS, type AuditProgress } from './audit-walk';
import {
  anEvent,
  appendIncidentStory,
  auditFixture,
  replaceOnce,
  setColumn,
  storedRow,
  STORY_EVENTS,
  tamper,
  type AuditFixture,
} from './testing/audit-fixture';
import { MAX_REPORTED_FAILURES, UnknownStreamError, verifyEventStore, verifyReportView, verifyStream } from './verify';

/** Positions of the story (see appendIncidentStory): alice's deposit of 4836.26 ETH is revision 1 at position 3. */
const ALICE_ETH_DEPOSIT = { streamId: 'account-alice', revision: 1, position: 3 };

describe('verifyEventStore on a SQLite file', () => {
  let fixture: AuditFixture;

  beforeEach(async () => {
    fixture = await auditFixture('verify-');
    await appendIncidentStory(fixture.store);
    await fixture.store.close();
  });

  afterEach(async () => {
    await fixture.cleanup();
  });

  async function verifyFile() {
    return verifyEventStore(await fixture.reopen());
  }

  function expectFailureAt(
    report: Awaited<ReturnType<typeof verifyEventStore>>,
    reason: string,
    at: { streamId: string; revision: number; position?: number },
  ): void {
    expect(report.ok).toBe(false);
    const row = storedRow(fixture.path, at.streamId, at.revision);
    expect(report.firstFailure).toMatchObject({
      reason,
      streamId: at.streamId,
      revision: BigInt(at.revision),
      position: BigInt(at.position ?? row.position),
      eventId: row.event_id,
    });
  }

  it('finds an untouched store clean and counts every event and stream', async () => {
    const report = await verifyFile();
    expect(report).toEqual({ ok: true, eventsChecked: STORY_EVENTS, streamsChecked: 3, headPosition: BigInt(STORY_EVENTS) });
    expect(verifyReportView(report)).toEqual({
      ok: true,
      eventsChecked: STORY_EVENTS,
      streamsChecked: 3,
      headPosition: String(STORY_EVENTS),
      firstFailure: null,
      failures: [],
      failureCount: 0,
    });
  });

  it('finds an empty store clean', async () => {
    await fixture.cleanup();
    fixture = await auditFixture('verify-empty-');
    expect(await verifyEventStore(fixture.store)).toEqual({ ok: true, eventsChecked: 0, streamsChecked: 0, headPosition: undefined });
  });

  it('names the event whose amount changed by one digit (HASH_MISMATCH), having checked the events before it', async () => {
    const row = storedRow(fixture.path, ALICE_ETH_DEPOSIT.streamId, ALICE_ETH_DEPOSIT.revision);
    setColumn(fixture.path, row.position, 'data', replaceOnce(row.data, '4836.26', '4836.27'));
    const report = await verifyFile();
    expectFailureAt(report, 'HASH_MISMATCH', ALICE_ETH_DEPOSIT);
    // The walk goes on: every other event holds, and the altered one is the only failure.
    expect(report.eventsChecked).toBe(STORY_EVENTS - 1);
    expect(report.failureCount).toBe(1);
    expect(report.firstFailure?.detail).toMatch(/changed after it was appended/);
  });

  it('names the event whose type changed', async () => {
    const row = storedRow(fixture.path, 'account-bob', 1);
    setColumn(fixture.path, row.position, 'type', 'FundsDepositeD');
    expectFailureAt(await verifyFile(), 'HASH_MISMATCH', { streamId: 'account-bob', revision: 1 });
  });

  it('names the event whose metadata changed (the actor)', async () => {
    const row = storedRow(fixture.path, 'platform', 1);
    setColumn(fixture.path, row.position, 'metadata', replaceOnce(row.metadata, '"ops-7"', '"ops-8"'));
    expectFailureAt(await verifyFile(), 'HASH_MISMATCH', { streamId: 'platform', revision: 1 });
  });

  it('names the event whose stored hash was edited', async () => {
    const row = storedRow(fixture.path, 'account-alice', 3);
    const metadata = JSON.parse(row.metadata) as EventMetadata;
    const edited = `${metadata.hash.slice(0, -1)}${metadata.hash.endsWith('0') ? '1' : '0'}`;
    setColumn(fixture.path, row.position, 'metadata', replaceOnce(row.metadata, metadata.hash, edited));
    expectFailureAt(await verifyFile(), 'HASH_MISMATCH', { streamId: 'account-alice', revision: 3 });
  });

  it('names the event after one deleted from the middle of a stream (REVISION_GAP)', async () => {
    tamper(fixture.path, (db) => db.prepare("DELETE FROM events WHERE stream_id = 'account-alice' AND revision = 2").run());
    const report = await verifyFile();
    expectFailureAt(report, 'REVISION_GAP', { streamId: 'account-alice', revision: 3 });
    expect(report.firstFailure?.detail).toBe('expected revision 2 (the previous event is revision 1), found revision 3');
  });

  it('names the next event when a tamperer recomputed the edited event hash but not the next link (BROKEN_LINK)', async () => {
    const row = storedRow(fixture.path, ALICE_ETH_DEPOSIT.streamId, ALICE_ETH_DEPOSIT.revision);
    const data = JSON.parse(replaceOnce(row.data, '4836.26', '4.26')) as unknown;
    const metadata = JSON.parse(row.metadata) as EventMetadata;
    const hash = eventHash({
      streamId: row.stream_id,
      revision: BigInt(row.revision),
      type: row.type,
      data,
      metadata: metadataWithoutChain(metadata),
      prevHash: metadata.prevHash,
    });
    setColumn(fixture.path, row.position, 'data', JSON.stringify(data));
    setColumn(fixture.path, row.position, 'metadata', JSON.stringify({ ...metadata, hash }));
    const report = await verifyFile();
    expectFailureAt(report, 'BROKEN_LINK', { streamId: 'account-alice', revision: 2 });
    expect(report.firstFailure?.detail).toContain(`should be the hash of revision 1, ${hash.slice(0, 16)}`);
  });

  it('names the first event of a stream whose prevHash is not the genesis hash', async () => {
    const row = storedRow(fixture.path, 'platform', 0);
    const metadata = JSON.parse(row.metadata) as EventMetadata;
    setColumn(fixture.path, row.position, 'metadata', JSON.stringify({ ...metadata, prevHash: 'f'.repeat(64) }));
    expectFailureAt(await verifyFile(), 'BROKEN_LINK', { streamId: 'platform', revision: 0 });
  });

  it('reports the failure with the lowest position when several events were altered', async () => {
    const late = storedRow(fixture.path, 'account-alice', 4);
    setColumn(fixture.path, late.position, 'type', 'Tampered');
    const early = storedRow(fixture.path, 'account-bob', 1);
    setColumn(fixture.path, early.position, 'data', replaceOnce(early.data, '66200', '66209'));
    expectFailureAt(await verifyFile(), 'HASH_MISMATCH', { streamId: 'account-bob', revision: 1 });
  });

  it('notices events removed from the end of a stream, which no link reveals', async () => {
    tamper(fixture.path, (db) => db.prepare("DELETE FROM events WHERE stream_id = 'account-alice' AND revision = 4").run());
    const report = await verifyFile();
    expect(report.ok).toBe(false);
    expect(report.eventsChecked).toBe(STORY_EVENTS - 1);
    expect(report.firstFailure).toMatchObject({ reason: 'REVISION_GAP', streamId: 'account-alice', revision: 4n, position: undefined });
    expect(report.firstFailure?.detail).toMatch(/records revision 4 .* revisions 0 to 3 only/);
  });

  it('does not mistake events appended after the walk started for a lost tail', async () => {
    const store = await fixture.reopen();
    let appended = false;
    // The ledger appends between the walk and the tail check: the recorded revision has grown past the walk's head.
    const racing = new Proxy(store, {
      get(target, property) {
        if (property === 'streamRevision') {
          return async (streamId: string) => {
            if (!appended) {
              appended = true;
              await target.append('account-alice', [anEvent('FundsDeposited', { asset: 'ETH', amount: '1' })], { expectedRevision: 4n });
            }
            return target.streamRevision(streamId);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    expect(await verifyEventStore(racing)).toMatchObject({ ok: true, eventsChecked: STORY_EVENTS, headPosition: BigInt(STORY_EVENTS) });
    expect(appended).toBe(true);
  });

  it('reports an event whose JSON no longer parses as UNREADABLE at its position, after checking the ones before it', async () => {
    const row = storedRow(fixture.path, 'account-bob', 2);
    setColumn(fixture.path, row.position, 'data', row.data.slice(0, -1));
    const report = await verifyFile();
    expect(report.ok).toBe(false);
    expect(report.eventsChecked).toBe(STORY_EVENTS - 1);
    expect(report.firstFailure).toMatchObject({ reason: 'UNREADABLE', position: BigInt(row.position), streamId: undefined });
    expect(report.firstFailure?.detail).toMatch(new RegExp(`^the event at position ${row.position} cannot be read: `));
  });

  it('still reports an earlier altered event of the same page before an unreadable one', async () => {
    const early = storedRow(fixture.path, ALICE_ETH_DEPOSIT.streamId, ALICE_ETH_DEPOSIT.revision);
    setColumn(fixture.path, early.position, 'data', replaceOnce(early.data, '4836.26', '4836.27'));
    const late = storedRow(fixture.path, 'account-bob', 2);
    setColumn(fixture.path, late.position, 'metadata', '{"hash":');
    expectFailureAt(await verifyFile(), 'HASH_MISMATCH', ALICE_ETH_DEPOSIT);
  });

  it('reports every altered event, each once, in position order', async () => {
    const alice = storedRow(fixture.path, ALICE_ETH_DEPOSIT.streamId, ALICE_ETH_DEPOSIT.revision);
    setColumn(fixture.path, alice.position, 'data', replaceOnce(alice.data, '4836.26', '4836.27'));
    const bob = storedRow(fixture.path, 'account-bob', 1);
    setColumn(fixture.path, bob.position, 'type', 'Renamed');
    // Alice's revision 3 has its stored hash edited: revision 4 still links to the true hash and must not fail too.
    const edited = storedRow(fixture.path, 'account-alice', 3);
    const { hash } = JSON.parse(edited.metadata) as EventMetadata;
    setColumn(fixture.path, edited.position, 'metadata', replaceOnce(edited.metadata, hash, 'f'.repeat(64)));
    const report = await verifyFile();
    expect(report.failureCount).toBe(3);
    const expected = [
      { reason: 'HASH_MISMATCH', streamId: 'account-alice', revision: 1n, position: BigInt(alice.position) },
      { reason: 'HASH_MISMATCH', streamId: 'account-bob', revision: 1n, position: BigInt(bob.position) },
      { reason: 'HASH_MISMATCH', streamId: 'account-alice', revision: 3n, position: BigInt(edited.position) },
    ].sort((a, b) => Number(a.position - b.position));
    expect(report.failures).toMatchObject(expected);
    expect(report.eventsChecked).toBe(STORY_EVENTS - 3);
  });

  it('reports metadata that is valid JSON but not an object as UNREADABLE, naming the event', async () => {
    const row = storedRow(fixture.path, 'platform', 1);
    setColumn(fixture.path, row.position, 'metadata', 'null');
    expectFailureAt(await verifyFile(), 'UNREADABLE', { streamId: 'platform', revision: 1 });
  });

  it('gives up when its signal is aborted', async () => {
    const store = await fixture.reopen();
    const controller = new AbortController();
    controller.abort(new Error('interrupted'));
    await expect(verifyEventStore(store, { signal: controller.signal })).rejects.toThrow('interrupted');
  });
});

describe('verifyEventStore beyond one page', () => {
  const EVENTS = 2_500;
  let fixture: AuditFixture;

  beforeAll(async () => {
    fixture = await auditFixture('verify-pages-');
    const events = Array.from({ length: EVENTS }, (_, index) => anEvent('FundsDeposited', { amount: String(index + 1) }));
    // Appends are bounded (MAX_EVENTS_PER_APPEND); queued in one turn, they still share one commit.
    const batches = [];
    for (let start = 0; start < EVENTS; start += MAX_EVENTS_PER_APPEND) batches.push(events.slice(start, start + MAX_EVENTS_PER_APPEND));
    for (const batch of batches) await fixture.store.append('account-many', batch, { expectedRevision: 'any' });
  });

  afterAll(async () => {
    await fixture.cleanup();
  });

  it('reports progress every PROGRESS_EVERY_EVENTS events and once at the end', async () => {
    const seen: AuditProgress[] = [];
    const report = await verifyEventStore(fixture.store, { onProgress: (progress) => seen.push(progress) });
    expect(report).toMatchObject({ ok: true, eventsChecked: EVENTS, streamsChecked: 1 });
    const head = BigInt(EVENTS);
    expect(seen).toEqual([
      { position: BigInt(PROGRESS_EVERY_EVENTS), headPosition: head, events: PROGRESS_EVERY_EVENTS },
      { position: BigInt(2 * PROGRESS_EVERY_EVENTS), headPosition: head, events: 2 * PROGRESS_EVERY_EVENTS },
      { position: head, headPosition: head, events: EVENTS },
    ]);
  });

it('lists at most MAX_REPORTED_FAILURES failures and counts them all', async () => {
    tamper(fixture.path, (db) => db.prepare("UPDATE events SET type = 'Renamed' WHERE stream_id = 'account-many'").run());
    const report = await verifyEventStore(await fixture.reopen());
    expect(report).toMatchObject({ ok: false, eventsChecked: 0, failureCount: EVENTS });
    expect(report.failures).toHaveLength(MAX_REPORTED_FAILURES);
    expect(report.failures?.[MAX_REPORTED_FAILURES - 1]).toMatchObject({ reason: 'HASH_MISMATCH', revision: BigInt(MAX_REPORTED_FAILURES - 1) });
    tamper(fixture.path, (db) => db.prepare("UPDATE events SET type = 'FundsDeposited' WHERE stream_id = 'account-many'").run());
  });

    it('pins an unreadable event in the middle of the second page to its exact position', async () => {
    await fixture.store.close();
    const position = 1_500;
    tamper(fixture.path, (db) => db.prepare("UPDATE events SET data = '{' WHERE position = ?").run(position));
    const report = await verifyEventStore(await fixture.reopen());
    // The walk steps over it; the next event of its stream then shows the revision it could not read.
    expect(report).toMatchObject({ ok: false, eventsChecked: EVENTS - 2, failureCount: 2 });
    expect(report.firstFailure).toMatchObject({ reason: 'UNREADABLE', position: BigInt(position) });
    expect(report.failures?.[1]).toMatchObject({ reason: 'REVISION_GAP', position: BigInt(position + 1) });
  });

});

describe('verifyStream', () => {
  let fixture: AuditFixture;

  beforeEach(async () => {
    fixture = await auditFixture('verify-stream-');
    await appendIncidentStory(fixture.store);
    await fixture.store.close();
  });

  afterEach(async () => {
    await fixture.cleanup();
  });

  it('checks one stream only', async () => {
    const bob = storedRow(fixture.path, 'account-bob', 1);
    setColumn(fixture.path, bob.position, 'data', replaceOnce(bob.data, '66200', '66201'));
    const store = await fixture.reopen();
    expect(await verifyStream(store, 'account-alice')).toEqual({ ok: true, eventsChecked: 5, streamsChecked: 1, headPosition: 10n });
    expect((await verifyStream(store, 'account-bob')).firstFailure).toMatchObject({
      reason: 'HASH_MISMATCH',
      streamId: 'account-bob',
      revision: 1n,
      position: BigInt(bob.position),
    });
  });

  it('pins an unreadable event to its stream and revision', async () => {
    const row = storedRow(fixture.path, 'account-alice', 2);
    setColumn(fixture.path, row.position, 'type', 'x');
    setColumn(fixture.path, storedRow(fixture.path, 'account-alice', 3).position, 'data', '[');
    const report = await verifyStream(await fixture.reopen(), 'account-alice');
    // Revision 2 comes first: its changed type is found before revision 3's broken JSON.
    expect(report.firstFailure).toMatchObject({ reason: 'HASH_MISMATCH', revision: 2n });
    setColumn(fixture.path, row.position, 'type', row.type);
    const again = await verifyStream(await fixture.reopen(), 'account-alice');
    expect(again.firstFailure).toMatchObject({ reason: 'UNREADABLE', streamId: 'account-alice', revision: 3n, position: undefined });
  });

  it('notices a stream whose every event was removed while the store still records it', async () => {
    tamper(fixture.path, (db) => db.prepare("DELETE FROM events WHERE stream_id = 'platform'").run());
    const report = await verifyStream(await fixture.reopen(), 'platform');
    expect(report.firstFailure).toMatchObject({ reason: 'REVISION_GAP', streamId: 'platform', revision: 0n });
  });

  it('refuses a stream the store has never held, rather than finding it clean', async () => {
    await expect(verifyStream(await fixture.reopen(), 'account-nobody')).rejects.toThrow(UnknownStreamError);
  });
});
