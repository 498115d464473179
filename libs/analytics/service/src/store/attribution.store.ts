import type { CustomerActivity, JourneyEntry, OrderFigures } from '@mmp/analytics-domain';
import type { ConversionV1, JourneyEntryV1 } from '@mmp/contracts';
import { InjectServiceDatabase, queryRows, runSql, type SqlExecutor } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

export interface ActivityRecord extends CustomerActivity, OrderFigures {}

interface EntryRow {
  instance_id: string;
  journey_key: string;
  customer_id: string;
  grp: 'treatment' | 'holdout';
  entered_at: Date;
  goal_event: string | null;
  goal_ends_at: Date | null;
  cause_event_id: string | null;
}

interface ConversionRow {
  instance_id: string;
  journey_key: string;
  customer_id: string;
  grp: 'treatment' | 'holdout';
  entered_at: Date;
  goal_event: string;
  event_id: string;
  converted_at: Date;
  revenue: string | null;
  currency: string | null;
}

@Injectable()
export class AttributionStore {
  constructor(@InjectServiceDatabase('analytics') private readonly db: DataSource) {}

  get database(): DataSource {
    return this.db;
  }

  /**
   * Serialises attribution per customer across transactions: an entry and its goal event arrive
   * on different topics, and two concurrent transactions would each miss the other's row
   * (neither sees the other's uncommitted insert), so neither would record the conversion.
   * Locks are taken in one order, so two batches never deadlock.
   */
  async lockCustomers(customerIds: readonly string[], executor: SqlExecutor): Promise<void> {
    await runSql(
      executor,
      `SELECT pg_advisory_xact_lock(k)
         FROM (SELECT DISTINCT hashtextextended('analytics.attribution:' || c, 0) AS k
                 FROM unnest($1::text[]) AS c ORDER BY k) AS keys`,
      [customerIds],
    );
  }

  async recordEntries(entries: readonly JourneyEntryV1[], executor: SqlExecutor): Promise<void> {
    if (entries.length === 0) return;
    await runSql(
      executor,
      `INSERT INTO analytics.entries (instance_id, journey_key, customer_id, grp, entered_at, goal_event, goal_ends_at, cause_event_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[], $8::text[])
       ON CONFLICT (instance_id) DO NOTHING`,
      [
        entries.map((e) => e.instanceId),
        entries.map((e) => e.journeyKey),
        entries.map((e) => e.customerId),
        entries.map((e) => e.group),
        entries.map((e) => e.enteredAt),
        entries.map((e) => e.goal?.event ?? null),
        entries.map((e) => e.goal?.windowEndsAt ?? null),
        entries.map((e) => e.causeEventId ?? null),
      ],
    );
  }

  async recordActivity(activities: readonly ActivityRecord[], executor: SqlExecutor): Promise<void> {
    if (activities.length === 0) return;
    await runSql(
      executor,
      `INSERT INTO analytics.customer_activity (event_id, customer_id, type, occurred_at, order_id, amount, currency)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::numeric[], $7::text[])
       ON CONFLICT (event_id) DO NOTHING`,
      [
        activities.map((a) => a.eventId),
        activities.map((a) => a.customerId),
        activities.map((a) => a.type),
        activities.map((a) => a.occurredAt),
        activities.map((a) => a.orderId),
        activities.map((a) => a.amount),
        activities.map((a) => a.currency),
      ],
    );
  }

  /** Entries of these customers with a goal and no conversion yet. */
  async unconvertedEntries(customerIds: readonly string[], executor: SqlExecutor): Promise<JourneyEntry[]> {
    const rows = await queryRows<EntryRow>(
      executor,
      `SELECT e.instance_id, e.journey_key, e.customer_id, e.grp, e.entered_at, e.goal_event, e.goal_ends_at,
              e.cause_event_id
         FROM analytics.entries e
        WHERE e.customer_id = ANY($1::text[]) AND e.goal_event IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM analytics.conversions c WHERE c.instance_id = e.instance_id)`,
      [customerIds],
    );
    return rows.map(toEntry);
  }

  /** The goal-type activity of these customers since the earliest of their pending entries. */
  async goalActivity(entries: readonly JourneyEntry[], executor: SqlExecutor): Promise<CustomerActivity[]> {
    if (entries.length === 0) return [];
    const rows = await queryRows<{ event_id: string; customer_id: string; type: string; occurred_at: Date }>(
      executor,
      `SELECT a.event_id, a.customer_id, a.type, a.occurred_at
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) AS w(customer_id, goal_event, starts, ends)
         JOIN analytics.customer_activity a
           ON a.customer_id = w.customer_id AND a.type = w.goal_event AND a.occurred_at BETWEEN w.starts AND w.ends`,
      [
        entries.map((e) => e.customerId),
        entries.map((e) => e.goal?.event ?? null),
        entries.map((e) => e.enteredAt),
        entries.map((e) => e.goal?.windowEndsAt ?? null),
      ],
    );
    return rows.map((row) => ({
      eventId: row.event_id,
      customerId: row.customer_id,
      type: row.type,
      occurredAt: row.occurred_at,
    }));
  }

  async recordConversions(
    conversions: readonly { instanceId: string; eventId: string; convertedAt: Date }[],
    executor: SqlExecutor,
  ): Promise<void> {
    if (conversions.length === 0) return;
    await runSql(
      executor,
      `INSERT INTO analytics.conversions (instance_id, journey_key, customer_id, event_id, converted_at)
       SELECT c.instance_id, e.journey_key, e.customer_id, c.event_id, c.converted_at
         FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS c(instance_id, event_id, converted_at)
         JOIN analytics.entries e ON e.instance_id = c.instance_id
       ON CONFLICT (instance_id) DO NOTHING`,
      [
        conversions.map((c) => c.instanceId),
        conversions.map((c) => c.eventId),
        conversions.map((c) => c.convertedAt),
      ],
    );
  }

  /** Conversions of these customers not yet on analytics.conversions.v1, with the converting order's total. */
  async unpublishedConversions(customerIds: readonly string[]): Promise<ConversionV1[]> {
    const rows = await queryRows<ConversionRow>(
      this.db,
      `SELECT c.instance_id, e.journey_key, e.customer_id, e.grp, e.entered_at, e.goal_event,
              c.event_id, c.converted_at, a.amount::text AS revenue, a.currency
         FROM analytics.conversions c
         JOIN analytics.entries e ON e.instance_id = c.instance_id
         LEFT JOIN analytics.customer_activity a ON a.event_id = c.event_id AND a.type = 'order.placed'
        WHERE c.customer_id = ANY($1::text[]) AND c.published_at IS NULL AND e.goal_event IS NOT NULL`,
      [customerIds],
    );
    return rows.map((row) => ({
      schemaVersion: 1,
      conversionId: row.instance_id,
      journeyKey: row.journey_key,
      customerId: row.customer_id,
      group: row.grp,
      goalEvent: row.goal_event,
      eventId: row.event_id,
      enteredAt: row.entered_at.toISOString(),
      convertedAt: row.converted_at.toISOString(),
      revenue: row.revenue === null ? null : trimDecimal(row.revenue),
      currency: row.currency,
    }));
  }

  async markPublished(instanceIds: readonly string[], at: Date): Promise<void> {
    if (instanceIds.length === 0) return;
    await runSql(
      this.db,
      `UPDATE analytics.conversions SET published_at = $2 WHERE instance_id = ANY($1::text[])`,
      [instanceIds, at],
    );
  }
}

function toEntry(row: EntryRow): JourneyEntry {
  return {
    instanceId: row.instance_id,
    journeyKey: row.journey_key,
    customerId: row.customer_id,
    group: row.grp,
    enteredAt: row.entered_at,
    causeEventId: row.cause_event_id,
    goal:
      row.goal_event !== null && row.goal_ends_at !== null
        ? { event: row.goal_event, windowEndsAt: row.goal_ends_at }
        : null,
  };
}

/** numeric(17,4) prints four decimals; the contracts' decimal strings keep at least two. */
export function trimDecimal(value: string): string {
  return value.replace(/(\.\d\d\d*?)0+$/, '$1');
}
