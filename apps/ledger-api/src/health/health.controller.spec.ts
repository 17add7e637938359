import type { EventStore } from '@app/event-store';
import { HealthReader, type LedgerConfig } from '@app/ledger';
import type { ProjectionRunner } from '@app/projections';
import { HealthController } from './health.controller';

const config = { eventStore: { kind: 'esdb' }, readStore: { kind: 'sqlite' } } as unknown as LedgerConfig;
const runner = { status: async () => [] } as unknown as ProjectionRunner;

describe('GET /health', () => {
  it("shows what the event store's adapter reports about its connection (EventStoreDB's clock skew), when it reports anything", async () => {
    const esdb = { headPosition: async () => 41n, health: () => ({ clockSkewMs: 1_250, appendDeadlineMs: 10_000, unconfirmedAppends: 0 }) } as unknown as EventStore;
    expect(await new HealthController(new HealthReader(esdb, runner), config).health()).toMatchObject({
      status: 'ok',
      headPosition: '41',
      eventStoreHealth: { clockSkewMs: 1_250, appendDeadlineMs: 10_000, unconfirmedAppends: 0 },
    });
    const sqlite = { headPosition: async () => 41n } as unknown as EventStore;
    expect(await new HealthController(new HealthReader(sqlite, runner), config).health()).not.toHaveProperty('eventStoreHealth');
  });
});
