import type { MessageEventV1, MessageStatus } from '@mmp/contracts';
import { InjectServiceDatabase, queryRows, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

export type StatusCounts = Record<MessageStatus, number>;

@Injectable()
export class MessageFactsStore {
  constructor(@InjectServiceDatabase('analytics') private readonly db: DataSource) {}

  async record(events: readonly MessageEventV1[]): Promise<void> {
    if (events.length === 0) return;
    await runSql(
      this.db,
      `INSERT INTO analytics.message_facts (message_id, status, journey_key, step_id, variant, channel, reason, occurred_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
       ON CONFLICT (message_id, status) DO NOTHING`,
      [
        events.map((e) => e.messageId),
        events.map((e) => e.status),
        events.map((e) => e.journeyKey),
        events.map((e) => e.stepId),
        events.map((e) => e.variant),
        events.map((e) => e.channel),
        events.map((e) => e.reason),
        events.map((e) => e.occurredAt),
      ],
    );
  }

  /** Distinct messages per status for one journey. */
  async countsFor(journeyKey: string): Promise<StatusCounts> {
    const rows = await queryRows<{ status: MessageStatus; messages: number }>(
      this.db,
      `SELECT status, count(*)::int AS messages FROM analytics.message_facts WHERE journey_key = $1 GROUP BY status`,
      [journeyKey],
    );
    const by = new Map(rows.map((row) => [row.status, row.messages]));
    const count = (status: MessageStatus): number => by.get(status) ?? 0;
    return {
      queued: count('queued'),
      sent: count('sent'),
      delivered: count('delivered'),
      opened: count('opened'),
      clicked: count('clicked'),
      bounced: count('bounced'),
      failed: count('failed'),
      suppressed: count('suppressed'),
    };
  }
}
