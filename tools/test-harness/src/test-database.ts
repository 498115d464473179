import { randomBytes } from 'node:crypto';

import { Client } from 'pg';

export interface TestDatabase {
  /** The new database on the same server, same credentials. */
  url: string;
  /** Ends every connection still open to it and drops it. */
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one test file (`test_<random>`), so files never see each other's
 * rows or schemas even on a shared server. Needs Postgres 13+ (DROP DATABASE ... WITH (FORCE)).
 */
export async function createTestDatabase(
  serverUrl: string | undefined = process.env.DATABASE_URL,
): Promise<TestDatabase> {
  if (!serverUrl) {
    throw new Error(
      'DATABASE_URL is not set: run the spec through test/jest.config.js, whose global setup provisions Postgres, or set it',
    );
  }
  const name = `test_${randomBytes(6).toString('hex')}`;
  // template0, not the default template1: cloning template1 fails while anyone else is connected to it.
  await withAdminClient(serverUrl, (client) =>
    client.query(`CREATE DATABASE ${client.escapeIdentifier(name)} TEMPLATE template0`),
  );
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;

  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    drop: () =>
      (dropped ??= withAdminClient(serverUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
      })),
  };
}

async function withAdminClient<T>(serverUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
