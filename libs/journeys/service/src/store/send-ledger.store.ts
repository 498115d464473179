import type { Channel } from '@mmp/contracts';
import type { HeldSend, LedgerEntry, SentMessage } from '@mmp/journeys-domain';
import { InjectServiceDatabase, queryRows, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** A send that went out, as the ledger keeps it. */
export type LedgerRecord = SentMessage;

/** A customer's sends the policies count (`ledger`) and their sends held for an outcome (`held`), per customer. */
export interface PolicyState {
  ledger: Map<string, LedgerEntry[]>;
  held: Map<string, HeldSend[]>;
}

/** A row of policyStateSql(): a send the policies count, or a send step held for an outcome. */
export type PolicyStateRow =
  | {
      kind: 'sent';
      customer_id: string;
      journey_key: string;
      priority: number;
      channel: Channel;
      /** When it was sent. */
      at: Date;
      local_day: string;
      pending: boolean;
    }
  | {
      kind: 'held';
      instance_id: string;
      customer_id: string;
      /** When it is decided (`held_at`). */
      at: Date;
    };

/**
 * The select of a customer's policy state, `customers` and `since` being parameter references,
 * for a statement to add to what else it reads (an entry reads it with its insert): the sends
 * (ledger_customer_idx) and the held steps (instances_held_idx) of those customers.
 */
export function policyStateSql(customers: string, since: string): string {
  return `SELECT 'sent' AS kind, NULL::text AS instance_id, customer_id, journey_key, priority, channel,
                 sent_at AS at, local_day::text AS local_day, outcome_at IS NULL AS pending
            FROM journeys.send_ledger
           WHERE customer_id = ANY(${customers}::text[]) AND sent_at > ${since} AND voided_at IS NULL
          UNION ALL
          SELECT 'held', instance_id, customer_id, NULL, NULL, NULL, held_at, NULL, NULL
            FROM journeys.instances
           WHERE customer_id = ANY(${customers}::text[]) AND status = 'waiting' AND wait_reason = 'outcome'`;
}

/** The policy state in rows of policyStateSql(), sends in the order given (by `sent_at`). */
export function policyStateOfRows(rows: readonly PolicyStateRow[]): PolicyState {
  const ledger = new Map<string, LedgerEntry[]>();
  const held = new Map<string, HeldSend[]>();
  for (const row of rows) {
    if (row.kind === 'held') {
      held.set(row.customer_id, [
        ...(held.get(row.customer_id) ?? []),
        { instanceId: row.instance_id, heldAt: row.at },
      ]);
    } else {
      const entries = ledger.get(row.customer_id) ?? [];
      entries.push({
        journeyKey: row.journey_key,
        priority: row.priority,
        channel: row.channel,
        sentAt: row.at,
        localDay: row.local_day,
        pending: row.pending,
      });
      ledger.set(row.customer_id, entries);
    }
  }
  return { ledger, held };
}

/**
 * The sends ledger (`journeys.send_ledger`): every send that went out, for frequency caps and
 * collisions, pending until delivery reported on it and voided when delivery did not send it
 * after all; and the per-customer lock that
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

  /**
   * What the send policies decide these customers' sends on, in one statement: their sends
   * since `since` that were not voided, and their send steps held for an outcome.
   */
  async policyStateOf(tx: EntityManager, customerIds: readonly string[], since: Date): Promise<PolicyState> {
    if (customerIds.length === 0) return { ledger: new Map(), held: new Map() };
    const rows = await queryRows<PolicyStateRow>(tx, `${policyStateSql('$1', '$2')} ORDER BY kind, at`, [
      customerIds,
      since,
    ]);
    return policyStateOfRows(rows);
  }

  /**
   * Delivery's reports on sends: each send is pending no more, and one delivery did not send
   * after all (`unsent`: suppressed, failed) stops counting for caps and collisions. A repeated
   * or late report changes nothing. Returns the customers whose ledger changed.
   */
  async recordOutcomes(
    outcomes: readonly { messageId: string; unsent: boolean }[],
    now: Date,
  ): Promise<string[]> {
    if (outcomes.length === 0) return [];
    const rows = await queryRows<{ customer_id: string }>(
      this.db,
      `UPDATE journeys.send_ledger l
          SET outcome_at = COALESCE(l.outcome_at, $3),
              voided_at = CASE WHEN o.unsent THEN COALESCE(l.voided_at, $3) ELSE l.voided_at END
         FROM (SELECT message_id, bool_or(unsent) AS unsent
                 FROM unnest($1::text[], $2::boolean[]) AS t(message_id, unsent)
                GROUP BY message_id) AS o
        WHERE l.message_id = o.message_id
          AND (l.outcome_at IS NULL OR (o.unsent AND l.voided_at IS NULL))
       RETURNING l.customer_id`,
      [outcomes.map((o) => o.messageId), outcomes.map((o) => o.unsent), now],
    );
    return [...new Set(rows.map((row) => row.customer_id))];
  }
}
