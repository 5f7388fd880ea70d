import { invalid } from './errors.js';
import { isBigintText } from './scope.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Keyset pagination by id: stable while rows are added or removed between pages. */
export interface PageRequest {
  /** 1 to MAX_PAGE_SIZE; DEFAULT_PAGE_SIZE when absent. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface PageBounds {
  limit: number;
  /** Rows with a larger id come next; '0' for the first page. */
  afterId: string;
}

export function pageBounds(request: PageRequest = {}): PageBounds {
  const limit = request.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw invalid('limit', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  const cursor = request.cursor ?? '0';
  if (!isBigintText(cursor, true)) {
    throw invalid('cursor', 'cursor must be a value returned as nextCursor');
  }
  return { limit, afterId: cursor };
}

/** Takes rows fetched with LIMIT limit+1: the extra row only says whether another page exists. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? last.id : null };
}
