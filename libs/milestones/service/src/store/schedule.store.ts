import type { CustomerProfileSnapshot } from '@mmp/contracts';
import type { ScheduledFire, TimedInputs, TimedSlot } from '@mmp/milestones-domain';
import { InjectServiceDatabase, queryRows, runSql, type SqlExecutor } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/** A milestone's definition as scheduled for everyone, and the moment it applies from. */
export interface Coverage {
  definition: string;
  coveredAt: Date;
}

export interface ScheduleEntry {
  customerId: string;
  milestoneKey: string;
  fire: ScheduledFire;
}

export interface DueEntry extends ScheduleEntry {
  handledThrough: Date | null;
  inputs: TimedInputs;
}

/** A due entry once decided: its next firing (null: none) and the latest firing it handled. */
export interface SettledEntry {
  customerId: string;
  milestoneKey: string;
  next: ScheduledFire | null;
  handledThrough: Date | null;
}

/**
 * The schedule of time-based milestones (`milestones.schedule`: the next firing per customer and
 * milestone) and its coverage (`milestones.schedule_coverage`: the definitions everyone was
 * scheduled for). Every write is one set-based statement per batch. `db` is the DataSource the
 * use cases open their transactions on. A schedule row with no next firing (`fire_at`
 * null) is kept for what it handled (`handled_through`).
 */
@Injectable()
export class ScheduleStore {
  constructor(@InjectServiceDatabase('milestones') readonly db: DataSource) {}

  /**
   * The customers' schedule slots by customer and milestone, locked until the transaction ends:
   * the scheduler skips them meanwhile, and a claim it holds is waited for, so the slots read
   * here include what it just fired.
   */
  async lockSlots(
    executor: SqlExecutor,
    customerIds: readonly string[],
  ): Promise<Map<string, Map<string, TimedSlot>>> {
    const byCustomer = new Map<string, Map<string, TimedSlot>>();
    if (customerIds.length === 0) return byCustomer;
    const rows = await queryRows<{
      customer_id: string;
      milestone_key: string;
      fire_at: Date | null;
      occurrence: string;
      context: ScheduledFire['context'];
      handled_through: Date | null;
    }>(
      executor,
      // One index probe per customer, locking in (customer, milestone) order as before: with
      // `customer_id = ANY(...)` a young table's statistics made the planner scan all of it.
      `SELECT s.customer_id, s.milestone_key, s.fire_at, s.occurrence, s.context, s.handled_through
         FROM (SELECT DISTINCT id FROM unnest($1::text[]) AS c(id) ORDER BY id) AS c
        CROSS JOIN LATERAL (
          SELECT customer_id, milestone_key, fire_at, occurrence, context, handled_through
            FROM milestones.schedule WHERE customer_id = c.id ORDER BY milestone_key FOR UPDATE) AS s`,
      [customerIds],
    );
    for (const row of rows) {
      const slots = byCustomer.get(row.customer_id) ?? new Map<string, TimedSlot>();
      slots.set(row.milestone_key, {
        fire: row.fire_at && { fireAt: row.fire_at, occurrence: row.occurrence, context: row.context },
        handledThrough: row.handled_through,
      });
      byCustomer.set(row.customer_id, slots);
    }
    return byCustomer;
  }

  /**
   * Sets the next firing of each entry (what it handled stays). `keep: 'all'` only adds missing
   * entries (a new milestone's backfill must not undo newer event-driven ones).
   */
  async upsertSchedule(
    executor: SqlExecutor,
    entries: readonly ScheduleEntry[],
    keep: 'none' | 'all' = 'none',
  ): Promise<void> {
    if (entries.length === 0) return;
    const onConflict =
      keep === 'all'
        ? 'DO NOTHING'
        : `DO UPDATE SET fire_at = EXCLUDED.fire_at, occurrence = EXCLUDED.occurrence, context = EXCLUDED.context`;
    await runSql(
      executor,
      `INSERT INTO milestones.schedule (customer_id, milestone_key, fire_at, occurrence, context)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::jsonb[])
       ON CONFLICT (customer_id, milestone_key) ${onConflict}`,
      [
        entries.map((e) => e.customerId),
        entries.map((e) => e.milestoneKey),
        entries.map((e) => e.fire.fireAt),
        entries.map((e) => e.fire.occurrence),
        entries.map((e) => JSON.stringify(e.fire.context)),
      ],
    );
  }

  /** Entries that have no next firing any more: the rows stay, for what they handled. */
  async unschedule(
    executor: SqlExecutor,
    entries: readonly { customerId: string; milestoneKey: string }[],
  ): Promise<void> {
    if (entries.length === 0) return;
    await runSql(
      executor,
      `UPDATE milestones.schedule s SET fire_at = NULL
         FROM unnest($1::text[], $2::text[]) AS gone(customer_id, milestone_key)
        WHERE s.customer_id = gone.customer_id AND s.milestone_key = gone.milestone_key`,
      [entries.map((e) => e.customerId), entries.map((e) => e.milestoneKey)],
    );
  }

  /** The scheduler's decisions on claimed entries: each moves to its next firing (or none) and records what it handled. */
  async settle(executor: SqlExecutor, entries: readonly SettledEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await runSql(
      executor,
      `UPDATE milestones.schedule s
          SET fire_at = u.fire_at, occurrence = COALESCE(u.occurrence, s.occurrence),
              context = COALESCE(u.context, s.context), handled_through = u.handled_through
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::jsonb[], $6::timestamptz[])
           AS u(customer_id, milestone_key, fire_at, occurrence, context, handled_through)
        WHERE s.customer_id = u.customer_id AND s.milestone_key = u.milestone_key`,
      [
        entries.map((e) => e.customerId),
        entries.map((e) => e.milestoneKey),
        entries.map((e) => e.next?.fireAt ?? null),
        entries.map((e) => e.next?.occurrence ?? null),
        entries.map((e) => (e.next ? JSON.stringify(e.next.context) : null)),
        entries.map((e) => e.handledThrough),
      ],
    );
  }

  /** Removes entries outright: their milestone left the program. */
  async remove(
    executor: SqlExecutor,
    entries: readonly { customerId: string; milestoneKey: string }[],
  ): Promise<void> {
    if (entries.length === 0) return;
    await runSql(
      executor,
      `DELETE FROM milestones.schedule s
        USING unnest($1::text[], $2::text[]) AS gone(customer_id, milestone_key)
        WHERE s.customer_id = gone.customer_id AND s.milestone_key = gone.milestone_key`,
      [entries.map((e) => e.customerId), entries.map((e) => e.milestoneKey)],
    );
  }

  /** Erasure: nothing more is scheduled for these customers, due or not. */
  async forget(executor: SqlExecutor, customerIds: readonly string[]): Promise<void> {
    if (customerIds.length === 0) return;
    await runSql(executor, `DELETE FROM milestones.schedule WHERE customer_id = ANY($1::text[])`, [
      customerIds,
    ]);
  }

  /**
   * Claims up to `limit` entries due by `now`, locked until the transaction ends; rows another
   * instance holds are skipped, so instances share the due set and none fires a row twice. The
   * customer's snapshot is share-locked with it, and an entry whose customer a batch of events
   * is applying to waits for the next claim: it is decided on the snapshot its entry came from.
   */
  async claimDue(executor: SqlExecutor, now: Date, limit: number): Promise<DueEntry[]> {
    const rows = await queryRows<{
      customer_id: string;
      milestone_key: string;
      fire_at: Date;
      occurrence: string;
      context: ScheduledFire['context'];
      handled_through: Date | null;
      profile: CustomerProfileSnapshot;
      last_event_at: Record<string, string>;
      scheduled_from: Date | null;
    }>(
      executor,
      `SELECT s.customer_id, s.milestone_key, s.fire_at, s.occurrence, s.context, s.handled_through,
              c.profile, c.last_event_at, c.scheduled_from
         FROM milestones.schedule s
         JOIN milestones.customer_snapshots c ON c.customer_id = s.customer_id
        WHERE s.fire_at <= $1
        ORDER BY s.fire_at
        LIMIT $2
        FOR UPDATE OF s SKIP LOCKED
        FOR SHARE OF c SKIP LOCKED`,
      [now, limit],
    );
    return rows.map((row) => ({
      customerId: row.customer_id,
      milestoneKey: row.milestone_key,
      fire: { fireAt: row.fire_at, occurrence: row.occurrence, context: row.context },
      handledThrough: row.handled_through,
      inputs: { profile: row.profile, lastEventAt: row.last_event_at, scheduledFrom: row.scheduled_from },
    }));
  }

  /** The definitions every customer has been scheduled for, and since when, by milestone key. */
  async coverage(): Promise<Map<string, Coverage>> {
    const rows = await queryRows<{ milestone_key: string; definition: string; covered_at: Date }>(
      this.db,
      `SELECT milestone_key, definition, covered_at FROM milestones.schedule_coverage`,
    );
    return new Map(
      rows.map((row) => [row.milestone_key, { definition: row.definition, coveredAt: row.covered_at }]),
    );
  }

  async markCovered(milestoneKey: string, definition: string, now: Date): Promise<void> {
    await runSql(
      this.db,
      `INSERT INTO milestones.schedule_coverage (milestone_key, definition, covered_at) VALUES ($1, $2, $3)
       ON CONFLICT (milestone_key) DO UPDATE SET definition = EXCLUDED.definition, covered_at = EXCLUDED.covered_at`,
      [milestoneKey, definition, now],
    );
  }

  /** A milestone removed from the program: its schedule and coverage go. */
  async dropMilestone(milestoneKey: string): Promise<void> {
    await runSql(this.db, `DELETE FROM milestones.schedule WHERE milestone_key = $1`, [milestoneKey]);
    await runSql(this.db, `DELETE FROM milestones.schedule_coverage WHERE milestone_key = $1`, [
      milestoneKey,
    ]);
  }
}
