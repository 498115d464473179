import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import {
  outboxAgeSamples,
  OUTBOX_OLDEST_PENDING_AGE,
  ScrapedGaugeSources,
  type ScrapedGauges,
} from '@mmp/telemetry';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/**
 * Ingestion's outbox, read when /metrics is scraped: a committed batch not yet on
 * customer.events.v1 keeps a row until it is published (then deleted), so the oldest is the
 * first by its identity key.
 */
@Injectable()
export class IngestionBacklogQuery extends ScrapedGaugeSources {
  constructor(@InjectServiceDatabase('ingestion') private readonly db: DataSource) {
    super();
  }

  protected addSources(gauges: ScrapedGauges): void {
    gauges.add(OUTBOX_OLDEST_PENDING_AGE, async () => outboxAgeSamples(await this.outboxAges()));
  }

  async outboxAges(): Promise<Record<string, number>> {
    const [ages] = await queryRows<Record<string, number>>(
      this.db,
      `SELECT greatest(coalesce(extract(epoch FROM now() - (
                SELECT created_at FROM ingestion.unpublished_batches ORDER BY batch_id LIMIT 1)), 0), 0)::float8
                AS "ingestion.unpublished_batches"`,
    );
    return ages ?? {};
  }
}
