import { RISK_RULES, type RiskRuleName } from '@app/domain';
import type { ReadModelRow } from '../../projection';
import type { ReadStore } from '../../read-store.port';
import { decodeCursor, encodeCursor, oneOf, pageLimit, type Page, type PageOptions } from '../query-support';
import { ALERT_KEY_PREFIX, RISK_ALERT_ROW_STATUSES, RISK_ALERTS, type RiskAlertRow, type RiskAlertRowStatus } from './risk-alerts.projection';

export interface RiskAlertsQuery extends PageOptions {
  readonly status?: string;
  readonly rule?: string;
}

/** Rows scanned at most for one page of alerts filtered by rule (alerts are few; the rule is not indexed). */
const MAX_RULE_SCAN = 10_000;

/** Risk alerts in the order of the positions that triggered them, optionally by status and rule. */
export async function riskAlerts(rs: ReadStore, query: RiskAlertsQuery = {}): Promise<Page<RiskAlertRow>> {
  const status = query.status === undefined ? undefined : oneOf<RiskAlertRowStatus>('status', query.status, RISK_ALERT_ROW_STATUSES);
  const rule = query.rule === undefined ? undefined : oneOf<RiskRuleName>('rule', query.rule, RISK_RULES);
  const limit = pageLimit(query.limit);
  let afterKey = query.cursor === undefined ? ALERT_KEY_PREFIX : decodeCursor(RISK_ALERTS, query.cursor);
  const items: ReadModelRow<RiskAlertRow>[] = [];
  let more = false;
  for (let scanned = 0; scanned < MAX_RULE_SCAN; ) {
    const rows = await rs.list<RiskAlertRow>(RISK_ALERTS, { filter: status === undefined ? {} : { status }, afterKey, limit: limit + 1 });
    const alerts = rows.filter((row) => row.key.startsWith(ALERT_KEY_PREFIX));
    scanned += rows.length;
    for (const row of alerts) {
      if (rule !== undefined && row.doc.rule !== rule) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(row);
    }
    // The memory rows (risk/...) sort after every alert row: past the alerts, nothing more can match.
    if (more || rows.length <= limit || alerts.length < rows.length) break;
    afterKey = rows[rows.length - 1]!.key;
  }
  const nextCursor = more ? encodeCursor(RISK_ALERTS, items[items.length - 1]!.key) : null;
  return { items: items.map((row) => row.doc), nextCursor };
}
