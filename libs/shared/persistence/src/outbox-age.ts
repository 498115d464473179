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
