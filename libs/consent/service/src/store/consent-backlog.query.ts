import { InjectServiceDatabase, oldestPendingAgeColumn, queryRows } from '@mmp/persistence';
import { outboxAgeSamples, OUTBOX_OLDEST_PENDING_AGE, ScrapedGauges } from '@mmp/telemetry';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/** Consent's outbox, read when /metrics is scraped: the oldest change not yet on consent.changes.v1. */
@Injectable()
export class ConsentBacklogQuery implements OnModuleInit, OnModuleDestroy {
  private readonly gauges = new ScrapedGauges();

  constructor(@InjectServiceDatabase('consent') private readonly db: DataSource) {}

  onModuleInit(): void {
    this.gauges.add(OUTBOX_OLDEST_PENDING_AGE, async () => outboxAgeSamples(await this.outboxAges()));
  }

  onModuleDestroy(): void {
    this.gauges.removeAll();
  }

  async outboxAges(): Promise<Record<string, number>> {
    const [ages] = await queryRows<Record<string, number>>(
      this.db,
      `SELECT ${oldestPendingAgeColumn('consent.changes', 'changed_at')}`,
    );
    return ages ?? {};
  }
}
