import { exportJsonl } from './export';
import { appendIncidentStory, auditFixture, STORY_EVENTS, type AuditFixture } from './testing/audit-fixture';
import { verifyExportLines } from './verify-export';

describe('verifyExportLines: an exported JSONL file checked without the store', () => {
  let fixture: AuditFixture;
  let lines: string[];

  beforeAll(async () => {
    fixture = await auditFixture('verify-export-');
    await appendIncidentStory(fixture.store);
    lines = [];
    await exportJsonl(fixture.store, { all: true }, (line) => void lines.push(line));
  });

  afterAll(async () => {
    await fixture.cleanup();
  });

  it('finds an untouched export clean, as verify finds the store', async () => {
    expect(await verifyExportLines(lines)).toEqual({ ok: true, eventsChecked: STORY_EVENTS, streamsChecked: 3, headPosition: BigInt(STORY_EVENTS) });
  });

  it('names the line of an amount changed in the file, and every other failure too', async () => {
    const altered = [...lines];
    // Line 3 is alice's 4836.26 ETH deposit; line 6 is bob's deposit, whose type is changed.
    altered[2] = altered[2]!.replace('"4836.26"', '"4836.27"');
    altered[5] = altered[5]!.replace('"type":"FundsDeposited"', '"type":"FundsWithdrawn"');
    const report = await verifyExportLines(altered);
    expect(report).toMatchObject({ ok: false, eventsChecked: STORY_EVENTS - 2, failureCount: 2 });
    expect(report.failures).toMatchObject([
      { reason: 'HASH_MISMATCH', streamId: 'account-alice', revision: 1n, position: 3n },
      { reason: 'HASH_MISMATCH', streamId: 'account-bob', revision: 1n, position: 6n },
    ]);
    expect(report.firstFailure?.detail).toMatch(/^line 3: the stored hash is /);
  });

  it('reports a line that is not an exported event by its number and checks the rest', async () => {
    const report = await verifyExportLines([...lines.slice(0, 4), '{"position":', ...lines.slice(4), '', '[1]']);
    expect(report.failureCount).toBe(2);
    expect(report.failures?.map((failure) => [failure.reason, failure.detail.slice(0, 7)])).toEqual([
      ['UNREADABLE', 'line 5 '],
      ['UNREADABLE', 'line 13'],
    ]);
    expect(report.eventsChecked).toBe(STORY_EVENTS);
  });

  it('notices an event removed from the middle of a stream in the file', async () => {
    // Line 5 is alice's revision 2: her revision 3 on line 7 no longer follows revision 1.
    const report = await verifyExportLines([...lines.slice(0, 4), ...lines.slice(5)]);
    expect(report.failures).toMatchObject([{ reason: 'REVISION_GAP', streamId: 'account-alice', revision: 3n }]);
  });
});
