import { Injectable, Module } from '@nestjs/common';
import { openEventStore, type EventStore, type EventStoreLocation } from '@app/event-store';
import { openReadStore, type ReadStore, type ReadStoreLocation } from '@app/projections';

/**
 * Opens the stores the ledger runs on: the one place both programs open them. The API's LedgerModule provides
 * EVENT_STORE and READ_STORE through it; the operator CLI, which opens them only for the commands that need them
 * (after its arguments and configuration are checked), asks it per command.
 */
@Injectable()
export class LedgerStores {
  openEventStore(location: EventStoreLocation): Promise<EventStore> {
    return openEventStore(location);
  }

  openReadStore(location: ReadStoreLocation): Promise<ReadStore> {
    return openReadStore(location);
  }
}

/** LedgerStores alone, without the jobs and the projector of LedgerModule: what a short-lived program imports. */
@Module({ providers: [LedgerStores], exports: [LedgerStores] })
export class LedgerStoresModule {}
