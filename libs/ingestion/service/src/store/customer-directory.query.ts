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

function summaryOf(row: SummaryRow): CustomerSummary {
  return {
    customerId: row.customer_id,
    email: text(row.traits.email),
    phone: text(row.traits.phone),
    firstName: text(row.traits.firstName),
    lastName: text(row.traits.lastName),
    registeredAt: row.registered_at?.toISOString() ?? null,
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The operator console's reads of ingestion's data: customer search, a customer's events. */
@Injectable()
export class CustomerDirectoryQuery {
  constructor(@InjectServiceDatabase('ingestion') private readonly db: DataSource) {}

  /**
   * Matches by id first, then by email, then by phone, each in its key's byte order: every branch
   * reads at most a page from its own index. A customer is listed once, under the first key it
   * matches; the cursor is (branch, key, customerId) of the last one listed.
   */
  async search(
    query: string | undefined,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<CustomerSummary>> {
    if (!query) return this.all(limit, cursor);
    const after = decodeCursor(cursor, 3);
    const [rank, key, id] = after ? [Number(after[0]), String(after[1]), String(after[2])] : [0, null, null];
    const rows = await queryRows<SummaryRow & { rank: number; search_key: string }>(
      this.db,
      `WITH by_id AS (
         SELECT 0 AS rank, customer_id COLLATE "C" AS search_key, customer_id FROM ingestion.profiles
          WHERE erased_at IS NULL AND customer_id COLLATE "C" LIKE $1 AND $4 <= 0
            AND ($4 < 0 OR $5::text IS NULL OR customer_id COLLATE "C" > $5)
          ORDER BY customer_id COLLATE "C" LIMIT $7),
       by_email AS (
         SELECT 1 AS rank, lower(traits ->> 'email') COLLATE "C" AS search_key, customer_id FROM ingestion.profiles
          WHERE erased_at IS NULL AND lower(traits ->> 'email') COLLATE "C" LIKE $2 AND $4 <= 1
            AND ($4 < 1 OR $5::text IS NULL OR (lower(traits ->> 'email') COLLATE "C", customer_id) > ($5, $6))
            AND customer_id COLLATE "C" NOT LIKE $1
          ORDER BY lower(traits ->> 'email') COLLATE "C", customer_id LIMIT $7),
       by_phone AS (
         SELECT 2 AS rank, (traits ->> 'phone') COLLATE "C" AS search_key, customer_id FROM ingestion.profiles
          WHERE erased_at IS NULL AND (traits ->> 'phone') COLLATE "C" LIKE $3
            AND ($4 < 2 OR $5::text IS NULL OR ((traits ->> 'phone') COLLATE "C", customer_id) > ($5, $6))
            AND customer_id COLLATE "C" NOT LIKE $1
            AND coalesce(lower(traits ->> 'email') COLLATE "C" NOT LIKE $2, true)
          ORDER BY (traits ->> 'phone') COLLATE "C", customer_id LIMIT $7),
       found AS (SELECT * FROM by_id UNION ALL SELECT * FROM by_email UNION ALL SELECT * FROM by_phone)
       SELECT f.rank, f.search_key, p.customer_id, p.traits, p.registered_at, p.updated_at
         FROM found f JOIN ingestion.profiles p ON p.customer_id = f.customer_id
        ORDER BY f.rank, f.search_key, f.customer_id LIMIT $7`,
      [
        prefixPattern(query),
        prefixPattern(query.toLowerCase()),
        prefixPattern(phoneDigits(query)),
        rank,
        key,
        id,
        limit + 1,
      ],
    );
    return pageFrom(rows, limit, summaryOf, (row) => [row.rank, row.search_key, row.customer_id]);
  }

  /** Every live customer by id, for the console's list before anything is typed. */
  private async all(limit: number, cursor: string | undefined): Promise<Page<CustomerSummary>> {
    const after = decodeCursor(cursor, 1)?.[0];
    const rows = await queryRows<SummaryRow>(
      this.db,
      `SELECT customer_id, traits, registered_at, updated_at FROM ingestion.profiles
        WHERE erased_at IS NULL AND ($1::text IS NULL OR customer_id > $1)
        ORDER BY customer_id LIMIT $2`,
      [after === undefined ? null : String(after), limit + 1],
    );
    return pageFrom(rows, limit, summaryOf, (row) => [row.customer_id]);
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
