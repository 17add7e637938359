import { useState } from 'preact/hooks';
import { dataOf, type LedgerClient, type Schemas } from './api';
import { AsOfFields } from './finance';
import { Field, Form, Hash, present, Result, Table, useRequest, type Column } from './ui';

type AuditEvent = Schemas['AuditEvent'];

const EVENT_COLUMNS: readonly Column<AuditEvent>[] = [
  { title: 'Position', cell: (event) => event.position, numeric: true },
  { title: 'Stream', cell: (event) => event.streamId },
  { title: 'Rev.', cell: (event) => event.revision, numeric: true },
  { title: 'Type', cell: (event) => event.type },
  { title: 'Recorded at', cell: (event) => String(event.metadata.recordedAt ?? '—') },
  { title: 'Hash', cell: (event) => <Hash value={event.metadata.hash} /> },
  { title: 'Prev. hash', cell: (event) => <Hash value={event.metadata.prevHash} /> },
  {
    title: 'Data and metadata',
    cell: (event) => (
      <details>
        <summary>show</summary>
        <pre>{JSON.stringify({ data: event.data, metadata: event.metadata }, null, 2)}</pre>
      </details>
    ),
  },
];

function Paging({ page, next, onNext, onBack }: { page: number; next: string | null; onNext: (next: string) => void; onBack: () => void }) {
  return (
    <p class="paging">
      <button type="button" disabled={page === 1} onClick={onBack}>Previous page</button>
      <span data-testid="page-number">Page {page}</span>
      <button type="button" disabled={next === null} onClick={() => next !== null && onNext(next)}>Next page</button>
    </p>
  );
}

/**
 * Events read a page at a time from a start (a revision or a position), remembering where each page began so that
 * the auditor can go back as well as forward.
 */
function usePagedEvents(read: (from: string) => Promise<{ events: AuditEvent[]; next: string | null }>) {
  const [starts, setStarts] = useState<string[]>([]);
  const [from, setFrom] = useState('0');
  const [state, load] = useRequest(read);
  const open = (start: string, earlier: string[]) => {
    setStarts(earlier);
    setFrom(start);
    void load(start);
  };
  return {
    start: (at: string) => open(at, []),
    render: (testId: string, empty: string) => (
      <Result state={state}>
        {(page) => (
          <>
            <Table testId={testId} rows={page.events} empty={empty} columns={EVENT_COLUMNS} />
            <Paging
              page={starts.length + 1}
              next={page.next}
              onNext={(next) => open(next, [...starts, from])}
              onBack={() => open(starts[starts.length - 1] ?? '0', starts.slice(0, -1))}
            />
          </>
        )}
      </Result>
    ),
  };
}

export function StreamBrowserView({ client }: { client: LedgerClient }) {
  const [form, setForm] = useState({ stream: '', limit: '20' });
  const events = usePagedEvents((fromRevision) =>
    dataOf(client.GET('/v1/audit/streams/{stream}', { params: { path: { stream: form.stream.trim() }, query: { fromRevision, limit: present(form.limit) } } })),
  );
  return (
    <section>
      <h2>Stream browser</h2>
      <Form onSubmit={() => events.start('0')} submit="Open">
        <Field label="Stream" name="stream" value={form.stream} onInput={(stream) => setForm({ ...form, stream })} placeholder="account-alice" />
        <Field label="Per page" name="limit" value={form.limit} onInput={(limit) => setForm({ ...form, limit })} />
      </Form>
      {events.render('stream-events', 'This stream has no events.')}
    </section>
  );
}

export function GlobalLogView({ client }: { client: LedgerClient }) {
  const [form, setForm] = useState({ fromPosition: '0', limit: '20' });
  const events = usePagedEvents((fromPosition) => dataOf(client.GET('/v1/audit/events', { params: { query: { fromPosition, limit: present(form.limit) } } })));
  return (
    <section>
      <h2>Global log</h2>
      <Form onSubmit={() => events.start(form.fromPosition.trim() || '0')} submit="Read">
        <Field label="From position" name="fromPosition" value={form.fromPosition} onInput={(fromPosition) => setForm({ ...form, fromPosition })} />
        <Field label="Per page" name="limit" value={form.limit} onInput={(limit) => setForm({ ...form, limit })} />
      </Form>
      {events.render('log-events', 'No events from this position.')}
    </section>
  );
}

export function VerifyView({ client }: { client: LedgerClient }) {
  const [stream, setStream] = useState('');
  const [state, verify] = useRequest(() => dataOf(client.GET('/v1/audit/verify', { params: { query: { stream: present(stream) } } })));
  return (
    <section>
      <h2>Verify the hash chain</h2>
      <Form onSubmit={() => verify()} submit="Verify">
        <Field label="One stream (empty: every stream)" name="stream" value={stream} onInput={setStream} />
      </Form>
      <Result state={state}>
        {(report) => (
          <div data-testid="verify-report" class={report.ok ? 'ok' : 'failed'}>
            <p>
              {report.ok ? 'Intact' : 'BROKEN'}: {report.eventsChecked} events in {report.streamsChecked} streams checked, up to position {report.headPosition ?? '—'}.
            </p>
            {report.firstFailure !== null ? (
              <dl data-testid="first-failure">
                <dt>Reason</dt>
                <dd>{report.firstFailure.reason}</dd>
                <dt>Stream</dt>
                <dd>{report.firstFailure.streamId ?? '—'}</dd>
                <dt>Revision</dt>
                <dd>{report.firstFailure.revision ?? '—'}</dd>
                <dt>Position</dt>
                <dd>{report.firstFailure.position ?? '—'}</dd>
                <dt>Event</dt>
                <dd>{report.firstFailure.eventId ?? '—'}</dd>
                <dt>Detail</dt>
                <dd>{report.firstFailure.detail}</dd>
              </dl>
            ) : null}
          </div>
        )}
      </Result>
    </section>
  );
}

export function AsOfBalancesView({ client }: { client: LedgerClient }) {
  const [form, setForm] = useState({ accountId: '', asOfPosition: '', asOf: '' });
  const [state, load] = useRequest(() =>
    dataOf(client.GET('/v1/accounts/{id}/balances', { params: { path: { id: form.accountId.trim() }, query: { asOfPosition: present(form.asOfPosition), asOf: present(form.asOf) } } })),
  );
  return (
    <section>
      <h2>Balances as of a position or time</h2>
      <Form onSubmit={() => load()} submit="Show">
        <Field label="Account" name="accountId" value={form.accountId} onInput={(accountId) => setForm({ ...form, accountId })} placeholder="alice" />
        <AsOfFields form={form} setForm={(change) => setForm({ ...form, ...change })} />
      </Form>
      <Result state={state}>
        {(view) => (
          <>
            <p>
              {view.accountId} as of position <span data-testid="as-of-position">{view.position}</span>
            </p>
            <Table
              testId="balances"
              rows={Object.entries(view.balances)}
              empty="No balance yet."
              columns={[
                { title: 'Asset', cell: ([asset]) => asset },
                { title: 'Available', cell: ([, balance]) => balance.available, numeric: true },
                { title: 'Held', cell: ([, balance]) => balance.held, numeric: true },
                { title: 'Withdrawn', cell: ([, balance]) => balance.withdrawn, numeric: true },
                { title: 'Deposited', cell: ([, balance]) => balance.deposited, numeric: true },
                { title: 'Reimbursed', cell: ([, balance]) => balance.reimbursed, numeric: true },
              ]}
            />
          </>
        )}
      </Result>
    </section>
  );
}
