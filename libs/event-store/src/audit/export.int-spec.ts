import { canonicalJson } from '../canonical-json';
import type { EventMetadata, RecordedEvent } from '../event-store.port';
import { UnreadableEventError } from './diagnosing-read';
import { auditEventView, exportJsonl, type AuditEventView, type ExportSelection, type ExportOptions } from './export';
import { appendIncidentStory, auditFixture, setColumn, storedRow, STORY_EVENTS, type AuditFixture } from './testing/audit-fixture';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** The stored event a line describes: the inverse of auditEventView. */
function fromLine(line: string): RecordedEvent {
  const view = JSON.parse(line) as AuditEventView;
  return {
    position: BigInt(view.position),
    streamId: view.streamId,
    revision: BigInt(view.revision),
    eventId: view.eventId,
    type: view.type,
    data: view.data,
    metadata: view.metadata as EventMetadata,
  };
}

describe('exportJsonl on a SQLite file', () => {
  let fixture: AuditFixture;

  beforeEach(async () => {
    fixture = await auditFixture('export-');
    await appendIncidentStory(fixture.store);
  });

  afterEach(async () => {
    await fixture.cleanup();
  });

  async function exportLines(selection: ExportSelection, options?: ExportOptions): Promise<string[]> {
    const lines: string[] = [];
    await exportJsonl(fixture.store, selection, (line) => void lines.push(line), options);
    return lines;
  }

  it('writes one line per event of the log that parses back to the stored event', async () => {
    const lines = await exportLines({ all: true });
    expect(lines).toHaveLength(STORY_EVENTS);
    expect(lines.map(fromLine)).toEqual(await collect(fixture.store.readAll()));
    for (const line of lines) expect(line).not.toContain('\n');
  });

  it('writes canonical JSON (sorted keys, bigints as decimal strings)', async () => {
    const [first] = await exportLines({ all: true });
    expect(first).toBe(canonicalJson(JSON.parse(first!)));
    expect(first).toMatch(/^\{"data":\{"accountId":"alice"\},"eventId":"[0-9a-f-]{36}","metadata":\{.*\},"position":"1","revision":"0","streamId":"account-alice","type":"AccountOpened"\}$/);
  });

  it('exports the same log to the same bytes, also after reopening the file', async () => {
    const first = (await exportLines({ all: true })).join('\n');
    await fixture.reopen();
    expect((await exportLines({ all: true })).join('\n')).toBe(first);
  });

  it('exports one stream in revision order', async () => {
    const lines = await exportLines({ streamId: 'account-bob' });
    expect(lines.map(fromLine).map((event) => [event.streamId, event.revision])).toEqual([
      ['account-bob', 0n],
      ['account-bob', 1n],
      ['account-bob', 2n],
    ]);
  });

  it('starts at fromPosition, for the log and for a stream', async () => {
    expect((await exportLines({ all: true }, { fromPosition: 8n })).map((line) => fromLine(line).position)).toEqual([8n, 9n, 10n]);
    expect((await exportLines({ streamId: 'account-bob' }, { fromPosition: 3n })).map((line) => fromLine(line).revision)).toEqual([1n, 2n]);
  });

  it('waits for an asynchronous writer before the next line and reports the count', async () => {
    const written: string[] = [];
    let pending = 0;
    const summary = await exportJsonl(fixture.store, { all: true }, async (line) => {
      pending += 1;
      expect(pending).toBe(1);
      await new Promise((resolve) => setImmediate(resolve));
      written.push(line);
      pending -= 1;
    });
    expect(summary).toEqual({ events: STORY_EVENTS, headPosition: BigInt(STORY_EVENTS) });
    expect(written).toHaveLength(STORY_EVENTS);
  });

  it('stops with UnreadableEventError naming the position of an event whose JSON is broken', async () => {
    await fixture.store.close();
    const row = storedRow(fixture.path, 'account-alice', 2);
    setColumn(fixture.path, row.position, 'data', '{"amount":');
    await fixture.reopen();
    const lines: string[] = [];
    const exported = exportJsonl(fixture.store, { all: true }, (line) => void lines.push(line));
    await expect(exported).rejects.toThrow(UnreadableEventError);
    await expect(exported).rejects.toThrow(`the event at position ${row.position} cannot be read`);
    expect(lines).toHaveLength(row.position - 1);
  });

  it('gives the HTTP audit routes the same JSON-safe view', async () => {
    const [event] = await collect(fixture.store.readAll({ maxCount: 1 }));
    const view = auditEventView(event!);
    expect(view).toEqual({ ...event, position: '1', revision: '0' });
    expect(() => JSON.stringify(view)).not.toThrow();
  });
});
