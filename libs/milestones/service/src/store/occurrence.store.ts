import type { CustomerProfileSnapshot, MilestoneReachedV1 } from '@mmp/contracts';
import type { MilestoneOccurrence } from '@mmp/milestones-domain';
import {
  InjectServiceDatabase,
  markOutboxPublished,
  queryRows,
  runSql,
  type OutboxTable,
  type SqlExecutor,
} from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

export interface ReachedMilestone {
  key: string;
  occurrence: string;
  reachedAt: string;
}

/** An occurrence to record, with the profile its message carries (journeys needs it). */
export interface OccurrenceToRecord {
  occurrence: MilestoneOccurrence;
  profile: CustomerProfileSnapshot;
}

interface OccurrenceRow {
  occurrence_id: string;
  milestone_key: string;
  customer_id: string;
  occurrence: string;
  reached_at: Date;
  context: MilestoneReachedV1['context'];
  cause_event_id: string | null;
  profile: CustomerProfileSnapshot;
}

const MESSAGE_COLUMNS = `occurrence_id, milestone_key, customer_id, occurrence, reached_at, context, cause_event_id, profile`;

/** How long a publisher keeps the occurrences it claimed before another may republish them. */
const PUBLISH_LEASE = `interval '30 seconds'`;

/** The occurrences are their own outbox: read by lease (claimStale), so only marked through the shared helper. */
const OCCURRENCE_OUTBOX: OutboxTable = {
  table: 'milestones.occurrences',
  key: ['occurrence_id'],
  selectedBy: 'occurrence_id',
  writtenAt: 'reached_at',
  tieBreak: 'occurrence_id',
};

/** The occurrence record and its outbox: each occurrence is stored once and published until marked. */
@Injectable()
export class OccurrenceStore {
  constructor(@InjectServiceDatabase('milestones') readonly db: DataSource) {}

  /**
   * Records occurrences (first one wins) and returns the messages still to publish: the new
   * ones, and unpublished earlier ones caused by `causeEventIds` (a redelivered batch whose
   * publish failed after commit). Both are leased to the caller.
   */
  async record(
    executor: SqlExecutor,
    occurrences: readonly OccurrenceToRecord[],
    causeEventIds: readonly string[] = [],
  ): Promise<MilestoneReachedV1[]> {
    if (occurrences.length === 0 && causeEventIds.length === 0) return [];
    const rows = await queryRows<OccurrenceRow>(
      executor,
      `WITH inserted AS (
         INSERT INTO milestones.occurrences (${MESSAGE_COLUMNS})
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[], $7::text[], $8::jsonb[])
         ON CONFLICT (occurrence_id) DO NOTHING
         RETURNING ${MESSAGE_COLUMNS}
       ), retried AS (
         UPDATE milestones.occurrences SET publish_after = now() + ${PUBLISH_LEASE}
          WHERE cause_event_id = ANY($9::text[]) AND published_at IS NULL
          RETURNING ${MESSAGE_COLUMNS}
       )
       SELECT * FROM inserted UNION ALL SELECT * FROM retried`,
      [
        occurrences.map((o) => o.occurrence.occurrenceId),
        occurrences.map((o) => o.occurrence.milestoneKey),
        occurrences.map((o) => o.occurrence.customerId),
        occurrences.map((o) => o.occurrence.occurrence),
        occurrences.map((o) => o.occurrence.reachedAt),
        occurrences.map((o) => JSON.stringify(o.occurrence.context)),
        occurrences.map((o) => o.occurrence.causeEventId),
        occurrences.map((o) => JSON.stringify(o.profile)),
        causeEventIds,
      ],
    );
    // A row inserted by this statement is not visible to its own UPDATE, so nothing comes twice.
    return rows.map(toMessage);
  }

  /**
   * Claims unpublished occurrences whose lease ran out (their publisher crashed or failed
   * between commit and publish), skipping rows another instance is claiming, and leases them.
   * The lease is wall time in Postgres: it guards the outbox, not a domain moment.
   */
  async claimStale(limit: number): Promise<MilestoneReachedV1[]> {
    const rows = await queryRows<OccurrenceRow>(
      this.db,
      `UPDATE milestones.occurrences SET publish_after = now() + ${PUBLISH_LEASE}
        WHERE occurrence_id IN (
          SELECT occurrence_id FROM milestones.occurrences
           WHERE published_at IS NULL AND publish_after <= now()
           ORDER BY publish_after LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING ${MESSAGE_COLUMNS}`,
      [limit],
    );
    return rows.map(toMessage);
  }

  async markPublished(occurrenceIds: readonly string[], now: Date): Promise<void> {
    await markOutboxPublished(this.db, OCCURRENCE_OUTBOX, [occurrenceIds], now);
  }

  /**
   * Erasure: the profiles kept for publishing lose their traits (the personal part); the
   * occurrences themselves stay, as aggregates do.
   */
  async eraseTraits(executor: SqlExecutor, customerIds: readonly string[]): Promise<void> {
    if (customerIds.length === 0) return;
    await runSql(
      executor,
      `UPDATE milestones.occurrences SET profile = jsonb_set(profile, '{traits}', '{}'::jsonb)
        WHERE customer_id = ANY($1::text[])`,
      [customerIds],
    );
  }

  async reachedBy(customerId: string): Promise<ReachedMilestone[]> {
    const rows = await queryRows<{ milestone_key: string; occurrence: string; reached_at: Date }>(
      this.db,
      `SELECT milestone_key, occurrence, reached_at FROM milestones.occurrences
        WHERE customer_id = $1 ORDER BY reached_at DESC, milestone_key`,
      [customerId],
    );
    return rows.map((row) => ({
      key: row.milestone_key,
      occurrence: row.occurrence,
      reachedAt: row.reached_at.toISOString(),
    }));
  }
}

function toMessage(row: OccurrenceRow): MilestoneReachedV1 {
  return {
    schemaVersion: 1,
    occurrenceId: row.occurrence_id,
    milestoneKey: row.milestone_key,
    customerId: row.customer_id,
    occurrence: row.occurrence,
    reachedAt: row.reached_at.toISOString(),
    context: row.context,
    causeEventId: row.cause_event_id,
    profile: row.profile,
  };
}
