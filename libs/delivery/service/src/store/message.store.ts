import type { MessageReceipt, OutboundMessage } from '@mmp/channel-sdk';
import type {
  Channel,
  CustomerProfileSnapshot,
  MessageEventV1,
  MessageRequestedV1,
  MessageStatus,
} from '@mmp/contracts';
import type { ConsentState } from '@mmp/delivery-domain';
import { InjectServiceDatabase, queryRows, runSql, withTransaction } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** A change of delivery's consent view: channel consent, or (with an address) the suppression list. */
/**
 * How far along a message is: a status only ever moves to a higher rank, so a late `delivered`
 * never undoes a `clicked`. `suppressed` is final.
 */
const STATUS_RANK_VALUES = `VALUES ('queued', 0), ('sent', 1), ('delivered', 2), ('bounced', 3), ('failed', 3),
  ('opened', 4), ('clicked', 5), ('suppressed', 9)`;

export interface ConsentViewChange {
  customerId: string;
  channel: string;
  status: string;
  changedAt: Date;
  /** In suppressionAddress() form. */
  address?: string | null | undefined;
}

/** Why the handover withheld a message decided before consent changed. */
export type WithheldReason = 'consent' | 'suppression_list' | 'customer_erased';

/** The key of an address in the sets suppressedAmong() answers. */
export const suppressionKey = (channel: string, address: string): string => `${channel}/${address}`;

/** A queued retry's recipient in suppressionAddress() form, from the rendered message it keeps. */
const retryRecipientSql = (alias: string): string =>
  `CASE WHEN ${alias}.channel = 'email' THEN lower(btrim(${alias}.pending_outbound->>'to'))
        ELSE btrim(${alias}.pending_outbound->>'to') END`;

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

/** What identifies a message in its status events. */
export type MessageRef = NewMessage;

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
  /** Provider calls made so far, when this outcome follows one. */
  attempts?: number;
  /** Set when a retryable error put the message back in the queue until then. */
  retryAt?: Date;
  /** The rendered message a retry will send. */
  pendingOutbound?: OutboundMessage;
  /** The request a retry came from: the dead letter carries it to the DLQ topic if retries run out. */
  pendingRequest?: MessageRequestedV1 | null;
  /** What the provider said (its classification reason), kept for support. */
  lastError?: string;
  /** Set when retries ran out: a dead-letter record is written. */
  deadLetter?: {
    customerId: string;
    channel: Channel;
    provider: string;
    outbound: OutboundMessage;
    /** The original messages.requested.v1 request (null for a retry queued before requests were kept). */
    request: MessageRequestedV1 | null;
  };
}

/** A queued message whose retry is due, claimed for one more provider call. */
export interface DueRetry {
  ref: MessageRef;
  attempts: number;
  outbound: OutboundMessage;
  request: MessageRequestedV1 | null;
}

/** A push token a provider reported unregistered, waiting to reach ingestion. */
/**
 * Which unpublished outbox rows to read: those of some messages (right after their commit, or
 * on redelivery), or, for the retry loop's sweep, up to `limit` written before `writtenBefore`.
 */
export type OutboxSelection = { messageIds: readonly string[] } | { writtenBefore: Date; limit: number };

/**
 * The WHERE/ORDER BY/LIMIT tail and parameters shared by the outboxes' pending queries, oldest
 * first (ties by `tieBreak`); undefined when there is nothing to read.
 */
function pendingRows(
  selection: OutboxSelection,
  writtenAt: string,
  tieBreak: string,
): { tail: string; parameters: unknown[] } | undefined {
  if ('messageIds' in selection) {
    if (selection.messageIds.length === 0) return undefined;
    return {
      tail: `WHERE published_at IS NULL AND message_id = ANY($1::text[]) ORDER BY ${writtenAt}, ${tieBreak}`,
      parameters: [selection.messageIds],
    };
  }
  return {
    tail: `WHERE published_at IS NULL AND ${writtenAt} < $1 ORDER BY ${writtenAt}, ${tieBreak} LIMIT $2`,
    parameters: [selection.writtenBefore, selection.limit],
  };
}

export interface PendingUnregisteredToken {
  customerId: string;
  token: string;
  /** The message whose send reported it (null for reports recorded before the outbox). */
  messageId: string | null;
  provider: string;
  reportedAt: Date;
}

/** A message whose retries ran out, waiting to reach the DLQ topic. */
export interface PendingDeadLetter {
  messageId: string;
  customerId: string;
  attempts: number;
  reason: string;
  lastError: string;
  request: MessageRequestedV1 | null;
}

/** A status event waiting to reach messages.events.v1. */
export interface PendingStatusEvent {
  eventId: string;
  payload: MessageEventV1;
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
      // A queued message waiting for its retry belongs to the retry loop: a redelivery leaves it be.
      const queued = await queryRows<{ message_id: string; handed_over: boolean }>(
        tx,
        `SELECT message_id, handed_over_at IS NOT NULL AS handed_over
           FROM delivery.messages
          WHERE message_id = ANY($1::text[]) AND status = 'queued' AND next_attempt_at IS NULL
          ORDER BY message_id
          FOR UPDATE`,
        [known],
      );
      for (const row of queued) (row.handed_over ? outcomeUnknown : sendable).add(row.message_id);
    }
    return { sendable, outcomeUnknown };
  }

  /**
   * Marks messages as handed to a provider, just before the calls, unless consent changed since
   * they were decided: a message whose customer was erased or opted out of its channel, or whose
   * address went on the suppression list, in the meantime is withheld with that reason (SPEC section 6: an
   * opt-out is honoured for every message not yet handed to a provider). Recipients are in
   * suppressionAddress() form.
   */
  async handOver(
    messages: readonly { messageId: string; recipient: string }[],
    now: Date,
  ): Promise<{ handedOver: Set<string>; withheld: Map<string, WithheldReason> }> {
    if (messages.length === 0) return { handedOver: new Set(), withheld: new Map() };
    const rows = await queryRows<{ message_id: string; withheld: WithheldReason | null }>(
      this.db,
      `WITH judged AS (
         SELECT m.message_id,
                CASE WHEN EXISTS (SELECT 1 FROM delivery.erased_customers e WHERE e.customer_id = m.customer_id)
                       THEN 'customer_erased'
                     WHEN EXISTS (SELECT 1 FROM delivery.consent_view v
                                   WHERE v.customer_id = m.customer_id AND v.channel = m.channel AND v.status = 'opted_out')
                       THEN 'consent'
                     WHEN EXISTS (SELECT 1 FROM delivery.suppressed_addresses s
                                   WHERE s.channel = m.channel AND s.address = t.recipient AND s.status = 'opted_out')
                       THEN 'suppression_list'
                END AS withheld
           FROM delivery.messages m JOIN unnest($1::text[], $2::text[]) AS t(message_id, recipient) USING (message_id)
          WHERE m.status = 'queued'
          FOR UPDATE OF m),
       handed AS (
         UPDATE delivery.messages m SET handed_over_at = $3, updated_at = $3
           FROM judged j WHERE m.message_id = j.message_id AND j.withheld IS NULL)
       SELECT message_id, withheld FROM judged`,
      [messages.map((m) => m.messageId), messages.map((m) => m.recipient), now],
    );
    const handedOver = new Set<string>();
    const withheld = new Map<string, WithheldReason>();
    for (const row of rows) {
      if (row.withheld) withheld.set(row.message_id, row.withheld);
      else handedOver.add(row.message_id);
    }
    return { handedOver, withheld };
  }

  /**
   * Suppresses the queued retries whose customer opted out of the channel, or whose address went
   * on the suppression list, since their first attempt, and writes their status events: a
   * retry is a message not yet handed to a provider, so the opt-out holds for it too. Returns
   * the message ids.
   */
  async withholdRetries(now: Date): Promise<string[]> {
    const rows = await queryRows<{ message_id: string }>(
      this.db,
      `WITH judged AS (
         SELECT m.message_id,
                CASE WHEN EXISTS (SELECT 1 FROM delivery.consent_view v
                                   WHERE v.customer_id = m.customer_id AND v.channel = m.channel AND v.status = 'opted_out')
                       THEN 'consent'
                     WHEN EXISTS (SELECT 1 FROM delivery.suppressed_addresses s
                                   WHERE s.channel = m.channel AND s.status = 'opted_out'
                                     AND s.address = ${retryRecipientSql('m')})
                       THEN 'suppression_list'
                END AS reason
           FROM delivery.messages m
          WHERE m.status = 'queued' AND m.next_attempt_at IS NOT NULL AND m.pending_outbound IS NOT NULL
          FOR UPDATE OF m SKIP LOCKED),
       withheld AS (
         UPDATE delivery.messages m
            SET status = 'suppressed', reason = j.reason, next_attempt_at = NULL, pending_outbound = NULL,
                pending_request = NULL, updated_at = $1
           FROM judged j WHERE m.message_id = j.message_id AND j.reason IS NOT NULL
         RETURNING m.*)
       INSERT INTO delivery.status_outbox (event_id, message_id, payload, created_at)
       SELECT message_id || ':suppressed', message_id,
              jsonb_build_object('schemaVersion', 1, 'messageId', message_id, 'customerId', customer_id,
                'journeyKey', journey_key, 'stepId', step_id, 'milestoneKey', milestone_key, 'channel', channel,
                'template', template, 'variant', variant, 'status', 'suppressed', 'reason', reason,
                'occurredAt', to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
              $1
         FROM withheld
       ON CONFLICT (event_id) DO NOTHING
       RETURNING message_id`,
      [now],
    );
    return rows.map((r) => r.message_id);
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

  /**
   * Records outcomes and their status events: one statement for the messages, one for the
   * outbox (a message requeued for a retry publishes nothing), one for dead letters.
   */
  async recordOutcomes(outcomes: readonly MessageOutcome[], now: Date, tx?: EntityManager): Promise<void> {
    if (outcomes.length === 0) return;
    const executor = tx ?? this.db;
    // Only a queued message takes an outcome: one already failed as outcome_unknown by the
    // stale-handover sweep keeps that status, and publishes nothing more.
    const updated = await queryRows<{ message_id: string }>(
      executor,
      `UPDATE delivery.messages m
          SET status = t.status, reason = t.reason, recipient = coalesce(t.recipient, m.recipient),
              subject = coalesce(t.subject, m.subject), body = coalesce(t.body, m.body),
              provider = coalesce(t.provider, m.provider), provider_message_id = coalesce(t.provider_message_id, m.provider_message_id),
              sent_at = coalesce(t.sent_at, m.sent_at), updated_at = $10,
              attempts = coalesce(t.attempts, m.attempts),
              next_attempt_at = t.retry_at,
              -- A provider that refused with a retryable error did not take the message: safe to call again.
              handed_over_at = CASE WHEN t.retry_at IS NULL THEN m.handed_over_at END,
              pending_outbound = CASE WHEN t.retry_at IS NULL THEN NULL ELSE t.pending END,
              pending_request = CASE WHEN t.retry_at IS NULL THEN NULL ELSE coalesce(t.pending_request, m.pending_request) END,
              last_error = coalesce(t.last_error, m.last_error)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::timestamptz[], $11::int[], $12::timestamptz[], $13::jsonb[], $14::text[], $15::jsonb[])
              AS t(message_id, status, reason, recipient, subject, body, provider, provider_message_id, sent_at,
                   attempts, retry_at, pending, last_error, pending_request)
        WHERE m.message_id = t.message_id AND m.status = 'queued'
        RETURNING m.message_id`,
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
        outcomes.map((o) => o.attempts ?? null),
        outcomes.map((o) => o.retryAt ?? null),
        outcomes.map((o) => (o.pendingOutbound ? JSON.stringify(o.pendingOutbound) : null)),
        outcomes.map((o) => o.lastError ?? null),
        outcomes.map((o) => (o.pendingRequest ? JSON.stringify(o.pendingRequest) : null)),
      ],
    );
    const recorded = new Set(updated.map((r) => r.message_id));
    const published = outcomes.filter((o) => o.status !== 'queued' && recorded.has(o.messageId));
    if (published.length > 0)
      await runSql(
        executor,
        `INSERT INTO delivery.status_outbox (event_id, message_id, payload, created_at)
         SELECT e, m, p, $4 FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS t(e, m, p)
         ON CONFLICT (event_id) DO NOTHING`,
        [
          published.map((o) => `${o.messageId}:${o.status}`),
          published.map((o) => o.messageId),
          published.map((o) => JSON.stringify(o.event)),
          now,
        ],
      );
    const dead = outcomes.flatMap((o) =>
      o.deadLetter && recorded.has(o.messageId) ? [{ ...o.deadLetter, outcome: o }] : [],
    );
    if (dead.length > 0)
      await runSql(
        executor,
        `INSERT INTO delivery.dead_letters
           (message_id, customer_id, channel, provider, attempts, last_error, outbound, request, reason, created_at)
         SELECT *, $10::timestamptz
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::jsonb[], $8::jsonb[], $9::text[])
         ON CONFLICT (message_id) DO NOTHING`,
        [
          dead.map((d) => d.outcome.messageId),
          dead.map((d) => d.customerId),
          dead.map((d) => d.channel),
          dead.map((d) => d.provider),
          dead.map((d) => d.outcome.attempts ?? 0),
          dead.map((d) => d.outcome.lastError ?? d.outcome.reason ?? 'unknown'),
          dead.map((d) => JSON.stringify(d.outbound)),
          dead.map((d) => (d.request ? JSON.stringify(d.request) : null)),
          dead.map((d) => d.outcome.reason ?? 'retries_exhausted'),
          now,
        ],
      );
  }

  /**
   * Claims the queued messages whose retry is due, marking them handed over in the same
   * statement, so two instances never retry the same message.
   */
  async claimDueRetries(now: Date, limit: number): Promise<DueRetry[]> {
    const rows = await queryRows<{
      message_id: string;
      customer_id: string;
      journey_key: string;
      step_id: string;
      milestone_key: string;
      channel: Channel;
      template: string;
      variant: string | null;
      attempts: number;
      pending_outbound: OutboundMessage;
      pending_request: MessageRequestedV1 | null;
    }>(
      this.db,
      `UPDATE delivery.messages m SET handed_over_at = $1, next_attempt_at = NULL, updated_at = $1
        WHERE m.message_id IN (
              SELECT q.message_id FROM delivery.messages q
               WHERE q.next_attempt_at <= $1 AND q.status = 'queued' AND q.pending_outbound IS NOT NULL
                 -- Consent that changed since the first attempt: withholdRetries() suppresses these.
                 AND NOT EXISTS (SELECT 1 FROM delivery.consent_view v
                                  WHERE v.customer_id = q.customer_id AND v.channel = q.channel AND v.status = 'opted_out')
                 AND NOT EXISTS (SELECT 1 FROM delivery.suppressed_addresses s
                                  WHERE s.channel = q.channel AND s.status = 'opted_out' AND s.address = ${retryRecipientSql('q')})
               ORDER BY q.next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING m.message_id, m.customer_id, m.journey_key, m.step_id, m.milestone_key, m.channel, m.template,
                  m.variant, m.attempts, m.pending_outbound, m.pending_request`,
      [now, limit],
    );
    return rows.map((r) => ({
      ref: {
        messageId: r.message_id,
        customerId: r.customer_id,
        journeyKey: r.journey_key,
        stepId: r.step_id,
        milestoneKey: r.milestone_key,
        channel: r.channel,
        template: r.template,
        variant: r.variant,
      },
      attempts: r.attempts,
      outbound: r.pending_outbound,
      request: r.pending_request,
    }));
  }

  /**
   * Fails, with `outcome_unknown`, queued messages handed to a provider before `handedOverBefore`
   * whose outcome was never recorded (the process died during the call), and writes their
   * status events. A redelivered request finds the same answer; this covers the retries nobody
   * redelivers. Returns the message ids.
   */
  async failStaleHandovers(handedOverBefore: Date, now: Date): Promise<string[]> {
    const rows = await queryRows<{ message_id: string }>(
      this.db,
      `WITH stale AS (
         UPDATE delivery.messages
            SET status = 'failed', reason = 'outcome_unknown', pending_outbound = NULL, pending_request = NULL,
                updated_at = $2
          WHERE status = 'queued' AND handed_over_at < $1
         RETURNING *)
       INSERT INTO delivery.status_outbox (event_id, message_id, payload, created_at)
       SELECT message_id || ':failed', message_id,
              jsonb_build_object('schemaVersion', 1, 'messageId', message_id, 'customerId', customer_id,
                'journeyKey', journey_key, 'stepId', step_id, 'milestoneKey', milestone_key, 'channel', channel,
                'template', template, 'variant', variant, 'status', 'failed', 'reason', 'outcome_unknown',
                'occurredAt', to_char($2::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
              $2
         FROM stale
       ON CONFLICT (event_id) DO NOTHING
       RETURNING message_id`,
      [handedOverBefore, now],
    );
    return rows.map((r) => r.message_id);
  }

  /** When the next retry is due, if any. */
  async nextRetryAt(): Promise<Date | undefined> {
    const [row] = await queryRows<{ at: Date | null }>(
      this.db,
      `SELECT min(next_attempt_at) AS at FROM delivery.messages WHERE next_attempt_at IS NOT NULL`,
      [],
    );
    return row?.at ?? undefined;
  }

  /** Keeps the latest profile snapshot per customer (for previews by customer id). */
  async saveSnapshots(
    tx: EntityManager,
    snapshots: readonly CustomerProfileSnapshot[],
    now: Date,
  ): Promise<void> {
    const latest = new Map(snapshots.map((s) => [s.customerId, s]));
    if (latest.size === 0) return;
    await runSql(
      tx,
      `INSERT INTO delivery.customer_snapshots AS s (customer_id, profile, seen_at)
       SELECT c, p, $3 FROM unnest($1::text[], $2::jsonb[]) AS t(c, p)
        WHERE NOT EXISTS (SELECT 1 FROM delivery.erased_customers e WHERE e.customer_id = t.c)
       ON CONFLICT (customer_id) DO UPDATE SET profile = excluded.profile, seen_at = excluded.seen_at`,
      [[...latest.keys()], [...latest.values()].map((s) => JSON.stringify(s)), now],
    );
  }

  async snapshotOf(customerId: string): Promise<CustomerProfileSnapshot | undefined> {
    const [row] = await queryRows<{ profile: CustomerProfileSnapshot }>(
      this.db,
      `SELECT profile FROM delivery.customer_snapshots WHERE customer_id = $1`,
      [customerId],
    );
    return row?.profile;
  }

  /** Push tokens a provider reported unregistered, per customer. */
  async unregisteredTokensOf(
    tx: EntityManager,
    customerIds: readonly string[],
  ): Promise<Map<string, Set<string>>> {
    const result = new Map<string, Set<string>>();
    if (customerIds.length === 0) return result;
    const rows = await queryRows<{ customer_id: string; token: string }>(
      tx,
      `SELECT customer_id, token FROM delivery.unregistered_push_tokens WHERE customer_id = ANY($1::text[])`,
      [customerIds],
    );
    for (const row of rows) {
      const tokens = result.get(row.customer_id) ?? new Set<string>();
      tokens.add(row.token);
      result.set(row.customer_id, tokens);
    }
    return result;
  }

  /**
   * A token registered after a provider reported it unregistered (the app got it back) is
   * usable again: its report is forgotten, so a later report of it is recorded and sent anew.
   * A registration older than the report changes nothing.
   */
  async forgetUnregisteredTokens(
    registrations: readonly { customerId: string; token: string; registeredAt: Date }[],
  ): Promise<void> {
    if (registrations.length === 0) return;
    await runSql(
      this.db,
      `DELETE FROM delivery.unregistered_push_tokens u
        USING unnest($1::text[], $2::text[], $3::timestamptz[]) AS r(customer_id, token, registered_at)
        WHERE u.customer_id = r.customer_id AND u.token = r.token AND u.reported_at < r.registered_at`,
      [
        registrations.map((r) => r.customerId),
        registrations.map((r) => r.token),
        registrations.map((r) => r.registeredAt),
      ],
    );
  }

  /**
   * Records the push tokens a provider reported unregistered, once per customer and token: each
   * row is also the outbox of the `push.token.unregistered` event that removes the token from the
   * profile (published_at set once it is on retail.events.v1).
   */
  async recordUnregisteredTokens(
    tokens: readonly { token: string; customerId: string; provider: string; messageId: string }[],
    now: Date,
    tx?: EntityManager,
  ): Promise<void> {
    if (tokens.length === 0) return;
    await runSql(
      tx ?? this.db,
      `INSERT INTO delivery.unregistered_push_tokens (token, customer_id, provider, message_id, reported_at)
       SELECT *, $5::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       ON CONFLICT (customer_id, token) DO NOTHING`,
      [
        tokens.map((t) => t.token),
        tokens.map((t) => t.customerId),
        tokens.map((t) => t.provider),
        tokens.map((t) => t.messageId),
        now,
      ],
    );
  }

  /** Unpublished token reports (see OutboxSelection). */
  async pendingUnregisteredTokens(selection: OutboxSelection): Promise<PendingUnregisteredToken[]> {
    const pending = pendingRows(selection, 'reported_at', 'customer_id, token');
    if (!pending) return [];
    const rows = await queryRows<{
      customer_id: string;
      token: string;
      message_id: string | null;
      provider: string;
      reported_at: Date;
    }>(
      this.db,
      `SELECT customer_id, token, message_id, provider, reported_at FROM delivery.unregistered_push_tokens ${pending.tail}`,
      pending.parameters,
    );
    return rows.map((r) => ({
      customerId: r.customer_id,
      token: r.token,
      messageId: r.message_id,
      provider: r.provider,
      reportedAt: r.reported_at,
    }));
  }

  async markUnregisteredTokensPublished(
    tokens: readonly { customerId: string; token: string }[],
    now: Date,
  ): Promise<void> {
    if (tokens.length === 0) return;
    await runSql(
      this.db,
      `UPDATE delivery.unregistered_push_tokens u SET published_at = $3
         FROM unnest($1::text[], $2::text[]) AS t(customer_id, token)
        WHERE u.customer_id = t.customer_id AND u.token = t.token AND u.published_at IS NULL`,
      [tokens.map((t) => t.customerId), tokens.map((t) => t.token), now],
    );
  }

  /** Unpublished dead letters (see OutboxSelection). */
  async pendingDeadLetters(selection: OutboxSelection): Promise<PendingDeadLetter[]> {
    const pending = pendingRows(selection, 'created_at', 'message_id');
    if (!pending) return [];
    const rows = await queryRows<{
      message_id: string;
      customer_id: string;
      attempts: number;
      reason: string | null;
      last_error: string;
      request: MessageRequestedV1 | null;
    }>(
      this.db,
      `SELECT message_id, customer_id, attempts, reason, last_error, request FROM delivery.dead_letters ${pending.tail}`,
      pending.parameters,
    );
    return rows.map((r) => ({
      messageId: r.message_id,
      customerId: r.customer_id,
      attempts: r.attempts,
      reason: r.reason ?? 'retries_exhausted',
      lastError: r.last_error,
      request: r.request,
    }));
  }

  async markDeadLettersPublished(messageIds: readonly string[], now: Date): Promise<void> {
    if (messageIds.length === 0) return;
    await runSql(
      this.db,
      `UPDATE delivery.dead_letters SET published_at = $2 WHERE message_id = ANY($1::text[]) AND published_at IS NULL`,
      [messageIds, now],
    );
  }

  /**
   * Applies provider receipts to the messages they name (by provider message id), in one
   * statement: a status only moves forward (a late `delivered` never undoes a `clicked`). A
   * complaint changes no status; it is published with the message's status and reason
   * `complaint`, for consent to opt the customer out. Returns the events written.
   */
  async applyReceipts(receipts: readonly MessageReceipt[], provider: string, now: Date): Promise<string[]> {
    if (receipts.length === 0) return [];
    const rows = await queryRows<{ message_id: string }>(
      this.db,
      `WITH r AS (
         SELECT DISTINCT ON (pmid, status) pmid, status, reason, at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u(pmid, status, reason, at)),
       rank(status, n) AS (${STATUS_RANK_VALUES}),
       updated AS (
         UPDATE delivery.messages m
            SET status = r.status, reason = r.reason, updated_at = $6
           FROM r, rank old_rank, rank new_rank
          WHERE m.provider_message_id = r.pmid AND m.provider = $5 AND r.status <> 'complained'
            AND old_rank.status = m.status AND new_rank.status = r.status AND new_rank.n > old_rank.n
         RETURNING m.*, coalesce(r.at, $6) AS event_at),
       complained AS (
         SELECT m.*, coalesce(r.at, $6) AS event_at FROM delivery.messages m JOIN r ON m.provider_message_id = r.pmid
          WHERE m.provider = $5 AND r.status = 'complained'),
       events AS (
         SELECT message_id || ':' || status AS event_id, message_id, customer_id, journey_key, step_id, milestone_key,
                channel, template, variant, status, reason, event_at,
                CASE WHEN status = 'bounced' THEN recipient END AS address FROM updated
         UNION ALL
         SELECT message_id || ':complaint', message_id, customer_id, journey_key, step_id, milestone_key,
                channel, template, variant, status, 'complaint', event_at, NULL FROM complained)
       INSERT INTO delivery.status_outbox (event_id, message_id, payload, created_at)
       SELECT e.event_id, e.message_id,
              jsonb_build_object('schemaVersion', 1, 'messageId', e.message_id, 'customerId', e.customer_id,
                'journeyKey', e.journey_key, 'stepId', e.step_id, 'milestoneKey', e.milestone_key,
                'channel', e.channel, 'template', e.template, 'variant', e.variant, 'status', e.status,
                'reason', e.reason, 'occurredAt', to_char(e.event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
              -- A bounce names its address, for consent's suppression list.
              || CASE WHEN e.address IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('address', e.address) END,
              $6
         FROM events e
       ON CONFLICT (event_id) DO NOTHING
       RETURNING message_id`,
      [
        receipts.map((r) => r.providerMessageId),
        receipts.map((r) => r.status),
        receipts.map((r) => r.reason),
        receipts.map((r) => r.occurredAt),
        provider,
        now,
      ],
    );
    return [...new Set(rows.map((r) => r.message_id))];
  }

  /**
   * Opens and clicks that analytics recorded (and already published on messages.events.v1), so
   * the customer's message list shows them; one statement, moving statuses forward only.
   */
  async applyEngagement(
    events: readonly { messageId: string; status: 'opened' | 'clicked' }[],
    now: Date,
  ): Promise<void> {
    if (events.length === 0) return;
    await runSql(
      this.db,
      `WITH r AS (
         SELECT DISTINCT ON (id) id, status
           FROM unnest($1::text[], $2::text[]) AS u(id, status)
          ORDER BY id, (status = 'clicked') DESC),
       rank(status, n) AS (${STATUS_RANK_VALUES})
       UPDATE delivery.messages m
          SET status = r.status, updated_at = $3
         FROM r, rank old_rank, rank new_rank
        WHERE m.message_id = r.id AND old_rank.status = m.status AND new_rank.status = r.status
          AND new_rank.n > old_rank.n`,
      [events.map((e) => e.messageId), events.map((e) => e.status), now],
    );
  }

  /**
   * Unpublished status events (see OutboxSelection), in the order they were written, so a
   * message's older statuses come before its newer ones.
   */
  async pendingStatusEvents(selection: OutboxSelection): Promise<PendingStatusEvent[]> {
    const pending = pendingRows(selection, 'created_at', 'event_id');
    if (!pending) return [];
    const rows = await queryRows<{ event_id: string; payload: MessageEventV1 }>(
      this.db,
      `SELECT event_id, payload FROM delivery.status_outbox ${pending.tail}`,
      pending.parameters,
    );
    return rows.map((r) => ({ eventId: r.event_id, payload: r.payload }));
  }

  async markStatusEventsPublished(eventIds: readonly string[], now: Date): Promise<void> {
    if (eventIds.length === 0) return;
    await runSql(
      this.db,
      `UPDATE delivery.status_outbox SET published_at = $2 WHERE event_id = ANY($1::text[]) AND published_at IS NULL`,
      [eventIds, now],
    );
  }

  /**
   * Keeps the latest consent per customer and channel, and the latest suppression-list status
   * per address (changes that name an address); an older change arriving late changes nothing.
   * Of changes at the same instant the later one wins, in one batch (by its place) as across two.
   */
  async applyConsentChanges(changes: readonly ConsentViewChange[]): Promise<void> {
    const addressed = changes.filter((c) => c.address);
    if (addressed.length > 0)
      await runSql(
        this.db,
        `INSERT INTO delivery.suppressed_addresses AS v (channel, address, status, changed_at, customer_id)
         SELECT DISTINCT ON (ch, a) ch, a, s, t, c
           FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
                WITH ORDINALITY AS u(ch, a, s, t, c, n)
          WHERE NOT EXISTS (SELECT 1 FROM delivery.erased_customers e WHERE e.customer_id = u.c)
          ORDER BY ch, a, t DESC, n DESC
         ON CONFLICT (channel, address) DO UPDATE
           SET status = excluded.status, changed_at = excluded.changed_at, customer_id = excluded.customer_id
         WHERE v.changed_at <= excluded.changed_at`,
        [
          addressed.map((c) => c.channel),
          addressed.map((c) => c.address),
          addressed.map((c) => c.status),
          addressed.map((c) => c.changedAt),
          addressed.map((c) => c.customerId),
        ],
      );
    const consent = changes.filter((c) => !c.address);
    if (consent.length === 0) return;
    await runSql(
      this.db,
      `INSERT INTO delivery.consent_view AS v (customer_id, channel, status, changed_at)
       SELECT DISTINCT ON (c, ch) c, ch, s, t
         FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS u(c, ch, s, t, n)
        ORDER BY c, ch, t DESC, n DESC
       ON CONFLICT (customer_id, channel) DO UPDATE
         SET status = excluded.status, changed_at = excluded.changed_at
       WHERE v.changed_at <= excluded.changed_at`,
      [
        consent.map((c) => c.customerId),
        consent.map((c) => c.channel),
        consent.map((c) => c.status),
        consent.map((c) => c.changedAt),
      ],
    );
  }

  /** Which of these customers were erased. */
  async erasedAmong(tx: EntityManager, customerIds: readonly string[]): Promise<Set<string>> {
    if (customerIds.length === 0) return new Set();
    const rows = await queryRows<{ customer_id: string }>(
      tx,
      `SELECT customer_id FROM delivery.erased_customers WHERE customer_id = ANY($1::text[])`,
      [customerIds],
    );
    return new Set(rows.map((r) => r.customer_id));
  }

  /**
   * Erases customers (SPEC section 6): their messages keep only what aggregates need (ids,
   * journey, template, status, times), losing address, subject, body, the rendered message
   * of a pending retry and the provider's words; their profile snapshots, dead letters,
   * reported push tokens and suppressed addresses go, and the bounce address leaves their
   * status events. A queued message not yet handed to a provider is never sent: it fails
   * with reason `customer_erased`. Safe to repeat.
   */
  async eraseCustomers(customerIds: readonly string[], now: Date): Promise<void> {
    if (customerIds.length === 0) return;
    await withTransaction(this.db, async (tx) => {
      await runSql(
        tx,
        `INSERT INTO delivery.erased_customers (customer_id, erased_at)
         SELECT c, $2 FROM unnest($1::text[]) AS c ON CONFLICT (customer_id) DO NOTHING`,
        [customerIds, now],
      );
      await runSql(
        tx,
        `UPDATE delivery.messages
            SET recipient = NULL, subject = NULL, body = NULL, pending_outbound = NULL, pending_request = NULL,
                last_error = NULL,
                next_attempt_at = NULL, updated_at = $2,
                status = CASE WHEN status = 'queued' AND handed_over_at IS NULL THEN 'failed' ELSE status END,
                reason = CASE WHEN status = 'queued' AND handed_over_at IS NULL THEN 'customer_erased' ELSE reason END
          WHERE customer_id = ANY($1::text[])`,
        [customerIds, now],
      );
      await runSql(
        tx,
        `UPDATE delivery.status_outbox SET payload = payload - 'address'
          WHERE payload ? 'address' AND payload->>'customerId' = ANY($1::text[])`,
        [customerIds],
      );
      for (const table of [
        'customer_snapshots',
        'dead_letters',
        'unregistered_push_tokens',
        'suppressed_addresses',
      ])
        await runSql(tx, `DELETE FROM delivery.${table} WHERE customer_id = ANY($1::text[])`, [customerIds]);
    });
  }

  /** Which of these addresses (in suppressionAddress() form) are on the suppression list now. */
  async suppressedAmong(
    tx: EntityManager,
    candidates: readonly { channel: Channel; address: string }[],
  ): Promise<Set<string>> {
    if (candidates.length === 0) return new Set();
    const rows = await queryRows<{ channel: string; address: string }>(
      tx,
      `SELECT s.channel, s.address FROM delivery.suppressed_addresses s
         JOIN unnest($1::text[], $2::text[]) AS c(channel, address) USING (channel, address)
        WHERE s.status = 'opted_out'`,
      [candidates.map((c) => c.channel), candidates.map((c) => c.address)],
    );
    return new Set(rows.map((r) => suppressionKey(r.channel, r.address)));
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
