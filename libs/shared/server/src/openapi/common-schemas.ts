import { AppError } from '@mmp/errors';
import { z } from 'zod';

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z
        .array(
          z.object({
            path: z.string(),
            message: z.string(),
            line: z.number().int().optional(),
            column: z.number().int().optional(),
          }),
        )
        .optional(),
    }),
  })
  .meta({ id: 'Error' });

export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 200;

/** `limit` and `cursor`, the query parameters of every paged list. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(PAGE_LIMIT_DEFAULT),
  cursor: z.string().min(1).max(512).optional(),
});

/** `{ items, nextCursor }`: the answer of every paged list. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Cursors are the sort key of the last item, as base64url JSON: opaque to callers, and a
 * keyset for the query (no OFFSET scan however deep the page).
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): (string | number)[] | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== arity) return invalidCursor();
  const parts: (string | number)[] = [];
  for (const part of key) {
    if (typeof part !== 'string' && typeof part !== 'number') return invalidCursor();
    parts.push(part);
  }
  return parts;
}

function invalidCursor(): never {
  throw AppError.validation('invalid cursor', [
    { path: 'cursor', message: 'is not a cursor this list gave out' },
  ]);
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says that there is more. */
export function pageFrom<Row, Item>(
  rows: readonly Row[],
  limit: number,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => readonly (string | number)[],
): Page<Item> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(toItem),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}
