import { InjectServiceDatabase, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/** A change of delivery's consent view: channel consent, or (with an address) the suppression list. */
export interface ConsentViewChange {
  customerId: string;
  channel: string;
  status: string;
  changedAt: Date;
  /** In suppressionAddress() form. */
  address?: string | null | undefined;
}

/** The key of an address in the sets suppressedAmong() answers. */
export const suppressionKey = (channel: string, address: string): string => `${channel}/${address}`;

/**
 * Delivery's view of consent, kept from consent's events: channel consent per customer
 * (`delivery.consent_view`), the suppression list per address (`delivery.suppressed_addresses`)
 * and the erased customers (`delivery.erased_customers`, written by ErasureStore). Sends read it
 * (SendDecisionQuery, and the ledger's handover); it never reads back from consent.
 */
@Injectable()
export class ConsentViewStore {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

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
}
