import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sweeps read rows in the order of an index: the outbox sweeps (`pendingOutboxRows`: oldest
 * unpublished first, ties by key) and the due-timer claim (`claimDue`: by wake-up time, ties by
 * instance id). Their partial indexes held the time alone, so the tie-break made Postgres sort
 * every matching row for each sweep: rows written at one moment (a bulk load, a burst) meant
 * sorting all of them, a million entries each second with the benchmark's waits. With the
 * tie-break in the index the sweep walks it and stops at its LIMIT.
 */
export class SweepIndexOrder1764500000000 implements MigrationInterface {
  name = 'SweepIndexOrder1764500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX outbox_stranded_order_idx ON journeys.outbox (created_at, message_id) WHERE published_at IS NULL`,
    );
    await db.query(`DROP INDEX journeys.outbox_stranded_idx`);
    await db.query(
      `CREATE INDEX instances_unpublished_entry_order_idx ON journeys.instances (entered_at, instance_id)
        WHERE entry_published_at IS NULL`,
    );
    await db.query(`DROP INDEX journeys.instances_unpublished_entry_idx`);
    await db.query(
      `CREATE INDEX instances_due_order_idx ON journeys.instances (wake_at, instance_id) WHERE status = 'waiting'`,
    );
    await db.query(`DROP INDEX journeys.instances_due_idx`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX instances_due_idx ON journeys.instances (wake_at) WHERE status = 'waiting'`);
    await db.query(`DROP INDEX journeys.instances_due_order_idx`);
    await db.query(
      `CREATE INDEX instances_unpublished_entry_idx ON journeys.instances (entered_at) WHERE entry_published_at IS NULL`,
    );
    await db.query(`DROP INDEX journeys.instances_unpublished_entry_order_idx`);
    await db.query(
      `CREATE INDEX outbox_stranded_idx ON journeys.outbox (created_at) WHERE published_at IS NULL`,
    );
    await db.query(`DROP INDEX journeys.outbox_stranded_order_idx`);
  }
}
