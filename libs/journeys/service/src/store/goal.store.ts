import { InjectServiceDatabase, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { KeptEvent } from './customer-event.store';

/**
 * Goals reached (`goal_reached_at` of `journeys.instances`) from new events; an instance's goal from
 * the events journeys held before it entered is set by its insert (InstanceStore.insertInstances).
 */
@Injectable()
export class GoalStore {
  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  /**
   * Marks the goal reached on every instance of these customers, treatment and holdout, live or
   * ended, whose goal event happened within its window: the earliest such event counts, also
   * when it arrives after a later one (a late event moves `reachedAt` back, never forward).
   */
  async recordGoals(tx: EntityManager, events: readonly KeptEvent[]): Promise<void> {
    if (events.length === 0) return;
    await runSql(
      tx,
      // One index probe per event (LATERAL, kept from being flattened into a join by OFFSET 0):
      // as a plain join, a young table's statistics made the planner sort and merge the whole
      // table for every batch, about a third of journeys' Postgres time on the order path.
      `UPDATE journeys.instances i SET goal_reached_at = LEAST(i.goal_reached_at, g.reached_at)
         FROM (SELECT m.instance_id, min(m.at) AS reached_at
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS e(customer_id, event_id, type, at)
                 CROSS JOIN LATERAL (
                   SELECT i2.instance_id, e.at FROM journeys.instances i2
                    WHERE i2.customer_id = e.customer_id AND i2.goal_event = e.type
                      AND (i2.goal_reached_at IS NULL OR e.at < i2.goal_reached_at)
                      AND e.at >= i2.entered_at AND e.at <= i2.goal_ends_at
                      AND e.event_id IS DISTINCT FROM i2.cause_event_id
                   OFFSET 0) AS m
                GROUP BY m.instance_id) AS g
        WHERE i.instance_id = g.instance_id`,
      [
        events.map((e) => e.customerId),
        events.map((e) => e.eventId),
        events.map((e) => e.type),
        events.map((e) => e.occurredAt),
      ],
    );
  }
}
