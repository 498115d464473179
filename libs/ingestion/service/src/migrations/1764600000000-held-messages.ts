import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The messages of a batch that its stored state cannot rebuild, kept with its unpublished row
 * until it is published: every event but each customer's last of the batch (that one carries
 * the profile as saved). Without them a crash between commit and publish republished each
 * event with the customer's final profile, and a batch's second order went out counting its
 * third. Keyed by eventId; NULL when the batch holds none (one event per customer). `json`, not
 * `jsonb`: written with every such batch and read back only after a crash, so it is kept as sent
 * rather than parsed.
 */
export class HeldMessages1764600000000 implements MigrationInterface {
  name = 'HeldMessages1764600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE ingestion.unpublished_batches ADD COLUMN held_messages json`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE ingestion.unpublished_batches DROP COLUMN held_messages`);
  }
}
