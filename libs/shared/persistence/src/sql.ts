import { DataSource, type EntityManager, type QueryResult, type QueryRunner } from 'typeorm';

import { toUnavailable } from './pg-errors';

/** Where raw SQL runs: the service's DataSource, or the EntityManager of a transaction. */
export type SqlExecutor = DataSource | EntityManager;

export interface SqlResult<Row> {
  rows: Row[];
  /** Rows inserted, updated, deleted or returned, as Postgres counts them. */
  rowCount: number;
}

/**
 * Runs one parameterised statement and returns its rows and row count. Unlike
 * `EntityManager.query`, whose result for UPDATE and DELETE is `[rows, count]` but rows for
 * everything else, the shape does not depend on the statement. `Row` is what the SQL selects:
 * name columns with `AS` and cast (`::int`, `::text`) so the row matches it.
 * A lost connection surfaces as AppError `unavailable` (retriable).
 */
export async function runSql<Row = Record<string, unknown>>(
  executor: SqlExecutor,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<SqlResult<Row>> {
  const manager = executor instanceof DataSource ? executor.manager : executor;
  const transactionRunner = manager.queryRunner;
  const runner: QueryRunner = transactionRunner ?? manager.dataSource.createQueryRunner();
  try {
    // The one place rows become typed: pg cannot check a select list against `Row`, so the SQL is the contract.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    const result: QueryResult<Row> = await runner.query(sql, [...parameters], true);
    const rows = Array.isArray(result.records) ? result.records : [];
    return { rows, rowCount: result.affected ?? rows.length };
  } catch (error) {
    throw toUnavailable(error);
  } finally {
    if (!transactionRunner) await runner.release();
  }
}

/** The rows of one parameterised statement (SELECT, or a write with RETURNING). */
export async function queryRows<Row = Record<string, unknown>>(
  executor: SqlExecutor,
  sql: string,
  parameters: readonly unknown[] = [],
): Promise<Row[]> {
  return (await runSql<Row>(executor, sql, parameters)).rows;
}
