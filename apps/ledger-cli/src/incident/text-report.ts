import type { CheckedRefusal, RiskSummary, ScenarioResult, VerifiedIncidentReport } from '@app/incident-scenario';
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
  /** --defences on: the same seed and attack on a second, temporary ledger that requires proofs from the start. */
  readonly defended?: DefendedRun;
}

export interface DefendedRun {
  readonly scenario: ScenarioResult;
  readonly report: VerifiedIncidentReport;
  readonly elapsedMs: number;
}

/** Refusals by code, in the order each code first came: a defended run refuses hundreds of attack commands. */
export function refusalCounts(refusals: readonly CheckedRefusal[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const refusal of refusals) counts[refusal.code] = (counts[refusal.code] ?? 0) + 1;
  return counts;
}

function defendedJson(defended: DefendedRun): unknown {
  const { report: r, scenario: s } = defended;
  return {
    affectedAccounts: r.report.affectedAccounts,
    unauthorizedWithdrawals: r.report.unauthorizedWithdrawals,
    losses: r.report.losses,
    totalUsd: r.report.totalUsd,
    reimbursedUsd: r.report.reimbursedUsd,
    attackRefused: s.attackRefused,
    refusals: refusalCounts(s.refusalsChecked),
    risk: r.report.risk,
    eventLogSha256: r.eventLogSha256,
    events: r.events,
    elapsedMs: defended.elapsedMs,
  };
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
    risk: figures.risk,
    eventLogSha256: r.eventLogSha256,
    replayMatches: r.replayMatches,
    scenario: {
      seed: s.seed,
      accounts: s.accounts,
      events: r.events,
      headPosition: s.headPosition.toString(),
      refusalsChecked: s.refusalsChecked,
      refusals: refusalCounts(s.refusalsChecked),
      claimsChecked: s.claimsChecked,
      store: run.store.temporary ? null : run.store.path,
      readStore: run.store.temporary ? null : run.store.readStorePath,
    },
    defences: run.defended === undefined ? null : defendedJson(run.defended),
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

const policyText = (risk: RiskSummary): string => `${risk.policy.rules.join(', ')} at ${risk.policy.minSeverity} severity or above`;

/** What the risk monitor's rules found in the log before the exchange's own detection, against the ground truth. */
export function riskLines(risk: RiskSummary, openedAt: string): string[] {
  const byRule = Object.entries(risk.byRule).map(([rule, count]) => `${rule} ${count}`).join(', ');
  const lines = [`alerts before the exchange's detection at ${utcText(openedAt)} UTC: ${risk.alertsBeforeDetection}${byRule === '' ? '' : ` (${byRule})`}`];
  const when = (moment: NonNullable<RiskSummary['firstAlert']>) =>
    `${utcText(moment.at)} UTC, ${moment.minutesBeforeDetection} min before, ${moment.rule} (${moment.severity}): ${moment.summary}`;
  if (risk.firstAlert) lines.push(`first alert: ${when(risk.firstAlert)}`);
  lines.push(risk.firstHaltingAlert ? `would have halted withdrawals: ${when(risk.firstHaltingAlert)}` : 'no alert the halting policy acts on');
  const share = (ratio: string | null, part: number, whole: number, what: string) => `${ratio ?? 'n/a'} (${part} of ${whole} ${what})`;
  lines.push(
    `recall ${share(risk.recall, risk.flaggedAttacked, risk.attackedAccounts, 'attacked accounts flagged')}, ` +
      `precision ${share(risk.precision, risk.flaggedAttacked, risk.flaggedAccounts, 'flagged accounts attacked')}`,
  );
  const c = risk.counterfactual;
  if (c && risk.attackedAccounts > 0) {
    const assets = c.lossesPreventedByAsset.map((f) => `${grouped(f.amount)} ${f.asset}`).join(', ');
    lines.push(
      `a halt at that alert would have stopped ${c.stopped} of the unauthorized withdrawals before settlement, ` +
        `${c.lossesPrevented} of them settled (lost) in fact: US$${grouped(c.lossesPreventedUsd)}${assets === '' ? '' : ` (${assets})`}`,
    );
  }
  return lines;
}

function riskSection(run: IncidentRun): string {
  const { risk, openedAt } = run.report.report;
  return [`Risk monitor (the ledger's rules over its own log; halting on ${policyText(risk)})`, ...riskLines(risk, openedAt).map((line) => `  ${line}`)].join('\n');
}

/** The historical run and the defended one, side by side. */
function defencesSection(run: IncidentRun, defended: DefendedRun): string {
  const [h, d] = [run.report, defended.report];
  const refused = defended.scenario.attackRefused;
  const halting = (r: VerifiedIncidentReport) => {
    const moment = r.report.risk.firstHaltingAlert;
    return moment ? `${utcText(moment.at)} (${moment.rule})` : 'none';
  };
  const row = (label: string, historical: string, defendedValue: string) => [label, historical, defendedValue];
  const rows = [
    row('attack whitelistings refused', String(run.scenario.attackRefused.whitelistings), String(refused.whitelistings)),
    row('attack withdrawals refused', String(run.scenario.attackRefused.withdrawals), String(refused.withdrawals)),
    row('affected accounts', String(h.report.affectedAccounts), String(d.report.affectedAccounts)),
    row('unauthorized withdrawals', String(h.report.unauthorizedWithdrawals.total), String(d.report.unauthorizedWithdrawals.total)),
    row('  settled (lost)', String(h.report.unauthorizedWithdrawals.lost), String(d.report.unauthorizedWithdrawals.lost)),
    row('lost, USD', grouped(h.report.totalUsd), grouped(d.report.totalUsd)),
    row('reimbursed, USD', grouped(h.report.reimbursedUsd), grouped(d.report.reimbursedUsd)),
    row('risk alerts before detection', String(h.report.risk.alertsBeforeDetection), String(d.report.risk.alertsBeforeDetection)),
    row('first halting alert', halting(h), halting(d)),
    row('events', grouped(String(h.events)), grouped(String(d.events))),
  ];
  const notes = [
    `  The attackers send the same whitelistings and withdrawals with the customer's token id but no proof: every one is refused`,
    `  SECOND_FACTOR_REQUIRED and appends nothing, so the log holds no trace of the attack for the rules to see.`,
  ];
  const falseAlarms = d.report.risk.flaggedAccounts - d.report.risk.flaggedAttacked;
  if (d.report.risk.alertsBeforeDetection > 0) {
    const alerts = d.report.risk.alertsBeforeDetection === 1 ? 'Its one alert' : `Its ${d.report.risk.alertsBeforeDetection} alerts`;
    notes.push(`  ${alerts} before detection name ${falseAlarms} customer accounts and no attacked one: false alarms, which an admin dismisses.`);
  }
  const counts = Object.entries(refusalCounts(defended.scenario.refusalsChecked)).map(([code, n]) => `${code} ${n}`).join(', ');
  return [
    'With the defences on: the same seed and attack against a ledger that requires proof of the second factor from the start',
    table(['', 'historical', 'defences on'], rows, ['left', 'right', 'right']),
    ...notes,
    `  Refusals checked: ${counts}`,
    `  Event log SHA-256: ${d.eventLogSha256} (${(defended.elapsedMs / 1000).toFixed(1)} s)`,
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
    riskSection(run),
    '',
    ...(run.defended === undefined ? [] : [defencesSection(run, run.defended), '']),
    `Checks: the read models agree with an in-memory replay; ${s.refusalsChecked.length} refusals as the rules demand (${Object.entries(refusalCounts(s.refusalsChecked)).map(([code, n]) => (n === 1 ? code : `${code} ×${n}`)).join(', ')}); ${s.claimsChecked} claims decided as planned`,
    `Event log SHA-256: ${r.eventLogSha256}`,
    ...files,
    `Elapsed: ${(run.elapsedMs / 1000).toFixed(1)} s (scenario ${(run.timings.scenarioMs / 1000).toFixed(1)} s, report ${(run.timings.reportMs / 1000).toFixed(1)} s)`,
  ].join('\n');
}
