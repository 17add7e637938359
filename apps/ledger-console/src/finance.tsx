import { useState } from 'preact/hooks';
import { ApiError, dataOf, type LedgerClient, type Schemas } from './api';
import { BarChart } from './chart';
import { Field, Form, Hash, present, Result, Table, useRequest, type Column, type Loaded } from './ui';

export const ASSETS = ['BTC', 'ETH', 'USDC', 'USDT', 'CRO', 'SOL', 'XRP', 'LTC', 'DOGE', 'ADA', 'DOT', 'USD'] as const;
const LEDGER_STATUSES = ['prevented', 'outstanding', 'reimbursed'] as const;
const CLAIM_STATUSES = ['filed', 'approved', 'denied'] as const;

/** The option of a closed list that the select holds, typed; undefined for "any". */
function oneOf<T extends string>(options: readonly T[], value: string): T | undefined {
  return options.find((option) => option === value);
}

function Select({ label, name, options, value, onInput }: { label: string; name: string; options: readonly string[]; value: string; onInput: (value: string) => void }) {
  return (
    <label>
      {label}
      <select name={name} value={value} onChange={(event) => onInput(event.currentTarget.value)}>
        <option value="">any</option>
        {options.map((option) => <option value={option}>{option}</option>)}
      </select>
    </label>
  );
}

interface Page<Row> {
  readonly items: readonly Row[];
  readonly nextCursor: string | null;
}

function NextPage({ cursor, onNext }: { cursor: string | null; onNext: (cursor: string) => void }) {
  return cursor === null ? null : <button type="button" class="pager" onClick={() => onNext(cursor)}>Next page</button>;
}

/** A paged read model's answer: its rows, and the next page (by the cursor the API handed back) when there is one. */
function PagedTable<Row>({ state, onNext, ...table }: { state: Loaded<Page<Row>>; onNext: (cursor: string) => void; testId: string; empty: string; columns: readonly Column<Row>[] }) {
  return (
    <Result state={state}>
      {(page) => (
        <>
          <Table rows={page.items} {...table} />
          <NextPage cursor={page.nextCursor} onNext={onNext} />
        </>
      )}
    </Result>
  );
}

type LedgerEntry = Schemas['IncidentLedgerEntry'];

function lossCell(entry: LedgerEntry, field: 'lost' | 'reimbursed' | 'paidOut' | 'outstanding') {
  if (entry.assets === undefined) return entry[field] ?? '0';
  return Object.entries(entry.assets).map(([asset, loss]) => <div>{`${loss[field]} ${asset}`}</div>);
}

export function IncidentLedgerView({ client }: { client: LedgerClient }) {
  const [form, setForm] = useState({ incidentId: '', accountId: '', asset: '', status: '' });
  const [state, load] = useRequest((cursor?: string) =>
    dataOf(
      client.GET('/v1/incidents/{id}/ledger', {
        params: {
          path: { id: form.incidentId.trim() },
          query: { accountId: present(form.accountId), asset: oneOf(ASSETS, form.asset), status: oneOf(LEDGER_STATUSES, form.status), cursor },
        },
      }),
    ),
  );
  return (
    <section>
      <h2>Incident ledger</h2>
      <Form onSubmit={() => load()} submit="Show">
        <Field label="Incident" name="incidentId" value={form.incidentId} onInput={(incidentId) => setForm({ ...form, incidentId })} placeholder="inc-2022-01" />
        <Field label="Account" name="accountId" value={form.accountId} onInput={(accountId) => setForm({ ...form, accountId })} />
        <Select label="Asset" name="asset" options={ASSETS} value={form.asset} onInput={(asset) => setForm({ ...form, asset })} />
        <Select label="Status" name="status" options={LEDGER_STATUSES} value={form.status} onInput={(status) => setForm({ ...form, status })} />
      </Form>
      <PagedTable
        state={state}
        onNext={(cursor) => load(cursor)}
        testId="incident-ledger"
        empty="No affected account matches."
        columns={[
          { title: 'Account', cell: (row) => row.accountId },
          { title: 'Status', cell: (row) => <span class={`badge ${row.status}`}>{row.status}</span> },
          { title: 'Unauthorized withdrawals', cell: (row) => row.withdrawals.map((w) => <div>{`${w.withdrawalId}: ${w.amount} ${w.asset} (${w.outcome})`}</div>) },
          { title: 'Lost', cell: (row) => lossCell(row, 'lost'), numeric: true },
          { title: 'Reimbursed', cell: (row) => lossCell(row, 'reimbursed'), numeric: true },
          { title: 'Paid by claims', cell: (row) => lossCell(row, 'paidOut'), numeric: true },
          { title: 'Outstanding', cell: (row) => lossCell(row, 'outstanding'), numeric: true },
        ]}
      />
    </section>
  );
}

function AsOfFields({ form, setForm }: { form: { asOfPosition: string; asOf: string }; setForm: (change: Partial<{ asOfPosition: string; asOf: string }>) => void }) {
  return (
    <>
      <Field label="As of position" name="asOfPosition" value={form.asOfPosition} onInput={(asOfPosition) => setForm({ asOfPosition })} placeholder="latest" />
      <Field label="or as of time (UTC)" name="asOf" value={form.asOf} onInput={(asOf) => setForm({ asOf })} placeholder="2022-01-18T00:00:00Z" />
    </>
  );
}

export function LossTotalsView({ client }: { client: LedgerClient }) {
  const [form, setForm] = useState({ incidentId: '', asOfPosition: '', asOf: '' });
  const [state, load] = useRequest(() =>
    dataOf(client.GET('/v1/incidents/{id}/loss-totals', { params: { path: { id: form.incidentId.trim() }, query: { asOfPosition: present(form.asOfPosition), asOf: present(form.asOf) } } })),
  );
  return (
    <section>
      <h2>Loss totals per asset</h2>
      <Form onSubmit={() => load()} submit="Show">
        <Field label="Incident" name="incidentId" value={form.incidentId} onInput={(incidentId) => setForm({ ...form, incidentId })} placeholder="inc-2022-01" />
        <AsOfFields form={form} setForm={(change) => setForm({ ...form, ...change })} />
      </Form>
      <Result state={state}>
        {(totals) => (
          <>
            <p data-testid="loss-summary">
              {totals.title}: lost ${totals.totalLostUsd}, reimbursed ${totals.totalReimbursedUsd}, protection payouts ${totals.totalPayoutUsd}, outstanding $
              {totals.totalOutstandingUsd} (as of position {totals.position}){totals.unpricedAssets.length > 0 ? `; no price for ${totals.unpricedAssets.join(', ')}` : ''}
            </p>
            <BarChart
              title="USD lost, reimbursed and outstanding per asset"
              groups={totals.assets.map((row) => ({
                label: row.asset,
                values: [
                  { name: 'lost', value: row.lostUsd },
                  { name: 'reimbursed', value: row.reimbursedUsd },
                  { name: 'outstanding', value: row.outstandingUsd },
                ],
              }))}
            />
            <Table
              testId="loss-totals"
              rows={totals.assets}
              empty="No loss in this incident."
              columns={[
                { title: 'Asset', cell: (row) => row.asset },
                { title: 'Lost', cell: (row) => row.lost, numeric: true },
                { title: 'Prevented', cell: (row) => row.prevented, numeric: true },
                { title: 'Reimbursed', cell: (row) => row.reimbursed, numeric: true },
                { title: 'Outstanding', cell: (row) => row.outstanding, numeric: true },
                { title: 'Price (USD)', cell: (row) => row.priceUsd ?? '—', numeric: true },
                { title: 'Lost (USD)', cell: (row) => row.lostUsd ?? '—', numeric: true },
                { title: 'Outstanding (USD)', cell: (row) => row.outstandingUsd ?? '—', numeric: true },
                { title: 'Accounts', cell: (row) => row.affectedAccounts, numeric: true },
              ]}
            />
          </>
        )}
      </Result>
    </section>
  );
}

/** Saves a CSV the API answered, without navigating: a link to the blob, clicked once, then released. */
function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ReimbursementsView({ client }: { client: LedgerClient }) {
  const [form, setForm] = useState({ incidentId: '', accountId: '', asset: '' });
  const query = () => ({ incidentId: present(form.incidentId), accountId: present(form.accountId), asset: oneOf(ASSETS, form.asset) });
  const [state, load] = useRequest(async (cursor?: string) => {
    // The route answers JSON, or CSV with ?format=csv: without it, a string would be a broken answer.
    const page = await dataOf(client.GET('/v1/reimbursements', { params: { query: { ...query(), cursor } } }));
    if (typeof page === 'string') throw new ApiError(0, 'the reimbursements answer was not JSON');
    return page;
  });
  const [download, runDownload] = useRequest(async () => {
    const blob = await dataOf(client.GET('/v1/reimbursements', { params: { query: { ...query(), format: 'csv' } }, parseAs: 'blob' }));
    saveFile(blob, 'reimbursements.csv');
    return blob.size;
  });
  return (
    <section>
      <h2>Reimbursements</h2>
      <Form onSubmit={() => load()} submit="Show">
        <Field label="Incident" name="incidentId" value={form.incidentId} onInput={(incidentId) => setForm({ ...form, incidentId })} />
        <Field label="Account" name="accountId" value={form.accountId} onInput={(accountId) => setForm({ ...form, accountId })} />
        <Select label="Asset" name="asset" options={ASSETS} value={form.asset} onInput={(asset) => setForm({ ...form, asset })} />
      </Form>
      <button type="button" onClick={() => runDownload()} data-testid="download-csv">Download CSV</button>
      <Result state={download}>{(bytes) => <span class="muted">{`Saved reimbursements.csv (${bytes} bytes)`}</span>}</Result>
      <PagedTable
        state={state}
        onNext={(cursor) => load(cursor)}
        testId="reimbursements"
        empty="No reimbursement matches."
        columns={[
          { title: 'Reimbursement', cell: (row) => row.reimbursementId },
          { title: 'Account', cell: (row) => row.accountId },
          { title: 'Incident', cell: (row) => row.incidentId },
          { title: 'Amount', cell: (row) => `${row.amount} ${row.asset}`, numeric: true },
          { title: 'At', cell: (row) => row.reimbursedAt },
          { title: 'Position', cell: (row) => row.position, numeric: true },
        ]}
      />
    </section>
  );
}

export function ProtectionClaimsView({ client }: { client: LedgerClient }) {
  const [form, setForm] = useState({ accountId: '', status: '' });
  const [state, load] = useRequest((cursor?: string) =>
    dataOf(client.GET('/v1/protection-claims', { params: { query: { accountId: present(form.accountId), status: oneOf(CLAIM_STATUSES, form.status), cursor } } })),
  );
  return (
    <section>
      <h2>Protection claims</h2>
      <Form onSubmit={() => load()} submit="Show">
        <Field label="Account" name="accountId" value={form.accountId} onInput={(accountId) => setForm({ ...form, accountId })} />
        <Select label="Decision" name="status" options={CLAIM_STATUSES} value={form.status} onInput={(status) => setForm({ ...form, status })} />
      </Form>
      <PagedTable
        state={state}
        onNext={(cursor) => load(cursor)}
        testId="protection-claims"
        empty="No claim matches."
        columns={[
          { title: 'Claim', cell: (row) => row.claimId },
          { title: 'Account', cell: (row) => row.accountId },
          { title: 'Withdrawal', cell: (row) => row.withdrawalId },
          { title: 'Decision', cell: (row) => <span class={`badge ${row.status}`}>{row.status}</span> },
          { title: 'Reasons', cell: (row) => (row.reasons.length === 0 ? '—' : row.reasons.join(', ')) },
          { title: 'Claimed (USD)', cell: (row) => row.claimedUsd ?? '—', numeric: true },
          { title: 'Payout (USD)', cell: (row) => `${row.payoutUsd ?? '—'}${row.capped === true ? ' (capped)' : ''}`, numeric: true },
          { title: 'Police report', cell: (row) => <Hash value={row.policeReportReference} /> },
        ]}
      />
    </section>
  );
}

export { AsOfFields };
