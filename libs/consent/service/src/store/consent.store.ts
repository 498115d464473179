import type { Channel, ConsentChangeV1, ConsentStatus } from '@mmp/contracts';
import { InjectServiceDatabase, queryRows, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

interface ChangeRow {
  change_id: string;
  customer_id: string;
  channel: Channel;
  status: ConsentStatus;
  source: string;
  actor: string | null;
  changed_at: Date;
}

@Injectable()
export class ConsentStore {
  constructor(@InjectServiceDatabase('consent') private readonly db: DataSource) {}

  async record(change: ConsentChangeV1): Promise<void> {
    await runSql(
      this.db,
      `INSERT INTO consent.changes (change_id, customer_id, channel, status, source, actor, changed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (change_id) DO NOTHING`,
      [
        change.changeId,
        change.customerId,
        change.channel,
        change.status,
        change.source,
        change.actor,
        change.changedAt,
      ],
    );
  }

  /** The latest change per channel. */
  async current(customerId: string): Promise<ConsentChangeV1[]> {
    const rows = await queryRows<ChangeRow>(
      this.db,
      `SELECT DISTINCT ON (channel) change_id, customer_id, channel, status, source, actor, changed_at
         FROM consent.changes WHERE customer_id = $1
        ORDER BY channel, changed_at DESC, change_id DESC`,
      [customerId],
    );
    return rows.map(toChange);
  }

  async history(customerId: string): Promise<ConsentChangeV1[]> {
    const rows = await queryRows<ChangeRow>(
      this.db,
      `SELECT change_id, customer_id, channel, status, source, actor, changed_at
         FROM consent.changes WHERE customer_id = $1 ORDER BY changed_at DESC, change_id DESC`,
      [customerId],
    );
    return rows.map(toChange);
  }

  async unpublished(limit = 1000): Promise<ConsentChangeV1[]> {
    const rows = await queryRows<ChangeRow>(
      this.db,
      `SELECT change_id, customer_id, channel, status, source, actor, changed_at
         FROM consent.changes WHERE published_at IS NULL ORDER BY changed_at LIMIT $1`,
      [limit],
    );
    return rows.map(toChange);
  }

  async markPublished(changeIds: readonly string[], now: Date): Promise<void> {
    if (changeIds.length === 0) return;
    await runSql(this.db, `UPDATE consent.changes SET published_at = $2 WHERE change_id = ANY($1::text[])`, [
      changeIds,
      now,
    ]);
  }
}

function toChange(row: ChangeRow): ConsentChangeV1 {
  return {
    schemaVersion: 1,
    changeId: row.change_id,
    customerId: row.customer_id,
    channel: row.channel,
    status: row.status,
    source: row.source,
    actor: row.actor,
    changedAt: row.changed_at.toISOString(),
  };
}
