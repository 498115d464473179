import type { OutboundMessage } from '@mmp/channel-sdk';
import type {
  Channel,
  CustomerProfileSnapshot,
  MessageEventV1,
  MessageRequestedV1,
  MessageStatus,
} from '@mmp/contracts';
import { InjectServiceDatabase, queryRows, withTransaction } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { PendingStatusEvent } from './outbox.store';

/** Why the handover withheld a message decided before consent changed. */
export type WithheldReason = 'consent' | 'suppression_list' | 'customer_erased';

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

/** The columns of `delivery.messages` that make a MessageRef, as the SQL selects them. */
export interface MessageRefRow {
  message_id: string;
  customer_id: string;
  journey_key: string;
  step_id: string;
  milestone_key: string;
  channel: Channel;
  template: string;
  variant: string | null;
}

export function messageRefOf(row: MessageRefRow): MessageRef {
  return {
    messageId: row.message_id,
    customerId: row.customer_id,
    journeyKey: row.journey_key,
    stepId: row.step_id,
    milestoneKey: row.milestone_key,
    channel: row.channel,
    template: row.template,
    variant: row.variant,
  };
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

/** What a batch of requests found: which to send now, which may already have reached a provider. */
export interface ClaimResult {
  sendable: Set<string>;
  outcomeUnknown: Set<string>;
  /** Recorded by this claim: messages no earlier attempt wrote anything for. */
  fresh: Set<string>;
}

/** What recording outcomes wrote to the outboxes, so the caller can publish without reading it back. */
export interface RecordedOutcomes {
  /** The status events written, each the outcome's `event`. */
  statusEvents: PendingStatusEvent[];
  /** Messages whose dead letter was written. */
  deadLetters: Set<string>;
}

/**
 * The message ledger (`delivery.messages`): one row per requested message, from its claim
 * through the handover to a provider to its recorded outcome, and the customer's message list
 * read from it. An outcome's status event and dead letter are written with it, in the same
 * transaction, into the outboxes OutboxStore publishes. `transaction()` opens the transaction the
 * other stores' `tx` parameters join.
 */
@Injectable()
export class MessageLedgerStore {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return withTransaction(this.db, work);
  }

  /**
   * Records requested messages (first one wins) and claims those safe to send: new ones and
   * queued ones never handed to a provider. Queued ones that were handed over may have been
   * sent: they are reported as outcome unknown and never sent again. The same statement keeps
   * each customer's latest profile snapshot (`delivery.customer_snapshots`, which SnapshotStore
   * reads for previews), unless the customer was erased: one round trip less on every send.
   */
  async claim(
    tx: EntityManager,
    messages: readonly NewMessage[],
    snapshots: readonly CustomerProfileSnapshot[],
    now: Date,
  ): Promise<ClaimResult> {
    const latest = new Map(snapshots.map((snapshot) => [snapshot.customerId, snapshot]));
    const inserted = await queryRows<{ message_id: string }>(
      tx,
      `WITH kept_snapshots AS (
         INSERT INTO delivery.customer_snapshots AS s (customer_id, profile, seen_at)
         SELECT c, p, $9 FROM unnest($10::text[], $11::jsonb[]) AS t(c, p)
          WHERE NOT EXISTS (SELECT 1 FROM delivery.erased_customers e WHERE e.customer_id = t.c)
         ON CONFLICT (customer_id) DO UPDATE SET profile = excluded.profile, seen_at = excluded.seen_at)
       INSERT INTO delivery.messages
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
        [...latest.keys()],
        [...latest.values()].map((snapshot) => JSON.stringify(snapshot)),
      ],
    );
    const fresh = new Set(inserted.map((r) => r.message_id));
    const sendable = new Set(fresh);
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
    return { sendable, outcomeUnknown, fresh };
  }

  /**
   * Marks messages as handed to a provider, just before the calls, unless consent changed since
   * they were decided: a message whose customer was erased or opted out of its channel, or whose
   * address went on the suppression list, in the meantime is withheld with that reason (SPEC section 6: an
   * opt-out is honoured for every message not yet handed to a provider). Recipients are in
   * suppressionAddress() form. A message another delivery handed over first is in neither set:
   * that delivery sends it.
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
          -- Two deliveries can claim the same unsent message (a redelivery after a rebalance, while
          -- the first is still at work): the row lock makes them take turns here, and the second
          -- finds it handed over and leaves it to the first.
          WHERE m.status = 'queued' AND m.handed_over_at IS NULL AND m.next_attempt_at IS NULL
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
   * Records outcomes with their status events and dead letters in one statement, whatever the
   * chunk holds (sent, failed, retried, withheld): the messages' update, and from the rows it
   * updated the outbox rows (a message requeued for a retry publishes nothing) and the dead
   * letters. One round trip for a chunk instead of three; with no `tx` it is a transaction of
   * its own, so the outcome, its status event and its dead letter still commit together. It
   * answers what it wrote (an outcome another writer recorded first writes nothing), so the
   * status events can be published after the commit without reading them back.
   */
  async recordOutcomes(
    outcomes: readonly MessageOutcome[],
    now: Date,
    tx?: EntityManager,
  ): Promise<RecordedOutcomes> {
    const recorded: RecordedOutcomes = { statusEvents: [], deadLetters: new Set() };
    if (outcomes.length === 0) return recorded;
    // Only a queued message takes an outcome: one already failed as outcome_unknown by the
    // stale-handover sweep keeps that status, and publishes nothing more.
    const rows = await queryRows<{ kind: 'status' | 'dead'; message_id: string; event_id: string | null }>(
      tx ?? this.db,
      `WITH t AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                              $9::timestamptz[], $11::int[], $12::timestamptz[], $13::jsonb[], $14::text[], $15::jsonb[],
                              $16::jsonb[], $17::boolean[], $18::text[], $19::text[], $20::text[], $21::jsonb[], $22::jsonb[])
                AS t(message_id, status, reason, recipient, subject, body, provider, provider_message_id, sent_at,
                     attempts, retry_at, pending, last_error, pending_request,
                     event, dead, dead_customer_id, dead_channel, dead_provider, dead_outbound, dead_request)),
       updated AS (
         UPDATE delivery.messages m
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
           FROM t
          WHERE m.message_id = t.message_id AND m.status = 'queued'
          RETURNING m.message_id),
       recorded AS (SELECT t.* FROM t WHERE t.message_id IN (SELECT message_id FROM updated)),
       status_events AS (
         INSERT INTO delivery.status_outbox (event_id, message_id, payload, created_at)
         SELECT message_id || ':' || status, message_id, event, $10 FROM recorded WHERE status <> 'queued'
         ON CONFLICT (event_id) DO NOTHING
         RETURNING message_id, event_id),
       dead_letters AS (
         INSERT INTO delivery.dead_letters
           (message_id, customer_id, channel, provider, attempts, last_error, outbound, request, reason, created_at)
         SELECT message_id, dead_customer_id, dead_channel, dead_provider, coalesce(attempts, 0),
                coalesce(last_error, reason, 'unknown'), dead_outbound, dead_request, coalesce(reason, 'retries_exhausted'), $10
           FROM recorded WHERE dead
         ON CONFLICT (message_id) DO NOTHING
         RETURNING message_id)
       SELECT 'status' AS kind, message_id, event_id FROM status_events
       UNION ALL
       SELECT 'dead', message_id, NULL FROM dead_letters`,
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
        outcomes.map((o) => JSON.stringify(o.event)),
        outcomes.map((o) => o.deadLetter !== undefined),
        outcomes.map((o) => o.deadLetter?.customerId ?? null),
        outcomes.map((o) => o.deadLetter?.channel ?? null),
        outcomes.map((o) => o.deadLetter?.provider ?? null),
        outcomes.map((o) => (o.deadLetter ? JSON.stringify(o.deadLetter.outbound) : null)),
        outcomes.map((o) => (o.deadLetter?.request ? JSON.stringify(o.deadLetter.request) : null)),
      ],
    );
    const byMessage = new Map(outcomes.map((o) => [o.messageId, o]));
    for (const row of rows) {
      const outcome = byMessage.get(row.message_id);
      if (row.kind === 'dead') recorded.deadLetters.add(row.message_id);
      else if (outcome && row.event_id)
        recorded.statusEvents.push({ eventId: row.event_id, payload: outcome.event });
    }
    return recorded;
  }
}
