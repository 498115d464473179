import { queryRows, runSql, type SqlExecutor } from './sql';

/**
 * An outbox table: each row is written in the transaction of the change it announces and
 * published on the bus after the commit; `publishedAt` is set once it is there, and a row left
 * unmarked (its publish failed, the process died) is read again by id or by the sweep.
 * Every name here is an SQL identifier written in code, never input.
 */
export interface OutboxTable {
  /** Schema-qualified: `delivery.dead_letters`. */
  table: string;
  /** The text column(s) naming one row, as markOutboxPublished() takes them. */
  key: readonly string[];
  /** The text column OutboxSelection's `ids` match: the key, or the row's owner (its message, its instance). */
  selectedBy: string;
  /** When a row was written: rows are read oldest first, and the sweep takes those written before a moment. */
  writtenAt: string;
  /** Orders rows written at the same moment. */
  tieBreak: string;
  /** Default `published_at`. */
  publishedAt?: string;
}

/**
 * Which unpublished rows to read: those of some owners (right after their commit, or on
 * redelivery), or, for a sweep, up to `limit` written before `writtenBefore`.
 */
export type OutboxSelection = { ids: readonly string[] } | { writtenBefore: Date; limit: number };

/** The unpublished rows of `outbox` that `selection` names, oldest first, with the columns `columns` lists. */
export async function pendingOutboxRows<Row>(
  executor: SqlExecutor,
  outbox: OutboxTable,
  columns: string,
  selection: OutboxSelection,
): Promise<Row[]> {
  const publishedAt = outbox.publishedAt ?? 'published_at';
  const order = `ORDER BY ${outbox.writtenAt}, ${outbox.tieBreak}`;
  if ('ids' in selection) {
    if (selection.ids.length === 0) return [];
    return queryRows<Row>(
      executor,
      `SELECT ${columns} FROM ${outbox.table} WHERE ${publishedAt} IS NULL AND ${outbox.selectedBy} = ANY($1::text[]) ${order}`,
      [selection.ids],
    );
  }
  return queryRows<Row>(
    executor,
    `SELECT ${columns} FROM ${outbox.table} WHERE ${publishedAt} IS NULL AND ${outbox.writtenAt} < $1 ${order} LIMIT $2`,
    [selection.writtenBefore, selection.limit],
  );
}

/**
 * Marks rows published, once: `keys` holds one array per key column, in the order of
 * `outbox.key`, with one entry per row. A row already marked keeps its first time.
 */
export async function markOutboxPublished(
  executor: SqlExecutor,
  outbox: OutboxTable,
  keys: readonly (readonly string[])[],
  now: Date,
): Promise<void> {
  if ((keys[0]?.length ?? 0) === 0) return;
  const publishedAt = outbox.publishedAt ?? 'published_at';
  const [single] = outbox.key;
  if (outbox.key.length === 1 && single !== undefined) {
    await runSql(
      executor,
      `UPDATE ${outbox.table} SET ${publishedAt} = $2 WHERE ${single} = ANY($1::text[]) AND ${publishedAt} IS NULL`,
      [keys[0], now],
    );
    return;
  }
  const arrays = outbox.key.map((_, index) => `$${index + 1}::text[]`).join(', ');
  const matches = outbox.key.map((column) => `u.${column} = t.${column}`).join(' AND ');
  await runSql(
    executor,
    `UPDATE ${outbox.table} u SET ${publishedAt} = $${outbox.key.length + 1}
       FROM unnest(${arrays}) AS t(${outbox.key.join(', ')})
      WHERE ${matches} AND u.${publishedAt} IS NULL`,
    [...keys, now],
  );
}
