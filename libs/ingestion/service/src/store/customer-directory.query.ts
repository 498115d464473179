import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import { decodeCursor, pageFrom, type Page } from '@mmp/server';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

export interface CustomerSummary {
  customerId: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  registeredAt: string | null;
  updatedAt: string;
}

export interface StoredEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  receivedAt: string;
  properties: Record<string, unknown>;
}

interface SummaryRow {
  customer_id: string;
  traits: Record<string, unknown>;
  registered_at: Date | null;
  updated_at: Date;
}

interface EventRow {
  event_id: string;
  type: string;
  occurred_at: Date;
  received_at: Date;
  properties: Record<string, unknown>;
}

/** `%`, `_` and `\` are LIKE's own characters: a query containing them means them literally. */
function prefixPattern(text: string): string {
  return `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Phones are stored in E.164: what a person types (`+1 (555) 010-0`) is compared without its punctuation. */
function phoneDigits(query: string): string {
  return query.replace(/[\s().-]/g, '');
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * The operator console's reads of ingestion's data (customer search, a customer's events).
 * Each search key has its own prefix index (migration CustomerSearchIndexes): every branch reads
 * at most a page from its index, and the branches' union is ordered by id for the keyset cursor.
 */
@Injectable()
export class CustomerDirectoryQuery {
  constructor(@InjectServiceDatabase('ingestion') private readonly db: DataSource) {}

  async search(
    query: string | undefined,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<CustomerSummary>> {
    const after = decodeCursor(cursor, 1)?.[0];
    const afterId = after === undefined ? null : String(after);
    const rows = query
      ? await queryRows<SummaryRow>(
          this.db,
          `WITH found AS (
             (SELECT customer_id FROM ingestion.profiles
               WHERE erased_at IS NULL AND customer_id LIKE $1 AND ($4::text IS NULL OR customer_id > $4)
               ORDER BY customer_id LIMIT $5)
             UNION
             (SELECT customer_id FROM ingestion.profiles
               WHERE erased_at IS NULL AND lower(traits ->> 'email') LIKE $2 AND ($4::text IS NULL OR customer_id > $4)
               ORDER BY customer_id LIMIT $5)
             UNION
             (SELECT customer_id FROM ingestion.profiles
               WHERE erased_at IS NULL AND traits ->> 'phone' LIKE $3 AND ($4::text IS NULL OR customer_id > $4)
               ORDER BY customer_id LIMIT $5))
           SELECT p.customer_id, p.traits, p.registered_at, p.updated_at
             FROM found f JOIN ingestion.profiles p USING (customer_id)
            ORDER BY p.customer_id LIMIT $5`,
          [
            prefixPattern(query),
            prefixPattern(query.toLowerCase()),
            prefixPattern(phoneDigits(query)),
            afterId,
            limit + 1,
          ],
        )
      : await queryRows<SummaryRow>(
          this.db,
          `SELECT customer_id, traits, registered_at, updated_at FROM ingestion.profiles
            WHERE erased_at IS NULL AND ($1::text IS NULL OR customer_id > $1)
            ORDER BY customer_id LIMIT $2`,
          [afterId, limit + 1],
        );
    return pageFrom(
      rows,
      limit,
      (row) => ({
        customerId: row.customer_id,
        email: text(row.traits.email),
        phone: text(row.traits.phone),
        firstName: text(row.traits.firstName),
        lastName: text(row.traits.lastName),
        registeredAt: row.registered_at?.toISOString() ?? null,
        updatedAt: row.updated_at.toISOString(),
      }),
      (row) => [row.customer_id],
    );
  }

  /** Whether the customer has a live (known, not erased) profile. */
  async isKnown(customerId: string): Promise<boolean> {
    const rows = await queryRows(
      this.db,
      `SELECT 1 FROM ingestion.profiles WHERE customer_id = $1 AND erased_at IS NULL`,
      [customerId],
    );
    return rows.length > 0;
  }

  /** The customer's accepted events, newest first by occurrence, keyset-paged on (occurredAt, eventId). */
  async eventsOf(
    customerId: string,
    type: string | undefined,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<StoredEvent>> {
    const after = decodeCursor(cursor, 2);
    const rows = await queryRows<EventRow>(
      this.db,
      `SELECT event_id, type, occurred_at, received_at, properties FROM ingestion.events
        WHERE customer_id = $1 AND ($2::text IS NULL OR type = $2)
          AND ($3::timestamptz IS NULL OR (occurred_at, event_id) < ($3::timestamptz, $4::text))
        ORDER BY occurred_at DESC, event_id DESC LIMIT $5`,
      [
        customerId,
        type ?? null,
        after ? new Date(String(after[0])) : null,
        after ? String(after[1]) : null,
        limit + 1,
      ],
    );
    return pageFrom(
      rows,
      limit,
      (row) => ({
        eventId: row.event_id,
        type: row.type,
        occurredAt: row.occurred_at.toISOString(),
        receivedAt: row.received_at.toISOString(),
        properties: row.properties,
      }),
      (row) => [row.occurred_at.toISOString(), row.event_id],
    );
  }
}
