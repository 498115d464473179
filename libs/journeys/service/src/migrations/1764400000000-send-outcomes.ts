import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A send whose cap or collision depends on an earlier send delivery has not reported on yet
 * waits for that report (the journeys domain's `decideSendOnOutcomes`), so the ledger keeps
 * when delivery's first status for each send arrived (`outcome_at`, null while pending), and a
 * held instance keeps the decision time of its send step (`held_at`) while `wake_at` says when
 * to look again. Sends recorded before this migration count as reported.
 */
export class SendOutcomes1764400000000 implements MigrationInterface {
  name = 'SendOutcomes1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE journeys.send_ledger ADD COLUMN outcome_at timestamptz`);
    await db.query(`UPDATE journeys.send_ledger SET outcome_at = COALESCE(voided_at, sent_at)`);
    await db.query(`ALTER TABLE journeys.instances ADD COLUMN held_at timestamptz`);
    // A report wakes the customer's held sends at once (and later sends look for held ones).
    await db.query(
      `CREATE INDEX instances_held_idx ON journeys.instances (customer_id) WHERE status = 'waiting' AND wait_reason = 'outcome'`,
    );
    await db.query(`ALTER TABLE journeys.instances DROP CONSTRAINT instances_wait_reason_ck`);
    await db.query(
      `ALTER TABLE journeys.instances ADD CONSTRAINT instances_wait_reason_ck
         CHECK (wait_reason IN ('wait', 'quiet_hours', 'outcome'))`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE journeys.instances DROP CONSTRAINT instances_wait_reason_ck`);
    await db.query(`UPDATE journeys.instances SET wait_reason = 'quiet_hours' WHERE wait_reason = 'outcome'`);
    await db.query(
      `ALTER TABLE journeys.instances ADD CONSTRAINT instances_wait_reason_ck CHECK (wait_reason IN ('wait', 'quiet_hours'))`,
    );
    await db.query(`ALTER TABLE journeys.instances DROP COLUMN held_at`);
    await db.query(`ALTER TABLE journeys.send_ledger DROP COLUMN outcome_at`);
  }
}
