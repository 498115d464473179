import { openServiceDatabase, queryRows } from '@mmp/persistence';
import { useTestDatabase } from '@mmp/test-harness';
import type { DataSource } from 'typeorm';
import { deliveryMigrations } from '../migrations';
import { RetryQueueStore } from './retry-queue.store';

/** The retry loop's stale-handover sweep runs every second: it must not read every message ever sent. */
describe('delivery stale-handover sweep', () => {
  const database = useTestDatabase();
  let db: DataSource;

  beforeAll(async () => {
    db = await openServiceDatabase({ schema: 'delivery', migrations: deliveryMigrations, url: database.url });
    // 20,000 messages sent long ago, and three still queued: two handed over two hours ago
    // (their process died during the call), one an hour later.
    await db.query(
      `INSERT INTO delivery.messages (message_id, customer_id, journey_key, step_id, milestone_key, channel, template,
                                      status, created_at, updated_at, handed_over_at, sent_at)
       SELECT 'm' || g, 'c' || g, 'j', 's', 'k', 'email', 't',
              CASE WHEN g <= 3 THEN 'queued' ELSE 'sent' END, $1::timestamptz, $1::timestamptz,
              CASE WHEN g <= 2 THEN $1::timestamptz ELSE $2::timestamptz END, CASE WHEN g <= 3 THEN NULL ELSE $2::timestamptz END
         FROM generate_series(1, 20000) g`,
      [new Date('2030-01-01T10:00:00Z'), new Date('2030-01-01T11:00:00Z')],
    );
    await db.query('ANALYZE delivery.messages');
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('reads only the queued messages (a partial index), not every message', async () => {
    const plan = await queryRows<{ 'QUERY PLAN': string }>(
      db,
      `EXPLAIN SELECT message_id FROM delivery.messages WHERE status = 'queued' AND handed_over_at < $1`,
      [new Date('2030-01-01T10:30:00Z')],
    );
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).toContain('messages_queued_idx');
    expect(text).not.toContain('Seq Scan');
  });

  it('fails the stale handovers as outcome unknown, with their status events', async () => {
    const failed = await new RetryQueueStore(db).failStaleHandovers(
      new Date('2030-01-01T10:30:00Z'),
      new Date('2030-01-01T12:00:00Z'),
    );
    expect(failed.sort()).toEqual(['m1', 'm2']);
    const events = await queryRows<{ event_id: string }>(
      db,
      `SELECT event_id FROM delivery.status_outbox ORDER BY event_id`,
    );
    expect(events).toEqual([{ event_id: 'm1:failed' }, { event_id: 'm2:failed' }]);
  });
});
