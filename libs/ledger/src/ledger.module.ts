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
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectionRunner, READ_STORE, type ReadStore } from '@app/projections';
import { AuditReader } from './audit-reader';
import { HealthReader } from './health-reader';
import { LedgerStores, LedgerStoresModule } from './ledger-stores';
import { CHECKPOINT_KEY, LEDGER_CONFIG } from './ledger.tokens';
import { CLOCK, systemClock, type Clock } from './clock';
import { SecondFactorVerifier } from './second-factor/verifier';
import type { LedgerConfig } from './config';
import { Ledger } from './ledger';
import { TwoFactorRevocationJob } from './two-factor-revocation.job';
import { RiskAlertJob } from './risk-alert.job';
import { MerkleTreeJob } from './merkle-tree.job';
import { loadOrCreateCheckpointKey, type CheckpointKey } from './checkpoints/checkpoint';
import { CheckpointIssuer } from './checkpoints/checkpoint-issuer';

/** Starts and stops what the ledger runs beside the requests: the revocation job and the store itself. */
@Injectable()
export class LedgerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Ledger');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    private readonly revocations: TwoFactorRevocationJob,
    private readonly risk: RiskAlertJob,
    private readonly merkle: MerkleTreeJob,
    private readonly projections: ProjectionRunner,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
  ) {}

  onApplicationBootstrap(): void {
    // By default the projector runs inside the API process (catch up, then follow the log live); with
    // LEDGER_PROJECTOR=off a separate `ledger project` process keeps the read models and reads only wait for it.
    if (this.config.projector === 'inline') {
      this.projections.start();
      // The Merkle tree over the log is kept beside the read models, by whoever keeps them.
      this.merkle.start();
    }
    // A revocation interrupted by a crash or a shutdown finishes in the background; requests are served meanwhile.
    this.revocations.resumePending().catch((error: unknown) => {
      this.logger.error(`resuming platform-wide 2FA revocations failed: ${String(error)}`);
    });
    // Raises what the monitor detected, applies halting alerts and resumes confirmations a crash interrupted.
    if (this.config.riskMonitor === 'on') this.risk.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.revocations.stop(), this.risk.stop(), this.merkle.stop()]);
  }

  async onApplicationShutdown(): Promise<void> {
    // After the HTTP server closed: no request reads or writes any more. The runner commits its batch first.
    await this.projections.stop();
    await this.readStore.close();
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
      imports: [LedgerStoresModule],
      providers: [
        { provide: LEDGER_CONFIG, useValue: config },
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: EVENT_STORE, useFactory: (stores: LedgerStores) => stores.openEventStore(config.eventStore), inject: [LedgerStores] },
        { provide: READ_STORE, useFactory: (stores: LedgerStores) => stores.openReadStore(config.readStore), inject: [LedgerStores] },
        {
          provide: ProjectionRunner,
          useFactory: (store: EventStore, readStore: ReadStore) =>
            new ProjectionRunner({ store, readStore, projections: ALL_PROJECTIONS, logger: new Logger('Projections'), asOfSnapshotEvery: config.asOfSnapshotEvery }),
          inject: [EVENT_STORE, READ_STORE],
        },
        {
          provide: Ledger,
          useFactory: (store: EventStore, clock: Clock) =>
            new Ledger(store, clock, { secondFactor: new SecondFactorVerifier(config.secondFactor.keys, config.secondFactor.audience) }),
          inject: [EVENT_STORE, CLOCK],
        },
        {
          provide: RiskAlertJob,
          useFactory: (ledger: Ledger, readStore: ReadStore) => new RiskAlertJob(ledger, readStore, new Logger('RiskAlertJob')),
          inject: [Ledger, READ_STORE],
        },
        {
          provide: CHECKPOINT_KEY,
          useFactory: (): CheckpointKey => {
            const { key, generatedAt } = loadOrCreateCheckpointKey(config.checkpoints.key, config.dataDir);
            if (generatedAt !== null) new Logger('Ledger').log(`checkpoint signing key generated in ${generatedAt} (kid ${key.kid}): back it up, and give auditors its public key (GET /v1/audit/checkpoint-key)`);
            return key;
          },
        },
        {
          provide: MerkleTreeJob,
          useFactory: (store: EventStore, readStore: ReadStore, key: CheckpointKey, clock: Clock) =>
            new MerkleTreeJob(
              store,
              readStore,
              new Logger('MerkleTree'),
              config.checkpoints.signing === 'on' ? new CheckpointIssuer(store, readStore, key, config.checkpoints, clock, new Logger('Checkpoints')) : undefined,
            ),
          inject: [EVENT_STORE, READ_STORE, CHECKPOINT_KEY, CLOCK],
        },
        {
          provide: TwoFactorRevocationJob,
          useFactory: (ledger: Ledger) => new TwoFactorRevocationJob(ledger, new Logger('TwoFactorRevocationJob')),
          inject: [Ledger],
        },
        AuditReader,
        HealthReader,
        LedgerLifecycle,
      ],
      exports: [LEDGER_CONFIG, CLOCK, EVENT_STORE, READ_STORE, CHECKPOINT_KEY, Ledger, TwoFactorRevocationJob, RiskAlertJob, MerkleTreeJob, ProjectionRunner, AuditReader, HealthReader],
    };
  }
}
