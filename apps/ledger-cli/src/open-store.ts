import { existsSync } from 'node:fs';
import { openEventStore, type EventStore } from '@app/event-store';
import { ConfigError, loadConfig, type LedgerConfig } from '@app/ledger';
import { messageOf } from './cli-errors';

/**
 * 'existing': the command reads a ledger (verify, export) and must not create an empty one where a path was
 * mistyped. 'create': the command writes (the incident scenario) and may start a new ledger.
 */
export type StoreAccess = 'existing' | 'create';

export interface OpenedStore {
  readonly config: LedgerConfig;
  readonly store: EventStore;
}

/** The store the server uses (LEDGER_EVENT_STORE). Every failure here is a ConfigError naming the variable. */
export async function openConfiguredStore(env: NodeJS.ProcessEnv, access: StoreAccess): Promise<OpenedStore> {
  const config = loadConfig(env);
  const location = config.eventStore;
  if (location.kind === 'sqlite' && access === 'existing' && !existsSync(location.path)) {
    throw new ConfigError('LEDGER_EVENT_STORE', `names ${location.path}, which does not exist (this command reads an existing ledger)`);
  }
  try {
    return { config, store: await openEventStore(location) };
  } catch (error) {
    throw new ConfigError('LEDGER_EVENT_STORE', `names a store that cannot be opened: ${messageOf(error)}`);
  }
}
