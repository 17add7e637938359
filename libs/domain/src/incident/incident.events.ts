import type { Event } from '../shared/event';

export type IncidentOpened = Event<'IncidentOpened', { incidentId: string; title: string; openedAt: string }>;
export type IncidentClosed = Event<'IncidentClosed', { incidentId: string; summary: string; closedAt: string }>;

export type IncidentEvent = IncidentOpened | IncidentClosed;
