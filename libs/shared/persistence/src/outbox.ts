import type { DataSource } from 'typeorm';
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
 * The mark's own transaction does not wait for its WAL to reach the disk (`synchronous_commit`
 * off for that transaction only, set inside the statement so the mark stays one round trip).
 * A mark is the one write of an outbox that may be lost: if Postgres itself crashes within a few
 * hundred milliseconds of it (the WAL writer flushes every 200 ms), the row comes back unmarked
 * and is published again by id or by the sweep, and every consumer of the outboxes that use this
 * takes a record again as a duplicate: journeys enters an occurrence once (instances ON CONFLICT),
 * delivery claims a messageId once (its ledger), analytics keeps an entry and a message's status
 * once (ON CONFLICT), consent's changes from a bounce or complaint are keyed by the message,
 * journeys' send ledger ignores a repeated outcome, ingestion's token reports have deterministic
 * event ids. The rows themselves (and what they announce) are written by synchronous commits.
 */
const ASYNC_COMMIT = `(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit`;

/**
 * Marks rows published, once: `keys` holds one array per key column, in the order of
 * `outbox.key`, with one entry per row. A row already marked keeps its first time. Runs as a
 * transaction of its own, committed without waiting for the WAL flush (see ASYNC_COMMIT): hence a
 * DataSource, never a transaction's EntityManager, whose other writes must stay durable.
 */
export async function markOutboxPublished(
  db: DataSource,
  outbox: OutboxTable,
  keys: readonly (readonly string[])[],
  now: Date,
): Promise<void> {
  if ((keys[0]?.length ?? 0) === 0) return;
  const publishedAt = outbox.publishedAt ?? 'published_at';
  const [single] = outbox.key;
  if (outbox.key.length === 1 && single !== undefined) {
    await runSql(
      db,
      `UPDATE ${outbox.table} u SET ${publishedAt} = $2 FROM ${ASYNC_COMMIT}
        WHERE u.${single} = ANY($1::text[]) AND u.${publishedAt} IS NULL`,
      [keys[0], now],
    );
    return;
  }
  const arrays = outbox.key.map((_, index) => `$${index + 1}::text[]`).join(', ');
  const matches = outbox.key.map((column) => `u.${column} = t.${column}`).join(' AND ');
  await runSql(
    db,
    `UPDATE ${outbox.table} u SET ${publishedAt} = $${outbox.key.length + 1}
       FROM unnest(${arrays}) AS t(${outbox.key.join(', ')}), ${ASYNC_COMMIT}
      WHERE ${matches} AND u.${publishedAt} IS NULL`,
    [...keys, now],
  );
}
