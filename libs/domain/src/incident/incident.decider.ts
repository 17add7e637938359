import type { DateTime } from 'luxon';
import { assertNever } from '../shared/assert';
import { domainError } from '../shared/errors';
import { event } from '../shared/event';
import { fromIso, toIso } from '../shared/time';
import type { IncidentCommand } from './incident.commands';
import type { IncidentEvent } from './incident.events';

export type IncidentStatus = 'open' | 'closed';

export interface IncidentState {
  readonly incidentId: string | null;
  readonly title: string | null;
  readonly status: IncidentStatus | null;
  readonly openedAt: DateTime | null;
}

/** What other deciders need to know of an incident. */
export interface IncidentView {
  readonly incidentId: string;
  readonly status: IncidentStatus;
}

export function initialIncidentState(): IncidentState {
  return { incidentId: null, title: null, status: null, openedAt: null };
}

export function incidentView(state: IncidentState): IncidentView | null {
  return state.incidentId && state.status ? { incidentId: state.incidentId, status: state.status } : null;
}

export function evolveIncident(state: IncidentState, e: IncidentEvent): IncidentState {
  switch (e.type) {
    case 'IncidentOpened':
      return { incidentId: e.data.incidentId, title: e.data.title, status: 'open', openedAt: fromIso(e.data.openedAt) };
    case 'IncidentClosed':
      return { ...state, status: 'closed' };
    default:
      return assertNever(e);
  }
}

export function decideIncident(command: IncidentCommand, state: IncidentState, ctx: { now: DateTime }): IncidentEvent[] {
  switch (command.type) {
    case 'OpenIncident':
      if (state.status !== null) throw domainError('INCIDENT_ALREADY_EXISTS', command.data.incidentId);
      return [event('IncidentOpened', { ...command.data, openedAt: toIso(ctx.now) })];
    case 'CloseIncident':
      if (state.status === null) throw domainError('INCIDENT_NOT_FOUND', command.data.incidentId);
      if (state.status === 'closed') throw domainError('INCIDENT_NOT_OPEN', command.data.incidentId);
      return [event('IncidentClosed', { ...command.data, closedAt: toIso(ctx.now) })];
    default:
      return assertNever(command);
  }
}
