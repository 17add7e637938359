import { isTransientStoreFailure, WrongExpectedRevisionError } from './errors';

const failure = (code: string | undefined, message = 'failed') => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('isTransientStoreFailure: what the HTTP edge answers 503 STORE_UNAVAILABLE to', () => {
  it.each(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', '57P01', '08006', 'ECONNRESET'])('takes %s as the store unavailable for a moment', (code) => {
    expect(isTransientStoreFailure(failure(code))).toBe(true);
  });

  it("takes node-postgres's messages for a dropped connection as transient", () => {
    expect(isTransientStoreFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientStoreFailure(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
  });

  it('takes anything else as a fault (a 500), including errors of the ledger and SQLite corruption', () => {
    expect(isTransientStoreFailure(failure('SQLITE_CORRUPT'))).toBe(false);
    expect(isTransientStoreFailure(failure('SQLITE_CONSTRAINT_UNIQUE'))).toBe(false);
    expect(isTransientStoreFailure(failure(undefined, 'boom'))).toBe(false);
    expect(isTransientStoreFailure(new WrongExpectedRevisionError('s', 1n, 2n))).toBe(false);
    expect(isTransientStoreFailure('SQLITE_BUSY')).toBe(false);
    expect(isTransientStoreFailure(null)).toBe(false);
  });

  it('recognises an error from another realm by its code', () => {
    expect(isTransientStoreFailure({ code: 'SQLITE_BUSY', message: 'database is locked' })).toBe(true);
  });
});
