import type { Command } from '../shared/event';

export type OpenIncident = Command<'OpenIncident', { incidentId: string; title: string }>;
export type CloseIncident = Command<'CloseIncident', { incidentId: string; summary: string }>;

export type IncidentCommand = OpenIncident | CloseIncident;
