import { at, closeIncident, givenIncident, incidentClosed, incidentOpened, openIncident } from '../testing/given';
import { incidentDecider } from '../decider';
import { incidentView, initialIncidentState } from './incident.decider';
import type { IncidentEvent } from './incident.events';

const OPENED_AT = '2022-01-17T00:13Z';
const fold = (history: IncidentEvent[]) => history.reduce(incidentDecider.evolve, initialIncidentState());

describe('incidents: opened once, closed once', () => {
  test('an incident is opened with its title', () => {
    givenIncident([])
      .when(openIncident('inc-1', 'Unauthorized withdrawals without 2FA'), at(OPENED_AT))
      .thenEvents([
        {
          type: 'IncidentOpened',
          data: { incidentId: 'inc-1', title: 'Unauthorized withdrawals without 2FA', openedAt: '2022-01-17T00:13:00.000Z' },
          schemaVersion: 1,
        },
      ])
      .thenState((state) => expect(incidentView(state)).toEqual({ incidentId: 'inc-1', status: 'open' }));
  });

  test('an incident is opened only once', () => {
    givenIncident([incidentOpened('inc-1', OPENED_AT)]).when(openIncident('inc-1'), at('2022-01-18T00:00Z')).thenThrows('INCIDENT_ALREADY_EXISTS');
  });

  test('a closed incident is not opened again', () => {
    givenIncident([incidentOpened('inc-1', OPENED_AT), incidentClosed('inc-1', '2022-01-20T00:00Z')])
      .when(openIncident('inc-1'), at('2022-01-21T00:00Z'))
      .thenThrows('INCIDENT_ALREADY_EXISTS');
  });

  test('an open incident is closed with its summary', () => {
    givenIncident([incidentOpened('inc-1', OPENED_AT)])
      .when(closeIncident('inc-1', 'no customer funds were lost'), at('2022-01-20T00:00Z'))
      .thenEvents([
        { type: 'IncidentClosed', data: { incidentId: 'inc-1', summary: 'no customer funds were lost', closedAt: '2022-01-20T00:00:00.000Z' }, schemaVersion: 1 },
      ])
      .thenState((state) => expect(incidentView(state)).toEqual({ incidentId: 'inc-1', status: 'closed' }));
  });

  test('an incident that was never opened is not closed: INCIDENT_NOT_FOUND', () => {
    givenIncident([]).when(closeIncident('inc-1'), at('2022-01-20T00:00Z')).thenThrows('INCIDENT_NOT_FOUND');
  });

  test('an incident is closed only once: INCIDENT_NOT_OPEN', () => {
    givenIncident([incidentOpened('inc-1', OPENED_AT), incidentClosed('inc-1', '2022-01-20T00:00Z')])
      .when(closeIncident('inc-1'), at('2022-01-21T00:00Z'))
      .thenThrows('INCIDENT_NOT_OPEN');
  });

  test('an incident that was never opened has no view for other deciders', () => {
    expect(incidentView(fold([]))).toBeNull();
  });

  test('folding keeps the title and opening time', () => {
    const state = fold([incidentOpened('inc-1', OPENED_AT, '2FA bypass'), incidentClosed('inc-1', '2022-01-20T00:00Z')]);
    expect(state.title).toBe('2FA bypass');
    expect(state.openedAt?.toMillis()).toBe(at(OPENED_AT).toMillis());
  });
});
