import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import type { MachineReason, TouchKind } from '@mmp/analytics-domain';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

export interface TouchRecord {
  messageId: string;
  kind: TouchKind;
  at: Date;
  userAgent: string | null;
  machineReason: MachineReason | null;
  url: string | null;
}

@Injectable()
export class TouchStore {
  constructor(@InjectServiceDatabase('analytics') private readonly db: DataSource) {}

  /**
   * Stores the touch and, when a person made it, the message's `opened`/`clicked` fact, in one
   * statement. Answers whether that fact is new: only the first human open or click publishes.
   */
  async record(touch: TouchRecord): Promise<{ firstHuman: boolean }> {
    const [row] = await queryRows<{ first_human: boolean }>(
      this.db,
      `WITH touch AS (
         INSERT INTO analytics.touches (message_id, kind, occurred_at, user_agent, machine_reason, url)
         VALUES ($1, $2, $3, $4, $5, $6)
       ), fact AS (
         INSERT INTO analytics.message_facts
           (message_id, status, customer_id, journey_key, step_id, milestone_key, template, variant, channel, reason, occurred_at)
         SELECT f.message_id, $7, f.customer_id, f.journey_key, f.step_id, f.milestone_key, f.template, f.variant, f.channel, NULL, $3
           FROM (SELECT * FROM analytics.message_facts WHERE message_id = $1 ORDER BY occurred_at LIMIT 1) f
          WHERE $5::text IS NULL
         ON CONFLICT (message_id, status) DO NOTHING
         RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM fact) AS first_human`,
      [
        touch.messageId,
        touch.kind,
        touch.at,
        touch.userAgent,
        touch.machineReason,
        touch.url,
        touch.kind === 'open' ? 'opened' : 'clicked',
      ],
    );
    return { firstHuman: row?.first_human ?? false };
  }
}
