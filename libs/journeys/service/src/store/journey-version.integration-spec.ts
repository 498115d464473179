import { openServiceDatabase, queryRows, withTransaction } from '@mmp/persistence';
import type { JourneyDefinition } from '@mmp/program';
import { useTestDatabase } from '@mmp/test-harness';
import type { DataSource } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { journeysMigrations } from '../migrations';
import { JourneyVersionStore } from './journey-version.store';

/** Journeys writes a version's definition with the first batch that enters it, not with every batch. */
describe('journey versions', () => {
  const database = useTestDatabase();
  let db: DataSource;

  beforeAll(async () => {
    db = await openServiceDatabase({ schema: 'journeys', migrations: journeysMigrations, url: database.url });
  });

  afterAll(async () => {
    await db?.destroy();
  });

  const now = new Date('2030-01-01T12:00:00Z');
  const definition = { key: 'welcome' } as unknown as JourneyDefinition;
  const stored = (key: string) =>
    queryRows<{ version: string }>(
      db,
      'SELECT version FROM journeys.journey_versions WHERE journey_key = $1 ORDER BY version',
      [key],
    );

  it('writes a version once it is committed, and sends no statement for it again', async () => {
    const versions = new JourneyVersionStore(db);
    const v1 = { key: 'once', version: 'v1', definition };
    const saved = await withTransaction(db, (tx) => versions.saveVersions(tx, [v1], now));
    saved();
    expect(await stored('once')).toEqual([{ version: 'v1' }]);

    const statements = jest.spyOn(PostgresQueryRunner.prototype, 'query');
    try {
      await withTransaction(db, async (tx) => {
        const before = statements.mock.calls.length;
        (await versions.saveVersions(tx, [v1], now))();
        expect(statements.mock.calls.length).toBe(before);
      });
    } finally {
      statements.mockRestore();
    }
    // A new version (a replaced program) is written.
    (await withTransaction(db, (tx) => versions.saveVersions(tx, [v1, { ...v1, version: 'v2' }], now)))();
    expect(await stored('once')).toEqual([{ version: 'v1' }, { version: 'v2' }]);
  });

  it('writes a version again when the batch that wrote it rolled back', async () => {
    const versions = new JourneyVersionStore(db);
    const v1 = { key: 'rolled-back', version: 'v1', definition };
    await expect(
      withTransaction(db, async (tx) => {
        await versions.saveVersions(tx, [v1], now);
        throw new Error('the batch failed');
      }),
    ).rejects.toThrow('the batch failed');
    expect(await stored('rolled-back')).toEqual([]);

    (await withTransaction(db, (tx) => versions.saveVersions(tx, [v1], now)))();
    expect(await stored('rolled-back')).toEqual([{ version: 'v1' }]);
  });
});
