// Real: the Postgres server from the global setup. Mocked: nothing.
import { Client } from 'pg';

import { createTestDatabase, type TestDatabase } from './test-database';
import { useTestDatabase } from './use-test-database';

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(name: string): Promise<boolean> {
  return withClient(process.env.DATABASE_URL!, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return found.rowCount === 1;
  });
}

function databaseName(url: string): string {
  return new URL(url).pathname.slice(1);
}

describe('createTestDatabase', () => {
  const created: TestDatabase[] = [];

  async function create(): Promise<TestDatabase> {
    const database = await createTestDatabase();
    created.push(database);
    return database;
  }

  afterAll(async () => {
    await Promise.all(created.map((database) => database.drop()));
  });

  it('creates a new empty database named test_<random> on the server of DATABASE_URL', async () => {
    const database = await create();
    const name = databaseName(database.url);

    expect(name).toMatch(/^test_[0-9a-f]{12}$/);
    expect(new URL(database.url).host).toBe(new URL(process.env.DATABASE_URL!).host);
    const tables = await withClient(database.url, (client) =>
      client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`),
    );
    expect(tables.rows).toEqual([]);
  });

  it('keeps what one test file writes out of another file’s database', async () => {
    const first = await create();
    const second = await create();

    await withClient(first.url, (client) => client.query('CREATE TABLE orders (id int)'));

    const inSecond = await withClient(
      second.url,
      async (client) => (await client.query(`SELECT to_regclass('orders') AS found`)).rows,
    );
    expect(inSecond).toEqual([{ found: null }]);
  });

  it('drops the database even while connections to it are still open, and drops only once', async () => {
    const database = await create();
    const lingering = new Client({ connectionString: database.url });
    lingering.on('error', () => undefined);
    await lingering.connect();

    await database.drop();
    await database.drop();

    expect(await databaseExists(databaseName(database.url))).toBe(false);
    await expect(lingering.query('SELECT 1')).rejects.toThrow();
    await lingering.end().catch(() => undefined);
  });

  it('explains what to do when there is no server URL', async () => {
    await expect(createTestDatabase('')).rejects.toThrow(/DATABASE_URL is not set/);
  });
});

describe('useTestDatabase', () => {
  const database = useTestDatabase();

  it('connects a client to the file’s own database, not the server’s default one', async () => {
    const client = await database.connect();

    const { rows } = await client.query<{ name: string }>('SELECT current_database() AS name');
    expect(rows).toEqual([{ name: databaseName(database.url) }]);
    expect(rows[0]?.name).toMatch(/^test_[0-9a-f]{12}$/);
  });
});
