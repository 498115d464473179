import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The console's journey map counts a journey's instances where they stand and its steps'
 * requests: by journey (not only live instances, which instances_one_live_idx covers) and from
 * an instance to its outbox rows (kept after publishing; only pending ones were indexed).
 */
export class JourneyMapIndexes1764450000000 implements MigrationInterface {
  name = 'JourneyMapIndexes1764450000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX instances_journey_idx ON journeys.instances (journey_key, status)`);
    await db.query(`CREATE INDEX outbox_instance_idx ON journeys.outbox (instance_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX journeys.instances_journey_idx, journeys.outbox_instance_idx`);
  }
}
