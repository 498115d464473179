// Real: Postgres (the provisioned server, in a schema of this file's own). Mocked: nothing.
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';

import { markOutboxPublished, pendingOutboxRows, type OutboxTable } from './outbox';
import { useScratchSchemas } from './scratch-schemas.spec-helper';
import { openServiceDatabase } from './service-database';
import { queryRows } from './sql';

class CreateOutboxes1767225600000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE events (
        event_id text PRIMARY KEY, owner_id text NOT NULL, written_at timestamptz NOT NULL, published_at timestamptz)`);
    await queryRunner.query(`
      CREATE TABLE reports (
        customer_id text, token text, owner_id text NOT NULL, written_at timestamptz NOT NULL,
        sent_at timestamptz, PRIMARY KEY (customer_id, token))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE events, reports');
  }
}

describe('outbox helper', () => {
  const schemas = useScratchSchemas();
  const schema = schemas.name('outbox');
  const events: OutboxTable = {
    table: `${schema}.events`,
    key: ['event_id'],
    selectedBy: 'owner_id',
    writtenAt: 'written_at',
    tieBreak: 'event_id',
  };
  const reports: OutboxTable = {
    table: `${schema}.reports`,
    key: ['customer_id', 'token'],
    selectedBy: 'owner_id',
    writtenAt: 'written_at',
    tieBreak: 'customer_id, token',
    publishedAt: 'sent_at',
  };
  const at = (minute: number): Date => new Date(Date.UTC(2030, 0, 1, 12, minute));
  let db: DataSource;

  beforeAll(async () => {
    db = await openServiceDatabase({ schema, migrations: [CreateOutboxes1767225600000], url: schemas.url });
  });

  afterAll(async () => {
    await db.destroy();
  });

  beforeEach(async () => {
    await db.query('TRUNCATE events, reports');
    await db.query(
      `INSERT INTO events (event_id, owner_id, written_at, published_at) VALUES
         ('e3', 'm1', $1, NULL), ('e2', 'm1', $1, NULL), ('e1', 'm1', $2, NULL),
         ('e4', 'm2', $1, NULL), ('e5', 'm1', $1, $3)`,
      [at(2), at(3), at(4)],
    );
  });

  it("reads the unpublished rows of the owners named, oldest first, ties in order, none of others' or published", async () => {
    const rows = await pendingOutboxRows<{ event_id: string }>(db, events, 'event_id', { ids: ['m1'] });
    expect(rows.map((r) => r.event_id)).toEqual(['e2', 'e3', 'e1']);
  });

  it('reads nothing for no owners', async () => {
    expect(await pendingOutboxRows(db, events, 'event_id', { ids: [] })).toEqual([]);
  });

  it('sweeps at most `limit` unpublished rows written before the moment, oldest first', async () => {
    const rows = await pendingOutboxRows<{ event_id: string }>(db, events, 'event_id', {
      writtenBefore: at(3),
      limit: 2,
    });
    expect(rows.map((r) => r.event_id)).toEqual(['e2', 'e3']);
  });

  it('marks rows published once: a row marked again keeps its first time', async () => {
    await markOutboxPublished(db, events, [['e1', 'e2']], at(10));
    await markOutboxPublished(db, events, [['e2', 'e5']], at(20));
    const rows = await queryRows<{ event_id: string; published_at: Date | null }>(
      db,
      'SELECT event_id, published_at FROM events ORDER BY event_id',
    );
    expect(rows).toEqual([
      { event_id: 'e1', published_at: at(10) },
      { event_id: 'e2', published_at: at(10) },
      { event_id: 'e3', published_at: null },
      { event_id: 'e4', published_at: null },
      { event_id: 'e5', published_at: at(4) },
    ]);
  });

  it("turns synchronous commit off for the mark's own transaction only: the pooled connection keeps the server's setting", async () => {
    // One connection, so the mark and the reads after it share it.
    const single = await openServiceDatabase({ schema, migrations: [], url: schemas.url, poolSize: 1 });
    try {
      const setting = async (): Promise<string> =>
        (await queryRows<{ s: string }>(single, `SELECT current_setting('synchronous_commit') AS s`))[0]!.s;
      const before = await setting();
      await markOutboxPublished(single, events, [['e1']], at(10));
      await markOutboxPublished(single, reports, [['c9'], ['t9']], at(10));

      expect(await setting()).toBe(before);
      expect(before).not.toBe('off');
      const marked = await queryRows<{ event_id: string }>(
        single,
        'SELECT event_id FROM events WHERE published_at IS NOT NULL ORDER BY event_id',
      );
      expect(marked.map((r) => r.event_id)).toEqual(['e1', 'e5']);
    } finally {
      await single.destroy();
    }
  });

  it('marks rows of a two-column key by their pairs only, in its own published column', async () => {
    await db.query(
      `INSERT INTO reports (customer_id, token, owner_id, written_at) VALUES
         ('c1', 't1', 'm1', $1), ('c1', 't2', 'm1', $1), ('c2', 't1', 'm2', $1)`,
      [at(1)],
    );
    await markOutboxPublished(
      db,
      reports,
      [
        ['c1', 'c2'],
        ['t2', 't1'],
      ],
      at(10),
    );
    const pending = await pendingOutboxRows<{ customer_id: string; token: string }>(
      db,
      reports,
      'customer_id, token',
      { ids: ['m1', 'm2'] },
    );
    expect(pending).toEqual([{ customer_id: 'c1', token: 't1' }]);
  });
});
