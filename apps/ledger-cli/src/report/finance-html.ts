import { escapeHtml } from '../incident/html-report';
import { FINANCE_FILES } from './finance-files';
import type { IncidentFinance } from './incident-finance';

export interface ReportSource {
  /** The event store, without credentials. */
  readonly ledger: string;
  readonly generatedAt: string;
}

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.chosen { background: #fff4d6; }
ol.timeline { list-style: none; padding: 0; border-left: 3px solid #c0392b; margin-left: .5rem; }
ol.timeline li { position: relative; padding: .2rem 0 .6rem 1rem; display: grid; grid-template-columns: 13rem 1fr; gap: .75rem; }
ol.timeline li::before { content: ''; position: absolute; left: -.45rem; top: .55rem; width: .6rem; height: .6rem; border-radius: 50%; background: #c0392b; }
ol.timeline time { font-variant-numeric: tabular-nums; white-space: nowrap; }
ol.timeline .label { overflow-wrap: anywhere; min-width: 0; }
`;

const cell = (value: string | number | null) => `<td>${escapeHtml(value === null ? '—' : String(value))}</td>`;

function figuresTable(finance: IncidentFinance): string {
  const rows = finance.totals.assets.map(
    (row) =>
      `<tr>${cell(row.asset)}${cell(row.lost)}${`<td class="chosen">${escapeHtml(row.lostUsd ?? '—')}</td>`}${cell(row.reimbursed)}${cell(row.paidOut)}${cell(row.outstanding)}${`<td class="chosen">${escapeHtml(row.priceUsd ?? '—')}</td>`}${cell(row.priceRecordedAt)}${cell(row.affectedAccounts)}</tr>`,
  );
  return `<table><thead><tr><th>asset</th><th>lost</th><th>lost, USD</th><th>reimbursed</th><th>paid out (claims)</th><th>outstanding</th><th>price, USD</th><th>price recorded at</th><th>accounts</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function payoutsTable(finance: IncidentFinance): string {
  if (finance.approvedPayouts.length === 0) return '<p>No protection claim of an affected account has been approved.</p>';
  const rows = finance.approvedPayouts.map((claim) => `<tr>${cell(claim.accountId)}${cell(claim.claimId)}${cell(claim.withdrawalId)}${cell(claim.decidedAt)}${cell(claim.payoutUsd)}${cell(claim.capped === true ? 'yes' : 'no')}</tr>`);
  return `<table><thead><tr><th>account</th><th>claim</th><th>withdrawal</th><th>approved at</th><th>payout, USD</th><th>capped</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function timeline(finance: IncidentFinance): string {
  // A list, one row per entry, the label wrapping in its own column: labels can neither overlap nor be cut.
  const items = finance.timeline.map((entry) => `<li><time datetime="${escapeHtml(entry.at)}">${escapeHtml(entry.at.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'))}</time><span class="label">${escapeHtml(entry.label)}</span></li>`);
  const cut = finance.timelineCut ? `<p>Only the first ${finance.timeline.length} entries are shown.</p>` : '';
  return `<ol class="timeline">${items.join('')}</ol>${cut}`;
}

/** A self-contained page: its source, the figures (marking those the ledger chose), approved payouts, links to its CSVs, a timeline. */
export function financeHtml(finance: IncidentFinance, source: ReportSource): string {
  const { totals } = finance;
  const title = `Incident ${totals.incidentId}: finance report`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(totals.title)}, opened ${escapeHtml(totals.openedAt)}.</p>
<h2>Source</h2>
<ul id="source">
<li>Ledger: <code>${escapeHtml(source.ledger)}</code>, its own read models (incident ledger, loss totals, reimbursements, protection claims)</li>
<li>Head position of the log: ${escapeHtml(finance.headPosition?.toString() ?? 'the log is empty')}</li>
<li>Generated at ${escapeHtml(source.generatedAt)}</li>
<li>Every figure is read from the recorded events (a ledger records no simulation seed: for one made by <code>ledger incident</code>, its seed is in that run's output)</li>
</ul>
<h2>Figures</h2>
${figuresTable(finance)}
<p id="chosen" class="chosen">Highlighted figures are chosen by the ledger, not published by anyone: the USD values are the amounts at the
price the ledger recorded (the latest price when the incident was opened, else at its first detection), rounded
half-up to the cent once per figure. The CSVs value each row the same way, so their totals rows may differ from these
by rounding of a cent per row.</p>
<h2>Approved payouts</h2>
${payoutsTable(finance)}
<h2>Files</h2>
<ul id="files">
<li><a href="${FINANCE_FILES.accounts}">${FINANCE_FILES.accounts}</a>: one row per affected account (${finance.accounts.length}), with a totals row</li>
<li><a href="${FINANCE_FILES.reimbursements}">${FINANCE_FILES.reimbursements}</a>: one row per reimbursement (${finance.reimbursements.length}), each with its own reference</li>
<li><a href="${FINANCE_FILES.losses}">${FINANCE_FILES.losses}</a>: per asset, as above</li>
</ul>
<h2>Timeline</h2>
${timeline(finance)}
</body></html>
`;
}
