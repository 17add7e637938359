import {
  Inject,
  Injectable,
  Logger,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { EVENT_STORE, openEventStore, type EventStore } from '@app/event-store';
import { CLOCK, systemClock, type Clock } from './clock';
import type { LedgerConfig } from './config';
import { Ledger } from './ledger';
import { TwoFactorRevocationJob } from './two-factor-revocation.job';

export const LEDGER_CONFIG = Symbol('LEDGER_CONFIG');

/** Starts and stops what the ledger runs beside the requests: the revocation job and the store itself. */
@Injectable()
export class LedgerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Ledger');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly revocations: TwoFactorRevocationJob,
  ) {}

  onApplicationBootstrap(): void {
    // A revocation interrupted by a crash or a shutdown finishes in the background; requests are served meanwhile.
    this.revocations.resumePending().catch((error: unknown) => {
      this.logger.error(`resuming platform-wide 2FA revocations failed: ${String(error)}`);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.revocations.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    this.logger.log('event store closed');
  }
}

@Module({})
export class LedgerModule {
  static forRoot(config: LedgerConfig, options: { clock?: Clock } = {}): DynamicModule {
    return {
      module: LedgerModule,
      global: true,
      providers: [
        { provide: LEDGER_CONFIG, useValue: config },
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: EVENT_STORE, useFactory: () => openEventStore(config.eventStore) },
        { provide: Ledger, useFactory: (store: EventStore, clock: Clock) => new Ledger(store, clock), inject: [EVENT_STORE, CLOCK] },
        {
          provide: TwoFactorRevocationJob,
          useFactory: (ledger: Ledger) => new TwoFactorRevocationJob(ledger, new Logger('TwoFactorRevocationJob')),
          inject: [Ledger],
        },
        LedgerLifecycle,
      ],
      exports: [LEDGER_CONFIG, CLOCK, EVENT_STORE, Ledger, TwoFactorRevocationJob],
    };
  }
}
