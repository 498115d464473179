import type { Channel, ConsentChangeV1, ConsentStatus } from '@mmp/contracts';
import { InjectServiceDatabase, queryRows, runSql, withTransaction } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/** A change as recorded: the published change plus what only the history keeps. */
export interface RecordedChange extends ConsentChangeV1 {
  /** The client's IP address and user agent, when the change came over HTTP from the customer. */
  ip: string | null;
  userAgent: string | null;
  /** The message whose link or receipt caused the change, if any. */
  messageId: string | null;
}

export interface SuppressedAddress {
  channel: Channel;
  address: string;
  source: string;
  since: string;
}

export interface Contact {
  customerId: string;
  email: string | null;
  phone: string | null;
  seenAt: Date;
}

interface ChangeRow {
  change_id: string;
  customer_id: string;
  channel: Channel;
  status: ConsentStatus;
  source: string;
  actor: string | null;
  changed_at: Date;
  address: string | null;
  ip: string | null;
  user_agent: string | null;
  message_id: string | null;
}

const CHANGE_COLUMNS = `change_id, customer_id, channel, status, source, actor, changed_at, address, ip, user_agent, message_id`;

@Injectable()
export class ConsentStore {
  constructor(@InjectServiceDatabase('consent') private readonly db: DataSource) {}

  /**
   * Records changes in one statement; a change id seen before is skipped. With `onlyIfChanged`
   * a change that would not change the latest status (of the channel, or of the address) is
   * skipped too: a second click on an unsubscribe link or a redelivered complaint is no new
   * change. Returns the ids recorded.
   */
  async record(changes: readonly RecordedChange[], options: { onlyIfChanged: boolean }): Promise<string[]> {
    if (changes.length === 0) return [];
    const rows = await queryRows<{ change_id: string }>(
      this.db,
      `INSERT INTO consent.changes (${CHANGE_COLUMNS})
       SELECT t.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                              $7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::text[])
                    AS t(change_id, customer_id, channel, status, source, actor, changed_at, address, ip, user_agent, message_id)
        WHERE NOT $12::boolean OR t.status IS DISTINCT FROM (
              SELECT c.status FROM consent.changes c
               WHERE c.customer_id = t.customer_id AND c.channel = t.channel AND c.address IS NOT DISTINCT FROM t.address
               ORDER BY c.changed_at DESC, c.change_id DESC LIMIT 1)
       ON CONFLICT (change_id) DO NOTHING
       RETURNING change_id`,
      [
        changes.map((c) => c.changeId),
        changes.map((c) => c.customerId),
        changes.map((c) => c.channel),
        changes.map((c) => c.status),
        changes.map((c) => c.source),
        changes.map((c) => c.actor),
        changes.map((c) => c.changedAt),
        changes.map((c) => c.address ?? null),
        changes.map((c) => c.ip),
        changes.map((c) => c.userAgent),
        changes.map((c) => c.messageId),
        options.onlyIfChanged,
      ],
    );
    return rows.map((r) => r.change_id);
  }

  /** The latest consent change per channel (suppression-list entries aside). */
  async current(customerId: string): Promise<RecordedChange[]> {
    const rows = await queryRows<ChangeRow>(
      this.db,
      `SELECT DISTINCT ON (channel) ${CHANGE_COLUMNS}
         FROM consent.changes WHERE customer_id = $1 AND address IS NULL
        ORDER BY channel, changed_at DESC, change_id DESC`,
      [customerId],
    );
    return rows.map(toChange);
  }

  /** The customer's addresses on the suppression list now. */
  async suppressedAddresses(customerId: string): Promise<SuppressedAddress[]> {
    const rows = await queryRows<{ channel: Channel; address: string; source: string; changed_at: Date }>(
      this.db,
      `SELECT channel, address, source, changed_at FROM (
         SELECT DISTINCT ON (channel, address) channel, address, status, source, changed_at
           FROM consent.changes WHERE customer_id = $1 AND address IS NOT NULL
          ORDER BY channel, address, changed_at DESC, change_id DESC) latest
        WHERE status = 'opted_out' ORDER BY channel, address`,
      [customerId],
    );
    return rows.map((r) => ({
      channel: r.channel,
      address: r.address,
      source: r.source,
      since: r.changed_at.toISOString(),
    }));
  }

  async history(customerId: string): Promise<RecordedChange[]> {
    const rows = await queryRows<ChangeRow>(
      this.db,
      `SELECT ${CHANGE_COLUMNS} FROM consent.changes WHERE customer_id = $1 ORDER BY changed_at DESC, change_id DESC`,
      [customerId],
    );
    return rows.map(toChange);
  }

  async unpublished(limit = 1000): Promise<ConsentChangeV1[]> {
    const rows = await queryRows<ChangeRow>(
      this.db,
      `SELECT ${CHANGE_COLUMNS} FROM consent.changes WHERE published_at IS NULL ORDER BY changed_at, change_id LIMIT $1`,
      [limit],
    );
    return rows.map((row) => toPublished(toChange(row)));
  }

  async markPublished(changeIds: readonly string[], now: Date): Promise<void> {
    if (changeIds.length === 0) return;
    await runSql(this.db, `UPDATE consent.changes SET published_at = $2 WHERE change_id = ANY($1::text[])`, [
      changeIds,
      now,
    ]);
  }

  /** Keeps each customer's latest email and phone; an older profile arriving late changes nothing. */
  async saveContacts(contacts: readonly Contact[]): Promise<void> {
    const latest = new Map<string, Contact>();
    for (const contact of contacts) {
      const known = latest.get(contact.customerId);
      if (!known || known.seenAt <= contact.seenAt) latest.set(contact.customerId, contact);
    }
    if (latest.size === 0) return;
    const rows = [...latest.values()];
    await runSql(
      this.db,
      `INSERT INTO consent.contacts AS k (customer_id, email, phone, seen_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS t(customer_id, email, phone, seen_at)
        WHERE NOT EXISTS (SELECT 1 FROM consent.erased_customers e WHERE e.customer_id = t.customer_id)
       ON CONFLICT (customer_id) DO UPDATE SET email = excluded.email, phone = excluded.phone, seen_at = excluded.seen_at
       WHERE k.seen_at <= excluded.seen_at`,
      [
        rows.map((c) => c.customerId),
        rows.map((c) => c.email),
        rows.map((c) => c.phone),
        rows.map((c) => c.seenAt),
      ],
    );
  }

  /**
   * Erases customers (SPEC section 6): their contacts go, and so do their suppression-list
   * entries (each names an address); their consent history keeps only what it is an aggregate
   * of (channel, status, source, time), losing IP addresses and user agents. Safe to repeat.
   */
  async eraseCustomers(customerIds: readonly string[], now: Date): Promise<void> {
    if (customerIds.length === 0) return;
    await withTransaction(this.db, async (tx) => {
      await runSql(
        tx,
        `INSERT INTO consent.erased_customers (customer_id, erased_at)
         SELECT c, $2 FROM unnest($1::text[]) AS c ON CONFLICT (customer_id) DO NOTHING`,
        [customerIds, now],
      );
      await runSql(tx, `DELETE FROM consent.contacts WHERE customer_id = ANY($1::text[])`, [customerIds]);
      await runSql(
        tx,
        `DELETE FROM consent.changes WHERE customer_id = ANY($1::text[]) AND address IS NOT NULL`,
        [customerIds],
      );
      await runSql(
        tx,
        `UPDATE consent.changes SET ip = NULL, user_agent = NULL
          WHERE customer_id = ANY($1::text[]) AND (ip IS NOT NULL OR user_agent IS NOT NULL)`,
        [customerIds],
      );
    });
  }

  /** Every customer whose profile carries this phone number (a shared family phone maps to several). */
  async customersWithPhone(phone: string): Promise<string[]> {
    const rows = await queryRows<{ customer_id: string }>(
      this.db,
      `SELECT customer_id FROM consent.contacts WHERE phone = $1 ORDER BY customer_id`,
      [phone],
    );
    return rows.map((r) => r.customer_id);
  }

  async emailsOf(customerIds: readonly string[]): Promise<Map<string, string>> {
    if (customerIds.length === 0) return new Map();
    const rows = await queryRows<{ customer_id: string; email: string }>(
      this.db,
      `SELECT customer_id, email FROM consent.contacts WHERE customer_id = ANY($1::text[]) AND email IS NOT NULL`,
      [customerIds],
    );
    return new Map(rows.map((r) => [r.customer_id, r.email]));
  }
}

function toChange(row: ChangeRow): RecordedChange {
  return {
    schemaVersion: 1,
    changeId: row.change_id,
    customerId: row.customer_id,
    channel: row.channel,
    status: row.status,
    source: row.source,
    actor: row.actor,
    changedAt: row.changed_at.toISOString(),
    address: row.address,
    ip: row.ip,
    userAgent: row.user_agent,
    messageId: row.message_id,
  };
}

/** What goes on consent.changes.v1: no IP or user agent, which only the proof of consent needs. */
export function toPublished(change: RecordedChange): ConsentChangeV1 {
  return {
    schemaVersion: 1,
    changeId: change.changeId,
    customerId: change.customerId,
    channel: change.channel,
    status: change.status,
    source: change.source,
    actor: change.actor,
    changedAt: change.changedAt,
    address: change.address ?? null,
  };
}
