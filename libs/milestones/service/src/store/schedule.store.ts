import type { CustomerProfileSnapshot } from '@mmp/contracts';
import type { MilestoneState, ScheduledFire, TimedInputs } from '@mmp/milestones-domain';
import { InjectServiceDatabase, queryRows, runSql, type SqlExecutor } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

export interface CustomerSnapshot extends TimedInputs {
  customerId: string;
}

export interface ScheduleEntry {
  customerId: string;
  milestoneKey: string;
  fire: ScheduledFire;
}

export interface DueEntry extends ScheduleEntry {
  /** Null when the customer has no snapshot (cannot happen unless rows were deleted by hand). */
  inputs: TimedInputs | null;
}

interface SnapshotRow {
  customer_id: string;
  profile: CustomerProfileSnapshot;
  last_event_at: Record<string, string>;
}

/**
 * The milestones service's own view of customers (latest profile, latest time per event type,
 * what each event-driven milestone remembers) and the schedule of time-based milestones. Every
 * write is one set-based statement per batch.
 */
@Injectable()
export class ScheduleStore {
  constructor(@InjectServiceDatabase('milestones') readonly db: DataSource) {}

  async snapshots(
    executor: SqlExecutor,
    customerIds: readonly string[],
  ): Promise<Map<string, CustomerSnapshot>> {
    if (customerIds.length === 0) return new Map();
    const rows = await queryRows<SnapshotRow>(
      executor,
      `SELECT customer_id, profile, last_event_at FROM milestones.customer_snapshots WHERE customer_id = ANY($1::text[])`,
      [customerIds],
    );
    return new Map(rows.map((row) => [row.customer_id, toSnapshot(row)]));
  }

  /**
   * A page of snapshots in customer id order, after `afterCustomerId` (keyset paging for
   * backfills). Only what scheduling reads comes back (dates, zone, attributes): `where` is
   * checked at firing time on the whole profile, and custom traits would only slow a 1M backfill.
   */
  async snapshotPage(afterCustomerId: string, limit: number): Promise<CustomerSnapshot[]> {
    const rows = await queryRows<SnapshotRow>(
      this.db,
      `SELECT customer_id, last_event_at,
              jsonb_build_object(
                'customerId', customer_id,
                'traits', jsonb_strip_nulls(jsonb_build_object(
                  'birthday', profile->'traits'->'birthday', 'timezone', profile->'traits'->'timezone')),
                'attributes', profile->'attributes') AS profile
         FROM milestones.customer_snapshots
        WHERE customer_id > $1 ORDER BY customer_id LIMIT $2`,
      [afterCustomerId, limit],
    );
    return rows.map(toSnapshot);
  }

  async saveSnapshots(
    executor: SqlExecutor,
    snapshots: readonly CustomerSnapshot[],
    now: Date,
  ): Promise<void> {
    if (snapshots.length === 0) return;
    await runSql(
      executor,
      `INSERT INTO milestones.customer_snapshots (customer_id, profile, last_event_at, updated_at)
       SELECT customer_id, profile, last_event_at, $4 FROM unnest($1::text[], $2::jsonb[], $3::jsonb[])
           AS s(customer_id, profile, last_event_at)
       ON CONFLICT (customer_id) DO UPDATE
         SET profile = EXCLUDED.profile, last_event_at = EXCLUDED.last_event_at, updated_at = EXCLUDED.updated_at`,
      [
        snapshots.map((s) => s.customerId),
        snapshots.map((s) => JSON.stringify(s.profile)),
        snapshots.map((s) => JSON.stringify(s.lastEventAt)),
        now,
      ],
    );
  }

  async states(
    executor: SqlExecutor,
    customerIds: readonly string[],
  ): Promise<Map<string, Map<string, MilestoneState>>> {
    const byCustomer = new Map<string, Map<string, MilestoneState>>();
    if (customerIds.length === 0) return byCustomer;
    const rows = await queryRows<{ customer_id: string; milestone_key: string; state: MilestoneState }>(
      executor,
      `SELECT customer_id, milestone_key, state FROM milestones.milestone_states WHERE customer_id = ANY($1::text[])`,
      [customerIds],
    );
    for (const row of rows) {
      const states = byCustomer.get(row.customer_id) ?? new Map<string, MilestoneState>();
      states.set(row.milestone_key, row.state);
      byCustomer.set(row.customer_id, states);
    }
    return byCustomer;
  }

  async saveStates(
    executor: SqlExecutor,
    states: readonly { customerId: string; milestoneKey: string; state: MilestoneState }[],
  ): Promise<void> {
    if (states.length === 0) return;
    await runSql(
      executor,
      `INSERT INTO milestones.milestone_states (customer_id, milestone_key, state)
       SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
       ON CONFLICT (customer_id, milestone_key) DO UPDATE SET state = EXCLUDED.state`,
      [
        states.map((s) => s.customerId),
        states.map((s) => s.milestoneKey),
        states.map((s) => JSON.stringify(s.state)),
      ],
    );
  }

  /**
   * Sets the next firing of each entry. `keep: 'due'` leaves an entry already due at `now`
   * alone: the scheduler owns it, fires it and reschedules it from the new profile. `keep: 'all'`
   * only adds missing entries (a new milestone's backfill must not undo newer event-driven ones).
   */
  async upsertSchedule(
    executor: SqlExecutor,
    entries: readonly ScheduleEntry[],
    keep: { keep: 'none' } | { keep: 'due'; now: Date } | { keep: 'all' } = { keep: 'none' },
  ): Promise<void> {
    if (entries.length === 0) return;
    const onConflict =
      keep.keep === 'all'
        ? 'DO NOTHING'
        : `DO UPDATE SET fire_at = EXCLUDED.fire_at, occurrence = EXCLUDED.occurrence, context = EXCLUDED.context
           WHERE $6::timestamptz IS NULL OR milestones.schedule.fire_at > $6::timestamptz`;
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
        ...(keep.keep === 'all' ? [] : [keep.keep === 'due' ? keep.now : null]),
      ],
    );
  }

  /** Drops entries that have no next firing any more (same `keepDueBefore` rule as upsertSchedule). */
  async unschedule(
    executor: SqlExecutor,
    entries: readonly { customerId: string; milestoneKey: string }[],
    keepDueBefore?: Date,
  ): Promise<void> {
    if (entries.length === 0) return;
    await runSql(
      executor,
      `DELETE FROM milestones.schedule s
        USING unnest($1::text[], $2::text[]) AS gone(customer_id, milestone_key)
        WHERE s.customer_id = gone.customer_id AND s.milestone_key = gone.milestone_key
          AND ($3::timestamptz IS NULL OR s.fire_at > $3::timestamptz)`,
      [entries.map((e) => e.customerId), entries.map((e) => e.milestoneKey), keepDueBefore ?? null],
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
   * instance holds are skipped, so instances share the due set and none fires a row twice.
   */
  async claimDue(executor: SqlExecutor, now: Date, limit: number): Promise<DueEntry[]> {
    const rows = await queryRows<{
      customer_id: string;
      milestone_key: string;
      fire_at: Date;
      occurrence: string;
      context: ScheduledFire['context'];
      profile: CustomerProfileSnapshot | null;
      last_event_at: Record<string, string> | null;
    }>(
      executor,
      `SELECT s.customer_id, s.milestone_key, s.fire_at, s.occurrence, s.context, c.profile, c.last_event_at
         FROM milestones.schedule s
         LEFT JOIN milestones.customer_snapshots c ON c.customer_id = s.customer_id
        WHERE s.fire_at <= $1
        ORDER BY s.fire_at
        LIMIT $2
        FOR UPDATE OF s SKIP LOCKED`,
      [now, limit],
    );
    return rows.map((row) => ({
      customerId: row.customer_id,
      milestoneKey: row.milestone_key,
      fire: { fireAt: row.fire_at, occurrence: row.occurrence, context: row.context },
      inputs: row.profile ? { profile: row.profile, lastEventAt: row.last_event_at ?? {} } : null,
    }));
  }

  /** The definitions every customer has been scheduled for, by milestone key. */
  async coverage(): Promise<Map<string, string>> {
    const rows = await queryRows<{ milestone_key: string; definition: string }>(
      this.db,
      `SELECT milestone_key, definition FROM milestones.schedule_coverage`,
    );
    return new Map(rows.map((row) => [row.milestone_key, row.definition]));
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

function toSnapshot(row: SnapshotRow): CustomerSnapshot {
  return { customerId: row.customer_id, profile: row.profile, lastEventAt: row.last_event_at };
}
