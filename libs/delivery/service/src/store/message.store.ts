import type { Channel, MessageEventV1, MessageStatus } from '@mmp/contracts';
import type { ConsentState } from '@mmp/delivery-domain';
import { InjectServiceDatabase, queryRows, runSql, withTransaction } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

export interface NewMessage {
  messageId: string;
  customerId: string;
  journeyKey: string;
  stepId: string;
  milestoneKey: string;
  channel: Channel;
  template: string;
  variant: string | null;
}

/** A message's outcome to record: its final fields and the status event to publish. */
export interface MessageOutcome {
  messageId: string;
  status: MessageStatus;
  reason: string | null;
  recipient: string | null;
  subject: string | null;
  body: string | null;
  provider: string | null;
  providerMessageId: string | null;
  sentAt: Date | null;
  event: MessageEventV1;
}

export interface MessageView {
  messageId: string;
  journeyKey: string;
  stepId: string;
  milestoneKey: string;
  channel: Channel;
  template: string;
  variant: string | null;
  to: string | null;
  subject: string | null;
  body: string | null;
  status: MessageStatus;
  reason: string | null;
  createdAt: string;
  sentAt: string | null;
}

/** What a batch of requests found: which to send now, which may already have reached a provider. */
export interface ClaimResult {
  sendable: Set<string>;
  outcomeUnknown: Set<string>;
}

@Injectable()
export class MessageStore {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return withTransaction(this.db, work);
  }

  /**
   * Records requested messages (first one wins) and claims those safe to send: new ones and
   * queued ones never handed to a provider. Queued ones that were handed over may have been
   * sent: they are reported as outcome unknown and never sent again.
   */
  async claim(tx: EntityManager, messages: readonly NewMessage[], now: Date): Promise<ClaimResult> {
    const inserted = await queryRows<{ message_id: string }>(
      tx,
      `INSERT INTO delivery.messages
         (message_id, customer_id, journey_key, step_id, milestone_key, channel, template, variant, status, created_at, updated_at)
       SELECT t.*, 'queued', $9::timestamptz, $9::timestamptz
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS t
       ON CONFLICT (message_id) DO NOTHING
       RETURNING message_id`,
      [
        messages.map((m) => m.messageId),
        messages.map((m) => m.customerId),
        messages.map((m) => m.journeyKey),
        messages.map((m) => m.stepId),
        messages.map((m) => m.milestoneKey),
        messages.map((m) => m.channel),
        messages.map((m) => m.template),
        messages.map((m) => m.variant),
        now,
      ],
    );
    const sendable = new Set(inserted.map((r) => r.message_id));
    const known = messages.map((m) => m.messageId).filter((id) => !sendable.has(id));
    const outcomeUnknown = new Set<string>();
    if (known.length > 0) {
      const queued = await queryRows<{ message_id: string; handed_over: boolean }>(
        tx,
        `SELECT message_id, handed_over_at IS NOT NULL AS handed_over
           FROM delivery.messages
          WHERE message_id = ANY($1::text[]) AND status = 'queued'
          ORDER BY message_id
          FOR UPDATE`,
        [known],
      );
      for (const row of queued) (row.handed_over ? outcomeUnknown : sendable).add(row.message_id);
    }
    return { sendable, outcomeUnknown };
  }

  /** Marks messages as handed to a provider, just before the calls. */
  async markHandedOver(messageIds: readonly string[], now: Date): Promise<void> {
    if (messageIds.length === 0) return;
    await runSql(
      this.db,
      `UPDATE delivery.messages SET handed_over_at = $2, updated_at = $2 WHERE message_id = ANY($1::text[])`,
      [messageIds, now],
    );
  }

  async consentOf(tx: EntityManager, customerIds: readonly string[]): Promise<Map<string, ConsentState>> {
    if (customerIds.length === 0) return new Map();
    const rows = await queryRows<{ customer_id: string; channel: string; status: 'opted_in' | 'opted_out' }>(
      tx,
      `SELECT customer_id, channel, status FROM delivery.consent_view WHERE customer_id = ANY($1::text[])`,
      [customerIds],
    );
    return new Map(rows.map((r) => [`${r.customer_id}/${r.channel}`, r.status]));
  }

  /** Records outcomes and their status events in one statement pair. */
  async recordOutcomes(outcomes: readonly MessageOutcome[], now: Date, tx?: EntityManager): Promise<void> {
    if (outcomes.length === 0) return;
    const executor = tx ?? this.db;
    await runSql(
      executor,
      `UPDATE delivery.messages m
          SET status = t.status, reason = t.reason, recipient = coalesce(t.recipient, m.recipient),
              subject = coalesce(t.subject, m.subject), body = coalesce(t.body, m.body),
              provider = coalesce(t.provider, m.provider), provider_message_id = coalesce(t.provider_message_id, m.provider_message_id),
              sent_at = coalesce(t.sent_at, m.sent_at), updated_at = $10
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
              AS t(message_id, status, reason, recipient, subject, body, provider, provider_message_id, sent_at)
        WHERE m.message_id = t.message_id`,
      [
        outcomes.map((o) => o.messageId),
        outcomes.map((o) => o.status),
        outcomes.map((o) => o.reason),
        outcomes.map((o) => o.recipient),
        outcomes.map((o) => o.subject),
        outcomes.map((o) => o.body),
        outcomes.map((o) => o.provider),
        outcomes.map((o) => o.providerMessageId),
        outcomes.map((o) => o.sentAt),
        now,
      ],
    );
    await runSql(
      executor,
      `INSERT INTO delivery.status_outbox (event_id, message_id, payload, created_at)
       SELECT e, m, p, $4 FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS t(e, m, p)
       ON CONFLICT (event_id) DO NOTHING`,
      [
        outcomes.map((o) => `${o.messageId}:${o.status}`),
        outcomes.map((o) => o.messageId),
        outcomes.map((o) => JSON.stringify(o.event)),
        now,
      ],
    );
  }

  async pendingStatusEvents(
    messageIds: readonly string[],
  ): Promise<{ eventId: string; payload: MessageEventV1 }[]> {
    if (messageIds.length === 0) return [];
    const rows = await queryRows<{ event_id: string; payload: MessageEventV1 }>(
      this.db,
      `SELECT event_id, payload FROM delivery.status_outbox
        WHERE message_id = ANY($1::text[]) AND published_at IS NULL ORDER BY created_at, event_id`,
      [messageIds],
    );
    return rows.map((r) => ({ eventId: r.event_id, payload: r.payload }));
  }

  async markStatusEventsPublished(eventIds: readonly string[], now: Date): Promise<void> {
    if (eventIds.length === 0) return;
    await runSql(
      this.db,
      `UPDATE delivery.status_outbox SET published_at = $2 WHERE event_id = ANY($1::text[])`,
      [eventIds, now],
    );
  }

  /** Keeps the latest consent per customer and channel; an older change arriving late changes nothing. */
  async applyConsentChanges(
    changes: readonly { customerId: string; channel: string; status: string; changedAt: Date }[],
  ): Promise<void> {
    if (changes.length === 0) return;
    await runSql(
      this.db,
      `INSERT INTO delivery.consent_view AS v (customer_id, channel, status, changed_at)
       SELECT DISTINCT ON (c, ch) c, ch, s, t
         FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u(c, ch, s, t)
        ORDER BY c, ch, t DESC
       ON CONFLICT (customer_id, channel) DO UPDATE
         SET status = excluded.status, changed_at = excluded.changed_at
       WHERE v.changed_at <= excluded.changed_at`,
      [
        changes.map((c) => c.customerId),
        changes.map((c) => c.channel),
        changes.map((c) => c.status),
        changes.map((c) => c.changedAt),
      ],
    );
  }

  async messagesOf(customerId: string): Promise<MessageView[]> {
    const rows = await queryRows<{
      message_id: string;
      journey_key: string;
      step_id: string;
      milestone_key: string;
      channel: Channel;
      template: string;
      variant: string | null;
      recipient: string | null;
      subject: string | null;
      body: string | null;
      status: MessageStatus;
      reason: string | null;
      created_at: Date;
      sent_at: Date | null;
    }>(
      this.db,
      `SELECT message_id, journey_key, step_id, milestone_key, channel, template, variant, recipient, subject, body,
              status, reason, created_at, sent_at
         FROM delivery.messages WHERE customer_id = $1 ORDER BY created_at DESC, message_id`,
      [customerId],
    );
    return rows.map((r) => ({
      messageId: r.message_id,
      journeyKey: r.journey_key,
      stepId: r.step_id,
      milestoneKey: r.milestone_key,
      channel: r.channel,
      template: r.template,
      variant: r.variant,
      to: r.recipient,
      subject: r.subject,
      body: r.body,
      status: r.status,
      reason: r.reason,
      createdAt: r.created_at.toISOString(),
      sentAt: r.sent_at?.toISOString() ?? null,
    }));
  }
}
