import { InjectServiceDatabase, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import type { KeptEvent } from './customer-event.store';

/** Goals reached (`goal_reached_at` of `journeys.instances`): from new events, and from history at entry. */
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

  /**
   * Marks the goal of just-entered instances from the events journeys already holds: a goal
   * event that reached journeys before the milestone it follows counts all the same.
   */
  async recordGoalsFromHistory(tx: EntityManager, instanceIds: readonly string[]): Promise<void> {
    if (instanceIds.length === 0) return;
    await runSql(
      tx,
      `UPDATE journeys.instances i
          SET goal_reached_at = (
                SELECT min(e.occurred_at) FROM journeys.customer_events e
                 WHERE e.customer_id = i.customer_id AND e.event_type = i.goal_event
                   AND e.occurred_at >= i.entered_at AND e.occurred_at <= i.goal_ends_at
                   AND e.event_id IS DISTINCT FROM i.cause_event_id)
        WHERE i.instance_id = ANY($1::text[]) AND i.goal_event IS NOT NULL AND i.goal_reached_at IS NULL`,
      [instanceIds],
    );
  }
}
