/**
 * The only file that names the EventStoreDB client package. Everything in this folder imports the client's API from
 * here, so that moving to `@kurrent/kurrentdb-client` (same API shape; the client class is `KurrentDBClient`, and
 * connection strings may also start with `kurrentdb://`) is a change to this file, plus the schemes that
 * esdb-connection.ts accepts.
 */
export * from '@eventstore/db-client';
export { EventStoreDBClient as NativeClient } from '@eventstore/db-client';
