import { InjectServiceDatabase, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * The push tokens providers reported unregistered (`delivery.unregistered_push_tokens`): sends
 * skip them (SendDecisionQuery reads them), a later registration forgets them. Each row is also
 * the outbox of its `push.token.unregistered` event, which OutboxStore publishes.
 */
@Injectable()
export class PushTokenStore {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

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
}
