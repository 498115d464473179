import { queryRows, type SqlExecutor } from './sql';

/**
 * A select-list item: the age in seconds of a table's oldest pending outbox row (0 when none),
 * as a column named after the table. `timeColumn` and `pending` should match a partial index
 * (`… (timeColumn) WHERE pending`), so the minimum is one index probe. A row stamped by a sandbox
 * clock ahead of the wall counts as 0.
 */
export function oldestPendingAgeColumn(
  table: string,
  timeColumn: string,
  pending = 'published_at IS NULL',
): string {
  return `(SELECT greatest(coalesce(extract(epoch FROM now() - min(${timeColumn})), 0), 0)::float8
             FROM ${table} WHERE ${pending}) AS "${table}"`;
}

export interface PendingOutbox {
  table: string;
  timeColumn: string;
  /** The condition of a pending row; `published_at IS NULL` unless told. */
  pending?: string;
}

/** The age in seconds of each outbox's oldest pending row, keyed by table, in one statement. */
export async function readOldestPendingAges(
  executor: SqlExecutor,
  outboxes: readonly PendingOutbox[],
): Promise<Record<string, number>> {
  const columns = outboxes.map(({ table, timeColumn, pending }) =>
    oldestPendingAgeColumn(table, timeColumn, pending),
  );
  const [ages] = await queryRows<Record<string, number>>(executor, `SELECT ${columns.join(', ')}`);
  return ages ?? {};
}

/** `count(*)` of one statement's rows, as a number (0 without rows). */
export async function countOf(
  executor: SqlExecutor,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<number> {
  const [row] = await queryRows<{ count: number }>(
    executor,
    `SELECT count(*)::int AS count FROM (${sql}) AS counted`,
    parameters,
  );
  return row?.count ?? 0;
}
