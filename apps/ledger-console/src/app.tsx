import { useEffect, useState } from 'preact/hooks';
import { ApiError, clientFor, dataOf, roleOf, type LedgerClient, type ConsoleRole } from './api';
import { AsOfBalancesView, GlobalLogView, StreamBrowserView, VerifyView } from './audit';
import { IncidentLedgerView, LossTotalsView, ProtectionClaimsView, ReimbursementsView } from './finance';
import { ErrorBox, Result, Table, useRequest } from './ui';

interface View {
  readonly id: string;
  readonly title: string;
  readonly roles: readonly ConsoleRole[];
  readonly render: (client: LedgerClient) => preact.ComponentChildren;
}

/** Finance reads the projections; auditors read them too, and the raw log; every key sees the status. */
const VIEWS: readonly View[] = [
  { id: 'status', title: 'Status', roles: ['auditor', 'finance', 'other'], render: (client) => <StatusView client={client} /> },
  { id: 'incident-ledger', title: 'Incident ledger', roles: ['finance', 'auditor'], render: (client) => <IncidentLedgerView client={client} /> },
  { id: 'loss-totals', title: 'Loss totals', roles: ['finance', 'auditor'], render: (client) => <LossTotalsView client={client} /> },
  { id: 'reimbursements', title: 'Reimbursements', roles: ['finance', 'auditor'], render: (client) => <ReimbursementsView client={client} /> },
  { id: 'protection-claims', title: 'Protection claims', roles: ['finance', 'auditor'], render: (client) => <ProtectionClaimsView client={client} /> },
  { id: 'streams', title: 'Streams', roles: ['auditor'], render: (client) => <StreamBrowserView client={client} /> },
  { id: 'log', title: 'Global log', roles: ['auditor'], render: (client) => <GlobalLogView client={client} /> },
  { id: 'verify', title: 'Verify', roles: ['auditor'], render: (client) => <VerifyView client={client} /> },
  { id: 'as-of', title: 'As of', roles: ['finance', 'auditor'], render: (client) => <AsOfBalancesView client={client} /> },
];

/** Head position and projection lag, refreshed every 5 s while shown. */
function StatusView({ client }: { client: LedgerClient }) {
  const [state, load] = useRequest(() => dataOf(client.GET('/health')));
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 5_000);
    return () => clearInterval(timer);
  }, [load]);
  return (
    <section>
      <h2>Status</h2>
      <Result state={state}>
        {(health) => (
          <>
            <p>
              Head position <strong data-testid="head-position">{health.headPosition ?? '—'}</strong> · event store {health.eventStore} · read store {health.readStore}
            </p>
            <Table
              testId="projections"
              rows={health.projections}
              empty="No projection."
              columns={[
                { title: 'Projection', cell: (p) => p.name },
                { title: 'Checkpoint', cell: (p) => p.position ?? '—', numeric: true },
                { title: 'Lag (events)', cell: (p) => p.lagEvents, numeric: true },
                { title: 'Lag (seconds)', cell: (p) => p.lagSeconds.toFixed(1), numeric: true },
              ]}
            />
          </>
        )}
      </Result>
    </section>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (client: LedgerClient, role: ConsoleRole) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="sign-in"
      onSubmit={async (event) => {
        event.preventDefault();
        setBusy(true);
        setError(null);
        const client = clientFor(key.trim());
        try {
          onSignedIn(client, await roleOf(client));
        } catch (failure) {
          setError(failure instanceof ApiError ? failure : new ApiError(0, String(failure)));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h1>Ledger console</h1>
      <p class="muted">Sign in with a finance or auditor API key. It stays in this page's memory only: reloading signs you out.</p>
      <label>
        API key
        <input name="apiKey" type="password" autocomplete="off" value={key} onInput={(event) => setKey(event.currentTarget.value)} />
      </label>
      <button type="submit" disabled={busy || key.trim() === ''}>Sign in</button>
      {error !== null ? <ErrorBox error={error} /> : null}
    </form>
  );
}

export function App() {
  const [session, setSession] = useState<{ client: LedgerClient; role: ConsoleRole } | null>(null);
  const [viewId, setViewId] = useState('status');
  if (session === null) return <SignIn onSignedIn={(client, role) => setSession({ client, role })} />;
  const views = VIEWS.filter((view) => view.roles.includes(session.role));
  const view = views.find((candidate) => candidate.id === viewId) ?? views[0]!;
  return (
    <div class="layout">
      <nav>
        <strong>Ledger console</strong>
        <span class="muted" data-testid="role">{session.role === 'other' ? 'status only' : session.role}</span>
        {views.map((candidate) => (
          <button type="button" class={candidate.id === view.id ? 'active' : undefined} data-view={candidate.id} onClick={() => setViewId(candidate.id)}>
            {candidate.title}
          </button>
        ))}
        <button type="button" class="sign-out" onClick={() => setSession(null)}>Sign out</button>
      </nav>
      <main>{view.render(session.client)}</main>
    </div>
  );
}
