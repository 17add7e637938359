import createClient from 'openapi-fetch';
import type { Role } from '../../../libs/access/src/role';
import type { components, paths } from './ledger-api';

export type Schemas = components['schemas'];
export type LedgerClient = ReturnType<typeof createClient<paths>>;
/** The server's role a key holds, as far as the console can tell it by asking (see roleOf): other roles see the status view. */
export type ConsoleRole = Extract<Role, 'auditor' | 'finance'> | 'other';

/** An answer the console shows as an error: the API's message (and code), never a stack. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * A client holding the API key in memory only (never in storage, a cookie or the URL): reloading the page signs out.
 * Requests go to this page's own origin, the only one its page policy allows.
 */
export function clientFor(key: string): LedgerClient {
  return createClient<paths>({ baseUrl: window.location.origin, headers: { Authorization: `Bearer ${key}` } });
}

/** The data of an answer, or an ApiError with the API's message. */
export async function dataOf<T>(answer: Promise<{ data?: T; error?: { message?: string; code?: string }; response: Response }>): Promise<T> {
  const { data, error, response } = await answer;
  if (data !== undefined && response.ok) return data;
  throw new ApiError(response.status, error?.message ?? `${response.status} ${response.statusText}`, error?.code);
}

/**
 * Which views the key opens, found by asking (the API has no "who am I" route): an auditor reads the audit routes,
 * finance reads projections and not the log; any other valid key sees the status view only. A 401 is an unknown key.
 */
export async function roleOf(client: LedgerClient): Promise<ConsoleRole> {
  const audit = await client.GET('/v1/audit/tree');
  if (audit.response.status === 401) throw new ApiError(401, audit.error?.message ?? 'unknown API key');
  if (audit.response.ok) return 'auditor';
  const finance = await client.GET('/v1/reimbursements', { params: { query: { limit: '1' } } });
  return finance.response.ok ? 'finance' : 'other';
}
