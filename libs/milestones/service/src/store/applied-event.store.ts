import { InjectServiceDatabase, queryRows, type SqlExecutor } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/** The ids of the events applied in the last days (`milestones.applied_events`), so a redelivery is not applied twice. */
@Injectable()
export class AppliedEventStore {
  constructor(@InjectServiceDatabase('milestones') private readonly db: DataSource) {}

  /**
   * Marks events applied and returns the ids that were not yet: the others were applied before
   * (a redelivery, or another instance during a rebalance, which this waits for) and must not
   * be applied again. Called first in the batch's transaction, so a batch that rolls back
   * leaves its events unmarked.
   */
  async markApplied(executor: SqlExecutor, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = await queryRows<{ event_id: string }>(
      executor,
      `INSERT INTO milestones.applied_events (event_id)
       SELECT DISTINCT id FROM unnest($1::text[]) AS e(id) ORDER BY id
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id`,
      [eventIds],
    );
    return new Set(rows.map((row) => row.event_id));
  }

  /**
   * Forgets applied events older than `retention` (a Postgres interval), up to `limit` a call;
   * returns how many. Kept longer than the topic's retention, no redelivery can be older.
   */
  async pruneApplied(retention: string, limit: number): Promise<number> {
    const rows = await queryRows<{ event_id: string }>(
      this.db,
      `DELETE FROM milestones.applied_events WHERE event_id IN (
         SELECT event_id FROM milestones.applied_events WHERE applied_at < now() - $1::interval
          ORDER BY applied_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING event_id`,
      [retention, limit],
    );
    return rows.length;
  }
}
