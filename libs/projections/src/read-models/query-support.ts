import type { IndexFields } from '../projection';
import type { ReadStore } from '../read-store.port';

// What every read model's query shares: pages with opaque cursors, their limits, and the errors a bad input gets.

export const MAX_PAGE_LIMIT = 1_000;
export const DEFAULT_PAGE_LIMIT = 100;
const MAX_CURSOR_CHARS = 1_024;

export type QueryErrorCode = 'PAGE_LIMIT_OUT_OF_RANGE' | 'INVALID_CURSOR' | 'INVALID_FILTER';

/** A read refused because of its input: the API answers 400 with the code. */
export class QueryError extends Error {
  constructor(
    readonly code: QueryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

/** A page of a listing; pass nextCursor back for the next page (null: this was the last). */
export interface Page<Item> {
  readonly items: Item[];
  readonly nextCursor: string | null;
}

/** Pages one `allPages` reads at most: a listing longer than that is a fault, not a report. */
export const MAX_ALL_PAGES = 10_000;

/** Every item of a paged listing, page after page (bounded by maxPages). */
export async function allPages<Item>(read: (cursor: string | undefined) => Promise<Page<Item>>, maxPages = MAX_ALL_PAGES): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const result = await read(cursor);
    items.push(...result.items);
    if (result.nextCursor === null) return items;
    cursor = result.nextCursor;
  }
  throw new Error(`a listing has more than ${maxPages} pages`);
}

export interface PageOptions {
  /** Opaque, from a previous page of the same listing. */
  readonly cursor?: string;
  /** 1 to MAX_PAGE_LIMIT; DEFAULT_PAGE_LIMIT when absent. */
  readonly limit?: number;
}

// ---- paging ---------------------------------------------------------------------------------------------------

/** A page of rows: one more row than asked is read, so the last page says so (nextCursor null). */
export async function page<Doc, Item>(
  rs: ReadStore,
  projection: string,
  filter: IndexFields,
  options: PageOptions,
  toItem: (doc: Doc) => Item,
): Promise<Page<Item>> {
  const limit = pageLimit(options.limit);
  const afterKey = options.cursor === undefined ? undefined : decodeCursor(projection, options.cursor);
  const rows = await rs.list<Doc>(projection, { filter, afterKey, limit: limit + 1 });
  const items = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? encodeCursor(projection, items[items.length - 1]!.key) : null;
  return { items: items.map((row) => toItem(row.doc)), nextCursor };
}

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new QueryError('PAGE_LIMIT_OUT_OF_RANGE', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

interface CursorBody {
  /** The projection the cursor pages, so that a cursor from another listing is refused. */
  readonly p: string;
  /** The last key of the page. */
  readonly k: string;
}

export function encodeCursor(projection: string, lastKey: string): string {
  return Buffer.from(JSON.stringify({ p: projection, k: lastKey } satisfies CursorBody), 'utf8').toString('base64url');
}

export function decodeCursor(projection: string, cursor: string): string {
  const invalid = new QueryError('INVALID_CURSOR', 'cursor is not one this listing returned');
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid;
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const { p, k } = (body ?? {}) as Partial<CursorBody>;
  if (p !== projection || typeof k !== 'string' || k.length === 0) throw invalid;
  return k;
}

export function oneOf<Value extends string>(field: string, value: string, allowed: readonly Value[]): Value {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new QueryError('INVALID_FILTER', `${field} must be one of ${allowed.join(', ')}`);
  }
  return value as Value;
}
