import type { DataSource, EntityManager } from 'typeorm';

import { toUnavailable } from './pg-errors';

export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

/**
 * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
 * Raw SQL goes through `manager.query(sql, params)`. A lost connection surfaces as AppError
 * `unavailable` (retriable); any other error is rethrown as it was.
 */
export async function withTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  isolationLevel: IsolationLevel = 'READ COMMITTED',
): Promise<T> {
  try {
    return await dataSource.transaction(isolationLevel, work);
  } catch (error) {
    throw toUnavailable(error);
  }
}
