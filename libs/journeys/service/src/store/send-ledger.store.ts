import type { Channel } from '@mmp/contracts';
import type { LedgerEntry, SentMessage } from '@mmp/journeys-domain';
import { InjectServiceDatabase, queryRows, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** A send that went out, as the ledger keeps it. */
export type LedgerRecord = SentMessage;

/**
 * The sends ledger (`journeys.send_ledger`): every send that went out, for frequency caps and
 * collisions, voided when delivery did not send it after all; and the per-customer lock that
 * serialises the policy decisions reading and adding to it.
 */
@Injectable()
export class SendLedgerStore {
  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  /**
   * Serialises the policy decisions of these customers across transactions (entries, timers,
   * several service instances): caps and collisions read the ledger and then add to it. Locks
   * are taken in hash order, in one statement, so two batches never wait on each other in a cycle.
   */
  async lockCustomers(tx: EntityManager, customerIds: readonly string[]): Promise<void> {
    if (customerIds.length === 0) return;
    await runSql(
      tx,
      `SELECT pg_advisory_xact_lock(h)
         FROM (SELECT DISTINCT hashtextextended(c, 0) AS h FROM unnest($1::text[]) AS c ORDER BY h) AS t`,
      [customerIds],
    );
  }

  /** The sends of these customers since `since` that were not voided, per customer. */
  async ledgerOf(
    tx: EntityManager,
    customerIds: readonly string[],
    since: Date,
  ): Promise<Map<string, LedgerEntry[]>> {
    const ledger = new Map<string, LedgerEntry[]>();
    if (customerIds.length === 0) return ledger;
    const rows = await queryRows<{
      customer_id: string;
      journey_key: string;
      priority: number;
      channel: Channel;
      sent_at: Date;
      local_day: string;
    }>(
      tx,
      `SELECT customer_id, journey_key, priority, channel, sent_at, local_day::text AS local_day
         FROM journeys.send_ledger
        WHERE customer_id = ANY($1::text[]) AND sent_at > $2 AND voided_at IS NULL
        ORDER BY sent_at`,
      [customerIds, since],
    );
    for (const row of rows) {
      const entries = ledger.get(row.customer_id) ?? [];
      entries.push({
        journeyKey: row.journey_key,
        priority: row.priority,
        channel: row.channel,
        sentAt: row.sent_at,
        localDay: row.local_day,
      });
      ledger.set(row.customer_id, entries);
    }
    return ledger;
  }

  async recordSends(tx: EntityManager, sends: readonly LedgerRecord[]): Promise<void> {
    if (sends.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO journeys.send_ledger (message_id, customer_id, journey_key, priority, channel, sent_at, local_day)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::timestamptz[], $7::date[])
       ON CONFLICT (message_id) DO NOTHING`,
      [
        sends.map((s) => s.messageId),
        sends.map((s) => s.customerId),
        sends.map((s) => s.journeyKey),
        sends.map((s) => s.priority),
        sends.map((s) => s.channel),
        sends.map((s) => s.sentAt),
        sends.map((s) => s.localDay),
      ],
    );
  }

  /** Messages delivery did not send after all (suppressed, failed) stop counting for caps and collisions. */
  async voidSends(messageIds: readonly string[], now: Date): Promise<void> {
    if (messageIds.length === 0) return;
    await runSql(
      this.db,
      `UPDATE journeys.send_ledger SET voided_at = $2 WHERE message_id = ANY($1::text[]) AND voided_at IS NULL`,
      [messageIds, now],
    );
  }
}
