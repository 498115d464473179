import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestDatabaseHandle {
  /** The URL of this spec file's own database; read it inside tests or hooks, not at import time. */
  readonly url: string;
  /**
   * A connected client on this database, for a spec's own reads and setup. The harness ends it
   * when the file ends, and ignores its errors once the database is being dropped.
   */
  connect(): Promise<Client>;
}

/**
 * Gives the calling spec file a fresh database on the provisioned server: created before its
 * first test, dropped (connections and all) after its last. Call at the top of a describe block.
 */
export function useTestDatabase(): TestDatabaseHandle {
  let database: TestDatabase | undefined;
  const clients: Client[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.end().catch(() => undefined)));
    await database?.drop();
    database = undefined;
  });
  const url = (): string => {
    if (!database) throw new Error('useTestDatabase(): the database exists only from beforeAll to afterAll');
    return database.url;
  };
  return {
    get url(): string {
      return url();
    },
    async connect(): Promise<Client> {
      const client = new Client({ connectionString: url() });
      // The drop ends every connection; that is the end of the file, not a failure.
      client.on('error', () => undefined);
      clients.push(client);
      await client.connect();
      return client;
    },
  };
}
