import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import {
  Headers,
  MessagesEventsTopic,
  MessagesRequestedTopic,
  RetailEventsTopic,
  type RetailEventV1,
} from '@mmp/contracts';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { OutboxSelection } from '@mmp/persistence';
import {
  OutboxStore,
  type PendingDeadLetter,
  type PendingStatusEvent,
  type PendingUnregisteredToken,
} from '../store/outbox.store';

/** The consumer group delivery reads messages.requested.v1 in: dead letters name it, as the bus's do. */
const DELIVERY_GROUP = 'delivery';
/** Rows a sweep publishes at most per outbox and round. */
const SWEEP_BATCH = 500;

/**
 * Publishes delivery's outboxes after their commit, then marks them: status events on
 * messages.events.v1 (from first sends, retries, receipts, withheld and stale messages alike),
 * `push.token.unregistered` events on retail.events.v1 (ingestion removes the token from the
 * profile), and dead letters on messages.requested.v1's DLQ topic. A publish that fails leaves
 * its rows unmarked: they go out on the message's next publish (a redelivered request, a
 * receipt) or from the retry loop's sweep once their lease ran out.
 */
@Injectable()
export class StatusPublisher {
  private readonly logger = new Logger('DeliveryOutbox');

  constructor(
    private readonly outboxes: OutboxStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * After a batch of first sends: the status events its statements wrote (and answered) go out
   * as they are, without reading them back. The outboxes are read only for `reread`: messages an
   * earlier attempt may have left rows of (a redelivered request) and those whose send wrote a
   * token report or a dead letter; their status events written now are among what is read.
   */
  async publishWritten(written: readonly PendingStatusEvent[], reread: ReadonlySet<string>): Promise<void> {
    await this.publishPending([...reread]);
    await this.publishStatusEvents(written.filter((e) => !reread.has(e.payload.messageId)));
  }

  async publishPending(messageIds: readonly string[]): Promise<void> {
    await this.publishStatusEvents(await this.outboxes.pendingStatusEvents({ ids: messageIds }));
    await this.publishUnregisteredTokens(await this.outboxes.pendingUnregisteredTokens({ ids: messageIds }));
    await this.publishDeadLetters(await this.outboxes.pendingDeadLetters({ ids: messageIds }));
  }

  /**
   * The sweep: status events, token reports and dead letters still unpublished after `leaseMs`
   * (their publish failed, or the process died after the commit). A retry's status and dead
   * letter, and a receipt's status, have no redelivery to bring them back, so this is what
   * guarantees they go out. Status events go oldest first, so a message's statuses keep their
   * order; one the sweep and a later publish of the same message both send arrives twice, which
   * consumers take as a duplicate (at least once).
   */
  async publishLeftovers(leaseMs: number): Promise<void> {
    const writtenBefore = new Date(this.clock.now().getTime() - leaseMs);
    const sweep = async <Row>(
      pending: (selection: OutboxSelection) => Promise<Row[]>,
      publish: (rows: Row[]) => Promise<void>,
    ): Promise<void> => {
      for (;;) {
        const rows = await pending({ writtenBefore, limit: SWEEP_BATCH });
        await publish(rows);
        if (rows.length < SWEEP_BATCH) return;
      }
    };
    await sweep(
      (selection) => this.outboxes.pendingStatusEvents(selection),
      (rows) => this.publishStatusEvents(rows),
    );
    await sweep(
      (selection) => this.outboxes.pendingUnregisteredTokens(selection),
      (rows) => this.publishUnregisteredTokens(rows),
    );
    await sweep(
      (selection) => this.outboxes.pendingDeadLetters(selection),
      (rows) => this.publishDeadLetters(rows),
    );
  }

  /** In the order given, keyed by customer id: one partition keeps a customer's statuses in order. */
  private async publishStatusEvents(events: readonly PendingStatusEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.bus.publish(
      MessagesEventsTopic,
      events.map((e) => ({ key: e.payload.customerId, value: e.payload })),
    );
    await this.outboxes.markStatusEventsPublished(
      events.map((e) => e.eventId),
      this.clock.now(),
    );
  }

  private async publishUnregisteredTokens(tokens: readonly PendingUnregisteredToken[]): Promise<void> {
    if (tokens.length === 0) return;
    await this.bus.publish(
      RetailEventsTopic,
      tokens.map((t) => ({ key: t.customerId, value: unregisteredTokenEvent(t) })),
    );
    await this.outboxes.markUnregisteredTokensPublished(tokens, this.clock.now());
  }

  private async publishDeadLetters(letters: readonly PendingDeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    // A retry queued before requests were kept has none to replay: recorded in the table only.
    const publishable = letters.filter((l) => l.request !== null);
    for (const letter of letters.filter((l) => l.request === null))
      this.logger.warn(
        `dead letter ${letter.messageId} has no request to publish: see delivery.dead_letters`,
      );
    // Raw, like the bus's own dead letters: the value is the request exactly, ready to replay.
    await this.bus.publishRaw(
      MessagesRequestedTopic.dlq,
      publishable.map((l) => ({
        key: l.customerId,
        value: JSON.stringify(l.request),
        headers: {
          [Headers.dlqReason]: `${l.reason} after ${l.attempts} attempts (last error: ${l.lastError})`,
          [Headers.dlqSourceTopic]: MessagesRequestedTopic.name,
          [Headers.dlqConsumerGroup]: DELIVERY_GROUP,
          [Headers.dlqAttempts]: String(l.attempts),
          [Headers.dlqLastError]: l.lastError,
          [Headers.contentType]: 'application/json',
          [Headers.schemaVersion]: String(MessagesRequestedTopic.schemaVersion),
        },
      })),
    );
    await this.outboxes.markDeadLettersPublished(
      letters.map((l) => l.messageId),
      this.clock.now(),
    );
  }
}

/**
 * The input event that removes a token from the profile. Its eventId is deterministic (message
 * and token, hashed to stay within the 128 characters of an eventId whatever the token's
 * length), so a republished report is a duplicate to ingestion and changes nothing.
 */
export function unregisteredTokenEvent(t: PendingUnregisteredToken): RetailEventV1 {
  const digest = createHash('sha256')
    .update(`${t.messageId ?? ''}\n${t.customerId}\n${t.token}`)
    .digest('hex');
  return {
    eventId: `push-token-unregistered:${digest}`,
    type: 'push.token.unregistered',
    occurredAt: t.reportedAt.toISOString(),
    customerId: t.customerId,
    properties: {
      token: t.token,
      reason: 'provider_unregistered',
      source: 'delivery',
      provider: t.provider,
      ...(t.messageId ? { messageId: t.messageId } : {}),
    },
  };
}
