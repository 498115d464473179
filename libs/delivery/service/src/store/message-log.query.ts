import type { Channel, MessageStatus } from '@mmp/contracts';
import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import { decodeCursor, pageFrom, type Page } from '@mmp/server';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { messageViewOf, type MessageView, type MessageViewRow } from './message-list.query';

export interface MessageLogFilter {
  status?: MessageStatus;
  channel?: Channel;
  journey?: string;
  step?: string;
  template?: string;
  customerId?: string;
  from?: Date;
  to?: Date;
}

export interface LoggedMessage extends MessageView {
  customerId: string;
}

export interface StatusChange {
  status: string;
  reason: string | null;
  occurredAt: string;
}

export interface StepOutcomes {
  stepId: string;
  messages: number;
  statuses: Record<string, number>;
  suppressed: Record<string, number>;
  failed: Record<string, number>;
  variants: { variant: string | null; messages: number; statuses: Record<string, number> }[];
}

const COLUMNS = `message_id, customer_id, journey_key, step_id, milestone_key, channel, template, variant, recipient,
                 subject, body, status, reason, created_at, sent_at`;

/** The console's reads of delivery's messages: the filtered log, one message's history, outcomes per step. */
@Injectable()
export class MessageLogQuery {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

  /** Newest first, keyset-paged on (createdAt, messageId); every filter is optional and exact. */
  async log(
    filter: MessageLogFilter,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<LoggedMessage>> {
    const after = decodeCursor(cursor, 2);
    const rows = await queryRows<MessageViewRow>(
      this.db,
      `SELECT ${COLUMNS} FROM delivery.messages
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR channel = $2)
          AND ($3::text IS NULL OR journey_key = $3) AND ($4::text IS NULL OR step_id = $4)
          AND ($5::text IS NULL OR template = $5) AND ($6::text IS NULL OR customer_id = $6)
          AND ($7::timestamptz IS NULL OR created_at >= $7) AND ($8::timestamptz IS NULL OR created_at < $8)
          AND ($9::timestamptz IS NULL OR (created_at, message_id) < ($9::timestamptz, $10::text))
        ORDER BY created_at DESC, message_id DESC LIMIT $11`,
      [
        filter.status ?? null,
        filter.channel ?? null,
        filter.journey ?? null,
        filter.step ?? null,
        filter.template ?? null,
        filter.customerId ?? null,
        filter.from ?? null,
        filter.to ?? null,
        after ? new Date(String(after[0])) : null,
        after ? String(after[1]) : null,
        limit + 1,
      ],
    );
    return pageFrom(rows, limit, messageViewOf, (row) => [row.created_at.toISOString(), row.message_id]);
  }

  async message(messageId: string): Promise<(LoggedMessage & { statusHistory: StatusChange[] }) | undefined> {
    const [row] = await queryRows<MessageViewRow>(
      this.db,
      `SELECT ${COLUMNS} FROM delivery.messages WHERE message_id = $1`,
      [messageId],
    );
    if (!row) return undefined;
    const history = await queryRows<{
      status: string;
      reason: string | null;
      occurred_at: string;
      created_at: Date;
    }>(
      this.db,
      `SELECT payload ->> 'status' AS status, payload ->> 'reason' AS reason, payload ->> 'occurredAt' AS occurred_at, created_at
         FROM delivery.status_outbox WHERE message_id = $1
        ORDER BY coalesce(payload ->> 'occurredAt', '') , created_at, event_id`,
      [messageId],
    );
    return {
      ...messageViewOf(row),
      statusHistory: history.map((h) => ({
        status: h.status,
        reason: h.reason,
        occurredAt: h.occurred_at ?? h.created_at.toISOString(),
      })),
    };
  }

  /** Per step (and variant) of a journey: its messages by current status, suppressions and failures by reason. */
  async outcomes(journeyKey: string): Promise<StepOutcomes[]> {
    const rows = await queryRows<{
      step_id: string;
      variant: string | null;
      status: string;
      reason: string | null;
      count: number;
    }>(
      this.db,
      `SELECT step_id, variant, status, reason, count(*)::int AS count FROM delivery.messages
        WHERE journey_key = $1 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2`,
      [journeyKey],
    );
    const steps = new Map<string, StepOutcomes>();
    for (const row of rows) {
      let step = steps.get(row.step_id);
      if (!step) {
        step = { stepId: row.step_id, messages: 0, statuses: {}, suppressed: {}, failed: {}, variants: [] };
        steps.set(row.step_id, step);
      }
      step.messages += row.count;
      step.statuses[row.status] = (step.statuses[row.status] ?? 0) + row.count;
      if (row.status === 'suppressed' || row.status === 'failed') {
        const byReason = row.status === 'suppressed' ? step.suppressed : step.failed;
        const reason = row.reason ?? 'unknown';
        byReason[reason] = (byReason[reason] ?? 0) + row.count;
      }
      let variant = step.variants.find((v) => v.variant === row.variant);
      if (!variant) {
        variant = { variant: row.variant, messages: 0, statuses: {} };
        step.variants.push(variant);
      }
      variant.messages += row.count;
      variant.statuses[row.status] = (variant.statuses[row.status] ?? 0) + row.count;
    }
    return [...steps.values()];
  }
}
