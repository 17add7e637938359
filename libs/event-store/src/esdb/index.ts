export {
  openEsdbEventStore,
  EsdbEventStore,
  type EsdbClient,
  type EsdbEventStoreOptions,
  type EsdbEventStoreSettings,
  type EsdbHealth,
} from './esdb-event-store';
export { DEFAULT_COMMAND_STREAM_PREFIX } from './esdb-mapping';
export { EsdbClockSkewError, EsdbStreamDeletedError } from './esdb-errors';
export { EsdbConnectionStringError, parseEsdbConnectionString, type EsdbConnection } from './esdb-connection';
