export * from './event-store.port';
export * from './errors';
export * from './hash-chain';
export * from './canonical-json';
export * from './event-ids';
export * from './events-to-append';
export * from './append-validation';
export * from './event-store-location';
export {
  openSqliteEventStore,
  SqliteEventStore,
  STORED_DATA_JSON,
  storedDataJson,
  type SqliteConnectionSettings,
  type SqliteEventStoreOptions,
} from './sqlite/sqlite-event-store';
export * from './audit';
export {
  openPostgresEventStore,
  PostgresEventStore,
  type PostgresEventStoreOptions,
} from './postgres/postgres-event-store';
export * from './esdb';
