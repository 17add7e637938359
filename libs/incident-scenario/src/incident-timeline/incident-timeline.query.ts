import { MAX_PAGE_LIMIT, type Page, type ReadStore } from '@app/projections';
import {
  ATTACK_WINDOW_KEY_PREFIX,
  INCIDENT_TIMELINE,
  TIMELINE_ENTRY,
  UNAUTHORIZED_WITHDRAWAL,
  type AttackWindowRow,
  type TimelineEntryRow,
  type UnauthorizedWithdrawalRow,
} from './incident-timeline.projection';

/**
 * Every platform and incident event of the timeline, in log order. limit bounds the read: reaching it is an error,
 * since a report with its timeline cut short would be wrong without saying so.
 */
export async function timelineEntries(rs: ReadStore, limit: number): Promise<TimelineEntryRow[]> {
  const rows = await rs.list<TimelineEntryRow>(INCIDENT_TIMELINE, { filter: { status: TIMELINE_ENTRY }, limit });
  if (rows.length === limit) throw new Error(`more than ${limit - 1} platform and incident events: the timeline would be cut short`);
  return rows.map((row) => row.doc);
}

/** When the incident's unauthorized withdrawals were requested, the first and the last; null when it had none. */
export async function attackWindow(rs: ReadStore, incidentId: string): Promise<AttackWindowRow | null> {
  return (await rs.get<AttackWindowRow>(INCIDENT_TIMELINE, `${ATTACK_WINDOW_KEY_PREFIX}${incidentId}`))?.doc ?? null;
}

/** The unauthorized-withdrawal rows of one incident, a page at a time. */
export async function unauthorizedWithdrawals(rs: ReadStore, incidentId: string, cursor: string | undefined): Promise<Page<UnauthorizedWithdrawalRow>> {
  const rows = await rs.list<UnauthorizedWithdrawalRow>(INCIDENT_TIMELINE, {
    filter: { incidentId, status: UNAUTHORIZED_WITHDRAWAL },
    afterKey: cursor,
    limit: MAX_PAGE_LIMIT + 1,
  });
  const more = rows.length > MAX_PAGE_LIMIT;
  const items = rows.slice(0, MAX_PAGE_LIMIT);
  return { items: items.map((row) => row.doc), nextCursor: more ? items[items.length - 1]!.key : null };
}
