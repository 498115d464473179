import type { MilestoneOccurrence } from '@mmp/milestones-domain';
import { InjectServiceDatabase, queryRows, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

export interface ReachedMilestone {
  key: string;
  occurrence: string;
  reachedAt: string;
}

@Injectable()
export class OccurrenceStore {
  constructor(@InjectServiceDatabase('milestones') private readonly db: DataSource) {}

  /**
   * Records occurrences (first one wins) and returns the ids that still have to be published:
   * the new ones, and earlier ones whose publication never completed.
   */
  async record(occurrences: readonly MilestoneOccurrence[]): Promise<Set<string>> {
    if (occurrences.length === 0) return new Set();
    const rows = await queryRows<{ occurrence_id: string }>(
      this.db,
      `WITH inserted AS (
         INSERT INTO milestones.occurrences
           (occurrence_id, milestone_key, customer_id, occurrence, reached_at, context, cause_event_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[], $7::text[])
         ON CONFLICT (occurrence_id) DO NOTHING
         RETURNING occurrence_id
       )
       SELECT occurrence_id FROM inserted
       UNION
       SELECT occurrence_id FROM milestones.occurrences
        WHERE occurrence_id = ANY($1::text[]) AND published_at IS NULL`,
      [
        occurrences.map((o) => o.occurrenceId),
        occurrences.map((o) => o.milestoneKey),
        occurrences.map((o) => o.customerId),
        occurrences.map((o) => o.occurrence),
        occurrences.map((o) => o.reachedAt),
        occurrences.map((o) => JSON.stringify(o.context)),
        occurrences.map((o) => o.causeEventId),
      ],
    );
    return new Set(rows.map((row) => row.occurrence_id));
  }

  async markPublished(occurrenceIds: readonly string[], now: Date): Promise<void> {
    if (occurrenceIds.length === 0) return;
    await runSql(
      this.db,
      `UPDATE milestones.occurrences SET published_at = $2 WHERE occurrence_id = ANY($1::text[]) AND published_at IS NULL`,
      [occurrenceIds, now],
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
