import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { trimDecimal } from './attribution.store';
import type {
  CustomerCount,
  FactCount,
  GroupFigures,
  JourneyFigures,
  TouchCount,
  VariantFigures,
  VolumeCount,
} from '@mmp/analytics-domain';

/** The raw figures of one journey, each one set-based statement over the analytics tables. */
@Injectable()
export class JourneyMetricsStore {
  constructor(@InjectServiceDatabase('analytics') private readonly db: DataSource) {}

  async figures(journeyKey: string): Promise<JourneyFigures> {
    const [groups, facts, customers, variants, touches, volume] = await Promise.all([
      this.groups(journeyKey),
      queryRows<FactCount>(
        this.db,
        `SELECT step_id AS "stepId", variant, status, count(*)::int AS messages,
                count(DISTINCT customer_id)::int AS customers
           FROM analytics.message_facts WHERE journey_key = $1
          GROUP BY step_id, variant, status ORDER BY step_id, variant NULLS FIRST, status`,
        [journeyKey],
      ),
      // The funnel: customers, not sends (a customer of a two-send journey is sent twice).
      queryRows<CustomerCount>(
        this.db,
        `SELECT status, count(DISTINCT customer_id)::int AS customers
           FROM analytics.message_facts WHERE journey_key = $1 GROUP BY status ORDER BY status`,
        [journeyKey],
      ),
      // Entrants of the treatment who were sent a variant within their window, and how many converted.
      queryRows<VariantFigures>(
        this.db,
        `SELECT f.step_id AS "stepId", f.variant, count(DISTINCT e.instance_id)::int AS entered,
                count(DISTINCT c.instance_id)::int AS conversions
           FROM analytics.message_facts f
           JOIN analytics.entries e
             ON e.customer_id = f.customer_id AND e.journey_key = f.journey_key AND e.grp = 'treatment'
            AND f.occurred_at >= e.entered_at AND (e.goal_ends_at IS NULL OR f.occurred_at <= e.goal_ends_at)
           LEFT JOIN analytics.conversions c ON c.instance_id = e.instance_id
          WHERE f.journey_key = $1 AND f.status = 'sent' AND f.variant IS NOT NULL
          GROUP BY f.step_id, f.variant ORDER BY f.step_id, f.variant`,
        [journeyKey],
      ),
      queryRows<TouchCount>(
        this.db,
        `SELECT t.kind, count(*)::int AS total, count(*) FILTER (WHERE t.machine_reason IS NOT NULL)::int AS machine
           FROM analytics.touches t
           JOIN analytics.message_facts f ON f.message_id = t.message_id AND f.status = 'sent'
          WHERE f.journey_key = $1
          GROUP BY t.kind ORDER BY t.kind`,
        [journeyKey],
      ),
      queryRows<VolumeCount>(
        this.db,
        // Grouped by date first: formatting once per group, not once per row.
        `SELECT to_char(day, 'YYYY-MM-DD') AS day, status, messages
           FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, status, count(*)::int AS messages
                   FROM analytics.message_facts WHERE journey_key = $1
                  GROUP BY 1, 2) AS days
          ORDER BY days.day, status`,
        [journeyKey],
      ),
    ]);
    return { groups, facts, customers, variants, touches, volume };
  }

  /**
   * Entrants, conversions and revenue per group. Revenue is the order totals placed within each
   * entry's goal window, net of refunds within that window of those same orders.
   */
  private async groups(journeyKey: string): Promise<GroupFigures[]> {
    const rows = await queryRows<GroupFigures>(
      this.db,
      `SELECT e.grp AS "group", count(*)::int AS entered, count(c.instance_id)::int AS conversions,
              coalesce(sum(r.net), 0)::numeric(17, 4)::text AS revenue
         FROM analytics.entries e
         LEFT JOIN analytics.conversions c ON c.instance_id = e.instance_id
         LEFT JOIN LATERAL (
           SELECT sum(o.amount) - coalesce(sum(rf.refunded), 0) AS net
             FROM analytics.customer_activity o
             LEFT JOIN LATERAL (
               SELECT sum(x.amount) AS refunded FROM analytics.customer_activity x
                WHERE x.customer_id = o.customer_id AND x.type = 'order.refunded' AND x.order_id = o.order_id
                  AND x.occurred_at BETWEEN e.entered_at AND e.goal_ends_at
             ) rf ON true
            WHERE o.customer_id = e.customer_id AND o.type = 'order.placed'
              AND o.occurred_at BETWEEN e.entered_at AND e.goal_ends_at
         ) r ON e.goal_ends_at IS NOT NULL
        WHERE e.journey_key = $1
        GROUP BY e.grp`,
      [journeyKey],
    );
    return rows.map((row) => ({ ...row, revenue: trimDecimal(row.revenue) }));
  }
}
