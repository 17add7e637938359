// The queries of every read model (each beside its projection, read-models/<name>/<name>.query.ts) and what they share.
export {
  allPages,
  decodeCursor,
  DEFAULT_PAGE_LIMIT,
  encodeCursor,
  MAX_ALL_PAGES,
  MAX_PAGE_LIMIT,
  pageLimit,
  QueryError,
  type Page,
  type PageOptions,
  type QueryErrorCode,
} from './read-models/query-support';
export * from './read-models/balances/balances.query';
export * from './read-models/incident-ledger/incident-ledger.query';
export * from './read-models/loss-totals/loss-totals.query';
export * from './read-models/reimbursements/reimbursements.query';
export * from './read-models/protection-claims/protection-claims.query';
export * from './read-models/risk-alerts/risk-alerts.query';
