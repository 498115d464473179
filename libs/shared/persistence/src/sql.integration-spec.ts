// Real: Postgres (the provisioned server, in a schema of this file's own). Mocked: nothing.
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';

import { isUniqueViolation, pgConstraintName } from './pg-errors';
import { useScratchSchemas } from './scratch-schemas.spec-helper';
import { openServiceDatabase } from './service-database';
import { queryRows, runSql } from './sql';
import { withTransaction } from './transaction';

class CreateAccounts1767225600000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE accounts (
        id text CONSTRAINT accounts_pk PRIMARY KEY,
        email text NOT NULL CONSTRAINT accounts_email_uq UNIQUE,
        balance int NOT NULL DEFAULT 0
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE accounts');
  }
}

describe('raw SQL on a service database', () => {
  const schemas = useScratchSchemas();
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await openServiceDatabase({
      schema: schemas.name('delivery'),
      migrations: [CreateAccounts1767225600000],
      url: schemas.url,
    });
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  beforeEach(async () => {
    await dataSource.query('TRUNCATE accounts');
  });

  it('inserts a batch from arrays with unnest and reports the rows it wrote', async () => {
    const result = await runSql<{ id: string }>(
      dataSource,
      `INSERT INTO accounts (id, email) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        ['a', 'b'],
        ['a@example.com', 'b@example.com'],
      ],
    );
    expect(result.rowCount).toBe(2);
    expect(result.rows.map((row) => row.id).sort()).toEqual(['a', 'b']);
  });

  it('returns the rows of an UPDATE ... RETURNING as rows, like any other statement', async () => {
    await dataSource.query(
      `INSERT INTO accounts (id, email) VALUES ('a', 'a@example.com'), ('b', 'b@example.com')`,
    );
    const rows = await queryRows<{ id: string; balance: number }>(
      dataSource,
      `UPDATE accounts SET balance = balance + $1 WHERE id = ANY($2::text[]) RETURNING id, balance`,
      [5, ['a']],
    );
    expect(rows).toEqual([{ id: 'a', balance: 5 }]);
  });

  it('counts the rows a DELETE removed', async () => {
    await dataSource.query(
      `INSERT INTO accounts (id, email) VALUES ('a', 'a@example.com'), ('b', 'b@example.com')`,
    );
    const result = await runSql(dataSource, 'DELETE FROM accounts');
    expect(result.rowCount).toBe(2);
  });

  it('recognises a duplicate key reported by the server, with the constraint that was violated', async () => {
    await dataSource.query(`INSERT INTO accounts (id, email) VALUES ('a', 'a@example.com')`);
    const error: unknown = await runSql(
      dataSource,
      `INSERT INTO accounts (id, email) VALUES ('b', 'a@example.com')`,
    ).catch((failure: unknown) => failure);
    expect(isUniqueViolation(error)).toBe(true);
    expect(isUniqueViolation(error, 'accounts_email_uq')).toBe(true);
    expect(isUniqueViolation(error, 'accounts_pk')).toBe(false);
    expect(pgConstraintName(error)).toBe('accounts_email_uq');
  });

  describe('withTransaction', () => {
    it('commits every statement when the work succeeds', async () => {
      await withTransaction(dataSource, async (manager) => {
        await runSql(manager, `INSERT INTO accounts (id, email) VALUES ('a', 'a@example.com')`);
        await runSql(manager, `UPDATE accounts SET balance = 10 WHERE id = 'a'`);
      });
      expect(await queryRows(dataSource, 'SELECT id, balance FROM accounts')).toEqual([
        { id: 'a', balance: 10 },
      ]);
    });

    it('rolls every statement back when the work throws, and rethrows the error', async () => {
      const attempt = withTransaction(dataSource, async (manager) => {
        await runSql(manager, `INSERT INTO accounts (id, email) VALUES ('a', 'a@example.com')`);
        throw new Error('changed my mind');
      });
      await expect(attempt).rejects.toThrow('changed my mind');
      expect(await queryRows(dataSource, 'SELECT id FROM accounts')).toEqual([]);
    });

    it('sees its own uncommitted writes through the transaction manager', async () => {
      const seen = await withTransaction(
        dataSource,
        async (manager) => {
          await runSql(manager, `INSERT INTO accounts (id, email) VALUES ('a', 'a@example.com')`);
          const inside = await queryRows<{ id: string }>(manager, 'SELECT id FROM accounts');
          const outside = await queryRows<{ id: string }>(dataSource, 'SELECT id FROM accounts');
          return { inside, outside };
        },
        'REPEATABLE READ',
      );
      expect(seen).toEqual({ inside: [{ id: 'a' }], outside: [] });
    });
  });
});
