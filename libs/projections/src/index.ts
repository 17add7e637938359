export * from './projection';
export * from './read-store.port';
export { InMemoryReadStore } from './in-memory-read-store';
export { openSqliteReadStore, SqliteReadStore, type SqliteReadStoreOptions, type SqliteReadStoreSettings } from './sqlite/sqlite-read-store';
export { READ_STORE_SCHEMA_VERSION } from './sqlite/sqlite-read-store-schema';
export * from './projection-runner';
export * from './read-models';
export * from './queries';
export * from './replay';
