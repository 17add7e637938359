import { easternOf, type IncidentReport, type TimelineItem, type VerifiedIncidentReport } from '@app/incident-scenario';
import { DateTime } from 'luxon';
import { grouped } from './text-report';

/**
 * report.html: one self-contained file (inline CSS and SVG, no script, nothing fetched), so that it can be mailed or
 * archived with the CSVs. Every figure comes from the verified report.
 */

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const usd = (decimal: string): string => `US$${grouped(decimal)}`;
const CHART_WIDTH = 860;
/** Approximate width of one character of the charts' 12px sans-serif labels, to keep labels from overlapping. */
const CHAR_WIDTH = 7.2;

interface Bar {
  readonly label: string;
  readonly cents: bigint;
  readonly text: string;
}

const centsOf = (decimal: string): bigint => BigInt(decimal.replace('.', ''));

/** A horizontal bar chart; bars scale to the largest, and every bar shows its value. */
export function barChartSvg(title: string, bars: readonly Bar[]): string {
  const rowHeight = 30;
  const labelWidth = 70;
  const valueWidth = 170;
  const barArea = CHART_WIDTH - labelWidth - valueWidth;
  const max = bars.reduce((m, bar) => (bar.cents > m ? bar.cents : m), 1n);
  const height = 34 + rowHeight * bars.length;
  const rows = bars.map((bar, i) => {
    const y = 30 + i * rowHeight;
    // Per mille of the largest bar, in integers: cents never pass through a float.
    const width = bar.cents === 0n ? 0 : Math.max(1, Math.round((Number((bar.cents * 1000n) / max) / 1000) * barArea));
    return [
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${width}" height="20" fill="#c0392b"><title>${escapeHtml(`${bar.label}: ${bar.text}`)}</title></rect>`,
      `<text x="${labelWidth + width + 6}" y="${y + 15}">${escapeHtml(bar.text)}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<text x="0" y="16" font-weight="bold" font-size="14">${escapeHtml(title)}</text>`,
    ...rows,
    '</svg>',
  ].join('\n');
}

const instant = (iso: string): DateTime => DateTime.fromISO(iso, { zone: 'utc' });

/** The timeline from the first unauthorized withdrawal to the hold policy: bands for the attack and the halt, a marker per event. */
export function timelineSvg(report: IncidentReport): string {
  const first = instant(report.attackWindow?.firstRequestedAt ?? report.openedAt).minus({ hours: 1 }).startOf('hour');
  // Date-only public milestones would show a time nobody reported; they stay in the table below the chart.
  const near = withRiskMarks(report).filter((item) => !item.dateOnly && instant(item.at) >= first && instant(item.at) <= instant(report.openedAt).plus({ hours: 48 }));
  const last = instant(near[near.length - 1]?.at ?? report.openedAt).plus({ hours: 2 }).startOf('hour');
  // Room at both ends for the tick labels, which are centred on their tick.
  const left = 50;
  const right = CHART_WIDTH - 50;
  const spanMs = last.toMillis() - first.toMillis();
  const x = (iso: string | DateTime) => left + ((typeof iso === 'string' ? instant(iso) : iso).toMillis() - first.toMillis()) / spanMs * (right - left);
  const { marks, lanes } = timelineMarks(near, x);
  const axisY = 40 + lanes * 18 + 20;
  const height = axisY + 50;
  const bands: string[] = [];
  const band = (from: string, to: string, colour: string, label: string) =>
    bands.push(`<rect x="${x(from)}" y="30" width="${Math.max(1, x(to) - x(from))}" height="${axisY - 30}" fill="${colour}" opacity="0.18"><title>${escapeHtml(label)}</title></rect>`);
  if (report.attackWindow) band(report.attackWindow.firstRequestedAt, report.attackWindow.lastRequestedAt, '#c0392b', 'unauthorized withdrawals requested');
  if (report.haltDuration) band(report.haltDuration.haltedAt, report.haltDuration.resumedAt, '#e67e22', `withdrawals halted ${report.haltDuration.text}`);
  const ticks: string[] = [];
  for (let tick = first.startOf('day'); tick <= last; tick = tick.plus({ hours: 6 })) {
    if (tick < first) continue;
    const tx = x(tick);
    const eastern = tick.setZone('America/New_York');
    ticks.push(
      `<line x1="${tx}" y1="${axisY}" x2="${tx}" y2="${axisY + 5}" stroke="#333"/>` +
        `<text x="${tx}" y="${axisY + 18}" text-anchor="middle">${tick.toFormat('MM-dd HH:mm')} UTC</text>` +
        `<text x="${tx}" y="${axisY + 32}" text-anchor="middle" fill="#666">${eastern.toFormat('MM-dd HH:mm')} ET</text>`,
    );
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Incident timeline" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<text x="0" y="16" font-weight="bold" font-size="14">Timeline: unauthorized withdrawals (red band) and the halt (orange band)</text>`,
    ...bands,
    `<line x1="${left}" y1="${axisY}" x2="${right}" y2="${axisY}" stroke="#333"/>`,
    ...ticks,
    ...marks.map((mark) => mark(axisY)),
    '</svg>',
  ].join('\n');
}

/** The timeline's items with the risk monitor's two moments: its first alert and the alert it would have halted on. */
function withRiskMarks(report: IncidentReport): TimelineItem[] {
  const { firstAlert, firstHaltingAlert } = report.risk;
  const mark = (at: string, event: string): TimelineItem => ({ at, eastern: easternOf(at), event, source: 'ledger', dateOnly: false });
  const marks: TimelineItem[] = [];
  if (firstAlert) marks.push(mark(firstAlert.at, `Risk monitor: first alert (${firstAlert.rule})`));
  if (firstHaltingAlert && firstHaltingAlert.alertId !== firstAlert?.alertId) marks.push(mark(firstHaltingAlert.at, `Risk monitor would halt (${firstHaltingAlert.rule})`));
  else if (firstHaltingAlert) marks[0] = mark(firstHaltingAlert.at, `Risk monitor: first alert, would halt (${firstHaltingAlert.rule})`);
  const at = (item: TimelineItem) => instant(item.at).toMillis();
  return [...report.timeline, ...marks].sort((a, b) => at(a) - at(b));
}

/** One marker per event, its label on the first lane where it overlaps no other label. */
function timelineMarks(items: readonly TimelineItem[], x: (iso: string) => number): { marks: ((axisY: number) => string)[]; lanes: number } {
  const lanes: [number, number][][] = [];
  const marks = items.map((item) => {
    const at = x(item.at);
    const label = `${instant(item.at).toFormat('HH:mm')} ${item.event.length > 60 ? `${item.event.slice(0, 57)}...` : item.event}`;
    const width = label.length * CHAR_WIDTH;
    const anchorRight = at + width > CHART_WIDTH;
    const [start, end] = anchorRight ? [at - width, at] : [at, at + width];
    const free = (taken: [number, number][]) => taken.every(([from, to]) => end + 8 < from || start > to + 8);
    let lane = lanes.findIndex(free);
    if (lane === -1) lane = lanes.push([]) - 1;
    lanes[lane]!.push([start, end]);
    const colour = item.source === 'ledger' ? '#222' : '#888';
    const dash = item.source === 'ledger' ? '' : ' stroke-dasharray="3,3"';
    return (axisY: number) => {
      const y = 44 + lane * 18;
      return (
        `<line x1="${at}" y1="${y + 3}" x2="${at}" y2="${axisY}" stroke="${colour}"${dash}/>` +
        `<text x="${at + (anchorRight ? -3 : 3)}" y="${y}" text-anchor="${anchorRight ? 'end' : 'start'}" fill="${colour}"><title>${escapeHtml(`${item.at} (${item.eastern}): ${item.event}`)}</title>${escapeHtml(label)}</text>`
      );
    };
  });
  return { marks, lanes: Math.max(1, lanes.length) };
}

function htmlTable(headers: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[] = []): string {
  const cell = (tag: string, text: string, i: number) => `<${tag}${numeric[i] ? ' class="num"' : ''}>${escapeHtml(text)}</${tag}>`;
  return `<table><thead><tr>${headers.map((h, i) => cell('th', h, i)).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((c, i) => cell('td', c, i)).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function sections(report: VerifiedIncidentReport): string[] {
  const r = report.report;
  const money = [false, true, true, true, true, true];
  const losses = r.losses.map((loss) => [loss.asset, grouped(loss.amount), usd(loss.usd), grouped(loss.priceUsd), String(loss.accounts)]);
  const flows = r.losses.map((loss) => {
    const prevented = r.prevented.find((f) => f.asset === loss.asset);
    const reimbursed = r.reimbursed.find((f) => f.asset === loss.asset);
    return [loss.asset, grouped(prevented?.amount ?? '0'), usd(prevented?.usd ?? '0.00'), grouped(reimbursed?.amount ?? '0'), usd(reimbursed?.usd ?? '0.00'), grouped(r.netCustomerLoss[loss.asset] ?? '0')];
  });
  const reasons = Object.entries(r.claims.byReason).map(([reason, count]) => [reason, String(count)]);
  const halt = r.haltDuration;
  return [
    `<h2>Losses per asset</h2>${htmlTable(['asset', 'lost', 'USD', 'price USD', 'accounts'], losses, [false, true, true, true, true])}`,
    `<p>Other assets: <b>${usd(r.otherAssetsUsd)}</b>. Total: <b>${usd(r.totalUsd)}</b>.</p>`,
    barChartSvg('Losses per asset (USD at the prices recorded before detection)', r.losses.map((l) => ({ label: l.asset, cents: centsOf(l.usd), text: usd(l.usd) }))),
    barChartSvg(
      `Other assets, to scale among themselves (${usd(r.otherAssetsUsd)})`,
      r.losses.filter((l) => l.asset !== 'ETH' && l.asset !== 'BTC').map((l) => ({ label: l.asset, cents: centsOf(l.usd), text: usd(l.usd) })),
    ),
    `<h2>Prevented vs reimbursed</h2>${htmlTable(['asset', 'prevented', 'USD', 'reimbursed', 'USD', 'net customer loss'], flows, money)}`,
    `<p>Unauthorized withdrawals: ${r.unauthorizedWithdrawals.total} (${r.unauthorizedWithdrawals.lost} lost, ${r.unauthorizedWithdrawals.prevented} prevented). Net customer loss: <b>${usd(r.netCustomerLossUsd)}</b>; ${r.accountsReimbursedInFull} of ${r.affectedAccounts} accounts reimbursed in full.</p>`,
    `<h2>Timeline</h2>${timelineSvg(r)}`,
    halt ? `<p>Withdrawals halted for <b>${escapeHtml(halt.text)}</b> by the ledger; the company said ${escapeHtml(halt.companyStatement)}. ${escapeHtml(halt.explanation)}</p>` : '',
    htmlTable(['UTC', 'US Eastern', 'event', 'source'], r.timeline.map((item) => [item.at, item.eastern, item.event, item.source])),
    `<h2>Protection claims</h2><p>${r.claims.filed} filed, ${r.claims.approved} approved (${r.claims.capped} capped), ${r.claims.denied} denied; payout ${usd(r.claims.payoutUsd)}.</p>`,
    htmlTable(['denial reason', 'claims'], reasons, [false, true]),
    riskHtml(r),
  ];
}

function riskHtml(r: IncidentReport, heading = '<h2>Risk monitor</h2>', level: 'h3' | 'h4' = 'h3'): string {
  const risk = r.risk;
  const byRule = Object.entries(risk.byRule).map(([rule, count]) => [rule, String(count)]);
  const alerts = risk.timeline.map((alert) => [alert.at, alert.rule, alert.severity, alert.halts ? 'yes' : '', String(alert.accounts), alert.summary]);
  const halting = risk.firstHaltingAlert;
  const c = risk.counterfactual;
  const counterfactual =
    c && risk.attackedAccounts > 0
      ? ` A halt at that alert would have stopped <b>${c.stopped}</b> unauthorized withdrawals before settlement, ${c.lossesPrevented} of which settled in fact: <b>${usd(c.lossesPreventedUsd)}</b> of losses.`
      : '';
  return [
    heading,
    `<p>The ledger's own rules over its log, halting on ${escapeHtml(risk.policy.rules.join(', '))} at ${escapeHtml(risk.policy.minSeverity)} severity or above. ` +
      `<b>${risk.alertsBeforeDetection}</b> alerts before the exchange's detection at ${escapeHtml(r.openedAt)}` +
      (risk.firstAlert ? `; the first at ${escapeHtml(risk.firstAlert.at)}, ${risk.firstAlert.minutesBeforeDetection} minutes earlier` : '') +
      (halting ? `; it would have halted withdrawals at <b>${escapeHtml(halting.at)}</b> (${escapeHtml(halting.rule)}).` : '; no alert the policy halts on.') +
      ` Recall ${escapeHtml(risk.recall ?? 'n/a')} (${risk.flaggedAttacked} of ${risk.attackedAccounts} attacked accounts flagged), precision ${escapeHtml(risk.precision ?? 'n/a')} (${risk.flaggedAttacked} of ${risk.flaggedAccounts} flagged accounts attacked).${counterfactual}</p>`,
    htmlTable(['rule', 'alerts'], byRule, [false, true]),
    `<${level}>Alert timeline${risk.alertsBeforeDetection > risk.timeline.length ? ` (the first ${risk.timeline.length} of ${risk.alertsBeforeDetection})` : ''}</${level}>`,
    htmlTable(['detected (UTC)', 'rule', 'severity', 'halts', 'accounts', 'summary'], alerts, [false, false, false, false, true, false]),
  ].join('\n');
}

/** The historical run beside the defended one (--defences on). */
function defencesHtml(historical: VerifiedIncidentReport, defended: VerifiedIncidentReport): string {
  const [h, d] = [historical.report, defended.report];
  const halting = (r: IncidentReport) => (r.risk.firstHaltingAlert ? `${r.risk.firstHaltingAlert.at} (${r.risk.firstHaltingAlert.rule})` : 'none');
  const rows = [
    ['affected accounts', String(h.affectedAccounts), String(d.affectedAccounts)],
    ['unauthorized withdrawals', String(h.unauthorizedWithdrawals.total), String(d.unauthorizedWithdrawals.total)],
    ['settled (lost)', String(h.unauthorizedWithdrawals.lost), String(d.unauthorizedWithdrawals.lost)],
    ['lost', usd(h.totalUsd), usd(d.totalUsd)],
    ['reimbursed', usd(h.reimbursedUsd), usd(d.reimbursedUsd)],
    ['risk alerts before detection', String(h.risk.alertsBeforeDetection), String(d.risk.alertsBeforeDetection)],
    ['first halting alert', halting(h), halting(d)],
    ['events', String(historical.events), String(defended.events)],
    ['event log SHA-256', historical.eventLogSha256, defended.eventLogSha256],
  ];
  return [
    `<h2>With the defences on</h2>`,
    `<p>The same seed and attack against a ledger that requires proof of the second factor from the start. The attackers had the customers' token ids but not their factor: every whitelisting and withdrawal they sent was refused (SECOND_FACTOR_REQUIRED) and appended nothing.</p>`,
    htmlTable(['', 'historical', 'defences on'], rows, [false, true, true]),
    riskHtml(d, '<h3>Risk monitor, defences on</h3>', 'h4'),
  ].join('\n');
}

export function incidentHtml(report: VerifiedIncidentReport, defended?: VerifiedIncidentReport): string {
  const r = report.report;
  const title = `The January 2022 incident: ${r.title}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: sans-serif; max-width: 900px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.75em; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
svg { display: block; margin: 1em 0; }
code { word-break: break-all; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p><b>${r.affectedAccounts}</b> accounts affected; lost <b>${usd(r.totalUsd)}</b>; reimbursed <b>${usd(r.reimbursedUsd)}</b>; net customer loss <b>${usd(r.netCustomerLossUsd)}</b>.</p>
${sections(report).join('\n')}
${defended === undefined ? '' : defencesHtml(report, defended)}
<h2>Provenance</h2>
<p>Computed from the ledger's read models and checked against an in-memory replay (they agree). ${report.events} events; SHA-256 of the canonical JSONL export of the log: <code>${report.eventLogSha256}</code>.</p>
</body>
</html>
`;
}
