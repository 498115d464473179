import type { MessageEventV1, MessageRequestedV1 } from '@mmp/contracts';
import {
  InjectServiceDatabase,
  markOutboxPublished,
  pendingOutboxRows,
  type OutboxSelection,
  type OutboxTable,
} from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/** A push token a provider reported unregistered, waiting to reach ingestion. */
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

/** Status events: written by every statement that changes a message's status. */
const STATUS_OUTBOX: OutboxTable = {
  table: 'delivery.status_outbox',
  key: ['event_id'],
  selectedBy: 'message_id',
  writtenAt: 'created_at',
  tieBreak: 'event_id',
};

/** Token reports: the rows PushTokenStore records are their own outbox. */
const TOKEN_REPORT_OUTBOX: OutboxTable = {
  table: 'delivery.unregistered_push_tokens',
  key: ['customer_id', 'token'],
  selectedBy: 'message_id',
  writtenAt: 'reported_at',
  tieBreak: 'customer_id, token',
};

/** Dead letters: written with the outcome whose retries ran out. */
const DEAD_LETTER_OUTBOX: OutboxTable = {
  table: 'delivery.dead_letters',
  key: ['message_id'],
  selectedBy: 'message_id',
  writtenAt: 'created_at',
  tieBreak: 'message_id',
};

/**
 * Delivery's three outboxes, read for publishing and marked once published: status events
 * (`delivery.status_outbox`), push-token reports (`delivery.unregistered_push_tokens`) and dead
 * letters (`delivery.dead_letters`). Their rows are written by the statements that change the
 * messages (MessageLedgerStore, RetryQueueStore, ReceiptStore, PushTokenStore), in the same
 * transaction; StatusPublisher publishes them. Selections by id name the messages.
 */
@Injectable()
export class OutboxStore {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

  /**
   * Unpublished status events (see OutboxSelection), in the order they were written, so a
   * message's older statuses come before its newer ones.
   */
  async pendingStatusEvents(selection: OutboxSelection): Promise<PendingStatusEvent[]> {
    const rows = await pendingOutboxRows<{ event_id: string; payload: MessageEventV1 }>(
      this.db,
      STATUS_OUTBOX,
      'event_id, payload',
      selection,
    );
    return rows.map((r) => ({ eventId: r.event_id, payload: r.payload }));
  }

  async markStatusEventsPublished(eventIds: readonly string[], now: Date): Promise<void> {
    await markOutboxPublished(this.db, STATUS_OUTBOX, [eventIds], now);
  }

  /** Unpublished token reports (see OutboxSelection). */
  async pendingUnregisteredTokens(selection: OutboxSelection): Promise<PendingUnregisteredToken[]> {
    const rows = await pendingOutboxRows<{
      customer_id: string;
      token: string;
      message_id: string | null;
      provider: string;
      reported_at: Date;
    }>(this.db, TOKEN_REPORT_OUTBOX, 'customer_id, token, message_id, provider, reported_at', selection);
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
    await markOutboxPublished(
      this.db,
      TOKEN_REPORT_OUTBOX,
      [tokens.map((t) => t.customerId), tokens.map((t) => t.token)],
      now,
    );
  }

  /** Unpublished dead letters (see OutboxSelection). */
  async pendingDeadLetters(selection: OutboxSelection): Promise<PendingDeadLetter[]> {
    const rows = await pendingOutboxRows<{
      message_id: string;
      customer_id: string;
      attempts: number;
      reason: string | null;
      last_error: string;
      request: MessageRequestedV1 | null;
    }>(
      this.db,
      DEAD_LETTER_OUTBOX,
      'message_id, customer_id, attempts, reason, last_error, request',
      selection,
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
    await markOutboxPublished(this.db, DEAD_LETTER_OUTBOX, [messageIds], now);
  }
}
