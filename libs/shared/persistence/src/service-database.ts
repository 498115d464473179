import { AppError } from '@mmp/errors';
import {
  DataSource,
  MigrationExecutor,
  type DataSourceOptions,
  type MigrationInterface,
  type QueryRunner,
} from 'typeorm';

import { toUnavailable } from './pg-errors';

/**
 * Each service owns one Postgres schema and changes it only through its own TypeORM migrations
 * (never `synchronize`). The schema holds the service's tables and its `migrations` table, and
 * is first on the connection's search_path so raw SQL can name tables unqualified.
 */
export interface ServiceDatabaseOptions {
  /** The service's schema: lower case letters, digits and underscores (`ingestion`, `delivery`). */
  schema: string;
  /** Migration classes, each named with a 13-digit timestamp suffix as TypeORM requires (`CreateEvents1767225600000`). */
  migrations: ReadonlyArray<new () => MigrationInterface>;
  url: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** Shown in pg_stat_activity. Default `mmp-<schema>`. */
  applicationName?: string;
  /** Optional: hot paths use set-based SQL through `DataSource.query`, so most services need none. */
  entities?: DataSourceOptions['entities'];
}

const schemaNamePattern = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Both halves of the advisory lock that serialises migrations: a constant class id for "schema
 * migrations" and a hash of the schema name, so services migrating different schemas do not wait
 * for each other.
 */
const MIGRATION_LOCK_CLASS = 0x6d6d70; // 'mmp'

/** The DI token under which a service's DataSource is provided (see PersistenceModule). */
export function serviceDatabaseToken(schema: string): string {
  return `mmp:database:${schema}`;
}

export function assertValidSchemaName(schema: string): void {
  if (!schemaNamePattern.test(schema)) {
    throw AppError.validation(`invalid schema name "${schema}"`, [
      {
        path: 'schema',
        message: 'must start with a lower case letter and hold only a-z, 0-9 and _ (at most 63 characters)',
      },
    ]);
  }
}

/**
 * Opens the service's DataSource on its own schema and brings the schema up to date:
 * creates it when missing and runs pending migrations while holding a Postgres advisory lock
 * keyed by the schema, so instances starting together take turns and each migration runs once.
 * A database that cannot be reached fails with AppError `unavailable`.
 */
export async function openServiceDatabase(options: ServiceDatabaseOptions): Promise<DataSource> {
  assertValidSchemaName(options.schema);
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    // `public` stays on the path for functions of extensions installed there (pg_trgm, pgcrypto).
    extra: { options: `-c search_path=${options.schema},public` },
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? `mmp-${options.schema}`,
    migrations: [...options.migrations],
    migrationsTableName: 'migrations',
    entities: options.entities ?? [],
    synchronize: false,
    migrationsRun: false,
    // Failures reach the caller, which decides whether they are worth a log line (a duplicate key often is not).
    logging: false,
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    throw toUnavailable(error);
  }
  try {
    await migrateUnderLock(dataSource, options.schema);
    return dataSource;
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw toUnavailable(error);
  }
}

async function migrateUnderLock(dataSource: DataSource, schema: string): Promise<void> {
  // One connection holds the session-level lock and also runs the migrations, so a pool of
  // size one cannot deadlock waiting for a second connection.
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  try {
    await queryRunner.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
    try {
      // Inside the lock: concurrent CREATE SCHEMA IF NOT EXISTS can still fail on pg_namespace's unique index.
      await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await runPendingMigrations(dataSource, queryRunner);
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
    }
  } finally {
    await queryRunner.release();
  }
}

async function runPendingMigrations(dataSource: DataSource, queryRunner: QueryRunner): Promise<void> {
  const executor = new MigrationExecutor(dataSource, queryRunner);
  // One transaction per migration rather than one for all, so a migration can opt out
  // (`transaction = false`) for statements such as CREATE INDEX CONCURRENTLY.
  executor.transaction = 'each';
  await executor.executePendingMigrations();
}
