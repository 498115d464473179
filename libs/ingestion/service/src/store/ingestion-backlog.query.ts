import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import { outboxAgeSamples, OUTBOX_OLDEST_PENDING_AGE, ScrapedGauges } from '@mmp/telemetry';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/**
 * Ingestion's outbox, read when /metrics is scraped: a committed batch not yet on
 * customer.events.v1 keeps a row until it is published (then deleted), so the oldest is the
 * first by its identity key.
 */
@Injectable()
export class IngestionBacklogQuery implements OnModuleInit, OnModuleDestroy {
  private readonly gauges = new ScrapedGauges();

  constructor(@InjectServiceDatabase('ingestion') private readonly db: DataSource) {}

  onModuleInit(): void {
    this.gauges.add(OUTBOX_OLDEST_PENDING_AGE, async () => outboxAgeSamples(await this.outboxAges()));
  }

  onModuleDestroy(): void {
    this.gauges.removeAll();
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
