import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { DomainError } from '../common/domain-error';

export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface CursorPosition {
  createdAt: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// What toISOString() gives for a year PostgreSQL takes (1 to 9999): Date.parse also takes "1", "2020"
// or "+275760-09-13", which PostgreSQL refuses.
const ISO_INSTANT = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Exactly what encodeCursor writes: an ISO instant that reads back as itself. */
function isIssuedInstant(value: unknown): value is string {
  return typeof value === 'string' && ISO_INSTANT.test(value) && new Date(value).toISOString() === value;
}

export function encodeCursor(position: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

/** Cursors are opaque to clients; anything we did not issue is a 400, never a 500. */
export function decodeCursor(cursor: string): CursorPosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [createdAt, id] = decoded as unknown[];
      if (isIssuedInstant(createdAt) && typeof id === 'string' && UUID.test(id)) {
        return { createdAt, id };
      }
    }
  } catch {
    // falls through to the 400 below
  }
  throw new DomainError('invalid_request', 'cursor is not a cursor this service issued');
}

/** The two columns a page is ordered by; they must be covered by an index, in this order. */
export interface PageKey {
  createdAt: string;
  id: string;
}

/**
 * Newest first, keyset pagination on (created_at, id), by default the alias's own: no OFFSET, so
 * deep pages stay cheap. `key` names copies of those columns elsewhere (a joined table's index).
 */
export async function pageQuery<T extends ObjectLiteral & { createdAt: Date; id: string }>(
  query: SelectQueryBuilder<T>,
  alias: string,
  page: PageRequest,
  key: PageKey = { createdAt: `${alias}.created_at`, id: `${alias}.id` },
): Promise<Page<T>> {
  if (page.cursor) {
    const position = decodeCursor(page.cursor);
    query.andWhere(`(${key.createdAt}, ${key.id}) < (:cursorCreatedAt, :cursorId)`, {
      cursorCreatedAt: position.createdAt,
      cursorId: position.id,
    });
  }
  // limit(), not take(): with a join, take() would page through a DISTINCT subquery.
  const rows = await query
    .orderBy(key.createdAt, 'DESC')
    .addOrderBy(key.id, 'DESC')
    .limit(page.limit + 1)
    .getMany();
  const items = rows.slice(0, page.limit);
  return { items, nextCursor: rows.length > page.limit ? encodeCursor(items[items.length - 1]) : null };
}
