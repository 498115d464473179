import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestDatabaseHandle {
  /** The URL of this spec file's own database; read it inside tests or hooks, not at import time. */
  readonly url: string;
}

/**
 * Gives the calling spec file a fresh database on the provisioned server: created before its
 * first test, dropped (connections and all) after its last. Call at the top of a describe block.
 */
export function useTestDatabase(): TestDatabaseHandle {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
    database = undefined;
  });
  return {
    get url(): string {
      if (!database)
        throw new Error('useTestDatabase(): the database exists only from beforeAll to afterAll');
      return database.url;
    },
  };
}
