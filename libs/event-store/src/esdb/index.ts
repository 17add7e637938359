export {
  openEsdbEventStore,
  EsdbEventStore,
  type EsdbClient,
  type EsdbEventStoreOptions,
  type EsdbEventStoreSettings,
} from './esdb-event-store';
export { DEFAULT_COMMAND_STREAM_PREFIX } from './esdb-mapping';
