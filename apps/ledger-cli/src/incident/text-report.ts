import type { ScenarioResult, VerifiedIncidentReport } from '@app/ledger/scenario';
import { DateTime } from 'luxon';
import type { ScenarioStore } from './scenario-store';

/** Everything one `ledger incident` run produced, for the JSON object and the terminal report. */
export interface IncidentRun {
  readonly scenario: ScenarioResult;
  readonly report: VerifiedIncidentReport;
  readonly store: ScenarioStore;
  /** Files written under --out. */
  readonly files: readonly string[];
  readonly elapsedMs: number;
  readonly timings: { readonly scenarioMs: number; readonly reportMs: number };
}

/** The --json object: the headline figures first, then the detail. Amounts stay canonical decimal strings. */
export function incidentJson(run: IncidentRun): unknown {
  const { report: r, scenario: s } = run;
  const figures = r.report;
  return {
    incidentId: figures.incidentId,
    affectedAccounts: figures.affectedAccounts,
    losses: figures.losses,
    otherAssetsUsd: figures.otherAssetsUsd,
    totalUsd: figures.totalUsd,
    prevented: figures.prevented,
    preventedUsd: figures.preventedUsd,
    reimbursed: figures.reimbursed,
    reimbursedUsd: figures.reimbursedUsd,
    netCustomerLoss: figures.netCustomerLoss,
    netCustomerLossUsd: figures.netCustomerLossUsd,
    accountsReimbursedInFull: figures.accountsReimbursedInFull,
    unauthorizedWithdrawals: figures.unauthorizedWithdrawals,
    claims: figures.claims,
    haltDuration: figures.haltDuration,
    attackWindow: figures.attackWindow,
    timeline: figures.timeline,
    eventLogSha256: r.eventLogSha256,
    replayMatches: r.replayMatches,
    scenario: {
      seed: s.seed,
      accounts: s.accounts,
      events: r.events,
      headPosition: s.headPosition.toString(),
      refusalsChecked: s.refusalsChecked,
      claimsChecked: s.claimsChecked,
      store: run.store.temporary ? null : run.store.path,
      readStore: run.store.temporary ? null : run.store.readStorePath,
    },
    files: run.files,
    elapsedMs: run.elapsedMs,
    timings: run.timings,
  };
}

// ---- the terminal report ----------------------------------------------------------------------------------------

/** Groups the integer part of a decimal string in thousands: "15132516.00" -> "15,132,516.00". */
export function grouped(decimal: string): string {
  const [whole, fraction] = decimal.split('.');
  const withCommas = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? withCommas : `${withCommas}.${fraction}`;
}

type Align = 'left' | 'right';

/** A plain-text table: a header, a rule, the rows; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (align[i] === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].map((text) => `  ${text}`).join('\n');
}

const utcText = (iso: string): string => DateTime.fromISO(iso, { zone: 'utc' }).toFormat('yyyy-MM-dd HH:mm');

function timelineSection(run: IncidentRun): string {
  const rows = run.report.report.timeline.map((item) => [
    item.dateOnly ? `${item.at.slice(0, 10)} (day)` : utcText(item.at),
    item.eastern,
    item.source === 'ledger' ? item.event : `(${item.event})`,
  ]);
  return `Timeline (UTC; US Eastern; in parentheses: public coverage, not ledger events)\n${table(['UTC', 'US Eastern', 'event'], rows, ['left', 'left', 'left'])}`;
}

function lossesSection(run: IncidentRun): string {
  const figures = run.report.report;
  const rows = figures.losses.map((loss) => [loss.asset, grouped(loss.amount), grouped(loss.usd), grouped(loss.priceUsd), String(loss.accounts)]);
  rows.push(['other', '', grouped(figures.otherAssetsUsd), '', ''], ['total', '', grouped(figures.totalUsd), '', '']);
  const heading = 'Losses (settled unauthorized withdrawals), in USD at the prices recorded before detection';
  return `${heading}\n${table(['asset', 'lost', 'USD', 'price USD', 'accounts'], rows, ['left', 'right', 'right', 'right', 'right'])}`;
}

function accountsSection(run: IncidentRun): string {
  const { affectedAccounts, accountsReimbursedInFull, unauthorizedWithdrawals: w, attackWindow } = run.report.report;
  const window = attackWindow ? `, requested ${utcText(attackWindow.firstRequestedAt)} to ${utcText(attackWindow.lastRequestedAt)} UTC` : '';
  return [
    `Affected accounts: ${affectedAccounts} (${accountsReimbursedInFull} reimbursed in full)`,
    `Unauthorized withdrawals: ${w.total}: ${w.lost} settled (lost), ${w.prevented} stopped while pending (prevented)${window}`,
  ].join('\n');
}

function preventedSection(run: IncidentRun): string {
  const figures = run.report.report;
  const assets = figures.losses.map((loss) => loss.asset);
  const rows = assets.map((asset) => {
    const prevented = figures.prevented.find((figure) => figure.asset === asset);
    const reimbursed = figures.reimbursed.find((figure) => figure.asset === asset);
    const net = figures.netCustomerLoss[asset] ?? '0';
    return [asset, grouped(prevented?.amount ?? '0'), grouped(prevented?.usd ?? '0.00'), grouped(reimbursed?.amount ?? '0'), grouped(reimbursed?.usd ?? '0.00'), grouped(net)];
  });
  rows.push(['total', '', grouped(figures.preventedUsd), '', grouped(figures.reimbursedUsd), `USD ${grouped(figures.netCustomerLossUsd)}`]);
  const headers = ['asset', 'prevented', 'USD', 'reimbursed', 'USD', 'net customer loss'];
  return `Prevented vs reimbursed; net customer loss = lost - reimbursed\n${table(headers, rows, ['left', 'right', 'right', 'right', 'right', 'right'])}`;
}

function haltSection(run: IncidentRun): string {
  const halt = run.report.report.haltDuration;
  if (!halt) return 'Withdrawals were not resumed in this incident.';
  return [
    `Halt: ${halt.text} (${halt.seconds} s) in the ledger; ${halt.fromAnnouncement.text} from the 04:44 UTC announcement; the company said ${halt.companyStatement}`,
    `  ${halt.explanation}`,
  ].join('\n');
}

function claimsSection(run: IncidentRun): string {
  const claims = run.report.report.claims;
  const rows = Object.entries(claims.byReason).map(([reason, count]) => [reason, String(count)]);
  return [
    `Protection claims (programme from 2022-02-01): ${claims.filed} filed, ${claims.approved} approved (${claims.capped} capped at US$250,000 per account), ${claims.denied} denied`,
    `  claimed US$${grouped(claims.claimedUsd)} on approved claims; payout US$${grouped(claims.payoutUsd)}`,
    table(['denial reason (a denial lists every failed condition)', 'claims'], rows, ['left', 'right']),
  ].join('\n');
}

/** The terminal report: tables, then the checks and the time taken. */
export function incidentText(run: IncidentRun): string {
  const { scenario: s, report: r } = run;
  const store = run.store.temporary ? 'a temporary store (removed at exit; --store PATH keeps one)' : run.store.path;
  const files = run.files.length === 0 ? [] : [`Files: ${run.files.join(', ')}`];
  return [
    `The January 2022 incident (${r.report.incidentId}): ${r.report.title}`,
    `seed ${s.seed}, ${grouped(String(s.accounts))} accounts, ${grouped(String(r.events))} events on ${store}`,
    '',
    timelineSection(run),
    '',
    lossesSection(run),
    '',
    accountsSection(run),
    '',
    preventedSection(run),
    '',
    haltSection(run),
    '',
    claimsSection(run),
    '',
    `Checks: the read models agree with an in-memory replay; ${s.refusalsChecked.length} rules refused what they must (${s.refusalsChecked.map((refusal) => refusal.code).join(', ')}); ${s.claimsChecked} claims decided as planned`,
    `Event log SHA-256: ${r.eventLogSha256}`,
    ...files,
    `Elapsed: ${(run.elapsedMs / 1000).toFixed(1)} s (scenario ${(run.timings.scenarioMs / 1000).toFixed(1)} s, report ${(run.timings.reportMs / 1000).toFixed(1)} s)`,
  ].join('\n');
}
