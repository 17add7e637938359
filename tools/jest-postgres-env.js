// Setup for the e2e-postgres jest project: the same HTTP suites, each test app on a fresh PostgreSQL database.
process.env.LEDGER_E2E_STORE = 'postgres';
