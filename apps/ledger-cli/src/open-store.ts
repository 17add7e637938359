import { existsSync } from 'node:fs';
import type { EventStore } from '@app/event-store';
import { ConfigError, loadConfig, type LedgerConfig, type LedgerStores } from '@app/ledger';
import type { ReadStore } from '@app/projections';
import { messageOf } from './cli-errors';

/**
 * 'existing': the command reads a ledger (verify, export) and must not create an empty one where a path was
 * mistyped. 'create': the command writes (the incident scenario) and may start a new ledger. 'none': the command
 * needs the configuration only (keys), so that it works before a ledger exists and without a database server.
 */
export type StoreAccess = 'existing' | 'create' | 'none';

export interface OpenedStore {
  readonly config: LedgerConfig;
  readonly store: EventStore;
}

/**
 * The store the server uses (LEDGER_EVENT_STORE), opened by the LedgerStores the API's module opens it with. Every
 * failure here is a ConfigError naming the variable.
 */
export async function openConfiguredStore(stores: LedgerStores, env: NodeJS.ProcessEnv, access: StoreAccess): Promise<OpenedStore> {
  const config = loadConfig(env);
  if (access === 'none') return { config, store: UNOPENED_STORE };
  const location = config.eventStore;
  if (location.kind === 'sqlite' && access === 'existing' && !existsSync(location.path)) {
    throw new ConfigError('LEDGER_EVENT_STORE', `names ${location.path}, which does not exist (this command reads an existing ledger)`);
  }
  try {
    return { config, store: await stores.openEventStore(location) };
  } catch (error) {
    throw new ConfigError('LEDGER_EVENT_STORE', `names a store that cannot be opened: ${messageOf(error)}`);
  }
}

/**
 * The read models' store (LEDGER_READ_STORE). 'existing' refuses a SQLite file that is not there, rather than
 * creating an empty one and comparing nothing with nothing (reconcile); 'create' may start one (project, rebuild).
 */
export async function openConfiguredReadStore(stores: LedgerStores, config: LedgerConfig, access: Exclude<StoreAccess, 'none'>): Promise<ReadStore> {
  const location = config.readStore;
  if (location.kind === 'sqlite' && access === 'existing' && !existsSync(location.path)) {
    throw new ConfigError(
      'LEDGER_READ_STORE',
      `names ${location.path}, which does not exist (build the read models first: ledger project --once, or ledger rebuild)`,
    );
  }
  try {
    return await stores.openReadStore(location);
  } catch (error) {
    throw new ConfigError('LEDGER_READ_STORE', `names a read store that cannot be opened: ${messageOf(error)}`);
  }
}

/** What a command with storeAccess 'none' gets as its store: closing it is a no-op, anything else a programming error. */
const UNOPENED_STORE: EventStore = new Proxy({} as EventStore, {
  get(_target, property) {
    if (property === 'close') return async () => undefined;
    // Not a thenable: awaiting an object that holds it must not call it.
    if (property === 'then') return undefined;
    return () => {
      throw new Error(`this command does not open the event store (it called ${String(property)})`);
    };
  },
});
