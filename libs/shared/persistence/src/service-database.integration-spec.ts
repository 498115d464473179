// Real: Postgres (the provisioned server, in schemas of this file's own). Mocked: nothing.
import { AppError } from '@mmp/errors';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';

import { useScratchSchemas } from './scratch-schemas.spec-helper';
import { openServiceDatabase } from './service-database';
import { queryRows } from './sql';

const upCalls = { createWidgets: 0, addColour: 0 };

class CreateWidgets1767225600000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    upCalls.createWidgets += 1;
    // Long enough that a second instance starting alongside arrives while this one is migrating.
    await queryRunner.query('SELECT pg_sleep(0.3)');
    await queryRunner.query('CREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE widgets');
  }
}

class AddWidgetColour1767225600001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    upCalls.addColour += 1;
    await queryRunner.query(`ALTER TABLE widgets ADD COLUMN colour text NOT NULL DEFAULT 'red'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE widgets DROP COLUMN colour');
  }
}

class CreateConsentWidgets1767225600000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE widgets (id int PRIMARY KEY)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE widgets');
  }
}

const ingestionMigrations = [CreateWidgets1767225600000, AddWidgetColour1767225600001];

describe('openServiceDatabase', () => {
  const schemas = useScratchSchemas();
  const ingestion = schemas.name('ingestion');
  const consent = schemas.name('consent');
  const opened: DataSource[] = [];

  async function open(schema: string, migrations: Array<new () => MigrationInterface>): Promise<DataSource> {
    const dataSource = await openServiceDatabase({ schema, migrations, url: schemas.url, poolSize: 2 });
    opened.push(dataSource);
    return dataSource;
  }

  afterAll(async () => {
    await Promise.all(opened.map((dataSource) => dataSource.destroy()));
  });

  describe('when two instances of a service start together', () => {
    let first: DataSource;

    beforeAll(async () => {
      [first] = await Promise.all([
        open(ingestion, ingestionMigrations),
        open(ingestion, ingestionMigrations),
      ]);
    });

    it('runs each migration exactly once', async () => {
      expect(upCalls).toEqual({ createWidgets: 1, addColour: 1 });
      const recorded = await queryRows<{ name: string }>(
        first,
        `SELECT name FROM "${ingestion}".migrations ORDER BY id`,
      );
      expect(recorded.map((row) => row.name)).toEqual([
        'CreateWidgets1767225600000',
        'AddWidgetColour1767225600001',
      ]);
    });

    it('finds nothing pending when the service opens the database again', async () => {
      const again = await open(ingestion, ingestionMigrations);
      expect(await again.showMigrations()).toBe(false);
      expect(upCalls).toEqual({ createWidgets: 1, addColour: 1 });
    });

    it('keeps the tables and the migrations table inside the service schema', async () => {
      const tables = await queryRows<{ table_name: string }>(
        first,
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [ingestion],
      );
      expect(tables).toEqual([{ table_name: 'migrations' }, { table_name: 'widgets' }]);
      const inPublic = await queryRows(
        first,
        `SELECT table_name FROM information_schema.tables
          WHERE table_schema = 'public' AND table_name IN ('widgets', 'migrations')`,
      );
      expect(inPublic).toEqual([]);
    });

    it('resolves unqualified table names in the service schema', async () => {
      await first.query(`INSERT INTO widgets (id, name) VALUES (1, 'sprocket')`);
      const rows = await queryRows<{ name: string; colour: string }>(
        first,
        'SELECT name, colour FROM widgets',
      );
      expect(rows).toEqual([{ name: 'sprocket', colour: 'red' }]);
    });
  });

  it('keeps two services sharing a database apart', async () => {
    const ingestionDatabase = await open(ingestion, ingestionMigrations);
    const consentDatabase = await open(consent, [CreateConsentWidgets1767225600000]);
    await consentDatabase.query('INSERT INTO widgets (id) VALUES (7), (8)');

    const consentIds = await queryRows<{ id: number }>(consentDatabase, 'SELECT id FROM widgets ORDER BY id');
    const ingestionIds = await queryRows<{ id: number }>(
      ingestionDatabase,
      'SELECT id FROM widgets ORDER BY id',
    );
    expect(consentIds).toEqual([{ id: 7 }, { id: 8 }]);
    expect(ingestionIds).toEqual([{ id: 1 }]);
    const consentMigrations = await queryRows<{ name: string }>(
      consentDatabase,
      'SELECT name FROM migrations',
    );
    expect(consentMigrations).toEqual([{ name: 'CreateConsentWidgets1767225600000' }]);
  });

  it('rejects a schema name that is not a plain lower-case identifier', async () => {
    const attempt = openServiceDatabase({ schema: 'Ingestion; DROP', migrations: [], url: schemas.url });
    await expect(attempt).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('fails with a retriable "unavailable" error when the server cannot be reached', async () => {
    const attempt = openServiceDatabase({
      schema: 'ingestion',
      migrations: [],
      url: 'postgres://postgres@127.0.0.1:1/nowhere',
    });
    const error: unknown = await attempt.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'unavailable', retriable: true });
  });
});
