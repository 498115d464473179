import { addOutboxAges, InjectServiceDatabase } from '@mmp/persistence';
import { ScrapedGaugeSources, type ScrapedGauges } from '@mmp/telemetry';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/**
 * Ingestion's outbox, read when /metrics is scraped: a committed batch not yet on
 * customer.events.v1 keeps a row until it is published (then deleted), so every row is pending
 * and the oldest is the first by its identity key.
 */
@Injectable()
export class IngestionBacklogQuery extends ScrapedGaugeSources {
  constructor(@InjectServiceDatabase('ingestion') private readonly db: DataSource) {
    super();
  }

  protected addSources(gauges: ScrapedGauges): void {
    addOutboxAges(gauges, this.db, [
      {
        table: 'ingestion.unpublished_batches',
        timeColumn: 'created_at',
        // Only the first row (a probe of the primary key): min(created_at) would read them all.
        pending: 'batch_id = (SELECT min(batch_id) FROM ingestion.unpublished_batches)',
      },
    ]);
  }
}
